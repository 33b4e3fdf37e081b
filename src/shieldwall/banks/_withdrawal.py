"""Withdrawal and status of bank entries: by case (external id), by entry, disable until a
time. An entry's signals are tombstoned in the log only when no active case holds it."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from shieldwall.audit import record_event
from shieldwall.banks._banks import _bank
from shieldwall.banks._entries import _entry, _entry_info, _settle_status, _sync_signals
from shieldwall.banks._model import (
    EntryInfo,
    EntryStatus,
    WithdrawOutcome,
)
from shieldwall.errors import (
    Conflict,
    NotFound,
    UsageError,
)
from shieldwall.store import (
    BankEntry,
    Database,
    EntryExternalId,
    utcnow,
)

__all__ = [
    "disable_entry",
    "enable_entry",
    "withdraw",
    "withdraw_cases",
    "withdraw_entry",
    "withdraw_in",
]


def _withdraw(session: Session, external_id: str, bank: str | None) -> WithdrawOutcome:
    query = (
        select(EntryExternalId, BankEntry)
        .join(BankEntry, BankEntry.id == EntryExternalId.entry_id)
        .where(EntryExternalId.external_id == external_id)
        .order_by(BankEntry.id)
    )
    if bank is not None:
        query = query.where(BankEntry.bank_id == _bank(session, bank).id)
    rows = list(session.execute(query))
    if not rows:
        where = f" in bank {bank!r}" if bank is not None else ""
        raise NotFound(f"no bank entry is held by external id {external_id!r}{where}")
    withdrawn: list[int] = []
    kept: list[int] = []
    now = utcnow()
    for holder, entry in rows:
        if holder.status == "active":
            holder.status, holder.withdrawn_at = "withdrawn", now
        session.flush()
        _settle_status(session, entry)
        _sync_signals(session, entry)
        (withdrawn if entry.status == EntryStatus.WITHDRAWN else kept).append(entry.id)
    return WithdrawOutcome(external_id, withdrawn, kept)


def withdraw(
    db: Database, external_id: str, *, bank: str | None = None, by: str = "system"
) -> WithdrawOutcome:
    """Withdraw an external id (a case) from every entry it holds (in ``bank``, if given).

    An entry that another active case still holds keeps its signals; an entry whose last case
    this was is withdrawn and its signals are tombstoned. An id no entry holds is
    :class:`~shieldwall.errors.NotFound`; withdrawing the same id twice is harmless.
    """
    return withdraw_cases(db, [external_id], bank=bank, by=by)[0]


def withdraw_cases(
    db: Database, external_ids: Sequence[str], *, bank: str | None = None, by: str = "system"
) -> list[WithdrawOutcome]:
    """Withdraw several external ids in one transaction: all of them, or (when one is unknown,
    :class:`~shieldwall.errors.NotFound`) none; one ``bank.withdraw`` audit event per id."""
    with db.transaction() as session:
        outcomes = [_withdraw(session, external_id, bank) for external_id in external_ids]
        for o in outcomes:
            _record_withdraw(session, by, o, bank)
        return outcomes


def _record_withdraw(session: Session, by: str, outcome: WithdrawOutcome, bank: str | None) -> None:
    details = {
        "bank": bank,
        "withdrawn_entries": outcome.withdrawn_entries,
        "kept_entries": outcome.kept_entries,
    }
    record_event(session, by, "bank.withdraw", f"case:{outcome.external_id}", details)


def withdraw_in(
    session: Session, external_id: str, bank: str, *, by: str | None = None
) -> WithdrawOutcome:
    """:func:`withdraw` of one external id in ``bank``, in the caller's transaction (with
    ``by``, audited)."""
    outcome = _withdraw(session, external_id, bank)
    if by is not None:
        _record_withdraw(session, by, outcome, bank)
    return outcome


def withdraw_entry(db: Database, entry_id: int, *, by: str = "system") -> EntryInfo:
    """Withdraw one entry whatever its cases (a reviewer's decision); its signals are removed."""
    with db.transaction() as session:
        entry = _entry(session, entry_id)
        now = utcnow()
        for holder in session.scalars(
            select(EntryExternalId).where(
                EntryExternalId.entry_id == entry.id, EntryExternalId.status == "active"
            )
        ):
            holder.status, holder.withdrawn_at = "withdrawn", now
        entry.status = EntryStatus.WITHDRAWN.value
        entry.disabled_until = None
        session.flush()
        _sync_signals(session, entry)
        record_event(session, by, "bank.entry_withdraw", f"entry:{entry_id}", {})
        return _entry_info(session, entry)


def disable_entry(
    db: Database, entry_id: int, until: datetime | None = None, *, by: str = "system"
) -> EntryInfo:
    """Stop an entry matching until ``until`` (aware datetime), or until enabled again."""
    if until is not None and until.tzinfo is None:
        raise UsageError("the time an entry is disabled until must have a timezone")
    with db.transaction() as session:
        entry = _entry(session, entry_id)
        if entry.status == EntryStatus.WITHDRAWN:
            raise Conflict(f"bank entry {entry_id} is withdrawn: add it again to use it")
        entry.status = EntryStatus.DISABLED.value
        entry.disabled_until = until
        session.flush()
        details = {"until": until.isoformat() if until else None}
        record_event(session, by, "bank.entry_disable", f"entry:{entry_id}", details)
        return _entry_info(session, entry)


def enable_entry(db: Database, entry_id: int, *, by: str = "system") -> EntryInfo:
    """Let a disabled entry match again."""
    with db.transaction() as session:
        entry = _entry(session, entry_id)
        if entry.status == EntryStatus.WITHDRAWN:
            raise Conflict(f"bank entry {entry_id} is withdrawn: add it again to use it")
        entry.status = EntryStatus.ACTIVE.value
        entry.disabled_until = None
        session.flush()
        record_event(session, by, "bank.entry_enable", f"entry:{entry_id}", {})
        return _entry_info(session, entry)
