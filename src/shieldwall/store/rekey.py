"""Re-sealing stored signal values with the current at-rest key (a key rotation, or turning
sealing on for a database that holds plain values), and counting what each key seals.

    >>> report = reseal(db)                                   # doctest: +SKIP
    >>> report.resealed, report.by_key                        # doctest: +SKIP
    (1200, {'k2': 1200})

Every column of :class:`~shieldwall.store.sealing.SealedString` or ``SealedText`` in the models
is covered (``bank_signal.value``, ``signal_log.value``, ``bank_signal_value.value``), in one
write transaction: exact lookups compare sealed texts of the current key, so a database half
re-sealed would miss rows; one transaction means it never is, for anyone. Index snapshot files
under ``data_dir/index`` are re-sealed too (or sealed, when they were plain).
"""

from __future__ import annotations

import os
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO

from sqlalchemy import Column, String, Table, select, text, type_coerce, update
from sqlalchemy.orm import Session
from sqlalchemy.sql.elements import ColumnElement

from shieldwall.errors import ConfigError
from shieldwall.store.database import Database
from shieldwall.store.models import Base
from shieldwall.store.sealing import (
    Keyring,
    SealedString,
    SealedText,
    SealedWriter,
    is_sealed_file,
    open_sealed,
    sealed_key_id,
)

__all__ = [
    "KeyReport",
    "key_report",
    "pending_rotation",
    "reseal",
    "reseal_file",
    "sealed_columns",
]

_BATCH = 5_000
PLAIN = "(plain)"


@dataclass
class KeyReport:
    """How many stored values each key seals (``(plain)``: not sealed), and, after
    :func:`reseal`, how many were re-sealed and which snapshot files."""

    by_key: dict[str, int] = field(default_factory=dict)
    resealed: int = 0
    files: list[Path] = field(default_factory=list)


def sealed_columns() -> list[tuple[Table, Column[str]]]:
    """Every sealed column of the models, with its table."""
    found = []
    for table in Base.metadata.sorted_tables:
        for column in table.columns:
            if isinstance(column.type, SealedString | SealedText):
                found.append((table, column))
    return found


def _raw(column: Column[str]) -> ColumnElement[str]:
    return type_coerce(column, String())


def key_report(db: Database) -> KeyReport:
    """Count the stored values by the key that seals them."""
    counts: Counter[str] = Counter()
    with db.session() as session:
        for table, column in sealed_columns():
            rows = session.execute(
                select(_raw(column)).select_from(table).execution_options(yield_per=_BATCH)
            )
            for (value,) in rows:
                counts[sealed_key_id(str(value)) or PLAIN] += 1
    return KeyReport(dict(sorted(counts.items())))


def _lock(session: Session, tables: list[Table]) -> None:
    if session.get_bind().dialect.name == "postgresql":  # SQLite: BEGIN IMMEDIATE already
        names = ", ".join(f'"{t.name}"' for t in tables)
        session.execute(text(f"LOCK TABLE {names} IN SHARE ROW EXCLUSIVE MODE"))


def reseal(db: Database, data_dir: Path | None = None) -> KeyReport:
    """Seal every stored value that is plain or sealed with an older key with the current key
    of ``db.keyring``, in one transaction (writers wait; readers go on), then the snapshot
    files under ``data_dir/index``. :class:`ConfigError` without keys."""
    keyring = db.keyring
    if keyring is None:
        raise ConfigError("no at-rest keys are configured: set SHIELDWALL_AT_REST_KEYS_FILE")
    current = keyring.current_id
    resealed = 0
    columns = sealed_columns()
    with db.transaction() as session:
        _lock(session, sorted({t for t, _ in columns}, key=lambda t: t.name))
        for table, column in columns:
            key_columns = list(table.primary_key.columns)
            last: tuple[object, ...] | None = None
            while True:
                query = select(*key_columns, _raw(column)).order_by(*key_columns).limit(_BATCH)
                if last is not None:
                    query = query.where(key_columns[0] > last[0])
                rows = session.execute(query).all()
                if not rows:
                    break
                last = tuple(rows[-1][: len(key_columns)])
                for row in rows:
                    stored = str(row[-1])
                    if sealed_key_id(stored) == current:
                        continue
                    plain = keyring.open_value(stored) if sealed_key_id(stored) else stored
                    where = [c == v for c, v in zip(key_columns, row[:-1], strict=False)]
                    session.execute(update(table).where(*where).values({column.name: plain}))
                    resealed += 1
    report = key_report(db)
    report.resealed = resealed
    if data_dir is not None:
        folder = data_dir / "index"
        for path in sorted(folder.glob("*.snapshot")) if folder.is_dir() else []:
            if reseal_file(path, keyring):
                report.files.append(path)
    return report


def reseal_file(path: Path, keyring: Keyring) -> bool:
    """Seal the file at ``path`` with the current key (atomically) unless it is sealed with
    it already; returns whether it was rewritten."""
    with path.open("rb") as f:
        head = f.read(64)
        if is_sealed_file(head):
            id_length = head[9]
            if head[10 : 10 + id_length].decode("ascii", "replace") == keyring.current_id:
                return False
        f.seek(0)
        tmp = path.with_name(path.name + ".reseal")
        with tmp.open("wb") as out:
            writer = SealedWriter(out, keyring)
            chunks = open_sealed(f, keyring, str(path)) if is_sealed_file(head) else _read(f)
            for chunk in chunks:
                writer.write(chunk)
            writer.close()
            out.flush()
            os.fsync(out.fileno())
    os.replace(tmp, path)
    return True


def _read(f: IO[bytes]) -> Iterator[bytes]:
    while chunk := f.read(1 << 20):
        yield chunk


def pending_rotation(db: Database) -> str | None:
    """Why the stored values are not all sealed with the current key (or not all readable
    without keys), or ``None`` when they are. Cheap: it looks at the oldest row of each sealed
    table, which a rotation re-seals with the rest in one transaction, so the oldest row is
    under the current key exactly when the last rotation is done and nothing older is left."""
    current = db.keyring.current_id if db.keyring is not None else None
    with db.session() as session:
        for table, column in sealed_columns():
            key_columns = list(table.primary_key.columns)
            oldest = session.scalar(select(_raw(column)).order_by(*key_columns).limit(1))
            if oldest is None:
                continue
            found = sealed_key_id(str(oldest))
            if found == current:
                continue
            if current is None:
                return (
                    f"{table.name}.{column.name} holds values sealed with key {found!r} and no "
                    "at-rest keys are configured: set SHIELDWALL_AT_REST_KEYS_FILE"
                )
            state = "plain values" if found is None else f"values sealed with key {found!r}"
            return (
                f"{table.name}.{column.name} holds {state}, not the current key {current!r}: "
                "run `shieldwall at-rest rotate` (with the writers stopped) before serving, so "
                "that lookups by value find every row"
            )
    return None
