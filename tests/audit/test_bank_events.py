"""Issue 19 point 2: every change to a bank, from the command line as from the API, is an event
of the audit chain with its actor (the CLI's ``bank create`` and ``bank add`` left none)."""

from __future__ import annotations

import getpass
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from bank_helpers import random_pdq
from service_helpers import LiveService, service_settings, start_service
from shieldwall.audit import list_events, verify
from shieldwall.cli import run
from shieldwall.cli._db import open_database
from shieldwall.store import Database
from shieldwall.store.models import BankSignal, utcnow


def _actions(db: Database) -> list[tuple[str, str, str]]:
    return [(e.actor, e.action, e.subject) for e in list_events(db, limit=1000)]


def test_cli_bank_changes_are_audited(cli_env: str, tmp_path: Path) -> None:
    me = f"cli:{getpass.getuser()}"
    assert run(["bank", "create", "ncii", "--kind", "block"]) == 0
    assert run(["bank", "add", "ncii", "--hash", f"pdq:{random_pdq(1)}", "-e", "case-A"]) == 0
    records = tmp_path / "in.txt"
    records.write_text(f"pdq {random_pdq(2)}\n")
    assert run(["bank", "import", "ncii", str(records), "-i", "signals"]) == 0
    assert run(["bank", "disable-entry", "1"]) == 0
    assert run(["bank", "enable-entry", "1"]) == 0
    assert run(["bank", "withdraw", "case-A"]) == 0
    assert run(["bank", "withdraw", "--entry", "2"]) == 0
    assert run(["bank", "disable", "ncii"]) == 0
    assert run(["bank", "enable", "ncii"]) == 0
    db = open_database()
    with db.transaction() as session:  # as a flood would: quarantine a signal, then release it
        signal = session.get(BankSignal, 1)
        assert signal is not None
        signal.quarantined_at = utcnow()
    assert run(["bank", "release", "1"]) == 0
    assert run(["bank", "delete", "ncii", "--yes"]) == 0
    assert _actions(db) == [
        (me, "bank.create", "bank:ncii"),
        (me, "bank.add", "bank:ncii"),
        (me, "bank.import", "bank:ncii"),
        (me, "bank.entry_disable", "entry:1"),
        (me, "bank.entry_enable", "entry:1"),
        (me, "bank.withdraw", "case:case-A"),
        (me, "bank.entry_withdraw", "entry:2"),
        (me, "bank.disable", "bank:ncii"),
        (me, "bank.enable", "bank:ncii"),
        (me, "bank.release", "signal:1"),
        (me, "bank.delete", "bank:ncii"),
    ]
    assert verify(db) is None


def test_a_failed_change_leaves_no_event(cli_env: str) -> None:
    assert run(["bank", "create", "ncii", "--kind", "block"]) == 0
    assert run(["bank", "create", "ncii", "--kind", "block"]) == 1  # taken
    assert run(["bank", "add", "ncii", "--hash", "pdq:zz"]) != 0
    assert [a for _, a, _ in _actions(open_database())] == ["bank.create"]


@pytest.fixture
def live(db: Database, tmp_path: Path) -> Iterator[LiveService]:
    service = start_service(db, service_settings(tmp_path, db))
    yield service
    service.stop()


def test_api_bank_changes_are_audited(live: LiveService) -> None:
    token = live.key("curate")
    who = f"key:{token.split('_')[1]}"
    api = live.client(token)

    def ok(answer: httpx.Response) -> httpx.Response:
        assert answer.status_code < 300, answer.text
        return answer

    ok(api.post("/v1/banks", json={"name": "ncii", "kind": "block"}))
    entry = ok(
        api.post(
            "/v1/banks/ncii/entries",
            json={"signals": [{"type": "pdq", "value": random_pdq(3)}], "external_ids": ["c-1"]},
        )
    ).json()["id"]
    ok(api.post(f"/v1/entries/{entry}/disable"))
    ok(api.post(f"/v1/entries/{entry}/enable"))
    ok(api.patch("/v1/banks/ncii", json={"enabled": False}))
    ok(api.post("/v1/withdrawals", json={"external_ids": ["c-1"]}))
    ok(api.delete("/v1/banks/ncii"))
    assert _actions(live.db) == [
        (who, "bank.create", "bank:ncii"),
        (who, "bank.add", "bank:ncii"),
        (who, "bank.entry_disable", f"entry:{entry}"),
        (who, "bank.entry_enable", f"entry:{entry}"),
        (who, "bank.disable", "bank:ncii"),
        (who, "bank.withdraw", "case:c-1"),
        (who, "bank.delete", "bank:ncii"),
    ]
    assert verify(live.db) is None
