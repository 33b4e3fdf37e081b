"""The signal log: append-only changes of the bank signals, read by every index follower.

Each change gets a sequence number; a removal is a tombstone (``remove``) that carries the value
that was added. A follower that has applied everything up to ``seq`` reads :func:`read_after`
and applies the rest: nothing is rebuilt.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from shieldwall.store import locks
from shieldwall.store.bulk import insert_rows
from shieldwall.store.models import BankSignal, SignalLogRecord, utcnow

__all__ = ["LogEntry", "LogOp", "append", "head", "read_after"]

#: Advisory lock key that serialises log appends on PostgreSQL, so that ``seq`` order is
#: commit order (a follower never sees seq 12 committed before seq 11); taken after the audit
#: chain's (:mod:`shieldwall.store.locks`).
_LOG_LOCK = locks.SIGNAL_LOG


class LogOp(StrEnum):
    """What a log entry does."""

    ADD = "add"
    REMOVE = "remove"


@dataclass(frozen=True, slots=True)
class LogEntry:
    """One entry of the log as followers see it."""

    seq: int
    op: LogOp
    signal_id: int
    signal_type: str
    value: str


def _lock(session: Session) -> None:
    locks.hold(session, locks.SIGNAL_LOG)


def append(
    session: Session, op: LogOp, signals: Sequence[BankSignal | tuple[int, str, str]]
) -> None:
    """Log ``op`` for each of ``signals`` (flushed rows, or ``(id, type, value)``), in order.

    Call it in the same transaction that changes the signals: the log and the banks commit (or
    roll back) together.
    """
    if not signals:
        return
    _lock(session)
    now = utcnow()
    rows = [
        {"op": op.value, "signal_id": s[0], "type": s[1], "value": s[2], "at": now}
        if isinstance(s, tuple)
        else {"op": op.value, "signal_id": s.id, "type": s.type, "value": s.value, "at": now}
        for s in signals
    ]
    insert_rows(session, SignalLogRecord, rows)


def head(session: Session) -> int:
    """The highest sequence number in the log (0 when empty)."""
    return int(session.scalar(select(func.coalesce(func.max(SignalLogRecord.seq), 0))) or 0)


def read_after(session: Session, seq: int, limit: int = 10_000) -> list[LogEntry]:
    """Up to ``limit`` entries after ``seq``, in order."""
    rows = session.execute(
        select(
            SignalLogRecord.seq,
            SignalLogRecord.op,
            SignalLogRecord.signal_id,
            SignalLogRecord.type,
            SignalLogRecord.value,
        )
        .where(SignalLogRecord.seq > seq)
        .order_by(SignalLogRecord.seq)
        .limit(limit)
    )
    return [LogEntry(r[0], LogOp(r[1]), r[2], r[3], r[4]) for r in rows]
