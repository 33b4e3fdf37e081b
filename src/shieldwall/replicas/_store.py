"""Where the counters live: Redis shared by every replica, or this process's memory."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from functools import lru_cache
from typing import TypeVar

from limits.errors import ConfigurationError, StorageError
from limits.storage import MemoryStorage, RedisStorage, Storage
from limits.strategies import MovingWindowRateLimiter

from shieldwall.config import Settings
from shieldwall.errors import ConfigError

__all__ = ["SharedStore"]

log = logging.getLogger("shieldwall.replicas")

T = TypeVar("T")

#: How long a call to Redis may take before the process's memory stands in for it: a slow
#: Redis must not hold every request up.
REDIS_TIMEOUT_SECONDS = 1.0
#: At most one warning about a failing Redis per this many seconds.
_WARN_EVERY = 60.0


class SharedStore:
    """The counters of the limits and throttles.

    ``SharedStore("redis://127.0.0.1:6379/0", prefix="shieldwall")`` keeps them in Redis under
    keys that start with ``prefix``, shared by every process that names the same Redis and
    prefix; ``SharedStore()`` keeps them in this process's memory. When Redis fails (down,
    slow, refusing), each call falls back on this process's memory, so that the service goes on
    answering with per-process limits, and a warning is logged (at most once a minute).
    """

    def __init__(self, redis_url: str | None = None, *, prefix: str = "shieldwall") -> None:
        self.redis_url = redis_url
        self.prefix = prefix
        self._memory = MemoryStorage()
        self._memory_window = MovingWindowRateLimiter(self._memory)
        self._redis: RedisStorage | None = None
        self._redis_window: MovingWindowRateLimiter | None = None
        self._errors: tuple[type[BaseException], ...] = (StorageError,)
        self._warned_at = -_WARN_EVERY
        #: Calls that Redis failed and this process's memory answered (``/metrics``).
        self.fallbacks = 0
        self._warn_lock = threading.Lock()
        if redis_url:
            try:
                self._redis = RedisStorage(
                    redis_url,
                    key_prefix=prefix,
                    wrap_exceptions=True,
                    socket_timeout=REDIS_TIMEOUT_SECONDS,
                    socket_connect_timeout=REDIS_TIMEOUT_SECONDS,
                )
            except ConfigurationError as exc:  # the redis package is not installed
                raise ConfigError(
                    f"SHIELDWALL_REDIS_URL is set but Redis cannot be used: {exc} "
                    "(pip install 'shieldwall[redis]')"
                ) from exc
            except ValueError as exc:  # redis.from_url refuses the URL
                raise ConfigError(f"SHIELDWALL_REDIS_URL: {exc}") from exc
            self._redis_window = MovingWindowRateLimiter(self._redis)
            base = self._redis.base_exceptions
            self._errors = (StorageError, *(base if isinstance(base, tuple) else (base,)))

    @classmethod
    def from_settings(cls, settings: Settings) -> SharedStore:
        """A new store for ``settings`` (``redis_url``, ``redis_key_prefix``)."""
        return cls(settings.redis_url, prefix=settings.redis_key_prefix)

    @staticmethod
    def for_settings(settings: Settings) -> SharedStore:
        """The one store of this process for ``settings``' Redis and prefix (memory ones are
        shared too, as a module's own counters would be)."""
        return _shared(settings.redis_url, settings.redis_key_prefix)

    @property
    def shared(self) -> bool:
        """Whether the counters are in Redis (shared by the replicas)."""
        return self._redis is not None

    def _warn(self, exc: BaseException) -> None:
        now = time.monotonic()
        with self._warn_lock:
            if now - self._warned_at < _WARN_EVERY:
                return
            self._warned_at = now
        log.warning(
            "Redis failed (%s: %s); limits and throttles are per process until it is back",
            type(exc).__name__,
            exc,
        )

    def run(self, action: Callable[[MovingWindowRateLimiter, Storage], T]) -> T:
        """``action(window strategy, storage)`` on Redis, or on this process's memory when
        there is no Redis or it failed."""
        if self._redis is not None and self._redis_window is not None:
            try:
                return action(self._redis_window, self._redis)
            except self._errors as exc:
                self.fallbacks += 1
                self._warn(exc)
        return action(self._memory_window, self._memory)

    def ping(self) -> None:
        """Raise :class:`ConfigError` when the configured Redis does not answer (nothing to do
        without one): ``shieldwall check`` and ``/readyz`` ask this."""
        if self._redis is None:
            return
        try:
            answered = self._redis.check()
        except self._errors as exc:  # pragma: no cover - check() catches its own
            answered = False
            log.debug("redis check failed: %s", exc)
        if not answered:
            raise ConfigError(f"Redis at {_safe(self.redis_url)} does not answer")

    def clear(self) -> None:
        """Remove every counter under this store's prefix (the tests' clean slate)."""
        if self._redis is not None:
            self._redis.reset()
        self._memory.reset()


def _safe(url: str | None) -> str:
    """A Redis URL without its password, for messages."""
    if not url or "@" not in url:
        return url or ""
    scheme, _, rest = url.partition("://")
    return f"{scheme}://***@{rest.rpartition('@')[2]}"


@lru_cache(maxsize=16)
def _shared(redis_url: str | None, prefix: str) -> SharedStore:
    return SharedStore(redis_url, prefix=prefix)
