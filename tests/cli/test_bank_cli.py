"""``shieldwall bank ...``: lifecycle, adding files and hashes, withdrawal, errors."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from bank_helpers import photo, random_pdq
from shieldwall.cli import run


def _json(capsys: pytest.CaptureFixture[str]) -> Any:
    return json.loads(capsys.readouterr().out)


def test_lifecycle(cli_env: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert run(["bank", "create", "ncii", "--kind", "block", "-t", "pdq=28"]) == 0
    assert run(["bank", "create", "memes", "--kind", "allow"]) == 0
    capsys.readouterr()
    assert run(["bank", "list", "-f", "json"]) == 0
    listed = _json(capsys)
    assert isinstance(listed, list)
    assert [(b["name"], b["kind"]) for b in listed] == [("memes", "allow"), ("ncii", "block")]
    assert listed[1]["thresholds"] == {"pdq": 28, "md5": 0, "sha256": 0, "vpdq": 20, "orb": 80}
    assert run(["bank", "disable", "ncii"]) == 0
    capsys.readouterr()
    assert run(["bank", "show", "ncii", "-f", "json"]) == 0
    assert _json(capsys)["enabled"] is False
    assert run(["bank", "enable", "ncii"]) == 0
    assert run(["bank", "list"]) == 0
    assert "ncii" in capsys.readouterr().out
    assert run(["bank", "delete", "memes"]) == 2
    assert "--yes" in capsys.readouterr().err
    assert run(["bank", "delete", "memes", "--yes"]) == 0
    assert run(["bank", "show", "memes"]) == 1
    assert "no bank named 'memes'" in capsys.readouterr().err


def test_add_files_and_hashes(
    cli_env: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    run(["bank", "create", "ncii", "--kind", "block"])
    a, b = photo(tmp_path, "a.jpg", 1), photo(tmp_path, "b.jpg", 2)
    bad = tmp_path / "bad.jpg"
    bad.write_bytes(b"text")
    capsys.readouterr()
    code = run(["bank", "add", "ncii", str(a), str(b), str(bad), "-e", "case-1", "-f", "json"])
    captured = capsys.readouterr()
    assert code == 1  # one input rejected, the others added
    result = json.loads(captured.out)
    assert len(result["created"]) == 2 and result["rejected"][0]["source"] == str(bad)
    assert "bad.jpg" in captured.err
    value = random_pdq(7)
    assert (
        run(["bank", "add", "ncii", "--hash", f"pdq:{value}:90", "--hash", "md5:" + "a" * 32]) == 0
    )
    capsys.readouterr()
    assert run(["bank", "show", "ncii", "-f", "json"]) == 0
    shown = _json(capsys)
    # Each photo: pdq, md5, sha256 and its bank-side PDQ variants (crops); the hashes: 2.
    assert shown["entries"] == {"active": 3}
    assert run(["bank", "entry", str(result["created"][0]), "-f", "json"]) == 0
    entry = _json(capsys)
    variants = entry["variants"]
    assert len(variants) >= 10 and "crop-top-10" in variants and "centre-90" in variants
    assert shown["live_signals"] == 2 * (3 + len(variants)) + 2


def test_add_a_photo_from_stdin(
    cli_env: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    import io
    import sys

    run(["bank", "create", "ncii", "--kind", "block"])
    data = photo(tmp_path, "a.jpg", 3).read_bytes()
    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(data)))
    capsys.readouterr()
    assert run(["bank", "add", "ncii", "-", "-e", "case-9", "-f", "json"]) == 0
    created = json.loads(capsys.readouterr().out)["created"]
    assert len(created) == 1  # stdin was hashed, not dropped
    assert run(["bank", "entry", str(created[0]), "-f", "json"]) == 0
    entry = _json(capsys)
    assert entry["external_ids"] == {"case-9": "active"} and "crop-top-10" in entry["variants"]
    # the same photo as a file is the same entry: the hashes from stdin were the photo's
    assert run(["bank", "add", "ncii", str(tmp_path / "a.jpg"), "-f", "json"]) == 0
    assert json.loads(capsys.readouterr().out)["created"] == []
    assert run(["bank", "add", "ncii", "-", "-"]) == 2
    assert "stdin (-) can be given only once" in capsys.readouterr().err


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("pdq:" + "g" * 64, "hex"),
        ("pdq:" + "a" * 60, "64"),
        ("phash:" + "a" * 64, "unknown signal type 'phash'"),
        ("pdq:" + "ab" * 32 + ":0", "below the floor"),
        ("pdq", "not a signal"),
    ],
)
def test_bad_hashes_are_clear_errors_and_write_nothing(
    cli_env: str, value: str, message: str, capsys: pytest.CaptureFixture[str]
) -> None:
    run(["bank", "create", "ncii", "--kind", "block"])
    good = f"pdq:{random_pdq(1)}"
    code = run(["bank", "add", "ncii", "--hash", good, "--hash", value])
    assert code in (1, 2)
    assert message in capsys.readouterr().err
    run(["bank", "show", "ncii", "-f", "json"])
    assert _json(capsys)["live_signals"] == 0


def test_withdraw(cli_env: str, capsys: pytest.CaptureFixture[str]) -> None:
    run(["bank", "create", "ncii", "--kind", "block"])
    value = random_pdq(1)
    run(["bank", "add", "ncii", "--hash", f"pdq:{value}", "-e", "case-A"])
    run(["bank", "add", "ncii", "--hash", f"pdq:{value}", "-e", "case-B"])
    capsys.readouterr()
    assert run(["bank", "withdraw", "case-A", "-f", "json"]) == 0
    [outcome] = _json(capsys)
    assert outcome["withdrawn_entries"] == [] and len(outcome["kept_entries"]) == 1
    assert run(["bank", "withdraw", "case-B", "case-404"]) == 1  # all or nothing
    assert "'case-404'" in capsys.readouterr().err
    run(["bank", "show", "ncii", "-f", "json"])
    assert _json(capsys)["live_signals"] == 1
    assert run(["bank", "withdraw", "case-B"]) == 0
    capsys.readouterr()
    run(["bank", "show", "ncii", "-f", "json"])
    assert _json(capsys)["live_signals"] == 0
    assert run(["bank", "withdraw", "--entry", "999"]) == 1


def test_entry_commands(cli_env: str, capsys: pytest.CaptureFixture[str]) -> None:
    run(["bank", "create", "ncii", "--kind", "block"])
    capsys.readouterr()
    run(["bank", "add", "ncii", "--hash", f"pdq:{random_pdq(1)}", "-e", "c", "-f", "json"])
    [entry_id] = _json(capsys)["created"]
    assert run(["bank", "disable-entry", str(entry_id), "--until", "2099-01-01T00:00:00"]) == 0
    capsys.readouterr()
    run(["bank", "entry", str(entry_id), "-f", "json"])
    entry = _json(capsys)
    assert entry["status"] == "disabled" and entry["disabled_until"].startswith("2099")
    assert run(["bank", "enable-entry", str(entry_id)]) == 0
