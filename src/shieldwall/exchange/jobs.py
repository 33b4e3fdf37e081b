"""The job kinds of exchanges: ``exchange.sync``, a scheduled sync that queues the next one,
and ``exchange.cases``, the cases owed for new matches on the exchanges' banks, every
``exchange_cases_interval_seconds`` (one chain for all exchanges, started by the worker).

Each configured exchange has one chain of sync jobs (``exchange.sync_job_id`` names the one
due): a sync job syncs, then queues its successor ``interval_seconds`` later (or at the end of
the backoff after an error) in one transaction. A request error is recorded on the exchange,
not raised, so the job is done and the schedule carries the backoff; any other failure (the
database away) fails the job, which the queue retries as usual. A job whose exchange is gone,
or that is no longer the one due (a manual sync queued another), ends quietly.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Final

from sqlalchemy import select

from shieldwall.config import Settings
from shieldwall.errors import NotFound
from shieldwall.exchange.exchanges import SYNC_JOB, context_for, exchange_row, plugin_for
from shieldwall.exchange.match_cases import open_match_cases
from shieldwall.exchange.sync import sync_exchange
from shieldwall.exchange.transparency import transparency_handlers, transparency_schedules
from shieldwall.exchange.victim_share import victim_share_handlers
from shieldwall.jobs import Handler, Job, JobState, Schedule, job_record
from shieldwall.net import Resolver
from shieldwall.net.policy import AddressPolicy
from shieldwall.store import Database
from shieldwall.store.models import ExchangeRecord, JobRecord, utcnow

__all__ = [
    "CASES_JOB",
    "job_handlers",
    "job_schedules",
    "open_all_match_cases",
    "queue_cases",
    "queue_sync",
    "schedule_next",
]

#: Opens the cases owed for new matches on every exchange's bank, then queues its successor.
CASES_JOB: Final = "exchange.cases"


def schedule_next(db: Database, name: str, after_job: int | None, settings: Settings) -> int | None:
    """Queue exchange ``name``'s next sync (at the end of its interval, or of its backoff if
    later) if ``after_job`` is still the one due; returns the new job's id."""
    with db.transaction() as session:
        try:
            row = exchange_row(session, name)
        except NotFound:
            return None
        if after_job is not None and row.sync_job_id not in (None, after_job):
            return None
        due = utcnow() + timedelta(seconds=row.interval_seconds)
        if row.backoff_until is not None and row.backoff_until > due:
            due = row.backoff_until
        job = job_record(
            SYNC_JOB, {"exchange": name}, max_attempts=settings.job_max_attempts, run_after=due
        )
        session.add(job)
        session.flush()
        row.sync_job_id = job.id
        return job.id


def queue_sync(db: Database, name: str, settings: Settings) -> int:
    """Queue a sync of exchange ``name`` to run now, as the one due (the schedule carries on
    from it; the job due before ends quietly). Returns the job's id; :class:`NotFound` when
    there is no such exchange."""
    with db.transaction() as session:
        row = exchange_row(session, name)
        job = job_record(SYNC_JOB, {"exchange": name}, max_attempts=settings.job_max_attempts)
        session.add(job)
        session.flush()
        row.sync_job_id = job.id
        return job.id


def _sync_handler(settings: Settings, resolver: Resolver | None) -> Handler:
    def handle(db: Database, job: Job) -> None:
        name = str(job.payload.get("exchange", ""))
        with db.session() as session:
            try:
                row = exchange_row(session, name)
            except NotFound:
                return  # removed since: the chain ends here
            due = row.sync_job_id in (None, job.id)
            enabled = row.enabled
        if not due:
            return
        if enabled:
            policy = AddressPolicy.from_networks(settings.outbound_allowed_networks, resolver)
            sync_exchange(db, name, settings=settings, context=context_for(settings, policy))
        schedule_next(db, name, job.id, settings)

    return handle


def open_all_match_cases(db: Database, settings: Settings) -> dict[str, list[int]]:
    """Open the cases owed for the matches stored on each exchange's bank since its cursor
    (:func:`~shieldwall.exchange.match_cases.open_match_cases`: an upload's, a sweep's or a
    backfill's, whether or not the exchange is reachable or enabled: the bank still blocks and
    a person must decide); exchange name -> the new case ids, for those that opened any."""
    with db.session() as session:
        rows = session.scalars(
            select(ExchangeRecord).where(ExchangeRecord.bank_id.is_not(None))
        ).all()
        context = context_for(settings)
        plugins = {row.name: plugin_for(row, context) for row in rows}
    opened: dict[str, list[int]] = {}
    for name, plugin in plugins.items():
        try:
            ids = open_match_cases(db, name, plugin, settings=settings)
        except NotFound:
            continue  # removed in the meantime
        if ids:
            opened[name] = ids
    return opened


def queue_cases(db: Database, settings: Settings, *, delay_seconds: float = 0.0) -> int | None:
    """Queue an ``exchange.cases`` job (unless one is waiting already, or no exchange feeds a
    bank: the chain ends with the last exchange, and the worker's schedule starts it again
    after one is added); returns its id."""
    with db.transaction() as session:
        fed = session.scalar(
            select(ExchangeRecord.id).where(ExchangeRecord.bank_id.is_not(None)).limit(1)
        )
        if fed is None:
            return None
        waiting = session.scalar(
            select(JobRecord.id).where(
                JobRecord.kind == CASES_JOB,
                JobRecord.state.in_((JobState.QUEUED.value, JobState.RETRY.value)),
            )
        )
        if waiting is not None:
            return None
        job = job_record(
            CASES_JOB,
            {},
            max_attempts=settings.job_max_attempts,
            run_after=utcnow() + timedelta(seconds=delay_seconds),
        )
        session.add(job)
        session.flush()
        return job.id


def _cases_handler(settings: Settings) -> Handler:
    def handle(db: Database, job: Job) -> None:
        del job
        try:
            open_all_match_cases(db, settings)
        finally:  # the chain goes on after a failure too (the queue retries this one)
            queue_cases(db, settings, delay_seconds=settings.exchange_cases_interval_seconds)

    return handle


def job_handlers(settings: Settings, *, resolver: Resolver | None = None) -> dict[str, Handler]:
    """Kind -> handler of the exchange kinds: ``exchange.sync``, ``transparency.submit``
    (:mod:`shieldwall.exchange.transparency`), ``victim.stopncii_share`` and
    ``victim.stopncii_withdraw`` (:mod:`shieldwall.exchange.victim_share`)."""
    return {
        SYNC_JOB: _sync_handler(settings, resolver),
        CASES_JOB: _cases_handler(settings),
        **transparency_handlers(settings),
        **victim_share_handlers(settings, resolver=resolver),
    }


def job_schedules(settings: Settings) -> dict[str, Schedule]:
    """Kind -> the schedule the worker runs by itself: ``exchange.cases`` (always: it costs a
    query per exchange and interval), ``transparency.submit`` while the Transparency Database
    is configured (each exchange's sync chain starts when it is added)."""

    def start_cases(db: Database) -> int | None:
        return queue_cases(db, settings)

    return {CASES_JOB: start_cases, **transparency_schedules(settings)}
