"""``shieldwall bank import|export`` and the quarantine commands."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from bank_helpers import random_pdq
from shieldwall.cli import run


@pytest.mark.parametrize("fmt", ["jsonl", "csv", "signals"])
def test_export_then_import(
    cli_env: str, tmp_path: Path, fmt: str, capsys: pytest.CaptureFixture[str]
) -> None:
    run(["bank", "create", "a", "--kind", "block"])
    run(["bank", "create", "b", "--kind", "block"])
    for i in range(3):
        run(["bank", "add", "a", "--hash", f"pdq:{random_pdq(i)}:80", "-e", f"case-{i}"])
    out = tmp_path / f"a.{fmt}"
    assert run(["bank", "export", "a", "-x", fmt, "-o", str(out)]) == 0
    assert "exported 3 records" in capsys.readouterr().err
    assert run(["bank", "import", "b", str(out), "-i", fmt, "-f", "json"]) == 0
    assert len(json.loads(capsys.readouterr().out)["created"]) == 3
    run(["bank", "export", "b", "-x", fmt])
    exported = capsys.readouterr().out
    assert all(random_pdq(i) in exported for i in range(3))


def test_import_reports_bad_lines(
    cli_env: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    run(["bank", "create", "a", "--kind", "block"])
    feed = tmp_path / "feed.txt"
    feed.write_text(f"pdq {random_pdq(1)}\npdq nothex\nmd5 {'a' * 32}\n")
    capsys.readouterr()
    assert run(["bank", "import", "a", str(feed), "-i", "signals"]) == 1
    captured = capsys.readouterr()
    assert "2 new entries" in captured.out
    assert f"{feed}:2" in captured.err.replace("\n", "")  # a long path may be wrapped
    assert run(["bank", "import", "a", str(tmp_path / "absent.jsonl")]) == 2
    assert "cannot read" in capsys.readouterr().err


def test_quarantine_and_release(
    cli_env: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from shieldwall.config import get_settings

    monkeypatch.setenv("SHIELDWALL_FLOOD_MAX_CONTENTS", "1")
    get_settings.cache_clear()
    value = random_pdq(1)
    run(["bank", "create", "a", "--kind", "block"])
    run(["bank", "add", "a", "--hash", f"pdq:{value}"])
    assert run(["match", "--hash", f"pdq:{value}", "--content-id", "one"]) == 1
    assert run(["match", "--hash", f"pdq:{value}", "--content-id", "two"]) == 0
    capsys.readouterr()
    assert run(["bank", "quarantine", "-f", "json"]) == 0
    [held] = json.loads(capsys.readouterr().out)
    assert held["bank"] == "a" and held["signal_type"] == "pdq"
    assert run(["bank", "release", str(held["signal_id"])]) == 0
    assert run(["match", "--hash", f"pdq:{value}", "--content-id", "three"]) == 1
    assert run(["bank", "release", str(held["signal_id"])]) == 1  # not quarantined any more


def test_export_is_an_audited_bank_read(
    cli_env: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    run(["bank", "create", "a", "--kind", "block"])
    run(["bank", "add", "a", "--hash", f"pdq:{random_pdq(1)}:80"])
    assert run(["bank", "export", "a", "-o", str(tmp_path / "a.jsonl")]) == 0
    capsys.readouterr()
    assert run(["audit", "list", "--format", "jsonl"]) == 0
    out = capsys.readouterr().out
    events = [json.loads(line) for line in out.splitlines() if line.strip()]
    reads = [e for e in events if e["action"] == "bank.read"]
    assert (
        len(reads) == 1 and reads[0]["actor"].startswith("cli:") and reads[0]["subject"] == "bank:a"
    )
    assert random_pdq(1) not in out
