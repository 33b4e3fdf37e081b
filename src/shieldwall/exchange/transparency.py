"""Statements of reasons to the EU Transparency Database (DSA Art. 24(5)), as queued jobs.

Each decided case that restricted content (``remove``, ``restrict``, ``label``) is submitted
once, as :func:`shieldwall.cases.tdb_statement` writes it (no personal data), with its
``puid`` so that a retry never makes a duplicate: ``POST {tdb_url}/statements`` in batches of
at most 100 with ``Authorization: Bearer <tdb_token>``. A batch the database refuses (422) is
sent again one statement at a time (``POST {tdb_url}/statement``): a 422 naming the ``puid``
means the database has it already, which counts as done (``existing``); another 422 is a
statement refused for good (``failed``, with the database's message). 401/403, 429, 5xx and
timeouts fail the job, which the queue retries with its backoff; nothing is recorded for the
statements of that batch, so they are sent again.

The job ``transparency.submit`` queues the next one ``tdb_interval_seconds`` later while
``tdb_url`` is set; the worker starts it by itself while ``tdb_url`` is set
(:func:`transparency_schedules`), as :func:`queue_transparency` does
(``shieldwall exchange tdb --queue``).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select

from shieldwall.cases import TDB_BATCH_MAX, tdb_statement
from shieldwall.config import Settings, get_settings
from shieldwall.errors import ExchangeRefused, UsageError
from shieldwall.exchange.base import ExchangeContext
from shieldwall.exchange.exchanges import context_for
from shieldwall.jobs import Handler, Job, JobState, Schedule, job_record
from shieldwall.store import Database
from shieldwall.store.models import CaseItem, JobRecord, Notice, TransparencySubmission, utcnow

__all__ = [
    "TDB_JOB",
    "TransparencyReport",
    "TransparencyState",
    "queue_transparency",
    "submit_statements",
    "transparency_handlers",
    "transparency_schedules",
    "transparency_state",
    "transparency_states",
]

TDB_JOB = "transparency.submit"
_ACTIONS = ("remove", "restrict", "label")


@dataclass
class TransparencyReport:
    """What one submission run did."""

    submitted: int = 0
    existing: int = 0
    failed: int = 0
    errors: list[str] = field(default_factory=list)


def _pending(db: Database, settings: Settings, limit: int) -> list[dict[str, Any]]:
    """Statements of decided cases not submitted yet, oldest case first."""
    with db.session() as session:
        done = select(TransparencySubmission.case_id)
        cases = list(
            session.scalars(
                select(CaseItem)
                .where(
                    CaseItem.state == "decided",
                    CaseItem.action.in_(_ACTIONS),
                    CaseItem.id.not_in(done),
                )
                .order_by(CaseItem.id)
                .limit(limit)
            )
        )
        out = []
        for case in cases:
            notice = session.get(Notice, case.notice_id) if case.notice_id is not None else None
            out.append({"case_id": case.id, "statement": tdb_statement(case, notice, settings)})
        return out


def _headers(settings: Settings) -> dict[str, str]:
    if not settings.tdb_token:
        raise ExchangeRefused("the Transparency Database needs SHIELDWALL_TDB_TOKEN(_FILE)")
    return {
        "Authorization": f"Bearer {settings.tdb_token}",
        "Accept": "application/json",
        "Content-Type": "application/json",
    }


def _uuids(body: bytes) -> dict[str, str]:
    """puid -> uuid from an answer, as far as it says (``{"statements": [{uuid, puid}]}``)."""
    try:
        data = json.loads(body)
    except (json.JSONDecodeError, UnicodeDecodeError):
        return {}
    items = data.get("statements", [data]) if isinstance(data, dict) else data
    if not isinstance(items, list):
        return {}
    return {
        str(i["puid"]): str(i["uuid"])
        for i in items
        if isinstance(i, dict) and "puid" in i and "uuid" in i
    }


def _one(
    context: ExchangeContext, settings: Settings, url: str, item: dict[str, Any]
) -> tuple[str, str | None, str | None]:
    """(state, uuid, error) of one statement sent alone."""
    answer = context.http(
        f"{url}/statement",
        method="POST",
        body=json.dumps(item["statement"]).encode(),
        headers=_headers(settings),
        what="Transparency Database statement",
        accept=(422,),
    )
    if answer.status != 422:
        return "submitted", _uuids(answer.body).get(item["statement"]["puid"]), None
    text = answer.body.decode("utf-8", "replace")
    if "puid" in text.lower():
        return "existing", None, None
    return "failed", None, f"the Transparency Database refused it (422): {text[:500]}"


def submit_statements(
    db: Database,
    settings: Settings | None = None,
    *,
    context: ExchangeContext | None = None,
    batch_size: int = TDB_BATCH_MAX,
    max_batches: int = 100,
) -> TransparencyReport:
    """Submit the statements of the decided cases not submitted yet (see the module
    docstring); returns the counts. Raises :class:`UsageError` when ``tdb_url`` is not set,
    and the :class:`~shieldwall.errors.ExchangeError` of a request that failed (what was
    recorded before it stays)."""
    settings = settings or get_settings()
    if not settings.tdb_url:
        raise UsageError("SHIELDWALL_TDB_URL is not set: the Transparency Database is off")
    context = context or context_for(settings)
    url = settings.tdb_url.rstrip("/")
    report = TransparencyReport()
    for _ in range(max_batches):
        batch = _pending(db, settings, max(1, min(batch_size, TDB_BATCH_MAX)))
        if not batch:
            break
        answer = context.http(
            f"{url}/statements",
            method="POST",
            body=json.dumps({"statements": [i["statement"] for i in batch]}).encode(),
            headers=_headers(settings),
            what="Transparency Database statements",
            accept=(422,),
        )
        results: list[tuple[dict[str, Any], str, str | None, str | None]] = []
        if answer.status == 422:  # one of them refused: each alone says which
            for item in batch:
                results.append((item, *_one(context, settings, url, item)))
        else:
            uuids = _uuids(answer.body)
            results = [(i, "submitted", uuids.get(i["statement"]["puid"]), None) for i in batch]
        now = utcnow()
        with db.transaction() as session:
            for item, state, uuid, error in results:
                session.add(
                    TransparencySubmission(
                        case_id=item["case_id"],
                        puid=item["statement"]["puid"],
                        state=state,
                        uuid=uuid,
                        attempts=1,
                        last_error=error,
                        submitted_at=now,
                    )
                )
                setattr(report, state, getattr(report, state) + 1)
                if error:
                    report.errors.append(f"{item['statement']['puid']}: {error}")
    return report


@dataclass(frozen=True, slots=True)
class TransparencyState:
    """Where one case's statement stands in the Transparency Database."""

    puid: str
    state: str
    uuid: str | None
    last_error: str | None
    submitted_at: datetime


def transparency_state(db: Database, case_id: int) -> TransparencyState | None:
    """The case's submission, or ``None`` when it was not submitted (yet)."""
    with db.session() as session:
        row = session.scalar(
            select(TransparencySubmission).where(TransparencySubmission.case_id == case_id)
        )
        if row is None:
            return None
        return TransparencyState(row.puid, row.state, row.uuid, row.last_error, row.submitted_at)


def transparency_states(db: Database, case_ids: list[int]) -> dict[int, str]:
    """case id -> ``submitted`` | ``existing`` | ``failed`` for the cases submitted so far."""
    with db.session() as session:
        return dict(
            session.execute(
                select(TransparencySubmission.case_id, TransparencySubmission.state).where(
                    TransparencySubmission.case_id.in_(case_ids)
                )
            ).all()
        )


def queue_transparency(
    db: Database, settings: Settings | None = None, *, delay_seconds: float = 0.0
) -> int | None:
    """Queue a ``transparency.submit`` job (unless one is waiting already); returns its id."""
    settings = settings or get_settings()
    with db.transaction() as session:
        waiting = session.scalar(
            select(JobRecord.id).where(
                JobRecord.kind == TDB_JOB,
                JobRecord.state.in_((JobState.QUEUED.value, JobState.RETRY.value)),
            )
        )
        if waiting is not None:
            return None
        job = job_record(
            TDB_JOB,
            {},
            max_attempts=settings.job_max_attempts,
            run_after=utcnow() + timedelta(seconds=delay_seconds),
        )
        session.add(job)
        session.flush()
        return job.id


def transparency_schedules(settings: Settings) -> dict[str, Schedule]:
    """Kind -> schedule: while ``tdb_url`` is set, the worker starts the ``transparency.submit``
    chain by itself (:func:`queue_transparency`, which queues nothing while one waits)."""
    if not settings.tdb_url:
        return {}

    def start(db: Database) -> int | None:
        return queue_transparency(db, settings)

    return {TDB_JOB: start}


def transparency_handlers(settings: Settings) -> dict[str, Handler]:
    """Kind -> handler: ``transparency.submit`` submits what is pending, then queues the
    next run ``tdb_interval_seconds`` later (while ``tdb_url`` is set)."""

    def handle(db: Database, job: Job) -> None:
        del job
        if not settings.tdb_url:
            return
        submit_statements(db, settings)
        queue_transparency(db, settings, delay_seconds=settings.tdb_interval_seconds)

    return {TDB_JOB: handle}
