"""The backup and restore drill, end to end through the CLI on SQLite and PostgreSQL: bank with
sealed values, back up, restore onto a new machine (a fresh data directory and a new database,
with the key file carried over), and match there as before; what a restore refuses."""

from __future__ import annotations

import gzip
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from bank_helpers import photo
from shieldwall.cli import run
from shieldwall.config import get_settings
from shieldwall.store import close_databases
from shieldwall.store.sealing import FILE_MAGIC


def _flat(text: str) -> str:
    """Messages as one line (the console wraps them at its width)."""
    return " ".join(text.split())


def _lines(out: str) -> list[dict[str, Any]]:
    return [json.loads(line) for line in out.splitlines() if line.strip()]


@pytest.fixture
def new_machine(database_url: str, request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """The URL of another, empty database: a SQLite file in a fresh folder, or a new schema."""
    if database_url.startswith("sqlite"):
        yield f"sqlite:///{tmp_path / 'new-machine' / 'shieldwall.db'}"
        return
    from conftest import _schema_url

    schemas = request.getfixturevalue("_pg_schemas")
    schema = schemas.new()
    try:
        yield _schema_url(schema)
    finally:
        close_databases()
        schemas.drop(schema)


def _switch(monkeypatch: pytest.MonkeyPatch, url: str, data_dir: Path, keys: Path | None) -> None:
    monkeypatch.setenv("SHIELDWALL_DATABASE_URL", url)
    monkeypatch.setenv("SHIELDWALL_DATA_DIR", str(data_dir))
    if keys is None:
        monkeypatch.delenv("SHIELDWALL_AT_REST_KEYS_FILE", raising=False)
    else:
        monkeypatch.setenv("SHIELDWALL_AT_REST_KEYS_FILE", str(keys))
    get_settings.cache_clear()
    close_databases()


def test_backup_then_restore_on_a_new_machine_matches_as_before(
    cli_env: str,
    new_machine: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    keys = tmp_path / "keys"
    assert run(["at-rest", "new-key", str(keys), "--id", "k1"]) == 0
    assert keys.stat().st_mode & 0o777 == 0o600
    _switch(monkeypatch, cli_env, tmp_path / "data", keys)
    original = photo(tmp_path, "original.jpg", 1)
    copy = photo(tmp_path, "copy.jpg", 1, quality=50)
    assert run(["bank", "create", "ncii", "--kind", "block"]) == 0
    assert run(["bank", "add", "ncii", str(original), "-e", "case-1"]) == 0
    capsys.readouterr()
    assert run(["match", str(copy), "-f", "jsonl"]) == 1
    before = _lines(capsys.readouterr().out)[0]["matches"]
    assert run(["at-rest", "status", "--json"]) == 0
    sealed = json.loads(capsys.readouterr().out)["values"]
    assert list(sealed) == ["k1"]  # every value: the signals (and crops) and their log entries

    archive = tmp_path / "carry" / "shieldwall.backup"
    archive.parent.mkdir()
    assert run(["backup", str(archive)]) == 0
    assert "(sealed)" in capsys.readouterr().out
    data = archive.read_bytes()
    assert data.startswith(FILE_MAGIC)
    assert b"ncii" not in data and b"case-1" not in data

    # A new machine: nothing of the old one but the backup and the key file.
    carried_keys = tmp_path / "carry" / "keys"
    carried_keys.write_bytes(keys.read_bytes())
    _switch(monkeypatch, new_machine, tmp_path / "new-data", carried_keys)
    assert run(["restore", str(archive)]) == 0
    assert "restored" in capsys.readouterr().out
    assert run(["match", str(copy), "-f", "jsonl"]) == 1
    assert _lines(capsys.readouterr().out)[0]["matches"] == before
    # The restored database goes on: new rows get new ids, its values are still sealed.
    assert run(["bank", "add", "ncii", str(photo(tmp_path, "more.jpg", 5)), "-e", "c2"]) == 0
    assert run(["at-rest", "status", "--json"]) == 0
    now = json.loads(capsys.readouterr().out.splitlines()[-1])["values"]
    assert list(now) == ["k1"] and now["k1"] > sealed["k1"]

    # Restoring again onto a database that holds data is refused, and changes nothing.
    assert run(["restore", str(archive)]) == 1
    assert "the database is not empty" in _flat(capsys.readouterr().err)


def test_what_a_restore_refuses(
    cli_env: str,
    new_machine: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert run(["bank", "create", "ncii", "--kind", "block"]) == 0
    plain = tmp_path / "plain.backup"
    assert run(["backup", str(plain)]) == 0
    assert "(not sealed)" in capsys.readouterr().out
    lines = gzip.decompress(plain.read_bytes()).splitlines(keepends=True)
    assert json.loads(lines[0])["format"] == "shieldwall-backup"

    _switch(monkeypatch, new_machine, tmp_path / "new-data", None)
    cut = tmp_path / "cut.backup"
    cut.write_bytes(gzip.compress(b"".join(lines[:-1])))
    assert run(["restore", str(cut)]) == 1
    assert "truncated: it has no end line" in _flat(capsys.readouterr().err)
    changed = tmp_path / "changed.backup"
    changed.write_bytes(gzip.compress(b"".join(lines).replace(b'"ncii"', b'"evil"')))
    assert run(["restore", str(changed)]) == 1
    assert "checksum or row counts do not match" in _flat(capsys.readouterr().err)
    other = tmp_path / "notes.txt"
    other.write_text("not a backup")
    assert run(["restore", str(other)]) == 1
    assert "is not a Shieldwall backup" in _flat(capsys.readouterr().err)
    # Nothing was written by the refused restores: the good one still goes in.
    assert run(["restore", str(plain)]) == 0
    assert run(["bank", "list"]) == 0
    assert "ncii" in capsys.readouterr().out

    # A sealed backup without its key: a clear error.
    keys = tmp_path / "keys"
    run(["at-rest", "new-key", str(keys), "--id", "k1"])
    _switch(monkeypatch, cli_env, tmp_path / "data", keys)
    sealed = tmp_path / "sealed.backup"
    assert run(["backup", str(sealed)]) == 0
    _switch(monkeypatch, cli_env, tmp_path / "data", None)
    capsys.readouterr()
    assert run(["restore", str(sealed)]) == 2
    message = _flat(capsys.readouterr().err)
    assert "sealed with key 'k1' and no at-rest keys are configured" in message


def test_serving_waits_for_the_rotation(
    cli_env: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert run(["bank", "create", "ncii", "--kind", "block"]) == 0
    assert run(["bank", "add", "ncii", "--hash", f"md5:{'ab' * 16}"]) == 0
    keys = tmp_path / "keys"
    assert run(["at-rest", "new-key", str(keys), "--id", "k1"]) == 0
    _switch(monkeypatch, cli_env, tmp_path / "data", keys)
    capsys.readouterr()
    # Plain values and keys: lookups by value would miss them, so nothing serves until rotated.
    assert run(["serve", "--port", "1"]) == 2
    assert "holds plain values, not the current key 'k1'" in _flat(capsys.readouterr().err)
    assert run(["worker", "--drain"]) == 2
    assert run(["at-rest", "rotate"]) == 0
    assert "re-sealed 2 values" in capsys.readouterr().out
    assert run(["worker", "--drain"]) == 0


def test_new_key_refuses_a_used_id_and_a_damaged_file(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    keys = tmp_path / "keys"
    assert run(["at-rest", "new-key", str(keys), "--id", "k1"]) == 0
    assert run(["at-rest", "new-key", str(keys), "--id", "k1"]) == 2
    assert "has a key 'k1' already" in _flat(capsys.readouterr().err)
    assert run(["at-rest", "new-key", str(keys), "--id", "k2"]) == 0
    assert [line.split()[0] for line in keys.read_text().splitlines()] == ["k1", "k2"]
    assert run(["at-rest", "new-key", str(keys), "--id", "bad id!"]) == 2
    damaged = tmp_path / "damaged"
    damaged.write_text("k1 not-base64!\n")
    assert run(["at-rest", "new-key", str(damaged), "--id", "k2"]) == 2
    assert "line 1: the key is not base64" in _flat(capsys.readouterr().err)
    assert damaged.read_text() == "k1 not-base64!\n"  # nothing appended
