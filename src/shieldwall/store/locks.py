"""PostgreSQL's advisory locks that serialise appends to the chained tables, in their one order.

Two writers that take two of these locks in opposite orders deadlock (a bank import logging its
signals, then auditing the import, against a case decision auditing, then banking). So every
transaction takes them in :data:`ORDER`: asking for one takes the earlier ones first. Each is
a transaction-level lock (``pg_advisory_xact_lock``), released at commit or rollback; on SQLite,
where a write transaction holds the whole database, nothing is taken.
"""

from __future__ import annotations

from sqlalchemy import text
from sqlalchemy.orm import Session

__all__ = ["AUDIT", "ORDER", "SIGNAL_LOG", "hold"]

#: The audit chain's appends (``audit_event``): "SWAU".
AUDIT = 0x5357_4155
#: The signal log's appends, so that ``seq`` order is commit order.
SIGNAL_LOG = 0x5348_0002
#: The order every transaction takes them in.
ORDER = (AUDIT, SIGNAL_LOG)


def hold(session: Session, lock: int) -> None:
    """Hold ``lock`` until the end of the session's transaction, and before it every lock that
    comes earlier in :data:`ORDER` (each taken once per transaction)."""
    if session.get_bind().dialect.name != "postgresql":
        return
    held: set[int] = session.info.setdefault("advisory_locks", set())
    for key in ORDER[: ORDER.index(lock) + 1]:
        if key not in held:
            session.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": key})
            held.add(key)
