"""Failures in a row, then a lock for a time: the console sign-in throttle."""

from __future__ import annotations

import math
import time

from limits.storage import Storage
from limits.strategies import MovingWindowRateLimiter

from shieldwall.replicas._store import SharedStore

__all__ = ["Lockout"]

#: How long a count of failures is kept without a new one (the in-row count of an account that
#: exists is kept by the database for ever; a day is enough for the names that do not).
FAILURES_KEPT_SECONDS = 86_400


class Lockout:
    """``max_failures`` failures of one key in a row lock it for ``lock_seconds``; the count
    starts again after the lock. Counted in a :class:`SharedStore`, so across replicas when
    it is in Redis.

    >>> names = Lockout(SharedStore(), "login", max_failures=5, lock_seconds=900)
    >>> names.locked_for("mallory")  # 0.0: not locked; else the seconds left
    0.0
    """

    def __init__(
        self, store: SharedStore, name: str, *, max_failures: int, lock_seconds: float
    ) -> None:
        self.store = store
        self.name = name
        self.max_failures = max_failures
        self.lock_seconds = max(1, math.ceil(lock_seconds))

    def _keys(self, key: str) -> tuple[str, str]:
        return f"{self.name}/failures/{key}", f"{self.name}/locked/{key}"

    def locked_for(self, key: str) -> float:
        """Seconds left of ``key``'s lock (0: not locked)."""
        _, locked = self._keys(key)

        def act(_window: MovingWindowRateLimiter, storage: Storage) -> float:
            if storage.get(locked) <= 0:
                return 0.0
            return max(0.001, storage.get_expiry(locked) - time.time())

        return self.store.run(act)

    def failed(self, key: str) -> float:
        """Count a failure of ``key``; returns the seconds of the lock it brought on (0: none
        yet)."""
        failures, locked = self._keys(key)

        def act(_window: MovingWindowRateLimiter, storage: Storage) -> float:
            if storage.incr(failures, FAILURES_KEPT_SECONDS) < self.max_failures:
                return 0.0
            storage.clear(failures)
            storage.incr(locked, self.lock_seconds)
            return float(self.lock_seconds)

        return self.store.run(act)
