"""The built-in worker: the job queue (:mod:`shieldwall.jobs`) with the handlers of every
workflow's job kinds. ``shieldwall worker`` and the service's worker role run it.

    >>> default_worker(db).run(stop_event)                   # doctest: +SKIP

Each workflow declares its kinds and their handlers in a ``job_handlers(settings)`` function
(:func:`shieldwall.webhooks.job_handlers`, :func:`shieldwall.cases.job_handlers`,
:func:`shieldwall.exchange.job_handlers`); this module,
above the workflows, is the one place that collects them, so the queue imports no workflow.
"""

from __future__ import annotations

from shieldwall.cases import job_handlers as case_handlers
from shieldwall.config import Settings, get_settings
from shieldwall.errors import UsageError
from shieldwall.exchange import job_handlers as exchange_handlers
from shieldwall.exchange import job_schedules as exchange_schedules
from shieldwall.jobs import Handler, Schedule, Worker
from shieldwall.net.policy import Resolver
from shieldwall.store import Database
from shieldwall.webhooks import job_handlers as webhook_handlers

__all__ = ["builtin_handlers", "builtin_schedules", "default_worker"]


def builtin_handlers(
    settings: Settings | None = None, *, resolver: Resolver | None = None
) -> dict[str, Handler]:
    """Kind -> handler of every built-in kind (``resolver`` answers the webhook deliveries'
    DNS lookups, for tests)."""
    settings = settings or get_settings()
    handlers: dict[str, Handler] = {}
    for declared in (
        webhook_handlers(settings, resolver=resolver),
        case_handlers(settings),
        exchange_handlers(settings, resolver=resolver),
    ):
        clash = handlers.keys() & declared.keys()
        if clash:  # two workflows claiming one kind: a programming error, caught by the tests
            raise RuntimeError(f"job kind(s) declared twice: {', '.join(sorted(clash))}")
        handlers.update(declared)
    return handlers


def builtin_schedules(settings: Settings | None = None) -> dict[str, Schedule]:
    """Kind -> schedule of the periodic jobs the worker starts by itself (the Transparency
    Database's submissions while ``SHIELDWALL_TDB_URL`` is set)."""
    return dict(exchange_schedules(settings or get_settings()))


def default_worker(
    db: Database,
    *,
    settings: Settings | None = None,
    worker_id: str | None = None,
    kinds: list[str] | None = None,
) -> Worker:
    """A worker with the built-in handlers (only those of ``kinds``, if given; an unknown kind
    is a :class:`~shieldwall.errors.UsageError` naming the known ones) and the schedules of
    those kinds (:func:`builtin_schedules`)."""
    settings = settings or get_settings()
    handlers = builtin_handlers(settings)
    if kinds is not None:
        unknown = sorted(set(kinds) - set(handlers))
        if unknown:
            raise UsageError(
                f"unknown job kind(s) {', '.join(unknown)}; known: {', '.join(sorted(handlers))}"
            )
        handlers = {k: h for k, h in handlers.items() if k in kinds}
    return Worker(
        db,
        settings=settings,
        worker_id=worker_id,
        handlers=handlers,
        schedules=builtin_schedules(settings),
    )
