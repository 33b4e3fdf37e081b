"""The built-in job kinds: ``sweep`` (the retroactive ledger sweep, with match events) and
``webhook.deliver`` (one signed POST to one webhook)."""

from __future__ import annotations

from shieldwall.config import Settings, get_settings
from shieldwall.jobs._queue import Job
from shieldwall.jobs._worker import Handler, Worker
from shieldwall.net.policy import Resolver
from shieldwall.store import Database

__all__ = [
    "CASE_COPIES",
    "CASE_EMAIL",
    "SWEEP",
    "WEBHOOK_DELIVER",
    "builtin_handlers",
    "default_worker",
]

SWEEP = "sweep"
WEBHOOK_DELIVER = "webhook.deliver"
#: Opens a copy task for each hosted copy a removal's sweep found (``shieldwall.cases``).
CASE_COPIES = "cases.copies"
#: Emails a notice's reporter about it (``shieldwall.cases.mail``).
CASE_EMAIL = "cases.email"


def email_handler(settings: Settings) -> Handler:
    """``cases.email``: payload ``{"notice_id", "event", "note"}``; one email to the reporter."""

    def handle(db: Database, job: Job) -> None:
        from shieldwall.cases.mail import send_reporter_email  # noqa: PLC0415 (imports jobs)

        send_reporter_email(
            db,
            settings,
            int(job.payload["notice_id"]),
            str(job.payload.get("event", "")),
            str(job.payload.get("note", "")),
        )

    return handle


def copies_handler(settings: Settings) -> Handler:
    """``cases.copies``: payload ``{"case_id", "sweep_job_id"}``; fails (and is retried with
    backoff) until the sweep job is done, then opens the copy tasks (and removes exact copies
    when ``cases_auto_remove_exact_copies`` is on)."""

    def handle(db: Database, job: Job) -> None:
        from shieldwall.cases.decisions import copies_job  # noqa: PLC0415 (imports jobs)

        sweep_job = job.payload.get("sweep_job_id")
        copies_job(
            db,
            int(job.payload["case_id"]),
            int(sweep_job) if sweep_job else None,
            settings=settings,
        )

    return handle


def sweep_handler(settings: Settings) -> Handler:
    """``sweep``: run :func:`shieldwall.matching.sweep` (payload ``{"full": bool}``, optional)
    and emit a ``match.created`` event for each content it matched."""

    def handle(db: Database, job: Job) -> None:
        from shieldwall.matching import sweep  # noqa: PLC0415 (heavy; loaded when used)
        from shieldwall.webhooks import notify_matches  # noqa: PLC0415 (imports this package)

        outcome = sweep(db, settings=settings, full=bool(job.payload.get("full", False)))
        for content_id, matches in outcome.matches.items():
            notify_matches(db, content_id, matches, settings=settings)

    return handle


def delivery_handler(settings: Settings, resolver: Resolver | None = None) -> Handler:
    """``webhook.deliver``: :func:`shieldwall.webhooks.deliver`."""

    def handle(db: Database, job: Job) -> None:
        from shieldwall.webhooks import deliver  # noqa: PLC0415 (imports this package)

        deliver(db, job.payload, settings=settings, resolver=resolver)

    return handle


def builtin_handlers(
    settings: Settings | None = None, *, resolver: Resolver | None = None
) -> dict[str, Handler]:
    """Kind -> handler of every built-in kind."""
    settings = settings or get_settings()
    return {
        SWEEP: sweep_handler(settings),
        WEBHOOK_DELIVER: delivery_handler(settings, resolver),
        CASE_COPIES: copies_handler(settings),
        CASE_EMAIL: email_handler(settings),
    }


def default_worker(
    db: Database,
    *,
    settings: Settings | None = None,
    worker_id: str | None = None,
    kinds: list[str] | None = None,
) -> Worker:
    """A worker with the built-in handlers (only those of ``kinds``, if given)."""
    settings = settings or get_settings()
    handlers = builtin_handlers(settings)
    if kinds is not None:
        unknown = sorted(set(kinds) - set(handlers))
        if unknown:
            from shieldwall.errors import UsageError  # noqa: PLC0415

            raise UsageError(
                f"unknown job kind(s) {', '.join(unknown)}; known: {', '.join(sorted(handlers))}"
            )
        handlers = {k: h for k, h in handlers.items() if k in kinds}
    return Worker(db, settings=settings, worker_id=worker_id, handlers=handlers)
