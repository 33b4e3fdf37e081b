"""Background jobs in the database: a queue with leases, retries with backoff and a dead-letter
state, and the worker that runs them (``shieldwall worker``). See docs/jobs.md.

>>> job_id = enqueue(db, "sweep", {})                      # doctest: +SKIP
>>> default_worker(db).run(stop_event)                     # doctest: +SKIP
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
    list_jobs,
    queue_depth,
    reclaim_expired,
    requeue,
)
from shieldwall.jobs._worker import Handler, Worker
from shieldwall.jobs.handlers import SWEEP, WEBHOOK_DELIVER, builtin_handlers, default_worker

__all__ = [
    "SWEEP",
    "WEBHOOK_DELIVER",
    "Handler",
    "Job",
    "JobState",
    "Worker",
    "backoff_delay",
    "builtin_handlers",
    "claim",
    "complete",
    "default_worker",
    "enqueue",
    "extend_lease",
    "fail",
    "get_job",
    "list_jobs",
    "queue_depth",
    "reclaim_expired",
    "requeue",
]
