"""Per-key rate limits: a token bucket per key, in the memory of each process.

A key may make ``rate`` requests per second on average and bursts of ``2 * rate``. Behind a
load balancer each process limits on its own, so the effective limit is per process; put the
limit on the balancer too if a key must be capped across processes.
"""

from __future__ import annotations

import math
import threading
import time

__all__ = ["RateLimiter"]


class RateLimiter:
    """Token buckets by key id."""

    def __init__(self, burst_factor: float = 2.0) -> None:
        self.burst_factor = burst_factor
        self._lock = threading.Lock()
        self._buckets: dict[int | str, tuple[float, float]] = {}  # key -> (tokens, updated)

    def take(self, key_id: int | str, rate: float, now: float | None = None) -> float:
        """Take one token; returns 0 when allowed, else the seconds to wait (for Retry-After)."""
        now = time.monotonic() if now is None else now
        capacity = max(1.0, rate * self.burst_factor)
        with self._lock:
            tokens, updated = self._buckets.get(key_id, (capacity, now))
            tokens = min(capacity, tokens + (now - updated) * rate)
            if tokens >= 1.0:
                self._buckets[key_id] = (tokens - 1.0, now)
                return 0.0
            self._buckets[key_id] = (tokens, now)
            return (1.0 - tokens) / rate

    @staticmethod
    def retry_after_header(wait: float) -> str:
        """Whole seconds for ``Retry-After`` (at least 1)."""
        return str(max(1, math.ceil(wait)))
