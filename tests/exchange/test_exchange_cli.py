"""``shieldwall exchange add|list|sync|status|remove`` against the fake StopNCII."""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest

import fake_stopncii
from fake_stopncii import FakeStopNCII
from shieldwall.cli import run
from shieldwall.config import get_settings
from shieldwall.exchange import RemoteSignal
from shieldwall.exchange.contract import pdq_value


@pytest.fixture
def fake(cli_env: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeStopNCII]:
    monkeypatch.setenv("SHIELDWALL_OUTBOUND_ALLOWED_NETWORKS", '["127.0.0.0/8"]')
    get_settings.cache_clear()
    fake = fake_stopncii.serve([(RemoteSignal("ImagePDQ", pdq_value(i)), ("c1",)) for i in (1, 2)])
    assert fake.server is not None
    with fake.server:
        yield fake


def _add(fake: FakeStopNCII, name: str = "stopncii") -> int:
    settings = fake.settings()
    pairs = [x for k, v in settings.items() for x in ("--set", f"{k}={v}")]
    return run(["exchange", "add", name, "--kind", "stopncii", *pairs])


def test_add_sync_status_list_remove(
    fake: FakeStopNCII, capsys: pytest.CaptureFixture[str]
) -> None:
    assert _add(fake) == 0
    assert "feeds bank stopncii" in capsys.readouterr().out
    assert run(["exchange", "sync", "stopncii", "--format", "json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert (report["added"], report["ok"], report["caught_up"]) == (2, True, True)
    assert run(["exchange", "status", "stopncii", "--format", "json"]) == 0
    status = json.loads(capsys.readouterr().out)
    assert status["added"] == 2 and status["checkpoint"]["startTimestamp"] > 0
    assert status["settings"]["fetch_key"] == "********"
    assert run(["exchange", "list"]) == 0
    assert "stopncii  stopncii  bank stopncii" in capsys.readouterr().out
    assert run(["exchange", "remove", "stopncii"]) == 0
    assert run(["exchange", "list", "--format", "json"]) == 0
    assert json.loads(capsys.readouterr().out.splitlines()[-1]) == []
    assert run(["exchange", "list"]) == 0
    assert "No exchange is configured" in capsys.readouterr().out


def test_a_failed_sync_exits_1_with_the_error(
    fake: FakeStopNCII, capsys: pytest.CaptureFixture[str]
) -> None:
    assert _add(fake) == 0
    fake.fail_next(401)
    assert run(["exchange", "sync", "stopncii"]) == 1
    assert "refused our keys (401)" in capsys.readouterr().err


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["exchange", "add", "x", "--kind", "nope"], "unknown exchange kind 'nope'"),
        (["exchange", "add", "x", "--kind", "stopncii"], "subscription_key"),
        (["exchange", "add", "Bad Name", "--kind", "stopncii"], "exchange name"),
        (["exchange", "status", "missing"], "no exchange named 'missing'"),
        (["exchange", "add", "x", "--kind", "stopncii", "--set", "novalue"], "KEY=VALUE"),
    ],
)
def test_bad_input_is_a_precise_error(
    fake: FakeStopNCII, capsys: pytest.CaptureFixture[str], argv: list[str], message: str
) -> None:
    assert run(argv) in (1, 2)
    assert message in capsys.readouterr().err
    assert run(["exchange", "list", "--format", "json"]) == 0
    assert json.loads(capsys.readouterr().out) == []  # nothing half-written
