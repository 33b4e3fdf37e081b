"""The job queue in the database: enqueue, claim under a lease, complete, fail with backoff.

A claim is a compare-and-set: the worker picks the oldest runnable job and sets it ``running``
with ``UPDATE job ... WHERE id = :id AND state = :seen``; only one worker's update can match.
On PostgreSQL the pick is also ``SELECT ... FOR UPDATE SKIP LOCKED``, so concurrent workers
pick different jobs instead of queueing on the same row; on SQLite write transactions are
serialised (``BEGIN IMMEDIATE``). A worker that dies leaves its job ``running`` until its lease
expires; the next claim puts it back in the queue (or dead-letters it if it has had all its
attempts).
"""

from __future__ import annotations

import random
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from typing import Any

from sqlalchemy import CursorResult, Update, func, select, update
from sqlalchemy.orm import Session

from shieldwall.config import Settings, get_settings
from shieldwall.errors import Conflict, NotFound, UsageError
from shieldwall.store import Database, JobRecord, utcnow

__all__ = [
    "Job",
    "JobState",
    "backoff_delay",
    "claim",
    "complete",
    "enqueue",
    "extend_lease",
    "fail",
    "get_job",
    "job_record",
    "list_jobs",
    "queue_depth",
    "queue_lag",
    "reclaim_expired",
    "requeue",
]

#: Longest error text kept on a job.
_MAX_ERROR = 4000


class JobState(StrEnum):
    """Where a job is in its life."""

    QUEUED = "queued"
    RUNNING = "running"
    #: Failed; waits for ``run_after`` (the backoff) to be claimed again.
    RETRY = "retry"
    DONE = "done"
    #: Failed ``max_attempts`` times (or permanently): the dead-letter state.
    DEAD = "dead"


_RUNNABLE = (JobState.QUEUED.value, JobState.RETRY.value)


@dataclass(frozen=True, slots=True)
class Job:
    """A job as read from the queue."""

    id: int
    kind: str
    payload: dict[str, Any]
    state: JobState
    attempts: int
    max_attempts: int
    run_after: datetime
    locked_by: str | None
    locked_until: datetime | None
    last_error: str | None
    created_at: datetime
    finished_at: datetime | None


def _changed(session: Session, statement: Update) -> int:
    """Run an UPDATE (no ORM synchronisation) and return how many rows it changed."""
    result = session.execute(statement.execution_options(synchronize_session=False))
    assert isinstance(result, CursorResult)
    return int(result.rowcount)


def _job(r: JobRecord) -> Job:
    return Job(
        r.id,
        r.kind,
        dict(r.payload),
        JobState(r.state),
        r.attempts,
        r.max_attempts,
        r.run_after,
        r.locked_by,
        r.locked_until,
        r.last_error,
        r.created_at,
        r.finished_at,
    )


def backoff_delay(
    attempt: int, *, base: float, cap: float, rng: random.Random | None = None
) -> float:
    """Seconds to wait after failed attempt number ``attempt`` (1, 2, ...): ``base * 2^(n-1)``
    capped at ``cap``, times a random factor in [0.5, 1) so that failed jobs spread out."""
    exponential = min(cap, base * 2.0 ** min(max(attempt - 1, 0), 60))
    return exponential * (0.5 + 0.5 * (rng or random).random())


def job_record(
    kind: str,
    payload: Mapping[str, Any],
    *,
    max_attempts: int,
    run_after: datetime | None = None,
) -> JobRecord:
    """A new queued job's row, for callers that enqueue inside their own transaction
    (``session.add(job_record(kind, payload, max_attempts=...))``): the job exists only if that
    transaction commits."""
    if not kind or len(kind) > 100:
        raise UsageError(f"invalid job kind {kind!r}")
    if max_attempts < 1:
        raise UsageError(f"max_attempts must be at least 1, not {max_attempts}")
    return JobRecord(
        kind=kind,
        payload=dict(payload),
        state=JobState.QUEUED.value,
        attempts=0,
        max_attempts=max_attempts,
        run_after=run_after or utcnow(),
    )


def enqueue(
    db: Database,
    kind: str,
    payload: Mapping[str, Any],
    *,
    run_after: datetime | None = None,
    max_attempts: int | None = None,
    settings: Settings | None = None,
) -> int:
    """Add a job of ``kind`` (a registered handler's name) with a JSON-serialisable ``payload``;
    returns its id. ``run_after`` delays it; ``max_attempts`` defaults to the setting."""
    settings = settings or get_settings()
    record = job_record(
        kind,
        payload,
        max_attempts=settings.job_max_attempts if max_attempts is None else max_attempts,
        run_after=run_after,
    )
    with db.transaction() as session:
        session.add(record)
        session.flush()
        return record.id


def reclaim_expired(db: Database, *, now: datetime | None = None) -> int:
    """Put back in the queue every ``running`` job whose lease has expired (its worker died or
    hung); a job that has had all its attempts goes to ``dead`` instead. Returns how many."""
    now = now or utcnow()
    expired = (JobRecord.state == JobState.RUNNING.value, JobRecord.locked_until < now)
    with db.transaction() as session:
        dead = _changed(
            session,
            update(JobRecord)
            .where(*expired, JobRecord.attempts >= JobRecord.max_attempts)
            .values(
                state=JobState.DEAD.value,
                last_error="lease expired on its last attempt (the worker died or hung)",
                locked_by=None,
                locked_until=None,
                finished_at=now,
            ),
        )
        back = _changed(
            session,
            update(JobRecord)
            .where(*expired)
            .values(
                state=JobState.RETRY.value,
                last_error="lease expired (the worker died or hung)",
                locked_by=None,
                locked_until=None,
                run_after=now,
            ),
        )
    return dead + back


def claim(
    db: Database,
    worker_id: str,
    kinds: Sequence[str] | None = None,
    *,
    lease_seconds: float | None = None,
    settings: Settings | None = None,
    now: datetime | None = None,
) -> Job | None:
    """Take the oldest runnable job (of ``kinds``, if given) for ``worker_id``: it becomes
    ``running``, leased until ``now + lease_seconds``, its attempt counted. ``None``: nothing
    to do. Expired leases are reclaimed first (:func:`reclaim_expired`)."""
    settings = settings or get_settings()
    lease = timedelta(seconds=lease_seconds or settings.job_lease_seconds)
    now = now or utcnow()
    if kinds is not None and not kinds:
        return None
    reclaim_expired(db, now=now)
    for _ in range(10):
        with db.transaction() as session:
            pick = select(JobRecord.id, JobRecord.state).where(
                JobRecord.state.in_(_RUNNABLE), JobRecord.run_after <= now
            )
            if kinds is not None:
                pick = pick.where(JobRecord.kind.in_(list(kinds)))
            pick = pick.order_by(JobRecord.run_after, JobRecord.id).limit(1)
            if not db.is_sqlite:
                pick = pick.with_for_update(skip_locked=True)
            row = session.execute(pick).first()
            if row is None:
                return None
            job_id, seen = row
            changed = _changed(
                session,
                update(JobRecord)
                .where(JobRecord.id == job_id, JobRecord.state == seen)
                .values(
                    state=JobState.RUNNING.value,
                    locked_by=worker_id,
                    locked_until=now + lease,
                    attempts=JobRecord.attempts + 1,
                )
                .execution_options(synchronize_session=False),
            )
            if changed != 1:
                continue  # another worker took it between our read and our write
            record = session.get(JobRecord, job_id, populate_existing=True)
            assert record is not None
            return _job(record)
    return None


def _held(session: Session, job_id: int, worker_id: str) -> JobRecord:
    record: JobRecord | None = session.get(JobRecord, job_id, populate_existing=True)
    if record is None:
        raise NotFound(f"no job {job_id}")
    if record.state != JobState.RUNNING.value or record.locked_by != worker_id:
        raise Conflict(
            f"job {job_id} is not held by {worker_id} (state {record.state}, held by "
            f"{record.locked_by}): its lease expired and it was reclaimed"
        )
    return record


def complete(db: Database, job_id: int, worker_id: str) -> None:
    """Mark a job the worker holds as ``done``. Raises :class:`Conflict` if the worker no
    longer holds it (its lease expired and the job was reclaimed)."""
    now = utcnow()
    with db.transaction() as session:
        record = _held(session, job_id, worker_id)
        record.state = JobState.DONE.value
        record.locked_by = None
        record.locked_until = None
        record.finished_at = now


def fail(
    db: Database,
    job_id: int,
    worker_id: str,
    error: str,
    *,
    retry: bool = True,
    settings: Settings | None = None,
    rng: random.Random | None = None,
) -> JobState:
    """Record a failed attempt of a job the worker holds: ``retry`` after a backoff
    (:func:`backoff_delay`), or ``dead`` once it has had ``max_attempts`` (or at once with
    ``retry=False``). Returns the new state."""
    settings = settings or get_settings()
    now = utcnow()
    with db.transaction() as session:
        record = _held(session, job_id, worker_id)
        record.last_error = error[:_MAX_ERROR]
        record.locked_by = None
        record.locked_until = None
        if not retry or record.attempts >= record.max_attempts:
            record.state = JobState.DEAD.value
            record.finished_at = now
        else:
            delay = backoff_delay(
                record.attempts,
                base=settings.job_backoff_seconds,
                cap=settings.job_backoff_max_seconds,
                rng=rng,
            )
            record.state = JobState.RETRY.value
            record.run_after = now + timedelta(seconds=delay)
        return JobState(record.state)


def extend_lease(db: Database, job_id: int, worker_id: str, *, lease_seconds: float) -> bool:
    """Renew the lease of a job the worker still holds; ``False`` if it no longer does."""
    with db.transaction() as session:
        changed = _changed(
            session,
            update(JobRecord)
            .where(
                JobRecord.id == job_id,
                JobRecord.state == JobState.RUNNING.value,
                JobRecord.locked_by == worker_id,
            )
            .values(locked_until=utcnow() + timedelta(seconds=lease_seconds)),
        )
    return bool(changed)


def queue_depth(db: Database) -> dict[str, int]:
    """How many jobs are in each state (every state present, zeros included)."""
    depth = {state.value: 0 for state in JobState}
    with db.session() as session:
        for state, count in session.execute(
            select(JobRecord.state, func.count()).group_by(JobRecord.state)
        ):
            depth[state] = int(count)
    return depth


def queue_lag(db: Database, *, now: datetime | None = None) -> dict[str, float]:
    """By job kind: how late, in seconds, its longest-waiting due job is (queued or waiting
    to retry, ``run_after`` passed); kinds with no due job are absent."""
    now = now or utcnow()
    lag: dict[str, float] = {}
    with db.session() as session:
        for kind, first in session.execute(
            select(JobRecord.kind, func.min(JobRecord.run_after))
            .where(
                JobRecord.state.in_((JobState.QUEUED.value, JobState.RETRY.value)),
                JobRecord.run_after <= now,
            )
            .group_by(JobRecord.kind)
        ):
            earliest = datetime.fromisoformat(first) if isinstance(first, str) else first
            if earliest.tzinfo is None:
                earliest = earliest.replace(tzinfo=UTC)
            lag[kind] = max(0.0, (now - earliest).total_seconds())
    return lag


def get_job(db: Database, job_id: int) -> Job:
    """One job; :class:`NotFound` if there is none with that id."""
    with db.session() as session:
        record = session.get(JobRecord, job_id)
        if record is None:
            raise NotFound(f"no job {job_id}")
        return _job(record)


def list_jobs(
    db: Database,
    *,
    state: JobState | str | None = None,
    kind: str | None = None,
    after_id: int = 0,
    limit: int = 100,
) -> list[Job]:
    """Jobs in id order after ``after_id`` (paging), optionally of one state or kind (the
    dead-letter queue is ``state="dead"``)."""
    query = select(JobRecord).where(JobRecord.id > after_id).order_by(JobRecord.id)
    if state is not None:
        query = query.where(JobRecord.state == JobState(state).value)
    if kind is not None:
        query = query.where(JobRecord.kind == kind)
    with db.session() as session:
        return [_job(r) for r in session.scalars(query.limit(limit))]


def requeue(db: Database, job_id: int) -> None:
    """Give a dead-lettered job a new set of attempts, to run now (after fixing its cause)."""
    with db.transaction() as session:
        record = session.get(JobRecord, job_id)
        if record is None:
            raise NotFound(f"no job {job_id}")
        if record.state != JobState.DEAD.value:
            raise Conflict(f"job {job_id} is {record.state}, not dead: only dead jobs are requeued")
        record.state = JobState.QUEUED.value
        record.attempts = 0
        record.run_after = utcnow()
        record.finished_at = None
