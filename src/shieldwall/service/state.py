"""What one service process holds: its role, the database, the matcher that follows the
signal log, keys, rate limits, the request audit and metrics."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from enum import StrEnum

from shieldwall.audit.requests import RequestAuditWriter
from shieldwall.cases.notices import PinGuard
from shieldwall.config import Settings
from shieldwall.errors import NotServed
from shieldwall.jobs import queue_depth
from shieldwall.matching import BankMatch, Matcher, log_head
from shieldwall.people.keys import KeyCache
from shieldwall.service.metrics import ServiceMetrics
from shieldwall.service.ratelimit import RateLimiter
from shieldwall.store import Database
from shieldwall.webhooks import notify_matches
from shieldwall.worker import default_worker

__all__ = ["KEYED_PREFIXES", "Role", "ServiceState"]

#: The paths that need an API key (and answer errors in the JSON shape): our API, and the
#: HMA-compatible endpoints (``/h`` hashing, ``/m`` matching, ``/c`` curation).
KEYED_PREFIXES: tuple[str, ...] = ("/v1/", "/h/", "/m/", "/c/")

log = logging.getLogger("shieldwall.service")


class Role(StrEnum):
    """What a process serves. ``all`` is everything in one process (the default, on SQLite);
    behind a load balancer on PostgreSQL the roles run as separate processes."""

    ALL = "all"
    #: Curation, hashing, matches, keys, webhooks: everything but lookups.
    API = "api"
    #: Lookups and hashing, from an in-memory index that follows the signal log.
    MATCHER = "matcher"
    #: The job queue (sweeps, webhook deliveries); serves only health and metrics.
    WORKER = "worker"

    @property
    def matches(self) -> bool:
        """Whether this role answers lookups (and so keeps an index)."""
        return self in (Role.ALL, Role.MATCHER)

    @property
    def curates(self) -> bool:
        """Whether this role serves curation routes."""
        return self in (Role.ALL, Role.API)

    @property
    def works(self) -> bool:
        """Whether this role runs the job queue."""
        return self in (Role.ALL, Role.WORKER)


@dataclass
class _Sync:
    last_ok: float = 0.0
    log_seq: int = 0
    error: str | None = None


@dataclass
class ServiceState:
    """Everything a request handler needs, built by :func:`shieldwall.service.app.create_app`."""

    settings: Settings
    db: Database
    role: Role
    keys: KeyCache
    limiter: RateLimiter = field(default_factory=RateLimiter)
    #: Per client address, on the public notice routes.
    public_limiter: RateLimiter = field(default_factory=RateLimiter)
    pin_guard: PinGuard | None = None
    metrics: ServiceMetrics = field(default_factory=ServiceMetrics)
    audit: RequestAuditWriter | None = None
    matcher: Matcher | None = None
    sync: _Sync = field(default_factory=_Sync)
    #: Called with (content id, matches) after matches were stored (webhooks subscribe here).
    match_listeners: list[Callable[[str, Sequence[BankMatch]], None]] = field(default_factory=list)
    #: Send stored matches to the webhooks (as ``webhook.deliver`` jobs).
    notify_webhooks: bool = True
    #: Objects routes build once per process (the code scanner).
    extras: dict[str, object] = field(default_factory=dict)
    _refresh_lock: threading.Lock = field(default_factory=threading.Lock)
    _stop: threading.Event = field(default_factory=threading.Event)
    _threads: list[threading.Thread] = field(default_factory=list)

    # -- the index ---------------------------------------------------------------------------

    def start(self) -> None:
        """Load the index (matcher roles), start following the log, the job worker (worker
        roles), the audit writer, and send match events to the webhooks."""
        if self.audit is not None:
            self.audit.start()
        if self.keys.revocations.shared:
            follower = threading.Thread(
                target=self.keys.follow_revocations,
                args=(self._stop,),
                name="key-revocations",
                daemon=True,
            )
            follower.start()
            self._threads.append(follower)
        self._remove_stale_uploads()
        if self.notify_webhooks:
            self.match_listeners.append(self._notify_webhooks)
        if self.role.works:
            worker = default_worker(self.db, settings=self.settings)
            thread = threading.Thread(
                target=worker.run, args=(self._stop,), name="job-worker", daemon=True
            )
            thread.start()
            self._threads.append(thread)
        if self.role.matches and self.matcher is None:
            self.matcher = Matcher.open(
                self.db, settings=self.settings, refresh_interval=float("inf")
            )
            self.refresh()
            follower = threading.Thread(target=self._follow, name="log-follower", daemon=True)
            follower.start()
            self._threads.append(follower)

    def _remove_stale_uploads(self, older_than: float = 3600.0) -> None:
        """Temporary upload files left by a process that was killed (a clean exit removes its
        own): removed when older than an hour, so that a running peer's files are left alone."""
        folder = self.settings.data_dir / "uploads"
        if not folder.is_dir():
            return
        cutoff = time.time() - older_than
        for path in folder.glob("*-*"):
            try:
                if path.name.startswith(("upload-", "fetch-")) and path.stat().st_mtime < cutoff:
                    path.unlink()
            except OSError:
                pass

    def require_matcher(self) -> Matcher:
        """The matcher, or :class:`NotServed` in a role without one."""
        if self.matcher is None:
            raise NotServed(
                f"this process runs the {self.role.value!r} role, which does not answer "
                "lookups: send them to a matcher"
            )
        return self.matcher

    def require_curation(self) -> None:
        """:class:`NotServed` in a role that does not curate."""
        if not self.role.curates:
            raise NotServed(
                f"this process runs the {self.role.value!r} role, which does not serve "
                "this route: send it to an api process"
            )

    def refresh(self) -> int:
        """Apply the signal log's new entries to the index now (after a change made by this
        process, so that the very next lookup sees it); returns how many were applied."""
        if self.matcher is None:
            return 0
        with self._refresh_lock:
            try:
                applied = self.matcher.refresh()
                self.sync.log_seq = log_head(self.db)
            except Exception as exc:
                self.sync.error = f"{type(exc).__name__}: {exc}"
                raise
            self.sync.last_ok = time.monotonic()
            self.sync.error = None
            return applied

    def _follow(self) -> None:
        interval = self.settings.follow_interval_seconds
        saved_at = time.monotonic()
        while not self._stop.wait(interval):
            try:
                self.refresh()
            except Exception:
                log.exception("following the signal log failed; retrying")
                continue
            if time.monotonic() - saved_at > 60 and self.matcher is not None:
                saved_at = time.monotonic()
                try:
                    self.matcher.checkpoint()
                except Exception:
                    log.exception("saving the index snapshot failed")

    def _notify_webhooks(self, content_id: str, matches: Sequence[BankMatch]) -> None:
        notify_matches(self.db, content_id, matches, settings=self.settings)

    def on_matches(self, content_id: str, matches: Sequence[BankMatch]) -> None:
        """Tell the listeners about stored matches; a failing listener is logged, never the
        caller's problem (the matches are stored already)."""
        for listener in self.match_listeners:
            try:
                listener(content_id, matches)
            except Exception:
                log.exception("a match listener failed")

    def lag_seconds(self) -> float | None:
        """Seconds since the index last caught up with the log (``None`` without an index)."""
        if self.matcher is None:
            return None
        return time.monotonic() - self.sync.last_ok

    def state_gauges(self) -> dict[str, tuple[str, dict[str, float]]]:
        """Gauges for /metrics."""
        gauges: dict[str, tuple[str, dict[str, float]]] = {}
        if self.matcher is not None:
            index = self.matcher.index
            size = float(len(index)) if hasattr(index, "__len__") else float("nan")
            gauges["shieldwall_index_signals"] = ("Signals in this process's index.", {"": size})
            gauges["shieldwall_index_seq"] = (
                "Last signal log entry applied to the index.",
                {"": float(index.seq)},
            )
            gauges["shieldwall_sync_lag_entries"] = (
                "Signal log entries not yet applied to the index (at the last read).",
                {"": float(max(0, self.sync.log_seq - index.seq))},
            )
            lag = self.lag_seconds()
            gauges["shieldwall_sync_lag_seconds"] = (
                "Seconds since the index last caught up with the signal log.",
                {"": float(lag if lag is not None else 0.0)},
            )
        store = self.limiter.store
        if store.shared:
            gauges["shieldwall_redis_fallbacks"] = (
                "Limit and throttle checks that Redis failed and this process answered alone.",
                {"": float(store.fallbacks)},
            )
        try:
            depth = queue_depth(self.db)
        except Exception:  # the database is away: /metrics still answers
            depth = {}
        gauges["shieldwall_jobs"] = (
            "Jobs in the queue by state.",
            {k: float(v) for k, v in depth.items()},
        )
        if self.audit is not None:
            gauges["shieldwall_audit_dropped"] = (
                "Audit rows dropped because the queue was full.",
                {"": float(self.audit.dropped)},
            )
        return gauges

    def close(self) -> None:
        """Stop following and working (the job in hand is finished first), save the snapshot,
        write the audit rows left."""
        self._stop.set()
        for thread in self._threads:
            thread.join(timeout=self.settings.job_lease_seconds)
        if self.matcher is not None:
            try:
                self.matcher.checkpoint()
            except Exception:
                log.exception("saving the index snapshot failed")
        if self.audit is not None:
            self.audit.close()
        self.keys.revocations.close()
