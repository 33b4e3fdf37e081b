"""Appeals (DSA Art. 20): by the uploader (the appeal token of the statement of reasons) or the
notifier (tracking number and PIN), within :data:`APPEAL_WINDOW` of the decision; decided by a
senior reviewer or admin who did not make the decision. An upheld appeal reverses the action.
"""

from __future__ import annotations

import contextlib
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from shieldwall.audit import record_event
from shieldwall.banks import withdraw
from shieldwall.cases.decisions import hash_token
from shieldwall.cases.mail import queue_reporter_email
from shieldwall.cases.notices import verify_pin
from shieldwall.config import Settings
from shieldwall.errors import (
    AppealWindowClosed,
    Conflict,
    InvalidDecision,
    NotFound,
    NotPermitted,
)
from shieldwall.people import Actor
from shieldwall.store import Database
from shieldwall.store.models import Appeal, CaseItem, Notice, NoticeEvent, utcnow
from shieldwall.webhooks import action_event, queue_event

__all__ = [
    "APPEAL_WINDOW",
    "AppealDetail",
    "AppealView",
    "appeal_view",
    "decide_appeal",
    "file_appeal",
    "get_appeal",
    "list_appeals",
]

#: Appeals are open for six months (183 days) after the decision (DSA Art. 20(1)).
APPEAL_WINDOW = timedelta(days=183)


@dataclass(frozen=True, slots=True)
class AppealView:
    """An appeal, without anything identifying the appellant."""

    id: int
    case_id: int
    tracking_number: str
    appellant: str
    reason: str
    filed_at: datetime
    state: str
    decided_by: str | None
    decided_at: datetime | None
    outcome: str | None


@dataclass(frozen=True, slots=True)
class AppealDetail:
    """An appeal and the decision it is against (what the person deciding it reads)."""

    appeal: AppealView
    #: The case's state now (``decided``, ``reversed``, or ``open`` again).
    case_state: str
    queue: str
    action: str | None
    ground: str | None
    legal_ground: str | None
    #: The first decider's explanation (the statement of reasons gives it to the uploader).
    decision_reason: str | None
    decided_by: str | None
    decided_at: datetime | None


def appeal_view(a: Appeal, case: CaseItem) -> AppealView:
    """The view of an appeal row of ``case``."""
    return AppealView(
        a.id,
        a.case_id,
        case.tracking_number,
        a.appellant,
        a.reason,
        a.filed_at,
        a.state,
        a.decided_by,
        a.decided_at,
        a.outcome,
    )


def file_appeal(
    db: Database,
    *,
    reason: str,
    appeal_token: str | None = None,
    tracking_number: str | None = None,
    pin: str | None = None,
    now: datetime | None = None,
) -> AppealView:
    """File an appeal as the uploader (``appeal_token``) or the notifier (``tracking_number``
    and ``pin``). Unknown credentials are :class:`NotFound` (no hint which part was wrong); an
    appeal more than six months after the decision is :class:`AppealWindowClosed`; a second
    open appeal on the same case is a :class:`Conflict`."""
    if not reason.strip():
        raise InvalidDecision(
            "the appeal needs a reason", [{"field": "reason", "message": "say why"}]
        )
    now = now or utcnow()
    with db.transaction() as session:
        case: CaseItem | None = None
        appellant = "uploader"
        if appeal_token:
            case = session.scalar(
                select(CaseItem).where(CaseItem.appeal_token_hash == hash_token(appeal_token))
            )
        elif tracking_number and pin:
            appellant = "notifier"
            notice = session.scalar(select(Notice).where(Notice.tracking_number == tracking_number))
            if notice is not None and verify_pin(notice.pin_hash, pin):
                case = session.scalar(
                    select(CaseItem).where(
                        CaseItem.notice_id == notice.id, CaseItem.kind == "notice"
                    )
                )
        if case is None:
            raise NotFound("no decision matches these appeal credentials")
        if case.state != "decided" or case.decided_at is None:
            raise Conflict("the case has not been decided; there is nothing to appeal yet")
        if now > case.decided_at + APPEAL_WINDOW:
            raise AppealWindowClosed(
                "appeals are open for 6 months after the decision; this decision was made on "
                f"{case.decided_at.date().isoformat()}, so the appeal window has closed"
            )
        if session.scalar(
            select(Appeal.id).where(Appeal.case_id == case.id, Appeal.state == "open")
        ):
            raise Conflict("an appeal against this decision is already open")
        appeal = Appeal(
            case_id=case.id, appellant=appellant, reason=reason.strip(), filed_at=now, state="open"
        )
        session.add(appeal)
        session.flush()
        if case.notice_id is not None and appellant == "notifier":
            _note(session, case.notice_id, "appealed", "an appeal was filed")
        record_event(
            session,
            appellant,
            "appeal.filed",
            f"case:{case.tracking_number}",
            {"appeal_id": appeal.id, "case_id": case.id},
        )
        return appeal_view(appeal, case)


def _note(session: Session, notice_id: int, status: str, note: str) -> None:
    notice = session.get(Notice, notice_id)
    if notice is not None:
        notice.status = status
        session.add(NoticeEvent(notice_id=notice_id, status=status, note=note))


def list_appeals(
    db: Database, actor: Actor, *, state: str | None = "open", limit: int = 100
) -> list[AppealView]:
    """Appeals (open ones by default), oldest first; restricted cases' appeals only for actors
    who see the restricted queue."""
    if not actor.roles:
        raise NotPermitted("this actor has no case role")
    with db.session() as session:
        query = select(Appeal, CaseItem).join(CaseItem, CaseItem.id == Appeal.case_id)
        if state:
            query = query.where(Appeal.state == state)
        if not actor.sees_restricted:
            query = query.where(CaseItem.queue != "restricted")
        rows = session.execute(query.order_by(Appeal.id).limit(limit)).all()
        return [appeal_view(a, c) for a, c in rows]


def _load(session: Session, actor: Actor, appeal_id: int) -> tuple[Appeal, CaseItem]:
    """The appeal and its case; :class:`NotFound` also for a restricted case the actor may not
    see."""
    appeal = session.get(Appeal, appeal_id)
    case = session.get(CaseItem, appeal.case_id) if appeal is not None else None
    if appeal is None or case is None or (case.queue == "restricted" and not actor.sees_restricted):
        raise NotFound(f"no appeal {appeal_id}")
    return appeal, case


def get_appeal(db: Database, actor: Actor, appeal_id: int) -> AppealDetail:
    """One appeal with the decision it is against; an appeal on a restricted case is
    :class:`NotFound` for actors who do not see the restricted queue."""
    if not actor.roles:
        raise NotPermitted("this actor has no case role")
    with db.session() as session:
        appeal, case = _load(session, actor, appeal_id)
        return AppealDetail(
            appeal_view(appeal, case),
            case.state,
            case.queue,
            case.action,
            case.ground,
            case.legal_ground,
            case.reason,
            case.decided_by,
            case.decided_at,
        )


def decide_appeal(
    db: Database,
    settings: Settings,
    actor: Actor,
    appeal_id: int,
    *,
    uphold: bool,
    reason: str,
) -> AppealView:
    """Decide an appeal. Only senior reviewers and admins, never on a decision of their own
    (:class:`NotPermitted`). Upheld: a removal's bank entry loses the case's tracking number
    (the signals stop matching unless another case holds them), a ``content.action`` event
    with ``reversed: true`` is queued per content id, and the case becomes ``reversed``; an
    upheld appeal against ``no_action`` reopens the case for a new decision."""
    if not actor.may_decide_appeals:
        raise NotPermitted("only senior reviewers and admins decide appeals")
    if not reason.strip():
        raise InvalidDecision(
            "the appeal decision needs a reason", [{"field": "reason", "message": "say why"}]
        )
    with db.session() as session:
        appeal, case = _load(session, actor, appeal_id)
        if case.decided_by == actor.id:
            raise NotPermitted("an appeal is decided by someone other than the first decider")
        if appeal.state != "open":
            raise Conflict(f"appeal {appeal_id} is decided already")
        action, entry_id, tracking = case.action, case.block_entry_id, case.tracking_number
    if uphold and action == "remove" and entry_id is not None:
        with contextlib.suppress(NotFound):  # withdrawn already
            withdraw(db, tracking, bank=settings.cases_block_bank, by=actor.id)
    now = utcnow()
    with db.transaction() as session:
        appeal, case = _load(session, actor, appeal_id)
        if appeal.state != "open":
            raise Conflict(f"appeal {appeal_id} is decided already")
        appeal.state = "upheld" if uphold else "rejected"
        appeal.decided_by, appeal.decided_at, appeal.outcome = actor.id, now, reason.strip()
        if uphold:
            if case.action == "no_action":
                case.state, case.assigned_to = "open", None
            else:
                case.state = "reversed"
                for cid in case.content_ids:
                    event = action_event(
                        case.tracking_number,
                        cid,
                        case.action or "",
                        case.ground or "",
                        reversed_=True,
                    )
                    queue_event(session, event, settings)
            case.version += 1
        if case.notice_id is not None:
            outcome = "appeal upheld: decision reversed" if uphold else "appeal rejected"
            _note(session, case.notice_id, "appeal_decided", outcome)
            queue_reporter_email(session, settings, case.notice_id, "appeal_decided", outcome)
        record_event(
            session,
            actor.id,
            "appeal.decided",
            f"case:{case.tracking_number}",
            {"appeal_id": appeal_id, "upheld": uphold, "case_id": case.id},
        )
        session.flush()
        return appeal_view(appeal, case)
