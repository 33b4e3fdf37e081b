"""The schema is created by the shipped Alembic migrations on first use, and matches the models."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import inspect

from shieldwall.store import Base, Database


def test_first_use_migrates_to_head(database_url: str) -> None:
    # ``database_url`` alone is an empty database (``db`` starts from one migrated already).
    db = Database(database_url, migrate=False)
    assert db.current_revision() is None
    db.dispose()
    db = Database(database_url)
    assert db.current_revision() == Database.head_revision()
    tables = set(inspect(db.engine).get_table_names())
    assert {"bank", "bank_entry", "bank_signal", "signal_log", "match", "ledger_item"} <= tables
    db.dispose()


def test_models_and_migrations_agree(db: Database) -> None:
    with db.engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn), Base.metadata)
    assert diff == []


def test_opening_again_is_a_no_op(database_url: str, db: Database) -> None:
    again = Database(database_url)
    assert again.current_revision() == Database.head_revision()
    again.dispose()


def test_migrations_ship_inside_the_package() -> None:
    from shieldwall.store import MIGRATIONS

    assert (MIGRATIONS / "env.py").is_file()
    assert any((MIGRATIONS / "versions").glob("0001_*.py"))


def test_several_processes_opening_a_new_database_at_once(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'race.db'}"
    code = f"from shieldwall.store import Database; Database({url!r})"
    procs = [subprocess.Popen([sys.executable, "-c", code]) for _ in range(4)]
    assert [p.wait(timeout=60) for p in procs] == [0, 0, 0, 0]
    assert Database(url).current_revision() == Database.head_revision()


def test_the_newest_migration_file_is_named_after_the_head() -> None:
    # Database.at_newest_revision takes the head from the file names (no Alembic): the file
    # that sorts last must hold the head revision, named after the file
    from alembic.config import Config
    from alembic.script import ScriptDirectory

    from shieldwall.store import MIGRATIONS

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    script = ScriptDirectory.from_config(config)
    files = {Path(r.path).name: r.revision for r in script.walk_revisions()}
    newest = max(files)
    assert files[newest] == Path(newest).stem == script.get_current_head()


def test_the_quick_revision_check_agrees_with_alembic(database_url: str) -> None:
    from alembic import command

    db = Database(database_url, migrate=False)
    assert not db.at_newest_revision()  # an empty database: no version table
    with db.engine.begin() as conn:  # one revision behind the head
        command.upgrade(db._alembic_config(conn), "0020_backfill_stamp")
    assert db.current_revision() == "0020_backfill_stamp"
    assert not db.at_newest_revision()
    db.migrate()  # the check must not skip the last upgrade
    assert db.current_revision() == Database.head_revision()
    assert db.at_newest_revision()
    db.dispose()
