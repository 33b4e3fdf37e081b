"""The request audit: one row per API request (key, method, route template, status, time).

Never a body, a query value or a hash. Rows are queued in memory and written in batches by a
background thread (every ``interval`` seconds or ``batch`` rows), so that auditing costs a
request microseconds; :meth:`RequestAuditWriter.close` writes what is left, and graceful
shutdown calls it. A crash loses at most the last ``interval`` of rows.
"""

from __future__ import annotations

import logging
import threading
from collections import deque
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import insert, select

from shieldwall.store import Database
from shieldwall.store.models import RequestAudit

__all__ = ["AuditRow", "RequestAuditWriter", "read_audit"]

log = logging.getLogger("shieldwall.audit")


@dataclass(frozen=True, slots=True)
class AuditRow:
    """One audited request."""

    at: datetime
    key_id: int | None
    method: str
    route: str
    status: int
    duration_ms: float
    request_id: str


class RequestAuditWriter:
    """Batches audit rows into the database from a background thread."""

    def __init__(
        self, db: Database, *, interval: float = 0.5, batch: int = 1000, max_queued: int = 100_000
    ) -> None:
        self.db = db
        self.interval = interval
        self.batch = batch
        self._queue: deque[AuditRow] = deque(maxlen=max_queued)
        self._stop = threading.Event()
        self._wake = threading.Event()
        self._thread: threading.Thread | None = None
        self.dropped = 0

    def start(self) -> None:
        """Start the writer thread."""
        if self._thread is None:
            self._thread = threading.Thread(target=self._run, name="audit-writer", daemon=True)
            self._thread.start()

    def record(self, row: AuditRow) -> None:
        """Queue one row (never blocks)."""
        if len(self._queue) == self._queue.maxlen:
            self.dropped += 1
        self._queue.append(row)
        if len(self._queue) >= self.batch:
            self._wake.set()

    def flush(self) -> int:
        """Write every queued row now; returns how many."""
        written = 0
        while self._queue:
            rows: list[AuditRow] = []
            while self._queue and len(rows) < self.batch:
                rows.append(self._queue.popleft())
            try:
                with self.db.transaction() as session:
                    session.execute(
                        insert(RequestAudit),
                        [
                            {
                                "at": r.at,
                                "key_id": r.key_id,
                                "method": r.method,
                                "route": r.route,
                                "status": r.status,
                                "duration_ms": r.duration_ms,
                                "request_id": r.request_id,
                            }
                            for r in rows
                        ],
                    )
            except Exception:  # the database is away: keep the rows and try again later
                log.exception("could not write %d audit rows; retrying", len(rows))
                self._queue.extendleft(reversed(rows))
                return written
            written += len(rows)
        return written

    def _run(self) -> None:
        while not self._stop.is_set():
            self._wake.wait(self.interval)
            self._wake.clear()
            self.flush()

    def close(self) -> None:
        """Stop the thread and write what is left."""
        self._stop.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join(timeout=10)
            self._thread = None
        self.flush()


def read_audit(db: Database, *, after_id: int = 0, limit: int = 100) -> list[AuditRow]:
    """Audit rows in id order after ``after_id``."""
    with db.session() as session:
        rows = session.scalars(
            select(RequestAudit)
            .where(RequestAudit.id > after_id)
            .order_by(RequestAudit.id)
            .limit(limit)
        )
        return [
            AuditRow(r.at, r.key_id, r.method, r.route, r.status, r.duration_ms, r.request_id)
            for r in rows
        ]
