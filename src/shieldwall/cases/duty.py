"""The figures a 48-hour duty watches, read from the database in a few aggregate queries: open
cases by queue, kind and age, overdue cases and cases due soon, the time from notice to
decision (a histogram), and the appeal backlog. ``/metrics`` exposes them
(:mod:`shieldwall.service.duty`; docs/operations.md has the alert rules).

Every process reads the same database, so these figures are the same from every replica:
aggregate them with ``max``, not ``sum``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import ColumnElement, case, extract, func, select
from sqlalchemy.orm import Session

from shieldwall.store import Database
from shieldwall.store.models import Appeal, CaseItem, utcnow

__all__ = [
    "AGE_BUCKETS",
    "DECISION_BUCKETS_HOURS",
    "DUE_WITHIN_HOURS",
    "DecisionTimes",
    "DutyFigures",
    "duty_figures",
]

#: Age buckets of open cases: (label, upper bound in hours; ``None``: no bound).
AGE_BUCKETS: tuple[tuple[str, float | None], ...] = (
    ("under_12h", 12.0),
    ("12h_24h", 24.0),
    ("24h_36h", 36.0),
    ("36h_48h", 48.0),
    ("over_48h", None),
)
#: The windows of ``due_within``: open cases whose deadline falls within so many hours.
DUE_WITHIN_HOURS = (1, 2, 4, 8, 12, 24)
#: Upper bounds (hours) of the notice-to-decision histogram.
DECISION_BUCKETS_HOURS = (1.0, 2.0, 4.0, 8.0, 12.0, 24.0, 36.0, 48.0, 72.0, 168.0)
_OPEN = ("open", "claimed")


@dataclass(frozen=True, slots=True)
class DecisionTimes:
    """Decided notice cases of one queue: cumulative counts per upper bound (seconds), the
    count and the sum of seconds from receipt to decision."""

    buckets: tuple[tuple[float, int], ...]
    count: int
    sum_seconds: float


@dataclass(frozen=True, slots=True)
class DutyFigures:
    """What :func:`duty_figures` reads (keys of the dicts are queue names)."""

    #: (queue, kind, age bucket) -> open cases.
    open_cases: dict[tuple[str, str, str], int] = field(default_factory=dict)
    #: queue -> open cases past their deadline.
    overdue: dict[str, int] = field(default_factory=dict)
    #: (queue, hours) -> open cases not yet overdue whose deadline is within ``hours``.
    due_within: dict[tuple[str, int], int] = field(default_factory=dict)
    #: queue -> seconds to the soonest deadline of its open cases (negative: overdue).
    next_deadline_seconds: dict[str, float] = field(default_factory=dict)
    #: queue -> age in seconds of its oldest open case.
    oldest_open_seconds: dict[str, float] = field(default_factory=dict)
    #: queue -> notice-to-decision times of its decided notice cases.
    decision_times: dict[str, DecisionTimes] = field(default_factory=dict)
    #: Appeals waiting for a decision.
    open_appeals: int = 0
    #: Age in seconds of the oldest open appeal (``None``: none open).
    oldest_appeal_seconds: float | None = None


def _seconds(
    session: Session, later: ColumnElement[datetime], earlier: ColumnElement[datetime]
) -> ColumnElement[float]:
    """``later - earlier`` in seconds, in the database's own arithmetic."""
    if session.get_bind().dialect.name == "postgresql":
        return extract("epoch", later - earlier)  # type: ignore[return-value]
    return (func.julianday(later) - func.julianday(earlier)) * 86400.0


def _open_cases(session: Session, now: datetime, out: DutyFigures) -> None:
    whens = [
        (CaseItem.received_at > now - timedelta(hours=hours), label)
        for label, hours in AGE_BUCKETS
        if hours is not None
    ]
    bucket = case(*whens, else_=AGE_BUCKETS[-1][0])
    rows = session.execute(
        select(CaseItem.queue, CaseItem.kind, bucket, func.count())
        .where(CaseItem.state.in_(_OPEN))
        .group_by(CaseItem.queue, CaseItem.kind, bucket)
    )
    for queue, kind, label, count in rows:
        out.open_cases[(queue, kind, label)] = int(count)
    windows = [
        func.sum(case((CaseItem.deadline <= now + timedelta(hours=h), 1), else_=0))
        for h in DUE_WITHIN_HOURS
    ]
    per_queue = session.execute(
        select(
            CaseItem.queue,
            func.sum(case((CaseItem.deadline <= now, 1), else_=0)),
            func.min(CaseItem.deadline),
            func.min(CaseItem.received_at),
            *windows,
        )
        .where(CaseItem.state.in_(_OPEN))
        .group_by(CaseItem.queue)
    )
    for queue, overdue, soonest, oldest, *within in per_queue:
        out.overdue[queue] = int(overdue or 0)
        for hours, count in zip(DUE_WITHIN_HOURS, within, strict=True):
            out.due_within[(queue, hours)] = int(count or 0) - int(overdue or 0)
        out.next_deadline_seconds[queue] = (_aware(soonest) - now).total_seconds()
        out.oldest_open_seconds[queue] = (now - _aware(oldest)).total_seconds()


def _aware(value: datetime) -> datetime:
    """An aggregate of a timestamp column comes back without the column's type (SQLite)."""
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    return value if value.tzinfo is not None else value.replace(tzinfo=utcnow().tzinfo)


def _decision_times(session: Session, out: DutyFigures) -> None:
    seconds = _seconds(session, CaseItem.decided_at, CaseItem.received_at)  # type: ignore[arg-type]
    bounds = [hours * 3600.0 for hours in DECISION_BUCKETS_HOURS]
    rows = session.execute(
        select(
            CaseItem.queue,
            func.count(),
            func.sum(seconds),
            *(func.sum(case((seconds <= b, 1), else_=0)) for b in bounds),
        )
        .where(CaseItem.kind == "notice", CaseItem.decided_at.is_not(None))
        .group_by(CaseItem.queue)
    )
    for queue, count, total, *within in rows:
        out.decision_times[queue] = DecisionTimes(
            tuple((b, int(n or 0)) for b, n in zip(bounds, within, strict=True)),
            int(count),
            float(total or 0.0),
        )


def duty_figures(db: Database, *, now: datetime | None = None) -> DutyFigures:
    """The duty's figures now (a handful of aggregate queries, whatever the number of
    cases)."""
    now = now or utcnow()
    out = DutyFigures()
    with db.session() as session:
        _open_cases(session, now, out)
        _decision_times(session, out)
        count, oldest = session.execute(
            select(func.count(), func.min(Appeal.filed_at)).where(Appeal.state == "open")
        ).one()
    appeals = int(count or 0)
    oldest_age = (now - _aware(oldest)).total_seconds() if oldest is not None else None
    return DutyFigures(
        out.open_cases,
        out.overdue,
        out.due_within,
        out.next_deadline_seconds,
        out.oldest_open_seconds,
        out.decision_times,
        appeals,
        oldest_age,
    )
