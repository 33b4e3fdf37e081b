"""The job kinds of webhooks, and their handlers: ``webhook.deliver`` (one signed POST) and
``sweep`` (the retroactive ledger sweep, whose matches become ``match.created`` events)."""

from __future__ import annotations

from shieldwall.config import Settings
from shieldwall.jobs import Handler, Job
from shieldwall.net.policy import Resolver
from shieldwall.store import Database
from shieldwall.webhooks._hooks import DELIVER_KIND, deliver, notify_matches

__all__ = ["SWEEP_KIND", "job_handlers"]

#: The retroactive ledger sweep (:func:`shieldwall.matching.sweep`); payload ``{"full": bool}``
#: (optional). Queued by ``shieldwall jobs enqueue sweep``, the API and removal decisions.
SWEEP_KIND = "sweep"


def _sweep_handler(settings: Settings) -> Handler:
    def handle(db: Database, job: Job) -> None:
        from shieldwall.matching import sweep  # noqa: PLC0415 (heavy; loaded when used)

        outcome = sweep(db, settings=settings, full=bool(job.payload.get("full", False)))
        for content_id, matches in outcome.matches.items():
            notify_matches(db, content_id, matches, settings=settings)

    return handle


def _delivery_handler(settings: Settings, resolver: Resolver | None) -> Handler:
    def handle(db: Database, job: Job) -> None:
        deliver(db, job.payload, settings=settings, resolver=resolver)

    return handle


def job_handlers(settings: Settings, *, resolver: Resolver | None = None) -> dict[str, Handler]:
    """Kind -> handler of the webhook kinds: ``sweep`` runs :func:`shieldwall.matching.sweep`
    and queues a ``match.created`` event for each hosted content it matched;
    ``webhook.deliver`` is :func:`deliver` (``resolver`` answers its DNS lookups, for tests)."""
    return {
        SWEEP_KIND: _sweep_handler(settings),
        DELIVER_KIND: _delivery_handler(settings, resolver),
    }
