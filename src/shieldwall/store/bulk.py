"""Bulk inserts through SQLAlchemy Core.

The ORM's bulk insert groups rows by which of their values are NULL and splices the returned
ids back row by row, which turns a batch whose rows alternate between NULL and not (an MD5 with
no quality next to a PDQ with one) into quadratic work. Core inserts the batch as it is, and
still returns the new ids in the order of the rows (on SQLite by numbering them under the
writer's lock, since SQLite cannot return them in row order for a multi-row insert).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from sqlalchemy import func, insert, select
from sqlalchemy.orm import Session

from shieldwall.store.models import Base

__all__ = ["insert_rows"]


def insert_rows(
    session: Session,
    model: type[Base],
    rows: Sequence[Mapping[str, Any]],
    *,
    returning_ids: bool = False,
    ids_after: int = 0,
) -> list[int]:
    """Insert ``rows`` (every row with the same keys) into ``model``'s table in the session's
    transaction; with ``returning_ids``, the new primary keys in the order of ``rows``, all
    above ``ids_after`` (PostgreSQL's sequences never give an id twice; on SQLite, rows just
    deleted would otherwise leave their ids to be given again)."""
    if not rows:
        return []
    table = Base.metadata.tables[model.__tablename__]
    connection = session.connection()
    if not returning_ids:
        connection.execute(insert(table), list(rows))
        return []
    if connection.dialect.name == "sqlite":
        # SQLite cannot return ids of a multi-row insert in row order, so SQLAlchemy would run
        # one statement per row. We hold the one writer's lock (BEGIN IMMEDIATE), so we can
        # number the rows ourselves, exactly as SQLite would (max + 1, ...).
        start = int(connection.execute(select(func.coalesce(func.max(table.c.id), 0))).scalar_one())
        start = max(start, ids_after)
        ids = list(range(start + 1, start + 1 + len(rows)))
        connection.execute(
            insert(table), [{**row, "id": i} for row, i in zip(rows, ids, strict=True)]
        )
        return ids
    statement = insert(table).returning(table.c.id, sort_by_parameter_order=True)
    return [int(i) for i in connection.execute(statement, list(rows)).scalars()]
