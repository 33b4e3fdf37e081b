"""Backup and restore of a whole database, portable between machines and between SQLite and
PostgreSQL.

A backup file (format ``shieldwall-backup`` version 1) is gzip-compressed JSON lines::

    {"format": "shieldwall-backup", "version": 1, "schema": "<alembic revision>", ...}
    {"table": "bank", "columns": ["id", "name", ...]}       then one JSON array a row
    [1, "ncii", ...]
    ...                                                     every table, parents first
    {"end": true, "rows": {"bank": 1, ...}, "sha256": "<of every line before this one>"}

Values are written as the database stores them: signal values sealed at rest stay sealed
(restoring them needs the same key file), timestamps are ISO 8601 in UTC, bytes base64. With
at-rest keys the whole file is sealed as well (:mod:`shieldwall.store.sealing`), so the rest of
the database (cases, keys' digests, audit events) is not readable from the file either.

Restoring needs an empty database at the same schema revision (a fresh one is migrated on
open), writes everything in one transaction (a failure leaves the database empty), and
checks the row counts and the checksum before it commits. Index snapshots are not in a
backup: they are derived, and the restored database's matchers build them from the signals.
"""

from __future__ import annotations

import base64
import gzip
import hashlib
import io
import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import IO, Any, Final

from sqlalchemy import (
    Column,
    DateTime,
    LargeBinary,
    String,
    Table,
    func,
    insert,
    select,
    text,
    type_coerce,
)
from sqlalchemy.orm import Session

from shieldwall._version import __version__
from shieldwall.errors import BackupError
from shieldwall.store.database import Database
from shieldwall.store.models import Base
from shieldwall.store.sealing import (
    Keyring,
    SealedString,
    SealedText,
    SealedWriter,
    is_sealed_file,
    open_sealed,
)

__all__ = ["FORMAT", "FORMAT_VERSION", "BackupReport", "backup", "restore"]

FORMAT: Final = "shieldwall-backup"
FORMAT_VERSION: Final = 1
_BATCH: Final = 2_000


@dataclass
class BackupReport:
    """What a backup or a restore wrote: rows per table, the schema revision, whether the
    file is sealed."""

    rows: dict[str, int] = field(default_factory=dict)
    schema: str | None = None
    sealed: bool = False

    @property
    def total(self) -> int:
        """Rows in all."""
        return sum(self.rows.values())


def _is_sealed_column(column: Column[Any]) -> bool:
    return isinstance(column.type, SealedString | SealedText)


def _selectable(column: Column[Any]) -> Any:
    # Sealed values go out as stored: the backup never holds what the keys protect in plain.
    return type_coerce(column, String()) if _is_sealed_column(column) else column


def _encode(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.astimezone(UTC).isoformat()
    if isinstance(value, bytes | memoryview):
        return base64.b64encode(bytes(value)).decode("ascii")
    return value


def _decoder(column: Column[Any]) -> Any:
    kind = getattr(column.type, "impl", column.type)  # a TypeDecorator's stored type
    if isinstance(kind, DateTime):
        return lambda v: None if v is None else datetime.fromisoformat(v)
    if isinstance(kind, LargeBinary):
        return lambda v: None if v is None else base64.b64decode(v)
    return None


def _tables() -> list[Table]:
    return list(Base.metadata.sorted_tables)


class _Lines:
    """Writes lines to a gzip stream and keeps the checksum of what was written."""

    def __init__(self, out: IO[bytes] | SealedWriter) -> None:
        self._gzip = gzip.GzipFile(fileobj=out, mode="wb", mtime=0)
        self.digest = hashlib.sha256()

    def write(self, obj: Any) -> None:
        line = json.dumps(obj, separators=(",", ":"), ensure_ascii=False).encode("utf-8") + b"\n"
        self.digest.update(line)
        self._gzip.write(line)

    def close(self, end: dict[str, Any]) -> None:
        self._gzip.write(json.dumps(end, separators=(",", ":")).encode("utf-8") + b"\n")
        self._gzip.close()


def backup(db: Database, path: Path, *, seal: bool | None = None) -> BackupReport:
    """Write every table of ``db`` to ``path`` (written to a temporary name, then renamed).

    ``seal`` (default: whether ``db`` has at-rest keys) seals the file with the current key.
    Read from one consistent snapshot of the database (PostgreSQL: repeatable read).
    """
    seal = db.keyring is not None if seal is None else seal
    if seal and db.keyring is None:
        raise BackupError("cannot seal the backup: no at-rest keys are configured")
    report = BackupReport(schema=db.current_revision(), sealed=seal)
    tmp = path.with_name(path.name + ".partial")
    try:
        with tmp.open("wb") as raw, db.session() as session:
            if db.dialect == "postgresql":
                session.connection(execution_options={"isolation_level": "REPEATABLE READ"})
            sealer = SealedWriter(raw, db.keyring) if seal and db.keyring is not None else None
            lines = _Lines(sealer if sealer is not None else raw)
            lines.write(
                {
                    "format": FORMAT,
                    "version": FORMAT_VERSION,
                    "schema": report.schema,
                    "dialect": db.dialect,
                    "shieldwall": __version__,
                    "created": datetime.now(UTC).isoformat(timespec="seconds"),
                    "tables": [t.name for t in _tables()],
                }
            )
            for table in _tables():
                report.rows[table.name] = _dump_table(session, table, lines)
            lines.close({"end": True, "rows": report.rows, "sha256": lines.digest.hexdigest()})
            if sealer is not None:
                sealer.close()
        tmp.replace(path)
    finally:
        tmp.unlink(missing_ok=True)
    return report


def _dump_table(session: Session, table: Table, lines: _Lines) -> int:
    columns = list(table.columns)
    lines.write({"table": table.name, "columns": [c.name for c in columns]})
    order = list(table.primary_key.columns) or columns
    rows = session.execute(
        select(*(_selectable(c) for c in columns))
        .order_by(*order)
        .execution_options(yield_per=_BATCH)
    )
    count = 0
    for row in rows:
        lines.write([_encode(v) for v in row])
        count += 1
    return count


def _plain_lines(path: Path, keyring: Keyring | None) -> Iterator[bytes]:
    """The uncompressed lines of a backup file, sealed or not."""
    try:
        raw = path.open("rb")
    except OSError as exc:
        raise BackupError(f"{path}: cannot read: {exc.strerror}") from exc
    with raw:
        head = raw.read(8)
        raw.seek(0)
        source: IO[bytes] | _ChunkReader = raw
        if is_sealed_file(head):
            source = _ChunkReader(open_sealed(raw, keyring, f"backup {path}"))
        elif not head.startswith(b"\x1f\x8b"):
            raise BackupError(f"{path} is not a Shieldwall backup (neither gzip nor sealed)")
        try:
            with gzip.GzipFile(fileobj=source, mode="rb") as plain:
                yield from plain
        except (OSError, EOFError) as exc:
            raise BackupError(f"{path} is damaged: {exc}") from exc


class _ChunkReader(io.RawIOBase):
    """A readable stream over an iterator of chunks."""

    def __init__(self, chunks: Iterator[bytes]) -> None:
        self._chunks = chunks
        self._left = b""

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        while not self._left:
            try:
                self._left = next(self._chunks)
            except StopIteration:
                return 0
        n = min(len(buffer), len(self._left))
        buffer[:n] = self._left[:n]
        self._left = self._left[n:]
        return n


def restore(db: Database, path: Path, *, keyring: Keyring | None = None) -> BackupReport:
    """Load the backup at ``path`` into the empty database ``db`` (see the module).

    ``keyring`` opens a sealed backup (default: ``db``'s). :class:`BackupError` when the file
    is not a backup, is damaged or cut, is of another schema revision, or ``db`` holds data;
    nothing is written then.
    """
    keyring = keyring or db.keyring
    head = db.current_revision()
    report = BackupReport(schema=head)
    try:
        with path.open("rb") as f:
            report.sealed = is_sealed_file(f.read(8))
    except OSError as exc:
        raise BackupError(f"{path}: cannot read: {exc.strerror}") from exc
    with db.transaction() as session:
        lines = _plain_lines(path, keyring)
        try:
            header_line = next(lines)
            first = json.loads(header_line)
        except (StopIteration, ValueError) as exc:
            raise BackupError(f"{path} is not a Shieldwall backup: no header") from exc
        if not isinstance(first, dict) or first.get("format") != FORMAT:
            raise BackupError(f"{path} is not a Shieldwall backup")
        if first.get("version") != FORMAT_VERSION:
            raise BackupError(
                f"{path} is backup format version {first.get('version')}; this Shieldwall "
                f"reads version {FORMAT_VERSION}"
            )
        if first.get("schema") != head:
            raise BackupError(
                f"{path} is of schema revision {first.get('schema')} and this database is at "
                f"{head}: restore it with the Shieldwall version that wrote it "
                f"({first.get('shieldwall')}), then upgrade"
            )
        _refuse_unless_empty(session)
        digest = hashlib.sha256(header_line)
        end = _load_rows(session, lines, digest, report, str(path))
        if end.get("sha256") != digest.hexdigest() or end.get("rows") != report.rows:
            raise BackupError(f"{path} is damaged: its checksum or row counts do not match")
        if db.dialect == "postgresql":
            _advance_sequences(session)
        # The planner's statistics of the loaded tables: without them (PostgreSQL's autovacuum
        # off or not yet round) a bank's duplicate check scanned the whole bank per chunk.
        session.execute(text("ANALYZE"))
    return report


def _refuse_unless_empty(session: Session) -> None:
    for table in _tables():
        if session.scalar(select(func.count()).select_from(table)):
            raise BackupError(
                f"the database is not empty (table {table.name} has rows): restore into a new "
                "database"
            )


def _load_rows(
    session: Session,
    lines: Iterator[bytes],
    digest: Any,
    report: BackupReport,
    name: str,
) -> dict[str, Any]:
    known = {t.name: t for t in _tables()}
    table: Table | None = None
    columns: list[str] = []
    decoders: list[Any] = []
    batch: list[dict[str, Any]] = []

    def flush() -> None:
        if table is not None and batch:
            session.execute(insert(table), batch)
            batch.clear()

    for line in lines:
        try:
            item = json.loads(line)
        except ValueError as exc:
            raise BackupError(f"{name} is damaged: a line is not JSON") from exc
        if isinstance(item, dict) and item.get("end") is True:
            flush()
            return item
        digest.update(line)
        if isinstance(item, dict):
            flush()
            table = known.get(str(item.get("table")))
            if table is None:
                raise BackupError(f"{name} holds table {item.get('table')!r}, not in this schema")
            columns = [str(c) for c in item.get("columns", [])]
            if set(columns) != {c.name for c in table.columns}:
                raise BackupError(f"{name}: the columns of {table.name} differ from this schema")
            decoders = [_decoder(table.columns[c]) for c in columns]
            report.rows[table.name] = 0
            continue
        if table is None or not isinstance(item, list) or len(item) != len(columns):
            raise BackupError(f"{name} is damaged: a row outside a table or of the wrong width")
        batch.append(
            {
                c: (d(v) if d is not None else v)
                for c, d, v in zip(columns, decoders, item, strict=True)
            }
        )
        report.rows[table.name] += 1
        if len(batch) >= _BATCH:
            flush()
    raise BackupError(f"{name} is truncated: it has no end line")


def _advance_sequences(session: Session) -> None:
    """PostgreSQL: move each table's id sequence past the restored ids."""
    for table in _tables():
        for column in table.primary_key.columns:
            sequence = session.scalar(
                text("SELECT pg_get_serial_sequence(:t, :c)"), {"t": table.name, "c": column.name}
            )
            if sequence is None:
                continue
            highest = session.scalar(select(func.max(column)))
            session.execute(
                text("SELECT setval(:s, :v, :called)"),
                {"s": sequence, "v": highest or 1, "called": highest is not None},
            )
