"""Decisions on cases and what a removal does next (docs/cases.md).

:func:`decide_case` records the decision (compare-and-set on the case's version, audited, the
notice's status updated, a ``content.action`` webhook event queued) in one transaction. In
that same transaction, a ``remove`` adds the content's signals (from the ledger, else hashed
from the reviewer's upload or the platform's preview: :mod:`shieldwall.cases.removal`) to the
block bank named by ``cases_block_bank`` with the tracking number as the entry's external id,
queues a sweep of the ledger and a ``cases.copies`` job that, once the sweep is done, opens a
linked copy task for every hosted copy the sweep matched (:func:`open_copy_tasks`): a removal
whose content could be hashed is never recorded without its bank entry, nor banked without its
decision. A removal of content that could not be hashed is recorded with the reason
(:class:`~shieldwall.cases.removal.Banking`), and its statement of reasons says so.
"""

from __future__ import annotations

import contextlib
import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.engine import CursorResult
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session

from shieldwall.audit import record_event
from shieldwall.banks import add_entry_in, create_bank, get_bank, prepare_signal, signals_to_bank
from shieldwall.cases.mail import queue_reporter_email
from shieldwall.cases.queues import CaseView, check_queue, claim_expired, claim_window
from shieldwall.cases.removal import Banking, Gathered, gather_signals
from shieldwall.cases.statements import appeal_link, statement_of_reasons
from shieldwall.config import Settings, get_settings
from shieldwall.errors import (
    Conflict,
    InvalidDecision,
    NotFound,
    NotPermitted,
    ShieldwallError,
    StoreError,
    SweepPending,
)
from shieldwall.jobs import get_job, job_record
from shieldwall.people import Actor
from shieldwall.signals import Signal, get_signal_type, is_exact_evidence
from shieldwall.store import Database
from shieldwall.store.models import (
    CaseItem,
    LedgerItem,
    LedgerSignal,
    MatchRecord,
    Notice,
    NoticeEvent,
    utcnow,
)
from shieldwall.webhooks import SWEEP_KIND, action_event, queue_event

__all__ = [
    "ACTIONS",
    "COPIES_JOB",
    "GROUNDS",
    "SYSTEM",
    "Decision",
    "copies_job",
    "decide_by_system",
    "decide_case",
    "hash_token",
    "ledger_signals",
    "ledger_signals_by_content",
    "open_copy_tasks",
]

ACTIONS = ("remove", "restrict", "label", "no_action")
#: Who decides (and opens) what the system does by itself: the ``decided_by`` of automated
#: decisions and the actor of their audit events.
SYSTEM = "system"
GROUNDS = ("law", "terms")
#: The job kind that opens copy tasks once a removal's sweep is done; payload
#: ``{"case_id", "sweep_job_id"}``.
COPIES_JOB = "cases.copies"


@dataclass(frozen=True, slots=True)
class Decision:
    """A decided case; ``appeal_token`` (shown once, stored hashed) goes to the uploader with
    the statement of reasons."""

    case: CaseView
    appeal_token: str
    entry_id: int | None
    sweep_job_id: int | None
    #: The DSA Art. 17 statement for the uploader, appeal token included (``None`` for
    #: ``no_action``: nothing was restricted).
    statement: dict[str, Any] | None
    #: The uploader's appeal link, ``<cases_appeal_url>?code=<appeal_token>``.
    appeal_url: str
    #: For a ``remove``: what was banked and which sweep started, or why nothing was
    #: (``None`` for other actions).
    banking: Banking | None = None


def hash_token(token: str) -> str:
    """The stored form of an appeal token."""
    return hashlib.sha256(token.encode()).hexdigest()


def ledger_signals(db: Database, content_ids: list[str]) -> list[Signal]:
    """The bankable signals the ledger holds for ``content_ids`` (every type it keeps)."""
    out: dict[tuple[str, str], Signal] = {}
    for signals in ledger_signals_by_content(db, content_ids).values():
        for signal in signals:
            out[(signal.type, signal.value)] = signal
    return list(out.values())


def ledger_signals_by_content(db: Database, content_ids: list[str]) -> dict[str, list[Signal]]:
    """The bankable signals the ledger holds for each of ``content_ids`` (absent: none)."""
    out: dict[str, dict[tuple[str, str], Signal]] = {}
    with db.session() as session:
        rows = session.execute(
            select(LedgerItem.content_id, LedgerSignal.type, LedgerSignal.value)
            .join(LedgerItem, LedgerItem.id == LedgerSignal.item_id)
            .where(LedgerItem.content_id.in_(content_ids))
        ).all()
    for cid, kind, value in rows:
        try:
            # The ledger keeps only signals at or over their quality floor, not the quality.
            quality = None if get_signal_type(kind).quality_floor is None else 100
            signal = prepare_signal(kind, value, quality)
        except ShieldwallError:
            continue  # a type that cannot be banked (yet)
        out.setdefault(cid, {})[(signal.type, signal.value)] = signal
    return {cid: list(found.values()) for cid, found in out.items()}


def _gather(
    db: Database,
    settings: Settings,
    content_ids: list[str],
    upload: bytes | None,
    upload_name: str,
) -> Gathered:
    """What a removal of ``content_ids`` will bank (:func:`gather_signals`)."""
    if not content_ids:
        return Gathered(
            [], {}, {"": "the notice names no platform content id, so there was nothing to hash"}
        )
    try:  # a bank that opted in to local features gets them where the image is at hand
        extra = signals_to_bank(get_bank(db, settings.cases_block_bank))
    except NotFound:
        extra = ()
    return gather_signals(
        settings,
        content_ids,
        ledger_signals_by_content(db, content_ids),
        upload=upload,
        upload_name=upload_name,
        extra_signals=extra,
    )


def _ensure_bank(db: Database, name: str) -> None:
    try:
        get_bank(db, name)
    except NotFound:
        with contextlib.suppress(Conflict):  # created at the same moment by another decision
            create_bank(db, name, "block", description="content removed by case decisions")


def _check(action: str, ground: str, reason: str, legal_ground: str | None) -> None:
    fields: list[dict[str, str]] = []
    if action not in ACTIONS:
        fields.append({"field": "action", "message": f"must be one of {', '.join(ACTIONS)}"})
    if ground not in GROUNDS:
        fields.append({"field": "ground", "message": f"must be one of {', '.join(GROUNDS)}"})
    if not reason.strip():
        fields.append({"field": "reason", "message": "explain the decision"})
    if ground == "law" and not (legal_ground or "").strip():
        fields.append(
            {"field": "legal_ground", "message": "name the law the content breaks (ground law)"}
        )
    if fields:
        raise InvalidDecision(
            "the decision is incomplete: " + ", ".join(f["field"] for f in fields), fields
        )


def _bank_removal(
    session: Session,
    settings: Settings,
    actor: Actor,
    case: CaseItem,
    gathered: Gathered,
) -> tuple[int, int]:
    """In the decision's transaction: bank the removed content's signals, queue the sweep
    and the copies job, record ``case.banked``; returns (entry id, sweep job id)."""
    signals = gathered.signals
    entry_id = add_entry_in(
        session,
        settings.cases_block_bank,
        signals,
        external_ids=[case.tracking_number],
        note=f"removed by case {case.tracking_number}",
    )
    sweep = job_record(SWEEP_KIND, {"full": False}, max_attempts=settings.job_max_attempts)
    session.add(sweep)
    session.flush()
    session.add(
        job_record(
            COPIES_JOB,
            {"case_id": case.id, "sweep_job_id": sweep.id},
            max_attempts=settings.job_max_attempts,
        )
    )
    case.block_entry_id, case.sweep_job_id = entry_id, sweep.id
    session.flush()
    record_event(
        session,
        actor.id,
        "case.banked",
        f"case:{case.tracking_number}",
        {
            "bank": settings.cases_block_bank,
            "entry_id": entry_id,
            "sweep_job_id": sweep.id,
            "sources": gathered.sources,
            "signal_types": sorted({s.type for s in signals}),
        },
    )
    return entry_id, sweep.id


def _record_banking(
    session: Session, settings: Settings, actor: Actor, case: CaseItem, gathered: Gathered
) -> Banking:
    """In the decision's transaction: bank what was gathered (if anything), store the
    :class:`Banking` on the case, audit ``case.banked`` or ``case.not_banked``."""
    entry_id = sweep_id = None
    if gathered.signals:
        # the same transaction: a removal is never decided without being banked
        try:
            entry_id, sweep_id = _bank_removal(session, settings, actor, case, gathered)
        except (ShieldwallError, SQLAlchemyError) as exc:
            detail = exc.message if isinstance(exc, ShieldwallError) else type(exc).__name__
            raise StoreError(
                f"case {case.id} was not decided: banking the removal failed ({detail}); "
                "nothing was recorded, try again"
            ) from exc
    banking = gathered.banking(settings.cases_block_bank, entry_id, sweep_id)
    case.banking = banking.to_json()
    if not banking.banked:
        record_event(
            session,
            actor.id,
            "case.not_banked",
            f"case:{case.tracking_number}",
            {"case_id": case.id, "missing": banking.missing},
        )
    session.flush()
    return banking


def decide_case(
    db: Database,
    settings: Settings,
    actor: Actor,
    case_id: int,
    *,
    action: str,
    ground: str,
    reason: str,
    legal_ground: str | None = None,
    upload: bytes | None = None,
    upload_name: str = "upload",
) -> Decision:
    """Decide an open case, one claimed by ``actor``, or one whose claim is older than
    ``case_claim_minutes`` (it no longer holds); see the module docstring. For a ``remove``,
    ``upload`` is the reviewer's copy of the content, hashed when the ledger has no hashes of
    it (else the platform's preview is fetched); ``Decision.banking`` says what was banked.

    Raises :class:`NotPermitted` (an auditor; a restricted case for an actor who may not see
    it), :class:`InvalidDecision`, :class:`NotFound`, :class:`Conflict` (decided already, or
    claimed by someone else), :class:`StoreError` (banking a removal failed: the whole
    decision was rolled back, nothing is recorded), the :class:`MediaError` family (the
    ``upload`` cannot be hashed; nothing is recorded)."""
    if not actor.may_decide:
        raise NotPermitted("this role may not decide cases")
    _check(action, ground, reason, legal_ground)
    with db.session() as session:
        found = session.get(CaseItem, case_id)
        if found is None or (found.queue == "restricted" and not actor.sees_restricted):
            raise NotFound(f"no case {case_id}")
        check_queue(actor, found.queue)
        if found.state == "decided":
            raise Conflict(f"case {case_id} is decided already")
        if (
            found.state == "claimed"
            and found.assigned_to != actor.id
            and not claim_expired(found, claim_window(settings))
        ):
            raise Conflict(f"case {case_id} is claimed by another reviewer")
        version, content_ids = found.version, list(found.content_ids)
    # Read, fetch, hash (and create the bank) before the decision's transaction: SQLite has
    # one writer, and a preview fetch takes time.
    gathered = (
        _gather(db, settings, content_ids, upload, upload_name) if action == "remove" else None
    )
    if gathered is not None and gathered.signals:
        _ensure_bank(db, settings.cases_block_bank)
    token = secrets.token_urlsafe(24)
    now = utcnow()
    with db.transaction() as session:
        result = session.execute(
            update(CaseItem)
            .where(
                CaseItem.id == case_id,
                CaseItem.version == version,
                CaseItem.state.in_(("open", "claimed")),
            )
            .values(
                state="decided",
                action=action,
                ground=ground,
                legal_ground=(legal_ground or "").strip() or None,
                reason=reason.strip(),
                decided_by=actor.id,
                decided_at=now,
                assigned_to=actor.id,
                appeal_token_hash=hash_token(token),
                version=version + 1,
            )
            .execution_options(synchronize_session=False)
        )
        assert isinstance(result, CursorResult)
        if result.rowcount != 1:
            raise Conflict(f"case {case_id} changed while it was being decided; reload it")
        case = session.get(CaseItem, case_id)
        assert case is not None
        session.refresh(case)
        notice = session.get(Notice, case.notice_id) if case.notice_id is not None else None
        if notice is not None:
            notice.status = "decided"
            session.add(
                NoticeEvent(notice_id=notice.id, status="decided", note=f"decision: {action}")
            )
            queue_reporter_email(session, settings, notice.id, "decided", f"decision: {action}")
        record_event(
            session,
            actor.id,
            "case.decided",
            f"case:{case.tracking_number}",
            {"case_id": case_id, "action": action, "ground": ground, "automated": False},
        )
        banking = (
            _record_banking(session, settings, actor, case, gathered)
            if gathered is not None
            else None
        )
        statement = None
        if action != "no_action":
            # after banking: the statement's scope says whether copies are blocked too
            statement = statement_of_reasons(case, notice, settings, token)
            for cid in content_ids:
                event = action_event(case.tracking_number, cid, action, ground, statement=statement)
                queue_event(session, event, settings)
        return Decision(
            CaseView.of(case),
            token,
            banking.entry_id if banking is not None else None,
            banking.sweep_job_id if banking is not None else None,
            statement,
            appeal_link(settings, token),
            banking,
        )


def _auto_remove(
    session: Session, settings: Settings, parent: CaseItem, task: CaseItem, now: datetime
) -> None:
    """Decide the copy task ``task`` (an exact copy of ``parent``'s removed content) as the
    system: remove, on the parent's grounds, recorded as automated. The copy's signals are the
    parent's (identical file hash): they are in the bank already, nothing is banked again."""
    decide_by_system(
        session,
        settings,
        task,
        now,
        ground=parent.ground,
        legal_ground=parent.legal_ground,
        reason=f"exact copy of content removed in case {parent.tracking_number}",
        audit={"parent_id": parent.id},
    )


def decide_by_system(
    session: Session,
    settings: Settings,
    task: CaseItem,
    now: datetime,
    *,
    ground: str | None,
    legal_ground: str | None,
    reason: str,
    audit: dict[str, Any],
) -> None:
    """Decide the open case ``task`` as the system, in ``session``'s transaction: remove, on
    ``ground``, recorded as automated; audited (with ``audit`` added), and the
    ``content.action`` event queued as for a person's removal. Nothing is banked."""
    token = secrets.token_urlsafe(24)
    task.state = "decided"
    task.action = "remove"
    task.ground = ground
    task.legal_ground = legal_ground
    task.reason = reason
    task.decided_by = SYSTEM
    task.decided_at = now
    task.appeal_token_hash = hash_token(token)
    task.automated = True
    task.version = 1
    session.flush()
    record_event(
        session,
        SYSTEM,
        "case.decided",
        f"case:{task.tracking_number}",
        {
            "case_id": task.id,
            "action": "remove",
            "ground": task.ground,
            "automated": True,
            **audit,
        },
    )
    statement = statement_of_reasons(task, None, settings, token)
    for cid in task.content_ids:
        event = action_event(
            task.tracking_number, cid, "remove", task.ground or "terms", statement=statement
        )
        queue_event(session, event, settings)


def open_copy_tasks(db: Database, case_id: int, *, settings: Settings | None = None) -> list[int]:
    """Open a linked ``copy`` task for each hosted content the removal's bank entry matched
    (stored matches, e.g. from the sweep) that is neither the case's own content nor already
    tasked; returns the new case ids. Safe to run again.

    A copy matched by an exact hash (md5/sha256) of a removal that stands is decided at once by
    the system when ``cases_auto_remove_exact_copies`` is on (:func:`_auto_remove`); PDQ (near)
    copies stay open for a person."""
    settings = settings or get_settings()
    with db.transaction() as session:
        parent = session.get(CaseItem, case_id)
        if parent is None or parent.block_entry_id is None:
            return []
        known = set(parent.content_ids)
        for (cids,) in session.execute(
            select(CaseItem.content_ids).where(CaseItem.parent_id == case_id)
        ):
            known.update(cids)
        matched: dict[str, set[str]] = {}
        for cid, signal_type in session.execute(
            select(MatchRecord.content_id, MatchRecord.signal_type)
            .where(MatchRecord.entry_id == parent.block_entry_id)
            .order_by(MatchRecord.id)
        ):
            if cid not in known:
                matched.setdefault(cid, set()).add(signal_type)
        automate = (
            settings.cases_auto_remove_exact_copies
            and parent.state == "decided"
            and parent.action == "remove"
        )
        now = utcnow()
        created: list[tuple[CaseItem, bool]] = []
        for cid, types in matched.items():
            exact = any(is_exact_evidence(t) for t in types)
            task = CaseItem(
                tracking_number=parent.tracking_number,
                kind="copy",
                parent_id=parent.id,
                queue=parent.queue,
                state="open",
                received_at=now,
                deadline=parent.deadline,
                trusted=parent.trusted,
                evidence=3 if exact else 2,
                content_ids=[cid],
                version=0,
                automated=False,
            )
            session.add(task)
            session.flush()
            created.append((task, automate and exact))
        if not created:
            return []
        record_event(
            session,
            SYSTEM,
            "case.copies_opened",
            f"case:{parent.tracking_number}",
            {"case_id": case_id, "copy_case_ids": [t.id for t, _ in created]},
        )
        for task, auto in created:
            if auto:
                _auto_remove(session, settings, parent, task, now)
        return [t.id for t, _ in created]


def copies_job(
    db: Database, case_id: int, sweep_job_id: int | None, *, settings: Settings | None = None
) -> list[int]:
    """The ``cases.copies`` job: once the sweep job is done, :func:`open_copy_tasks`."""
    if sweep_job_id is not None and get_job(db, sweep_job_id).state.value != "done":
        raise SweepPending(f"sweep job {sweep_job_id} has not finished")
    return open_copy_tasks(db, case_id, settings=settings)
