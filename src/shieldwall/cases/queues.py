"""Cases and their queues: priority, claiming (compare-and-set), ageing buckets.

Two queues: ``adult`` and ``restricted`` (the person depicted may be under 18). Only actors who
:attr:`~shieldwall.people.Actor.sees_restricted` list, read, claim or act on restricted cases,
and a restricted case is never listed in the adult queue.

Priority: cases whose deadline is within :data:`URGENT_HOURS` come first (earliest deadline
first); then trusted flaggers' cases, then stronger evidence (an exact-hash match of a reported
content id, then a PDQ match, then a platform's detector score at or above
``cases_detector_threshold``), then the earlier deadline.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import ColumnElement, and_, or_, select, update
from sqlalchemy import case as sql_case
from sqlalchemy.engine import CursorResult
from sqlalchemy.orm import Session

from shieldwall.audit import record_event
from shieldwall.config import Settings, get_settings
from shieldwall.errors import Conflict, NotFound, NotPermitted, UsageError
from shieldwall.people import Actor, Role
from shieldwall.signals import find_signal_type, is_exact_evidence
from shieldwall.store import Database
from shieldwall.store.models import (
    CaseItem,
    ContentScore,
    MatchRecord,
    Notice,
    NoticeEvent,
    utcnow,
)

__all__ = [
    "EVIDENCE",
    "QUEUES",
    "URGENT_HOURS",
    "CaseView",
    "ageing",
    "check_queue",
    "claim_expired",
    "claim_next",
    "claim_window",
    "evidence_strength",
    "get_case",
    "list_queue",
    "release_claim",
    "visible_queues",
]

QUEUES = ("adult", "restricted")
#: Strength of evidence, strongest first.
EVIDENCE = {3: "exact_match", 2: "near_match", 1: "detector_score", 0: "none"}
#: Cases this close to their deadline jump the rest of the queue.
URGENT_HOURS = 12.0
_CLAIM_TRIES = 20


@dataclass(frozen=True, slots=True)
class CaseView:
    """A case as reviewers see it (no reporter identity: that stays on the notice)."""

    id: int
    tracking_number: str
    queue: str
    state: str
    received_at: datetime
    deadline: datetime
    trusted: bool
    evidence: str
    content_ids: list[str]
    assigned_to: str | None
    #: When the claim was made (it holds for ``case_claim_minutes``).
    claimed_at: datetime | None
    action: str | None
    ground: str | None
    decided_by: str | None
    decided_at: datetime | None
    #: ``notice`` (opened by a notice), ``copy`` (a copy of content removed in ``parent_id``)
    #: or ``match`` (a match on a bank a hash exchange feeds, :mod:`shieldwall.exchange`).
    kind: str
    #: The removal case a copy task was opened from (``None`` for notices).
    parent_id: int | None
    #: Decided by the system (an exact copy of removed content), not by a person.
    automated: bool

    @classmethod
    def of(cls, c: CaseItem) -> CaseView:
        return cls(
            c.id,
            c.tracking_number,
            c.queue,
            c.state,
            c.received_at,
            c.deadline,
            c.trusted,
            EVIDENCE.get(c.evidence, "none"),
            list(c.content_ids),
            c.assigned_to,
            c.claimed_at,
            c.action,
            c.ground,
            c.decided_by,
            c.decided_at,
            c.kind,
            c.parent_id,
            bool(c.automated),
        )


def evidence_strength(
    session: Session, content_ids: list[str], settings: Settings | None = None
) -> int:
    """How strongly the evidence on ``content_ids`` backs a case (see :data:`EVIDENCE`): 3 a
    stored match on a signal type that is exact evidence
    (:func:`~shieldwall.signals.is_exact_evidence`: md5, sha256), 2 a stored match on any
    other registered type (a near match: pdq, vpdq, a plug-in's), 1 a detector score
    (``content_score``) at or above ``cases_detector_threshold``, else 0."""
    if not content_ids:
        return 0
    types = set(
        session.scalars(
            select(MatchRecord.signal_type).where(MatchRecord.content_id.in_(content_ids))
        )
    )
    if any(is_exact_evidence(t) for t in types):
        return 3
    if any(find_signal_type(t) is not None for t in types):
        return 2
    threshold = (settings or get_settings()).cases_detector_threshold
    scored = session.scalar(
        select(ContentScore.id)
        .where(ContentScore.content_id.in_(content_ids), ContentScore.score >= threshold)
        .limit(1)
    )
    return 1 if scored is not None else 0


def visible_queues(actor: Actor) -> list[str]:
    """The queues ``actor`` may see (the restricted one only for child-safety reviewers)."""
    return [q for q in QUEUES if q != "restricted" or actor.sees_restricted]


def check_queue(actor: Actor, queue: str) -> None:
    """Raise unless ``queue`` exists and ``actor`` may work it."""
    if queue not in QUEUES:
        raise UsageError(f"unknown queue {queue!r} (known: {', '.join(QUEUES)})")
    if queue == "restricted" and not actor.sees_restricted:
        raise NotPermitted("only child-safety reviewers may see the restricted queue")


def _priority(now: datetime) -> list[Any]:
    urgent = sql_case((CaseItem.deadline <= now + timedelta(hours=URGENT_HOURS), 0), else_=1)
    return [
        urgent,
        sql_case((urgent == 0, CaseItem.deadline), else_=None),
        CaseItem.trusted.desc(),
        CaseItem.evidence.desc(),
        CaseItem.deadline,
        CaseItem.id,
    ]


def list_queue(
    db: Database,
    actor: Actor,
    queue: str = "adult",
    *,
    state: str | None = None,
    limit: int = 100,
    now: datetime | None = None,
) -> list[CaseView]:
    """The queue's undecided cases (or those in ``state``) in priority order; decided ones
    (``state="decided"``) newest first."""
    check_queue(actor, queue)
    now = now or utcnow()
    with db.session() as session:
        query = select(CaseItem).where(CaseItem.queue == queue)
        query = query.where(
            CaseItem.state == state if state else CaseItem.state.in_(("open", "claimed"))
        )
        order = (
            [CaseItem.decided_at.desc(), CaseItem.id.desc()]
            if state == "decided"
            else _priority(now)
        )
        rows = session.scalars(query.order_by(*order).limit(limit))
        return [CaseView.of(c) for c in rows]


def get_case(db: Database, actor: Actor, case_id: int) -> CaseView:
    """One case; a restricted case is :class:`NotFound` for actors who may not see it."""
    with db.session() as session:
        c = session.get(CaseItem, case_id)
        if c is None or (c.queue == "restricted" and not actor.sees_restricted):
            raise NotFound(f"no case {case_id}")
        return CaseView.of(c)


def claim_window(settings: Settings | None = None) -> timedelta:
    """How long a claim holds (``case_claim_minutes``)."""
    return timedelta(minutes=(settings or get_settings()).case_claim_minutes)


def claim_expired(
    case: CaseItem | CaseView, window: timedelta, now: datetime | None = None
) -> bool:
    """Whether ``case`` is claimed by a claim older than ``window`` (which no longer holds)."""
    return (
        case.state == "claimed"
        and case.claimed_at is not None
        and case.claimed_at <= (now or utcnow()) - window
    )


def _claimable(now: datetime, window: timedelta) -> ColumnElement[bool]:
    """Open, or claimed by a claim that no longer holds."""
    return or_(
        CaseItem.state == "open",
        and_(CaseItem.state == "claimed", CaseItem.claimed_at <= now - window),
    )


def claim_next(
    db: Database,
    actor: Actor,
    queue: str = "adult",
    *,
    now: datetime | None = None,
    settings: Settings | None = None,
) -> CaseView | None:
    """Assign the first claimable case of ``queue`` to ``actor``; ``None`` when none is.

    Claimable: open, or claimed longer ago than ``case_claim_minutes`` (such a claim no longer
    holds; the audit event names whose claim was taken over). A compare-and-set on the case's
    ``version``: two reviewers claiming at once never get the same case (the loser moves on to
    the next)."""
    check_queue(actor, queue)
    if not actor.may_decide:
        raise NotPermitted("this role may not work cases")
    now = now or utcnow()
    window = claim_window(settings)
    skip: list[int] = []
    for _ in range(_CLAIM_TRIES):
        with db.session() as session:
            query = select(
                CaseItem.id, CaseItem.version, CaseItem.state, CaseItem.assigned_to
            ).where(CaseItem.queue == queue, _claimable(now, window))
            if skip:
                query = query.where(CaseItem.id.not_in(skip))
            row = session.execute(query.order_by(*_priority(now)).limit(1)).first()
        if row is None:
            return None
        case_id, version, was, previous = row
        with db.transaction() as session:
            result = session.execute(
                update(CaseItem)
                .where(
                    CaseItem.id == case_id,
                    CaseItem.version == version,
                    _claimable(now, window),
                )
                .values(
                    state="claimed",
                    assigned_to=actor.id,
                    claimed_at=utcnow(),
                    version=version + 1,
                )
                .execution_options(synchronize_session=False)
            )
            assert isinstance(result, CursorResult)
            if result.rowcount != 1:
                skip.append(case_id)
                continue
            c = session.get(CaseItem, case_id)
            assert c is not None
            if c.notice_id is not None:
                notice = session.get(Notice, c.notice_id)
                if notice is not None and notice.status == "received":
                    notice.status = "in_review"
                    session.add(NoticeEvent(notice_id=notice.id, status="in_review", note=""))
            details = {"expired_claim_of": previous} if was == "claimed" else {}
            record_event(session, actor.id, "case.claimed", f"case:{c.tracking_number}", details)
            session.flush()
            return CaseView.of(c)
    return None


def release_claim(db: Database, actor: Actor, case_id: int) -> CaseView:
    """Give up the claim on a case: it is open again for anyone. Only the claimer or an admin
    (:class:`NotPermitted` otherwise); a case that is not claimed is a :class:`Conflict`; a
    restricted case is :class:`NotFound` for actors who may not see it. Audited
    (``case.released``, naming whose claim it was)."""
    with db.transaction() as session:
        c = session.get(CaseItem, case_id)
        if c is None or (c.queue == "restricted" and not actor.sees_restricted):
            raise NotFound(f"no case {case_id}")
        check_queue(actor, c.queue)
        if c.state != "claimed":
            raise Conflict(f"case {case_id} is not claimed (it is {c.state})")
        if c.assigned_to != actor.id and not actor.has(Role.ADMIN):
            raise NotPermitted(
                "only the reviewer who claimed the case, or an admin, may release it"
            )
        previous = c.assigned_to
        result = session.execute(
            update(CaseItem)
            .where(
                CaseItem.id == case_id, CaseItem.version == c.version, CaseItem.state == "claimed"
            )
            .values(state="open", assigned_to=None, claimed_at=None, version=c.version + 1)
            .execution_options(synchronize_session=False)
        )
        assert isinstance(result, CursorResult)
        if result.rowcount != 1:
            raise Conflict(f"case {case_id} changed while it was being released; reload it")
        record_event(
            session,
            actor.id,
            "case.released",
            f"case:{c.tracking_number}",
            {"case_id": case_id, "claimed_by": previous},
        )
        session.refresh(c)
        return CaseView.of(c)


def ageing(
    db: Database, actor: Actor, queue: str = "adult", *, now: datetime | None = None
) -> dict[str, int]:
    """Undecided cases of ``queue`` by age: ``under_24h``, ``under_48h`` (24 h or older, before
    the deadline) and ``overdue`` (past the deadline)."""
    check_queue(actor, queue)
    now = now or utcnow()
    out = {"under_24h": 0, "under_48h": 0, "overdue": 0}
    with db.session() as session:
        rows = session.execute(
            select(CaseItem.received_at, CaseItem.deadline).where(
                CaseItem.queue == queue, CaseItem.state.in_(("open", "claimed"))
            )
        )
        for received, deadline in rows:
            if deadline <= now:
                out["overdue"] += 1
            elif now - received < timedelta(hours=24):
                out["under_24h"] += 1
            else:
                out["under_48h"] += 1
    return out
