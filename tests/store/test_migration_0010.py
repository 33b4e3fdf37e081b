"""Migration 0010 (signal capabilities) carries a database's old state over: the ledger's PDQ
column, vPDQ frames in their old table, and video_md5 signals, matches and ledger rows."""

from __future__ import annotations

from alembic import command
from alembic.config import Config
from sqlalchemy import create_engine, text

from shieldwall.signals.vpdq import format_vpdq, parse_vpdq
from shieldwall.store import MIGRATIONS, Database

PDQ = "f8f8f0cee0f4a84f06370a22038f63f0b36e2ed596621e1d33e6b39c4e9c9b22"
MD5 = "0123456789abcdef0123456789abcdef"
FRAMES = format_vpdq(parse_vpdq(f"0,100,{PDQ},0.000\n1,90,{PDQ},0.100"))


def _upgrade(url: str, revision: str) -> None:
    engine = create_engine(url)
    with engine.begin() as conn:
        config = Config()
        config.set_main_option("script_location", str(MIGRATIONS))
        config.attributes["connection"] = conn
        command.upgrade(config, revision)
    engine.dispose()


def test_old_state_is_carried_over(database_url: str) -> None:
    _upgrade(database_url, "0009_content_scores")
    engine = create_engine(database_url)
    now = "2026-01-01 00:00:00"
    with engine.begin() as conn:
        conn.execute(
            text(
                "INSERT INTO bank (id, name, kind, enabled, thresholds, description, created_at)"
                " VALUES (1, 'ncii', 'block', true, '{}', '', :now)"
            ),
            {"now": now},
        )
        conn.execute(
            text(
                "INSERT INTO bank_entry (id, bank_id, note, status, provenance, created_at, "
                "updated_at) VALUES (1, 1, '', 'active', 'partner', :now, :now)"
            ),
            {"now": now},
        )
        for sid, kind, value in [(1, "video_md5", MD5), (2, "vpdq", "d" * 64)]:
            conn.execute(
                text(
                    "INSERT INTO bank_signal (id, bank_id, entry_id, type, value, live, "
                    "created_at) VALUES (:id, 1, 1, :t, :v, true, :now)"
                ),
                {"id": sid, "t": kind, "v": value, "now": now},
            )
            conn.execute(
                text(
                    "INSERT INTO signal_log (op, signal_id, type, value, at) "
                    "VALUES ('add', :id, :t, :v, :now)"
                ),
                {"id": sid, "t": kind, "v": value, "now": now},
            )
        conn.execute(
            text("INSERT INTO bank_video (signal_id, frame_count, vpdq) VALUES (2, 2, :f)"),
            {"f": FRAMES},
        )
        conn.execute(
            text("INSERT INTO ledger_item (id, content_id, pdq, seen_at) VALUES (1, 'p', :p, :n)"),
            {"p": bytes.fromhex(PDQ), "n": now},
        )
        conn.execute(
            text("INSERT INTO ledger_signal (item_id, type, value) VALUES (1, 'video_md5', :m)"),
            {"m": MD5},
        )
    engine.dispose()

    db = Database(database_url)  # opening migrates to the head
    try:
        assert db.current_revision() == Database.head_revision()
        with db.engine.connect() as conn:
            signals = conn.execute(text("SELECT id, type FROM bank_signal ORDER BY id")).all()
            assert [tuple(r) for r in signals] == [(1, "md5"), (2, "vpdq")]
            log = conn.execute(text("SELECT type FROM signal_log ORDER BY seq")).scalars().all()
            assert log == ["md5", "vpdq"]
            side = conn.execute(text("SELECT signal_id, value FROM bank_signal_value")).all()
            assert [tuple(r) for r in side] == [(2, FRAMES)]
            ledger = conn.execute(text("SELECT type, value FROM ledger_signal ORDER BY type")).all()
            assert [tuple(r) for r in ledger] == [("md5", MD5), ("pdq", PDQ)]
    finally:
        db.dispose()
