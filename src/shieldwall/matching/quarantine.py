"""Flood quarantine: bank signals that matched too many distinct contents, pending review.

A signal is quarantined by :meth:`~shieldwall.matching.Matcher.record` when it matches more
than ``flood_max_contents`` distinct contents within ``flood_window_seconds`` (a meme or logo
that slipped into a block bank). It stops matching until a reviewer releases it (it was a real
match after all: counting restarts) or withdraws its entry.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select

from shieldwall.audit import record_event
from shieldwall.errors import Conflict, NotFound
from shieldwall.store import Bank, BankSignal, Database, utcnow

__all__ = ["QuarantinedSignal", "list_quarantined", "release_signal"]


@dataclass(frozen=True, slots=True)
class QuarantinedSignal:
    """A bank signal held by flood protection."""

    signal_id: int
    bank: str
    entry_id: int
    signal_type: str
    quarantined_at: datetime


def list_quarantined(db: Database) -> list[QuarantinedSignal]:
    """Every quarantined signal, oldest first."""
    with db.session() as session:
        rows = session.execute(
            select(BankSignal, Bank.name)
            .join(Bank, Bank.id == BankSignal.bank_id)
            .where(BankSignal.quarantined_at.is_not(None))
            .order_by(BankSignal.quarantined_at, BankSignal.id)
        )
        return [
            QuarantinedSignal(s.id, name, s.entry_id, s.type, s.quarantined_at)
            for s, name in rows
            if s.quarantined_at is not None
        ]


def release_signal(db: Database, signal_id: int, *, by: str = "system") -> None:
    """Let a quarantined signal match again; flood counting restarts from now (audited as
    ``bank.release`` by ``by``)."""
    with db.transaction() as session:
        signal = session.get(BankSignal, signal_id)
        if signal is None:
            raise NotFound(f"no bank signal with id {signal_id}")
        if signal.quarantined_at is None:
            raise Conflict(f"bank signal {signal_id} is not quarantined")
        signal.quarantined_at = None
        signal.released_at = utcnow()
        record_event(session, by, "bank.release", f"signal:{signal_id}", {})
