"""Shared fixtures. Tests make their own media; ``shared_data`` points at ../shared/data when
present (benchmark-grade photos and videos) and tests that need it skip without it.

How the suite is kept fast (docs/testing.md): password and PIN hashing is cheap here (below),
and the test databases start as copies of one migrated template per session."""

from __future__ import annotations

import os
from pathlib import Path

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

SHARED_DATA = Path(__file__).resolve().parents[2] / "shared" / "data"


@pytest.fixture(scope="session")
def shared_data() -> Path:
    """``../shared/data`` beside the checkout; skips the test when it is absent."""
    if not SHARED_DATA.is_dir():
        pytest.skip("../shared/data is not present")
    return SHARED_DATA


# -- databases ---------------------------------------------------------------------------------
# Every test that takes ``db`` (or ``database_url``) runs on a fresh SQLite file, and also on
# PostgreSQL, in a schema of its own, when SHIELDWALL_TEST_DATABASE_URL is set (CI sets it).

import uuid  # noqa: E402
from collections.abc import Iterator  # noqa: E402

from sqlalchemy import create_engine, text  # noqa: E402
from sqlalchemy.engine import make_url  # noqa: E402

from shieldwall.store import Database, close_databases  # noqa: E402

TEST_DATABASE_URL = os.environ.get("SHIELDWALL_TEST_DATABASE_URL", "")
BACKENDS = ["sqlite", "postgresql"] if TEST_DATABASE_URL else ["sqlite"]


@pytest.fixture(params=BACKENDS)
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """URL of an empty database: a SQLite file, or a fresh PostgreSQL schema."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'shieldwall.db'}"
        return
    schema = f"t_{uuid.uuid4().hex[:12]}"
    admin = create_engine(TEST_DATABASE_URL)
    with admin.begin() as conn:
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    url = make_url(TEST_DATABASE_URL).update_query_dict({"options": f"-csearch_path={schema}"})
    try:
        yield url.render_as_string(hide_password=False)
    finally:
        close_databases()
        with admin.begin() as conn:
            conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


@pytest.fixture
def db(database_url: str) -> Iterator[Database]:
    """A fresh, migrated database."""
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
