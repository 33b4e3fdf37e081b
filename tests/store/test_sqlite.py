"""SQLite runs in WAL mode with a busy timeout, foreign keys on, and one writer at a time."""

from __future__ import annotations

import threading
import time
from pathlib import Path

import pytest
from sqlalchemy import text

from shieldwall.errors import ConfigError
from shieldwall.store import Bank, Database


@pytest.fixture
def sqlite_db(tmp_path: Path) -> Database:
    return Database(f"sqlite:///{tmp_path / 'a.db'}", busy_timeout_ms=5000)


def test_pragmas(sqlite_db: Database) -> None:
    with sqlite_db.session() as session:
        assert session.execute(text("PRAGMA journal_mode")).scalar() == "wal"
        assert session.execute(text("PRAGMA foreign_keys")).scalar() == 1
        assert session.execute(text("PRAGMA busy_timeout")).scalar() == 5000


def test_a_second_writer_waits_for_the_first(sqlite_db: Database) -> None:
    order: list[str] = []
    started = threading.Event()

    def first() -> None:
        with sqlite_db.transaction() as session:
            session.add(Bank(name="one", kind="block"))
            session.flush()
            started.set()
            time.sleep(0.3)
            order.append("first committed")

    thread = threading.Thread(target=first)
    thread.start()
    started.wait()
    with sqlite_db.transaction() as session:
        session.execute(text("SELECT 1"))  # BEGIN IMMEDIATE: waits for the first writer
        order.append("second began")
        session.add(Bank(name="two", kind="block"))
    thread.join()
    assert order == ["first committed", "second began"]


def test_readers_do_not_wait_for_the_writer(sqlite_db: Database) -> None:
    with sqlite_db.transaction() as session:
        session.add(Bank(name="one", kind="block"))
        session.flush()
        with sqlite_db.session() as reader:
            assert reader.execute(text("SELECT count(*) FROM bank")).scalar() == 0


def test_default_database_is_a_file_in_the_data_dir(tmp_path: Path) -> None:
    from shieldwall.config import Settings

    settings = Settings.load(data_dir=tmp_path / "d")
    assert settings.resolved_database_url() == f"sqlite:///{tmp_path / 'd' / 'shieldwall.db'}"


def test_bad_url_is_a_config_error() -> None:
    with pytest.raises(ConfigError, match="invalid database URL"):
        Database("not a url")
