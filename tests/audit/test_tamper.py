"""Issue 19 point 2: the keyed, anchored chain finds truncation and rewriting. Each scenario is
one an unkeyed, unanchored chain said "intact" to: the newest rows deleted, the whole table
deleted, a row edited with the chain recomputed (without the key), a middle row deleted."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pytest
from sqlalchemy import delete, select, update
from typer.testing import CliRunner

from shieldwall.audit import (
    AuditRecord,
    check_chain,
    configure,
    event_hash,
    list_events,
    record_event,
    verify,
)
from shieldwall.audit.keying import AuditConfig, AuditKey, generate_key_file, load_key
from shieldwall.cli import app
from shieldwall.config import Settings
from shieldwall.errors import ConfigError
from shieldwall.store import Database
from shieldwall.store.models import AuditEvent


@pytest.fixture
def settings(tmp_path: Path, db: Database) -> Settings:
    return Settings(
        data_dir=tmp_path / "data", database_url=db.url.render_as_string(hide_password=False)
    )


@pytest.fixture
def keyed(db: Database, settings: Settings) -> Database:
    configure(db, settings)
    return db


def _fill(db: Database, n: int) -> None:
    for i in range(n):
        with db.transaction() as session:
            record_event(session, f"user:{i % 3}", "case.decided", f"case:C-{i}", {"i": i})


def _report(db: Database, settings: Settings) -> list[str]:
    key = load_key(settings)
    return check_chain(db, key=key, anchor=settings.resolved_audit_anchor_path()).problems


def _recompute_unkeyed(db: Database, from_seq: int, to_seq: int | None = None) -> None:
    """What someone with the database but not the key can do: rewrite the hashes from
    ``from_seq`` on with plain SHA-256 so that every link matches again."""
    with db.transaction() as session:
        rows = list(session.scalars(select(AuditEvent).order_by(AuditEvent.seq)))
        prev = rows[from_seq - 2].hash if from_seq > 1 else "0" * 64
        for row in rows[from_seq - 1 : to_seq]:
            record = AuditRecord(
                row.seq, row.at, row.actor, row.action, row.subject, row.details, prev, "", None
            )
            row.prev_hash, row.hash, row.key_id = prev, event_hash(record), None
            prev = row.hash


def test_events_are_keyed_and_anchored(keyed: Database, settings: Settings) -> None:
    _fill(keyed, 3)
    key = load_key(settings)
    assert key is not None
    events = list_events(keyed)
    assert {e.key_id for e in events} == {key.id}
    anchor = [
        json.loads(line) for line in settings.resolved_audit_anchor_path().read_text().splitlines()
    ]
    assert [(a["seq"], a["hash"]) for a in anchor] == [(e.seq, e.hash) for e in events]
    assert verify(keyed) is None
    report = check_chain(keyed, key=key, anchor=settings.resolved_audit_anchor_path())
    assert report.intact and report.keyed_from == 1 and report.anchored_head == 3
    # the key file is the service's only: mode 0600
    assert (settings.data_dir / "audit.key").stat().st_mode & 0o077 == 0


def test_a_rolled_back_event_is_not_anchored(keyed: Database, settings: Settings) -> None:
    _fill(keyed, 2)

    def failing_change() -> None:
        with keyed.transaction() as session:
            record_event(session, "user:1", "case.decided", "case:X")
            raise RuntimeError("the change failed")

    with pytest.raises(RuntimeError):
        failing_change()
    assert len(settings.resolved_audit_anchor_path().read_text().splitlines()) == 2
    assert _report(keyed, settings) == []


def test_newest_rows_deleted(keyed: Database, settings: Settings) -> None:
    _fill(keyed, 57)
    with keyed.transaction() as session:
        session.execute(delete(AuditEvent).where(AuditEvent.seq > 40))
    assert _report(keyed, settings) == ["rows 41-57 missing after row 40: the anchored head is 57"]
    assert verify(keyed) == 41


def test_whole_table_deleted(keyed: Database, settings: Settings) -> None:
    _fill(keyed, 5)
    with keyed.transaction() as session:
        session.execute(delete(AuditEvent))
    assert _report(keyed, settings) == [
        "rows 1-5 missing: the table is empty but the anchored head is 5"
    ]
    assert verify(keyed) == 1


def test_a_row_edited_and_the_chain_recomputed_without_the_key(
    keyed: Database, settings: Settings
) -> None:
    _fill(keyed, 20)
    with keyed.transaction() as session:
        session.execute(
            update(AuditEvent).where(AuditEvent.seq == 12).values(actor="user:someone-else")
        )
    _recompute_unkeyed(keyed, 12)
    problems = _report(keyed, settings)
    assert problems[0] == (
        "row 12 altered: unkeyed after keyed rows (the chain was recomputed without the key)"
    )
    assert (
        "row 12 altered and the chain recomputed without the key: its hash is not the one anchored"
        in problems
    )
    assert verify(keyed) == 12


def test_the_whole_chain_recomputed_without_the_key(keyed: Database, settings: Settings) -> None:
    """Every row made unkeyed and rehashed: only the anchor can tell."""
    _fill(keyed, 6)
    with keyed.transaction() as session:
        session.execute(update(AuditEvent).where(AuditEvent.seq == 3).values(details={"i": 99}))
    _recompute_unkeyed(keyed, 1)
    problems = _report(keyed, settings)
    assert problems[0] == (
        "row 1 altered and the chain recomputed without the key: its hash is not the one anchored"
    )
    assert len(problems) == 6


def test_a_row_edited_with_a_keyed_hash_guessed(keyed: Database, settings: Settings) -> None:
    _fill(keyed, 5)
    with keyed.transaction() as session:
        session.execute(update(AuditEvent).where(AuditEvent.seq == 2).values(details={"i": 7}))
    problems = _report(keyed, settings)
    assert problems[0].startswith("row 2 altered: its keyed hash does not match its fields")


def test_a_middle_row_deleted(keyed: Database, settings: Settings) -> None:
    _fill(keyed, 20)
    with keyed.transaction() as session:
        session.execute(delete(AuditEvent).where(AuditEvent.seq.in_([12, 13])))
    assert _report(keyed, settings) == ["rows 12-13 missing (row 14 follows row 11)"]


def test_a_forged_anchor_line_is_found(keyed: Database, settings: Settings) -> None:
    """A line written without the key (to make a rewrite look anchored) is refused."""
    _fill(keyed, 3)
    key = load_key(settings)
    assert key is not None
    anchor = settings.resolved_audit_anchor_path()
    with anchor.open("a") as out:
        forged = {"seq": 2, "hash": "f" * 64, "key_id": key.id, "mac": "0" * 64}
        out.write(json.dumps(forged) + "\n")
        out.write("not json\n")
    problems = _report(keyed, settings)
    assert problems == [
        "anchor line 4 (row 2) is forged: its MAC is not the key's",
        "anchor line 5 is malformed",
    ]


def test_the_wrong_key_or_none(keyed: Database, settings: Settings, tmp_path: Path) -> None:
    _fill(keyed, 2)
    other = generate_key_file(tmp_path / "other.key")
    anchor = settings.resolved_audit_anchor_path()
    problems = check_chain(keyed, key=other, anchor=anchor).problems
    assert problems[0].startswith("row 1 is keyed with key ")
    problems = check_chain(keyed, key=None, anchor=anchor).problems
    assert problems[0].startswith("rows from 1 are keyed (key ")


def test_legacy_rows_stay_a_sealed_prefix(db: Database, settings: Settings) -> None:
    """Rows written before migration 0017 (no key) stay valid; keyed rows follow and seal
    them: editing a legacy row breaks the first keyed row's link."""
    _fill(db, 3)  # unkeyed: a database no process configured
    assert {e.key_id for e in list_events(db)} == {None}
    configure(db, settings)
    _fill(db, 2)
    report = check_chain(db, key=load_key(settings), anchor=settings.resolved_audit_anchor_path())
    assert report.intact and report.keyed_from == 4
    with db.transaction() as session:  # a legacy row edited, the legacy rows recomputed
        session.execute(update(AuditEvent).where(AuditEvent.seq == 2).values(actor="user:x"))
    _recompute_unkeyed(db, 2, 3)
    assert _report(db, settings) == [
        "row 4 altered: its link does not match row 3's hash",
    ]
    _recompute_unkeyed(db, 2)  # and the keyed rows too: only the anchor can tell
    assert _report(db, settings) == [
        "row 4 altered and the chain recomputed without the key: its hash is not the one anchored",
        "row 5 altered and the chain recomputed without the key: its hash is not the one anchored",
    ]


def test_a_bad_key_is_a_config_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="64 hex digits"):
        load_key(Settings(data_dir=tmp_path, audit_key="abc"))
    key = AuditKey(b"k" * 32)
    assert "k" * 8 not in repr(key)
    assert key.id == hashlib.sha256(b"shieldwall-audit-key-id\x00" + b"k" * 32).hexdigest()[:16]
    assert AuditConfig(key, None).anchor is None


def test_cli_verify_names_what_is_missing(cli_env: None, tmp_path: Path) -> None:
    runner = CliRunner()
    assert runner.invoke(app, ["bank", "create", "b1", "--kind", "block"]).exit_code == 0
    assert runner.invoke(app, ["bank", "create", "b2", "--kind", "block"]).exit_code == 0
    ok = runner.invoke(app, ["audit", "verify"])
    assert ok.exit_code == 0, ok.output
    assert "chain intact: 2 events, keyed from event 1, anchored head 2" in ok.output
    from shieldwall.cli._db import open_database

    with open_database().transaction() as session:
        session.execute(delete(AuditEvent).where(AuditEvent.seq == 2))
    broken = runner.invoke(app, ["audit", "verify"])
    assert broken.exit_code == 1
    assert "broken: row 2 missing after row 1: the anchored head is 2" in broken.output
    copy = tmp_path / "shipped-anchor.jsonl"  # the anchor as a log store kept it
    copy.write_text((tmp_path / "data" / "audit-anchor.jsonl").read_text())
    (tmp_path / "data" / "audit-anchor.jsonl").unlink()  # the local one removed as well
    local = runner.invoke(app, ["audit", "verify"])
    assert local.exit_code == 1
    assert "audit-anchor.jsonl is missing although rows from 1 were anchored" in local.output
    shipped = runner.invoke(app, ["audit", "verify", "--anchor", str(copy)])
    assert shipped.exit_code == 1
    assert "broken: row 2 missing after row 1: the anchored head is 2" in shipped.output
    key_file = tmp_path / "new.key"
    made = runner.invoke(app, ["audit", "keygen", str(key_file)])
    assert made.exit_code == 0 and len(key_file.read_text().strip()) == 64
    again = runner.invoke(app, ["audit", "keygen", str(key_file)])
    assert again.exit_code == 2 and "exists already" in again.output


def test_the_key_from_a_secret_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    made = generate_key_file(tmp_path / "secret" / "audit.key")
    monkeypatch.setenv("SHIELDWALL_AUDIT_KEY_FILE", str(tmp_path / "secret" / "audit.key"))
    settings = Settings(data_dir=tmp_path / "data")
    assert load_key(settings) == made
    assert made.secret.hex() not in repr(settings)  # a secret: never in a log or traceback
    assert not (tmp_path / "data" / "audit.key").exists()  # the default file is not made
