"""Opening the database: engine, SQLite pragmas, sessions, and migration on first use.

    >>> db = Database("sqlite:///shieldwall.db")        # doctest: +SKIP
    >>> with db.transaction() as session:               # doctest: +SKIP
    ...     session.add(Bank(name="ncii", kind="block"))

SQLite runs in WAL mode (readers never wait for the writer) with a busy timeout, and every write
transaction starts with ``BEGIN IMMEDIATE``: there is one writer at a time, and a writer waits
for the lock instead of failing half-way. PostgreSQL is used as is; appends to the signal log
take an advisory lock there (:mod:`shieldwall.store.signal_log`).
"""

from __future__ import annotations

import threading
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy import Engine, create_engine, event, select, text
from sqlalchemy.engine import Connection, make_url
from sqlalchemy.exc import ArgumentError, OperationalError, SQLAlchemyError
from sqlalchemy.orm import Session, sessionmaker

from shieldwall.config import Settings, get_settings
from shieldwall.errors import ConfigError, ShieldwallError, StoreError
from shieldwall.store import sealing
from shieldwall.store.models import DatabaseInstance
from shieldwall.store.sealing import Keyring

if TYPE_CHECKING:
    from alembic.config import Config as AlembicConfig

__all__ = ["MIGRATIONS", "Database", "open_database"]

#: Alembic's script directory, shipped inside the package.
MIGRATIONS = Path(__file__).resolve().parent / "migrations"
#: Advisory lock key that serialises migrations on PostgreSQL.
_MIGRATE_LOCK = 0x5348_0001


def _sqlite_pragmas(busy_timeout_ms: int) -> Any:
    def on_connect(dbapi_conn: Any, _record: Any) -> None:
        dbapi_conn.isolation_level = None  # we emit BEGIN ourselves (see _begin)
        cursor = dbapi_conn.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute(f"PRAGMA busy_timeout={int(busy_timeout_ms)}")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.close()

    return on_connect


def _begin(conn: Connection) -> None:
    mode = conn.get_execution_options().get("sqlite_begin", "DEFERRED")
    conn.exec_driver_sql(f"BEGIN {mode}")


class Database:
    """One database: an engine, read and write sessions, and its schema kept at the head revision.

    ``migrate=True`` (the default) brings the schema up to date on open; several processes may
    open the same database at once (migrations are serialised by a lock).
    """

    def __init__(
        self,
        url: str,
        *,
        busy_timeout_ms: int = 10_000,
        migrate: bool = True,
        keyring: Keyring | None = None,
    ) -> None:
        try:
            parsed = make_url(url)
        except ArgumentError as exc:
            raise ConfigError(f"invalid database URL {url!r}: {exc}") from exc
        self.url = parsed
        self.is_sqlite = parsed.get_backend_name() == "sqlite"
        try:
            if self.is_sqlite:
                if parsed.database and parsed.database != ":memory:":
                    Path(parsed.database).expanduser().parent.mkdir(parents=True, exist_ok=True)
                self.engine: Engine = create_engine(
                    parsed, connect_args={"timeout": busy_timeout_ms / 1000}
                )
                event.listen(self.engine, "connect", _sqlite_pragmas(busy_timeout_ms))
                event.listen(self.engine, "begin", _begin)
            else:
                self.engine = create_engine(parsed, pool_pre_ping=True)
        except (SQLAlchemyError, ImportError) as exc:
            raise ConfigError(f"cannot use database URL {parsed!r}: {exc}") from exc
        #: The keys that seal bank signal values (``at_rest_keys_file``), or ``None``.
        self.keyring = keyring
        sealing.attach(self.engine.dialect, keyring)
        self._instance_id: str | None = None
        #: What higher layers attach to this database (the audit chain's key and anchor,
        #: :func:`shieldwall.audit.configure`); every session sees it as
        #: ``session.info["extensions"]``.
        self.extensions: dict[str, Any] = {}
        info = {"extensions": self.extensions}
        self._reader = sessionmaker(self.engine, expire_on_commit=False, info=info)
        self._writer = sessionmaker(
            self.engine.execution_options(sqlite_begin="IMMEDIATE"),
            expire_on_commit=False,
            info=info,
        )
        if migrate:
            self.migrate()

    def __repr__(self) -> str:
        return f"Database({self.url.render_as_string(hide_password=True)!r})"

    @property
    def dialect(self) -> str:
        """``sqlite`` or ``postgresql``."""
        return self.engine.dialect.name

    @contextmanager
    def session(self) -> Iterator[Session]:
        """A session for reading; closed (its transaction rolled back) at the end, leaving the
        objects it loaded readable."""
        with self._guard(), self._reader() as session:
            yield session

    @contextmanager
    def transaction(self) -> Iterator[Session]:
        """A write transaction: committed when the block ends, rolled back entirely on error.

        On SQLite it holds the one writer's lock from its first statement (``BEGIN IMMEDIATE``).
        """
        with self._guard(), self._writer() as session, session.begin():
            yield session

    @contextmanager
    def _guard(self) -> Iterator[None]:
        try:
            yield
        except ShieldwallError:
            raise
        except OperationalError as exc:
            raise StoreError(f"database {self!r} failed: {exc.orig or exc}") from exc

    # -- migrations ------------------------------------------------------------------------

    def _alembic_config(self, connection: Connection) -> AlembicConfig:
        from alembic.config import Config as AlembicConfig  # noqa: PLC0415 (see head_revision)

        config = AlembicConfig()
        config.set_main_option("script_location", str(MIGRATIONS))
        config.attributes["connection"] = connection
        return config

    def current_revision(self) -> str | None:
        """The schema revision the database is at (``None``: empty database)."""
        from alembic.runtime.migration import MigrationContext  # noqa: PLC0415

        with self._guard(), self.engine.connect() as conn:
            return MigrationContext.configure(conn).get_current_revision()

    @staticmethod
    def head_revision() -> str | None:
        """The newest revision this version of Shieldwall ships. (Alembic, 11 MiB resident,
        loads only where the schema is checked or migrated: not in a service's workers.)"""
        from alembic.config import Config as AlembicConfig  # noqa: PLC0415
        from alembic.script import ScriptDirectory  # noqa: PLC0415

        config = AlembicConfig()
        config.set_main_option("script_location", str(MIGRATIONS))
        return ScriptDirectory.from_config(config).get_current_head()

    def at_newest_revision(self) -> bool:
        """Whether the schema is at the newest revision of the migrations folder, read without
        Alembic: the file that sorts last holds the head, named after it (``0021_matcher_state.py``
        is ``0021_matcher_state``; a test checks it), so that a service's workers, which open the
        database but never migrate it, do not load Alembic."""
        newest = max(
            (p.stem for p in (MIGRATIONS / "versions").glob("[0-9][0-9][0-9][0-9]_*.py")),
            default=None,
        )
        if newest is None:
            return False
        try:
            with self.engine.connect() as conn:
                found = conn.execute(text("SELECT version_num FROM alembic_version")).all()
        except SQLAlchemyError:
            return False  # no version table (an empty database), or unreachable: Alembic says
        return [row[0] for row in found] == [newest]

    def migrate(self) -> None:
        """Bring the schema to the head revision; does nothing when it is there already."""
        if self.at_newest_revision():
            return
        from alembic import command  # noqa: PLC0415
        from alembic.runtime.migration import MigrationContext  # noqa: PLC0415

        head = self.head_revision()
        if self.current_revision() == head:
            return
        try:
            with self._writer_connection() as conn:
                if not self.is_sqlite:
                    conn.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": _MIGRATE_LOCK})
                if MigrationContext.configure(conn).get_current_revision() != head:
                    command.upgrade(self._alembic_config(conn), "head")
        except SQLAlchemyError as exc:
            raise StoreError(f"cannot migrate {self!r}: {exc}") from exc

    @contextmanager
    def _writer_connection(self) -> Iterator[Connection]:
        engine = self.engine.execution_options(sqlite_begin="IMMEDIATE")
        with engine.begin() as conn:
            yield conn

    def instance_id(self) -> str:
        """A random id that names this database for good (created on first call)."""
        if self._instance_id is None:
            with self.transaction() as session:
                found = session.scalar(select(DatabaseInstance.id))
                if found is None:
                    found = str(uuid.uuid4())
                    session.add(DatabaseInstance(id=found))
                self._instance_id = found
        return self._instance_id

    def dispose(self) -> None:
        """Close every pooled connection."""
        self.engine.dispose()


_open: dict[str, Database] = {}
_open_lock = threading.Lock()


def open_database(settings: Settings | None = None) -> Database:
    """The process's :class:`Database` for ``settings`` (default: the process settings), opened
    and migrated on first use."""
    settings = settings or get_settings()
    url = settings.resolved_database_url()
    with _open_lock:
        db = _open.get(url)
        if db is None:
            keys = settings.at_rest_keys_file
            db = Database(
                url,
                busy_timeout_ms=settings.database_busy_timeout_ms,
                keyring=Keyring.from_file(keys) if keys is not None else None,
            )
            _open[url] = db
        return db


def close_databases() -> None:
    """Dispose of every database :func:`open_database` opened (tests, forked workers)."""
    with _open_lock:
        for db in _open.values():
            db.dispose()
        _open.clear()
