"""How far the signal log goes: what an index that follows it must reach to be in sync (the
service's readiness and its lag metrics compare it with the index's own position)."""

from __future__ import annotations

from shieldwall.store import Database, signal_log

__all__ = ["log_head"]


def log_head(db: Database) -> int:
    """The sequence number of the newest signal log entry (0 while the log is empty). Raises
    what the database raises when it is away: callers that report health catch it."""
    with db.session() as session:
        return signal_log.head(session)
