"""Reading stored matches (for review queues and reports) and removing content from the ledger.

Matches are never deleted by matching itself: every match is kept with its bank entry, signal
type, distance and time, even after the bank entry is withdrawn or the bank deleted (then the
entry and signal ids are empty and the bank's name remains).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import delete, select

from shieldwall.store import Database, LedgerItem, MatchRecord

__all__ = ["StoredMatch", "list_matches", "remove_from_ledger"]


@dataclass(frozen=True, slots=True)
class StoredMatch:
    """A match as stored. ``distance`` is for trusted reviewers only: never show it to the
    uploader or an untrusted caller (it helps evasion)."""

    id: int
    content_id: str
    bank: str
    entry_id: int | None
    signal_id: int | None
    signal_type: str
    distance: int
    source: str
    at: datetime


def list_matches(
    db: Database,
    *,
    content_id: str | None = None,
    bank: str | None = None,
    source: str | None = None,
    after_id: int = 0,
    limit: int = 100,
) -> list[StoredMatch]:
    """Stored matches in id order after ``after_id`` (for paging), optionally only those of
    one content, bank or source (``upload``, ``sweep``)."""
    query = select(MatchRecord).where(MatchRecord.id > after_id).order_by(MatchRecord.id)
    if content_id is not None:
        query = query.where(MatchRecord.content_id == content_id)
    if bank is not None:
        query = query.where(MatchRecord.bank_name == bank)
    if source is not None:
        query = query.where(MatchRecord.source == source)
    with db.session() as session:
        return [
            StoredMatch(
                r.id,
                r.content_id,
                r.bank_name,
                r.entry_id,
                r.signal_id,
                r.signal_type,
                r.distance,
                r.source,
                r.at,
            )
            for r in session.scalars(query.limit(limit))
        ]


def remove_from_ledger(db: Database, content_ids: Sequence[str]) -> int:
    """Forget hosted content (taken down, deleted by its uploader); returns how many items were
    removed. Their stored matches stay."""
    removed = 0
    with db.transaction() as session:
        for i in range(0, len(content_ids), 500):
            result = session.execute(
                delete(LedgerItem).where(LedgerItem.content_id.in_(content_ids[i : i + 500]))
            )
            removed += int(getattr(result, "rowcount", 0) or 0)
    return removed
