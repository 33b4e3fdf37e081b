"""The job kinds of case handling, and their handlers: ``cases.copies`` (copy tasks once a
removal's sweep is done) and ``cases.email`` (one email to a notice's reporter)."""

from __future__ import annotations

from shieldwall.cases.decisions import COPIES_JOB, copies_job
from shieldwall.cases.mail import EMAIL_JOB, send_reporter_email
from shieldwall.config import Settings
from shieldwall.jobs import Handler, Job
from shieldwall.store import Database

__all__ = ["job_handlers"]


def _copies_handler(settings: Settings) -> Handler:
    def handle(db: Database, job: Job) -> None:
        sweep_job = job.payload.get("sweep_job_id")
        copies_job(
            db,
            int(job.payload["case_id"]),
            int(sweep_job) if sweep_job else None,
            settings=settings,
        )

    return handle


def _email_handler(settings: Settings) -> Handler:
    def handle(db: Database, job: Job) -> None:
        send_reporter_email(
            db,
            settings,
            int(job.payload["notice_id"]),
            str(job.payload.get("event", "")),
            str(job.payload.get("note", "")),
        )

    return handle


def job_handlers(settings: Settings) -> dict[str, Handler]:
    """Kind -> handler of the case kinds: ``cases.copies`` fails (and is retried with backoff)
    until its sweep job is done, then opens the copy tasks (and removes exact copies when
    ``cases_auto_remove_exact_copies`` is on); ``cases.email`` sends one email to the
    reporter (:func:`~shieldwall.cases.mail.send_reporter_email`)."""
    return {COPIES_JOB: _copies_handler(settings), EMAIL_JOB: _email_handler(settings)}
