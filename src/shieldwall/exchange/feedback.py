"""Feedback to an exchange on its hashes: queued from what happened here, sent once each.

What is owed is read from the database after the fact, so no workflow has to call the
exchange, and nothing is lost when the exchange is away:

- a stored match of upload content against an entry of the exchange's bank: ``matched``
  (StopNCII ``PendingReview``);
- a case decided ``remove`` whose content matched such an entry: ``confirmed`` (``Blocked``;
  NCMEC affirmative);
- a case decided ``no_action`` (a reviewer found it is not what the hash stands for) whose
  content matched such an entry: ``rejected`` (``NotBlocked``; NCMEC negative).

:func:`collect_feedback` queues one ``exchange_feedback`` row per exchange, hash and kind of
feedback (never twice) and advances its cursors in the same transaction; :func:`send_feedback`
sends the pending rows in batches and marks them sent; a failed request leaves them pending
for the next sync.
"""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import select
from sqlalchemy.orm import Session

from shieldwall.errors import ExchangeError
from shieldwall.exchange.apply import is_held_by, ref_of
from shieldwall.exchange.base import Feedback, FeedbackItem, RemoteSignal, SignalExchange
from shieldwall.exchange.exchanges import exchange_row
from shieldwall.store import Database
from shieldwall.store.models import (
    BankSignal,
    CaseItem,
    EntryExternalId,
    ExchangeFeedbackRecord,
    ExchangeRecord,
    MatchRecord,
    utcnow,
)

__all__ = ["collect_feedback", "send_feedback"]

_BATCH = 100
_DECIDED = {"remove": Feedback.CONFIRMED, "no_action": Feedback.REJECTED}


def _refs(session: Session, name: str, entry_ids: Iterable[int]) -> dict[int, list[str]]:
    ids = sorted(set(entry_ids))
    out: dict[int, list[str]] = {i: [] for i in ids}
    for i in range(0, len(ids), 400):
        for entry_id, external_id in session.execute(
            select(EntryExternalId.entry_id, EntryExternalId.external_id)
            .where(EntryExternalId.entry_id.in_(ids[i : i + 400]))
            .order_by(EntryExternalId.id)
        ):
            if is_held_by(name, external_id) and (ref := ref_of(name, external_id)):
                out[entry_id].append(ref)
    return out


def _queue(session: Session, row: ExchangeRecord, owed: list[tuple[int, Feedback]]) -> int:
    """Queue feedback of each ``(bank signal id, feedback)``, once per hash and kind."""
    if not owed:
        return 0
    signal_ids = sorted({s for s, _ in owed})
    signals: dict[int, tuple[str, str, int]] = {}
    for i in range(0, len(signal_ids), 400):
        for sid, kind, value, entry_id in session.execute(
            select(BankSignal.id, BankSignal.type, BankSignal.value, BankSignal.entry_id).where(
                BankSignal.id.in_(signal_ids[i : i + 400])
            )
        ):
            signals[sid] = (kind, value, entry_id)
    refs = _refs(session, row.name, (e for _, _, e in signals.values()))
    existing = {
        (t, v, f)
        for t, v, f in session.execute(
            select(
                ExchangeFeedbackRecord.signal_type,
                ExchangeFeedbackRecord.value,
                ExchangeFeedbackRecord.feedback,
            ).where(ExchangeFeedbackRecord.exchange_id == row.id)
        )
    }
    queued = 0
    for signal_id, feedback in owed:
        found = signals.get(signal_id)
        if found is None:
            continue  # the bank's entry is gone
        kind, value, entry_id = found
        key = (kind, value, feedback.value)
        if key in existing:
            continue
        existing.add(key)
        session.add(
            ExchangeFeedbackRecord(
                exchange_id=row.id,
                signal_type=kind,
                value=value,
                feedback=feedback.value,
                refs=refs.get(entry_id, []),
                state="pending",
                attempts=0,
                created_at=utcnow(),
            )
        )
        queued += 1
    return queued


def collect_feedback(
    db: Database, name: str, kinds: frozenset[Feedback] = frozenset(Feedback)
) -> int:
    """Queue the feedback of ``kinds`` owed to exchange ``name`` since its cursors (the
    exchange's :attr:`~shieldwall.exchange.SignalExchange.feedback_kinds`); returns how
    many."""
    with db.transaction() as session:
        row = exchange_row(session, name)
        if row.bank_id is None:
            return 0
        owed: list[tuple[int, Feedback]] = []
        matches = list(
            session.execute(
                select(MatchRecord.id, MatchRecord.signal_id)
                .where(MatchRecord.bank_id == row.bank_id, MatchRecord.id > row.match_cursor)
                .order_by(MatchRecord.id)
            )
        )
        owed += [(sid, Feedback.MATCHED) for _, sid in matches if sid is not None]
        if matches:
            row.match_cursor = matches[-1][0]
        decided = select(CaseItem.content_ids, CaseItem.action, CaseItem.decided_at).where(
            CaseItem.decided_at.is_not(None), CaseItem.action.in_(list(_DECIDED))
        )
        if row.decision_cursor is not None:
            decided = decided.where(CaseItem.decided_at > row.decision_cursor)
        latest = row.decision_cursor
        for content_ids, action, decided_at in session.execute(decided):
            if decided_at is not None and (latest is None or decided_at > latest):
                latest = decided_at
            if not content_ids or action not in _DECIDED:
                continue
            for sid in session.scalars(
                select(MatchRecord.signal_id).where(
                    MatchRecord.bank_id == row.bank_id,
                    MatchRecord.content_id.in_(list(content_ids)),
                )
            ):
                if sid is not None:
                    owed.append((sid, _DECIDED[action]))
        row.decision_cursor = latest
        return _queue(session, row, [(s, f) for s, f in owed if f in kinds])


def send_feedback(db: Database, name: str, plugin: SignalExchange) -> int:
    """Send exchange ``name``'s pending feedback through ``plugin`` in batches; returns how
    many were sent. A failed request raises its :class:`ExchangeError` after counting the
    attempt (the rows stay pending; a refusal of our keys marks nothing failed either: fixing
    the keys sends them)."""
    sent = 0
    while True:
        with db.session() as session:
            row = exchange_row(session, name)
            pending = list(
                session.scalars(
                    select(ExchangeFeedbackRecord)
                    .where(
                        ExchangeFeedbackRecord.exchange_id == row.id,
                        ExchangeFeedbackRecord.state == "pending",
                    )
                    .order_by(ExchangeFeedbackRecord.id)
                    .limit(_BATCH)
                )
            )
        if not pending:
            return sent
        items: list[FeedbackItem] = []
        unsendable: list[int] = []
        for p in pending:
            remote = plugin.remote_name(p.signal_type)
            if remote is None:
                unsendable.append(p.id)
                continue
            items.append(
                FeedbackItem(RemoteSignal(remote, p.value), Feedback(p.feedback), tuple(p.refs))
            )
        ids = [p.id for p in pending if p.id not in unsendable]
        try:
            if items:
                plugin.send_feedback(items)
        except ExchangeError as exc:
            with db.transaction() as session:
                for record in session.scalars(
                    select(ExchangeFeedbackRecord).where(ExchangeFeedbackRecord.id.in_(ids))
                ):
                    record.attempts += 1
                    record.last_error = exc.message
            raise
        now = utcnow()
        with db.transaction() as session:
            for record in session.scalars(
                select(ExchangeFeedbackRecord).where(
                    ExchangeFeedbackRecord.id.in_([p.id for p in pending])
                )
            ):
                if record.id in unsendable:
                    record.state = "failed"
                    record.last_error = f"the exchange has no name for {record.signal_type}"
                else:
                    record.state, record.sent_at = "sent", now
        sent += len(items)
