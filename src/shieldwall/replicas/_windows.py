"""Moving windows: at most ``amount`` hits per ``seconds`` for each key."""

from __future__ import annotations

import math
import time

from limits import RateLimitItem, RateLimitItemPerSecond
from limits.storage import Storage
from limits.strategies import MovingWindowRateLimiter

from shieldwall.replicas._store import SharedStore

__all__ = ["MovingWindow", "window_for_rate"]


class MovingWindow:
    """At most ``amount`` hits for one key in any ``seconds``, counted in a
    :class:`SharedStore` (so across replicas when it is in Redis).

    >>> pins = MovingWindow(SharedStore(), "pin", amount=5, seconds=900)
    >>> pins.hit("T-1234")  # 0.0: counted; else the seconds to wait
    0.0
    """

    def __init__(self, store: SharedStore, name: str, *, amount: int, seconds: float) -> None:
        if amount < 1 or seconds <= 0:
            raise ValueError("a window allows at least one hit over a positive time")
        self.store = store
        self.name = name
        self.amount = amount
        self.seconds = max(1, math.ceil(seconds))  # Redis expiries are whole seconds
        self.item: RateLimitItem = RateLimitItemPerSecond(amount, self.seconds, namespace=name)

    def _wait(self, reset_at: float) -> float:
        return max(0.001, reset_at - time.time())

    def hit(self, key: str) -> float:
        """Count one hit for ``key``; 0 when it was allowed, else the seconds until one will be
        (for ``Retry-After``): a refused hit is not counted."""

        def act(window: MovingWindowRateLimiter, _storage: Storage) -> float:
            if window.hit(self.item, key):
                return 0.0
            return self._wait(window.get_window_stats(self.item, key).reset_time)

        return self.store.run(act)

    def wait(self, key: str) -> float:
        """0 when a hit for ``key`` would be allowed now, else the seconds until one will be;
        counts nothing."""

        def act(window: MovingWindowRateLimiter, _storage: Storage) -> float:
            stats = window.get_window_stats(self.item, key)
            return 0.0 if stats.remaining > 0 else self._wait(stats.reset_time)

        return self.store.run(act)


def window_for_rate(
    store: SharedStore, name: str, rate: float, *, window_seconds: float = 2.0
) -> MovingWindow:
    """A window that allows ``rate`` hits per second on average: ``rate * window_seconds``
    hits (at least one) in any ``window_seconds`` (longer when one hit needs longer, whole
    seconds, at least one). The default allows bursts of twice the rate."""
    if rate <= 0 or window_seconds <= 0:
        raise ValueError("a rate and its window are positive")
    amount = max(1, round(rate * window_seconds))
    return MovingWindow(store, name, amount=amount, seconds=max(1, round(amount / rate)))
