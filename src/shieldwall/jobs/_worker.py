"""The worker: claims jobs of the kinds it has handlers for and runs them, one at a time.

    >>> worker = Worker(db)                                   # doctest: +SKIP
    >>> worker.register("sweep", lambda db, job: ...)         # doctest: +SKIP
    >>> worker.run(stop_event)                                # doctest: +SKIP

``run`` returns once ``stop_event`` is set, after finishing the job in hand (graceful stop:
``shieldwall worker`` sets it on SIGTERM and SIGINT). While a job runs, a heartbeat renews its
lease every third of the lease, so long jobs are not taken over; a worker that dies stops
renewing and its job is reclaimed when the lease expires.

Schedules (``schedules``, by job kind) start the self-renewing chains of periodic jobs: each
is a function that queues its kind's job unless one waits already. :meth:`Worker.schedule`
runs those of the kinds the worker claims; ``run`` calls it when it starts and then every
:attr:`Worker.SCHEDULE_SECONDS` while idle, so a chain that ended (its job dead-lettered, or
never started) starts again by itself.
"""

from __future__ import annotations

import logging
import os
import socket
import threading
import time
import uuid
from collections.abc import Callable, Mapping

from shieldwall.config import Settings, get_settings
from shieldwall.errors import Conflict, ShieldwallError, UsageError
from shieldwall.jobs._queue import Job, JobState, claim, complete, extend_lease, fail
from shieldwall.store import Database

__all__ = ["Handler", "Schedule", "Worker"]

#: A job handler: does the work of one job, raising on failure (the job is then retried).
Handler = Callable[[Database, Job], None]
#: A schedule: queues its kind's periodic job unless one waits already (returns its id or
#: ``None``).
Schedule = Callable[[Database], int | None]

log = logging.getLogger("shieldwall.jobs")


class Worker:
    """Runs jobs from the queue of ``db`` with the handlers registered by kind."""

    #: How often an idle worker runs its schedules again.
    SCHEDULE_SECONDS = 300.0

    def __init__(
        self,
        db: Database,
        *,
        worker_id: str | None = None,
        settings: Settings | None = None,
        handlers: Mapping[str, Handler] | None = None,
        schedules: Mapping[str, Schedule] | None = None,
    ) -> None:
        self.db = db
        self.settings = settings or get_settings()
        self.worker_id = worker_id or f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"
        self._handlers: dict[str, Handler] = dict(handlers or {})
        self._schedules: dict[str, Schedule] = dict(schedules or {})

    def __repr__(self) -> str:
        return f"Worker({self.worker_id!r}, kinds={self.kinds})"

    def register(self, kind: str, handler: Handler) -> None:
        """Run jobs of ``kind`` with ``handler`` (replacing any earlier handler of the kind)."""
        if not kind:
            raise UsageError("a job kind must not be empty")
        self._handlers[kind] = handler

    @property
    def kinds(self) -> list[str]:
        """The kinds this worker claims."""
        return sorted(self._handlers)

    def run_once(self) -> Job | None:
        """Claim one job and run it to the end (done, retry or dead); ``None`` if there was
        nothing to do. A handler's exception fails the attempt (retried unless the exception
        has ``retryable = False``)."""
        job = claim(self.db, self.worker_id, self.kinds, settings=self.settings)
        if job is None:
            return None
        handler = self._handlers[job.kind]
        stop_heartbeat = threading.Event()
        heartbeat = threading.Thread(
            target=self._heartbeat, args=(job, stop_heartbeat), daemon=True
        )
        heartbeat.start()
        try:
            handler(self.db, job)
        except Exception as exc:
            stop_heartbeat.set()
            heartbeat.join()
            message = exc.message if isinstance(exc, ShieldwallError) else repr(exc)
            try:
                state = fail(
                    self.db,
                    job.id,
                    self.worker_id,
                    message,
                    retry=getattr(exc, "retryable", True),
                    settings=self.settings,
                )
            except Conflict as lost:
                log.warning("job %s failed after its lease was lost: %s", job.id, lost.message)
                return job
            log.log(
                logging.ERROR if state is JobState.DEAD else logging.WARNING,
                "job %s (%s) attempt %d/%d failed, now %s: %s",
                job.id,
                job.kind,
                job.attempts,
                job.max_attempts,
                state.value,
                message,
                exc_info=not isinstance(exc, ShieldwallError),
            )
            return job
        stop_heartbeat.set()
        heartbeat.join()
        try:
            complete(self.db, job.id, self.worker_id)
        except Conflict as lost:
            log.warning("job %s finished after its lease was lost: %s", job.id, lost.message)
        else:
            log.info("job %s (%s) done", job.id, job.kind)
        return job

    def schedule(self) -> dict[str, int]:
        """Run the schedules of the kinds this worker claims; returns kind -> the id of each
        job one queued (none for a kind whose job waits already). A schedule that fails (the
        database away) is logged and tried again at the next call."""
        queued: dict[str, int] = {}
        for kind, start in sorted(self._schedules.items()):
            if kind not in self._handlers:
                continue
            try:
                job_id = start(self.db)
            except ShieldwallError as exc:
                log.error("worker %s: schedule of %s: %s", self.worker_id, kind, exc.message)
                continue
            if job_id is not None:
                log.info("worker %s: scheduled %s job %s", self.worker_id, kind, job_id)
                queued[kind] = job_id
        return queued

    def _heartbeat(self, job: Job, stop: threading.Event) -> None:
        lease = self.settings.job_lease_seconds
        while not stop.wait(lease / 3):
            try:
                if not extend_lease(self.db, job.id, self.worker_id, lease_seconds=lease):
                    log.warning("job %s: lease lost while running", job.id)
                    return
            except ShieldwallError as exc:
                log.warning("job %s: cannot renew the lease: %s", job.id, exc.message)

    def run(self, stop_event: threading.Event, *, drain: bool = False) -> int:
        """Run the schedules, then jobs until ``stop_event`` is set (finishing the job in hand
        first; the schedules again every :attr:`SCHEDULE_SECONDS` while idle), sleeping
        ``worker_poll_seconds`` when the queue is empty; with ``drain``, return as soon as no
        job is runnable. Returns how many jobs were run."""
        ran = 0
        log.info("worker %s started, kinds %s", self.worker_id, ", ".join(self.kinds))
        self.schedule()
        scheduled = time.monotonic()
        while not stop_event.is_set():
            try:
                job = self.run_once()
            except ShieldwallError as exc:  # the database is away: wait and try again
                log.error("worker %s: %s", self.worker_id, exc.message)
                job = None
            if job is not None:
                ran += 1
                continue
            if drain:
                break
            if time.monotonic() - scheduled >= self.SCHEDULE_SECONDS:
                self.schedule()
                scheduled = time.monotonic()
            stop_event.wait(self.settings.worker_poll_seconds)
        log.info("worker %s stopped after %d jobs", self.worker_id, ran)
        return ran
