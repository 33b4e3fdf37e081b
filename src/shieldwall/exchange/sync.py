"""Syncing an exchange into its bank: page by page, each page and its checkpoint in one
transaction, so that a crash or a ``kill -9`` at any point loses nothing and duplicates nothing
(the next sync starts from the last committed checkpoint, and applying a page again changes
nothing).

A request that fails (401/403, 429, 5xx, a timeout, an answer that cannot be read) stops the
sync with a clear error recorded on the exchange and a backoff before the next one (what the
exchange asked for in ``Retry-After``, else doubling from ``exchange_backoff_seconds``); the
pages before it stay applied. A malformed record is counted as failed and the rest of its page
is applied.
"""

from __future__ import annotations

import logging
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from shieldwall.config import Settings, get_settings
from shieldwall.errors import Conflict, ExchangeError, ExchangeUnavailable
from shieldwall.exchange.apply import apply_records
from shieldwall.exchange.base import ExchangeContext, FetchPage, SignalExchange
from shieldwall.exchange.exchanges import context_for, exchange_row, plugin_for
from shieldwall.exchange.feedback import collect_feedback, send_feedback
from shieldwall.exchange.match_cases import open_match_cases
from shieldwall.jobs import backoff_delay
from shieldwall.store import Database
from shieldwall.store.models import utcnow

__all__ = ["SyncReport", "sync_exchange"]

log = logging.getLogger("shieldwall.exchange")


@dataclass
class SyncReport:
    """What one sync did."""

    exchange: str
    pages: int = 0
    added: int = 0
    withdrawn: int = 0
    skipped: int = 0
    failed: int = 0
    skipped_types: dict[str, int] = field(default_factory=dict)
    #: Record-level problems (the first few of each page).
    record_errors: list[str] = field(default_factory=list)
    #: The request error that stopped the sync, if one did.
    error: str | None = None
    #: No sync before this time (after an error).
    backoff_until: datetime | None = None
    #: Whether the exchange had nothing more when the sync ended.
    caught_up: bool = False
    feedback_queued: int = 0
    feedback_sent: int = 0
    feedback_error: str | None = None
    #: Cases opened for matches on its bank (:mod:`shieldwall.exchange.match_cases`).
    cases_opened: int = 0

    @property
    def ok(self) -> bool:
        """Whether the sync ran to its end without a request error."""
        return self.error is None


def _apply_page(
    db: Database,
    plugin: SignalExchange,
    page: FetchPage,
    seen: object,
    report: SyncReport,
) -> object:
    """Apply one page and advance the checkpoint in one transaction; returns the checkpoint
    now stored. Refuses (``Conflict``) when another sync moved the checkpoint meanwhile."""
    name = plugin.name
    with db.transaction() as session:
        row = exchange_row(session, name, lock=True)  # the checkpoint's compare-and-set
        if row.checkpoint != seen:
            raise Conflict(f"exchange {name!r}: another sync advanced its checkpoint meanwhile")
        counts = apply_records(session, plugin, row.bank_name, page.records)
        row.checkpoint = dict(page.checkpoint)
        row.added += counts.added
        row.withdrawn += counts.withdrawn
        row.skipped += counts.skipped
        row.failed += counts.failed
        if counts.skipped_types:
            merged = Counter(row.skipped_types)
            merged.update(counts.skipped_types)
            row.skipped_types = dict(merged)
        row.last_sync_at = utcnow()
    report.pages += 1
    report.added += counts.added
    report.withdrawn += counts.withdrawn
    report.skipped += counts.skipped
    report.failed += counts.failed
    for kind, n in counts.skipped_types.items():
        report.skipped_types[kind] = report.skipped_types.get(kind, 0) + n
    report.record_errors.extend(counts.errors)
    return row.checkpoint


def _record_failure(
    db: Database, name: str, exc: ExchangeError, settings: Settings, report: SyncReport
) -> None:
    now = utcnow()
    with db.transaction() as session:
        row = exchange_row(session, name)
        row.failures += 1
        if isinstance(exc, ExchangeUnavailable) and exc.retry_after is not None:
            wait = min(exc.retry_after, settings.exchange_backoff_max_seconds)
        else:
            wait = backoff_delay(
                row.failures,
                base=settings.exchange_backoff_seconds,
                cap=settings.exchange_backoff_max_seconds,
            )
        row.backoff_until = now + timedelta(seconds=wait)
        row.last_error = exc.message
        row.last_sync_at = now
        report.backoff_until = row.backoff_until
    report.error = exc.message
    log.warning("exchange %s: sync failed, next try after %.0f s: %s", name, wait, exc.message)


def sync_exchange(
    db: Database,
    name: str,
    *,
    settings: Settings | None = None,
    context: ExchangeContext | None = None,
    max_pages: int | None = None,
    force: bool = False,
    feedback: bool = True,
) -> SyncReport:
    """Open the cases owed for matches on exchange ``name``'s bank
    (:func:`~shieldwall.exchange.match_cases.open_match_cases`), fetch its changes since its
    checkpoint into its bank, then (when the
    plug-in takes feedback and ``feedback``) queue and send the feedback owed on its hashes.

    Stops after ``max_pages`` pages if given. During a backoff it does nothing unless
    ``force``. A request error ends the sync with :attr:`SyncReport.error` set (and recorded
    on the exchange); it is not raised."""
    settings = settings or get_settings()
    context = context or context_for(settings)
    report = SyncReport(name)
    now = utcnow()
    with db.session() as session:
        row = exchange_row(session, name)
        plugin = plugin_for(row, context)
        backoff = row.backoff_until
        seen: object = row.checkpoint
    # the cases owed for matches on its bank: local work, done even while the exchange is away
    report.cases_opened = len(open_match_cases(db, name, plugin, settings=settings))
    if not force and backoff is not None and backoff > now:
        report.error = f"backing off after an error until {backoff.isoformat()}"
        report.backoff_until = backoff
        return report
    try:
        for page in plugin.fetch(dict(seen) if isinstance(seen, dict) else None):
            seen = _apply_page(db, plugin, page, seen, report)
            report.caught_up = not page.more
            if max_pages is not None and report.pages >= max_pages:
                break
    except ExchangeError as exc:
        _record_failure(db, name, exc, settings, report)
        return report
    with db.transaction() as session:
        row = exchange_row(session, name)
        row.last_sync_at = row.last_success_at = utcnow()
        row.last_error = None
        row.backoff_until = None
        row.failures = 0
    if feedback and plugin.can_feedback:
        report.feedback_queued = collect_feedback(db, name, plugin.feedback_kinds)
        try:
            report.feedback_sent = send_feedback(db, name, plugin)
        except ExchangeError as exc:
            report.feedback_error = exc.message
            with db.transaction() as session:
                exchange_row(session, name).last_error = f"feedback: {exc.message}"
    return report
