"""``shieldwall ledger add|import`` and ``shieldwall sweep``."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from bank_helpers import photo
from shieldwall.cli import run


def test_sweep_finds_hosted_copies(
    cli_env: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    hosted = [photo(tmp_path, f"hosted-{i}.jpg", 10 + i) for i in range(4)]
    copy = photo(tmp_path, "hosted-copy.jpg", 99, quality=60)
    assert run(["ledger", "add", *map(str, hosted), str(copy), "-w", "1"]) == 0
    assert "recorded 5 items" in capsys.readouterr().out
    run(["bank", "create", "ncii", "--kind", "block"])
    run(["bank", "add", "ncii", str(photo(tmp_path, "reported.jpg", 99))])
    capsys.readouterr()
    assert run(["sweep", "-f", "json"]) == 0
    result = json.loads(capsys.readouterr().out)
    assert result["ledger_scanned"] == 5
    assert result["matches"] == [
        {"content_id": str(copy), "bank": "ncii", "entry_id": 1, "signal_type": "pdq"}
    ]
    assert run(["sweep"]) == 0
    assert "0 hosted items matched" in capsys.readouterr().out


def test_ledger_import_reads_hash_output(
    cli_env: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    hosted = photo(tmp_path, "h.jpg", 5)
    run(["hash", str(hosted), "-w", "1"])
    records = tmp_path / "hashes.jsonl"
    records.write_text(capsys.readouterr().out)
    assert run(["ledger", "import", str(records)]) == 0
    run(["bank", "create", "ncii", "--kind", "block"])
    run(["bank", "add", "ncii", str(hosted)])
    capsys.readouterr()
    run(["sweep", "-f", "json"])
    assert len(json.loads(capsys.readouterr().out)["matches"]) == 3  # pdq, md5, sha256
    records.write_text("{not json\n")
    assert run(["ledger", "import", str(records)]) == 2
