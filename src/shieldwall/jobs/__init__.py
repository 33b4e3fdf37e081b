"""Background jobs in the database: a queue with leases, retries with backoff and a dead-letter
state, and the worker that runs them. See docs/jobs.md.

This package knows no job kind: each workflow declares its kinds and their handlers
(``shieldwall.webhooks.job_handlers``, ``shieldwall.cases.job_handlers``) and
:mod:`shieldwall.worker` composes the built-in worker (``shieldwall worker``) from them.

>>> job_id = enqueue(db, "sweep", {})                      # doctest: +SKIP
>>> Worker(db, handlers={"sweep": handle_sweep}).run(stop_event)   # doctest: +SKIP
"""

from shieldwall.jobs._queue import (
    Job,
    JobState,
    backoff_delay,
    claim,
    complete,
    enqueue,
    extend_lease,
    fail,
    get_job,
    job_record,
    list_jobs,
    queue_depth,
    queue_lag,
    reclaim_expired,
    requeue,
)
from shieldwall.jobs._worker import Handler, Schedule, Worker

__all__ = [
    "Handler",
    "Job",
    "JobState",
    "Schedule",
    "Worker",
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
