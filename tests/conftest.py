"""Shared fixtures. Tests make their own media; ``shared_data`` points at ../shared/data when
present (benchmark-grade photos and videos) and tests that need it skip without it.

How the suite is kept fast and free of wall-clock assertions (docs/testing.md): password and
PIN hashing is cheap here, Hypothesis does not time examples, and ``db`` starts migrated (a
copy of a SQLite template, a PostgreSQL schema emptied by the previous test)."""

from __future__ import annotations

import os
from pathlib import Path

import hypothesis
import pytest

#: argon2 at its lowest cost, for the tests only: a console login or a notice costs microseconds
#: instead of ~0.1 s of CPU and 64 MiB. Set before any test module builds its Settings, and
#: inherited by the processes the tests start. Production keeps argon2-cffi's defaults
#: (tests/people/test_passwords.py checks them with this environment removed).
CHEAP_PASSWORD_HASHING = {
    "SHIELDWALL_PASSWORD_HASH_TIME_COST": "1",
    "SHIELDWALL_PASSWORD_HASH_MEMORY_KIB": "8",
    "SHIELDWALL_PASSWORD_HASH_PARALLELISM": "1",
}
for _name, _value in CHEAP_PASSWORD_HASHING.items():
    os.environ.setdefault(_name, _value)

# Hypothesis times examples by default (a 200 ms deadline, a too-slow health check): wall-clock
# assertions that a loaded machine fails. The suite's profile turns them off.
hypothesis.settings.register_profile(
    "shieldwall", deadline=None, suppress_health_check=[hypothesis.HealthCheck.too_slow]
)
hypothesis.settings.load_profile("shieldwall")

SHARED_DATA = Path(__file__).resolve().parents[2] / "shared" / "data"


@pytest.fixture(scope="session")
def shared_data() -> Path:
    """``../shared/data`` beside the checkout; skips the test when it is absent."""
    if not SHARED_DATA.is_dir():
        pytest.skip("../shared/data is not present")
    return SHARED_DATA


# -- databases ---------------------------------------------------------------------------------
# Every test that takes ``db`` (or ``database_url``) runs on a database of its own: a SQLite file,
# and also a PostgreSQL schema when SHIELDWALL_TEST_DATABASE_URL is set (CI sets it).
#
# Migrating a database for each test cost more than most tests (on PostgreSQL, ~50 DDL
# statements: 0.1 s idle, up to 1 s on a loaded machine). So a test that takes ``db`` starts
# from a database the migrations made once per session: on SQLite a copy of a migrated template
# file; on PostgreSQL a migrated schema emptied by the previous test (every table's rows
# deleted, its sequences restarted: what a fresh migration leaves). A test that takes only
# ``database_url`` gets an empty database, as the tests of migrating on first use need.

import shutil  # noqa: E402
import sqlite3  # noqa: E402
import uuid  # noqa: E402
from collections.abc import Iterator  # noqa: E402

from sqlalchemy import Engine, create_engine, text  # noqa: E402
from sqlalchemy.engine import make_url  # noqa: E402

from shieldwall.store import Base, Database, close_databases  # noqa: E402

TEST_DATABASE_URL = os.environ.get("SHIELDWALL_TEST_DATABASE_URL", "")
BACKENDS = ["sqlite", "postgresql"] if TEST_DATABASE_URL else ["sqlite"]


def _schema_url(schema: str) -> str:
    url = make_url(TEST_DATABASE_URL).update_query_dict({"options": f"-csearch_path={schema}"})
    return url.render_as_string(hide_password=False)


class _Schemas:
    """PostgreSQL schemas of this test session: empty ones, and migrated ones lent to a test at
    a time and emptied when it gives them back."""

    def __init__(self) -> None:
        self.admin: Engine = create_engine(TEST_DATABASE_URL)
        self.made: list[str] = []
        self.free: list[str] = []  # migrated and empty

    def new(self) -> str:
        schema = f"t_{uuid.uuid4().hex[:12]}"
        with self.admin.begin() as conn:
            conn.execute(text(f'CREATE SCHEMA "{schema}"'))
        self.made.append(schema)
        return schema

    def migrated(self) -> str:
        if self.free:
            return self.free.pop()
        schema = self.new()
        Database(_schema_url(schema)).dispose()
        with self.admin.connect() as conn:
            found = set(
                conn.scalars(
                    text("SELECT tablename FROM pg_tables WHERE schemaname = :s"), {"s": schema}
                )
            )
        # Emptying knows the tables from the models: the migrations must make no others.
        assert found == {t.name for t in Base.metadata.sorted_tables} | {"alembic_version"}, found
        return schema

    def give_back(self, schema: str) -> None:
        """Empty a migrated schema for the next test (dropped instead if that fails)."""
        statements = ["SET LOCAL lock_timeout = '60s'"]
        statements += [
            f'DELETE FROM "{schema}"."{table.name}"'
            for table in reversed(Base.metadata.sorted_tables)  # children before parents
        ]
        statements.append(
            "SELECT setval(c.oid, 1, false) FROM pg_class c JOIN pg_namespace n"
            f" ON n.oid = c.relnamespace WHERE c.relkind = 'S' AND n.nspname = '{schema}'"
        )
        try:
            with self.admin.begin() as conn:
                conn.exec_driver_sql("; ".join(statements))
        except Exception:
            self.drop(schema)
            raise
        self.free.append(schema)

    def drop(self, schema: str) -> None:
        with self.admin.begin() as conn:
            conn.execute(text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
        self.made.remove(schema)
        if schema in self.free:
            self.free.remove(schema)

    def close(self) -> None:
        for schema in list(self.made):
            self.drop(schema)
        self.admin.dispose()


@pytest.fixture(scope="session")
def _pg_schemas() -> Iterator[_Schemas]:
    schemas = _Schemas()
    try:
        yield schemas
    finally:
        schemas.close()


@pytest.fixture(scope="session")
def _sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A SQLite file the migrations made, in one file (no WAL beside it) to copy."""
    path = tmp_path_factory.mktemp("template") / "shieldwall.db"
    Database(f"sqlite:///{path}").dispose()
    with sqlite3.connect(path) as conn:
        conn.execute("PRAGMA journal_mode=DELETE")  # checkpoints the WAL into the file
    conn.close()
    return path


@pytest.fixture(params=BACKENDS)
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """URL of the test's own database, a SQLite file or a PostgreSQL schema: empty, or already
    migrated when the test also takes ``db`` (see above)."""
    migrated = "db" in request.fixturenames
    if request.param == "sqlite":
        path = tmp_path / "shieldwall.db"
        if migrated:
            shutil.copyfile(request.getfixturevalue("_sqlite_template"), path)
        yield f"sqlite:///{path}"
        return
    schemas: _Schemas = request.getfixturevalue("_pg_schemas")
    schema = schemas.migrated() if migrated else schemas.new()
    try:
        yield _schema_url(schema)
    finally:
        close_databases()
        if migrated:
            schemas.give_back(schema)
        else:
            schemas.drop(schema)


@pytest.fixture
def db(database_url: str) -> Iterator[Database]:
    """The test's own migrated database (nothing in it)."""
    database = Database(database_url)
    try:
        yield database
    finally:
        database.dispose()


@pytest.fixture
def cli_env(database_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """The environment of a CLI run against a fresh database; yields its URL."""
    from shieldwall.config import get_settings

    monkeypatch.setenv("SHIELDWALL_DATABASE_URL", database_url)
    monkeypatch.setenv("SHIELDWALL_DATA_DIR", str(tmp_path / "data"))
    get_settings.cache_clear()
    close_databases()
    try:
        yield database_url
    finally:
        close_databases()
        get_settings.cache_clear()
