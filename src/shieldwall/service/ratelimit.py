"""Per-key and per-address rate limits, in moving windows shared by the replicas.

A key may make ``rate`` requests per second on average: at most ``rate * window`` requests (at
least one) in any moving window of ``window`` seconds (``rate_limit_window_seconds``, 2 by
default: bursts of twice the rate; ``shieldwall.replicas.window_for_rate``). The windows are
counted in a :class:`~shieldwall.replicas.SharedStore`: in Redis when ``redis_url`` is set,
so that N replicas behind a load balancer give a key one allowance, not N; otherwise in this
process's memory.
"""

from __future__ import annotations

import math
import threading

from shieldwall.replicas import MovingWindow, SharedStore, window_for_rate

__all__ = ["RateLimiter"]


class RateLimiter:
    """Moving windows by key id (or client address), one per rate."""

    def __init__(
        self, store: SharedStore | None = None, *, name: str = "rate", window_seconds: float = 2.0
    ) -> None:
        self.store = store or SharedStore()
        self.name = name
        self.window_seconds = window_seconds
        self._lock = threading.Lock()
        self._windows: dict[float, MovingWindow] = {}

    def _window(self, rate: float) -> MovingWindow:
        with self._lock:
            window = self._windows.get(rate)
            if window is None:
                window = window_for_rate(
                    self.store, self.name, rate, window_seconds=self.window_seconds
                )
                self._windows[rate] = window
            return window

    def take(self, key_id: int | str, rate: float) -> float:
        """Count one request; returns 0 when allowed, else the seconds to wait (for
        Retry-After)."""
        return self._window(rate).hit(str(key_id))

    @staticmethod
    def retry_after_header(wait: float) -> str:
        """Whole seconds for ``Retry-After`` (at least 1)."""
        return str(max(1, math.ceil(wait)))
