"""API key revocations told to every replica through a Redis channel."""

from __future__ import annotations

import contextlib
import logging
import threading
from collections.abc import Callable
from typing import Any

from shieldwall.config import Settings
from shieldwall.errors import ConfigError

__all__ = ["Revocations"]

log = logging.getLogger("shieldwall.replicas")

#: Seconds between two tries to reach a Redis that failed, and how long one wait for a message
#: lasts (so that a stopping process is not held up longer).
RETRY_SECONDS = 1.0


class Revocations:
    """Tells every replica that an API key was revoked, so that its key cache forgets the key
    at once instead of after ``api_key_cache_seconds``.

    :meth:`announce` publishes the key's prefix on the channel ``<prefix>:keys:revoked``;
    :meth:`follow` runs in a thread of each replica and calls ``forget(key_prefix)`` for each
    message, and ``forget(None)`` (everything) whenever it (re)subscribes, since announcements
    made while it was away are lost. Without Redis both do nothing and the cache's time limit
    is the only bound, as it is while Redis is down.
    """

    def __init__(self, redis_url: str | None = None, *, prefix: str = "shieldwall") -> None:
        self.redis_url = redis_url
        self.channel = f"{prefix}:keys:revoked"
        self._client: Any = None
        self._listener: Any = None
        if redis_url:
            try:
                import redis  # noqa: PLC0415 - optional: only with redis_url
            except ImportError as exc:
                raise ConfigError(
                    "SHIELDWALL_REDIS_URL is set but the redis package is not installed "
                    "(pip install 'shieldwall[redis]')"
                ) from exc
            try:
                # Publishing answers within a second or gives up (a revocation request must not
                # hang on an unreachable Redis); the subscription waits as long as it likes and
                # pings every 30 s to notice a dead connection.
                self._client = redis.Redis.from_url(
                    redis_url, socket_connect_timeout=RETRY_SECONDS, socket_timeout=RETRY_SECONDS
                )
                self._listener = redis.Redis.from_url(
                    redis_url, socket_connect_timeout=RETRY_SECONDS, health_check_interval=30
                )
            except ValueError as exc:
                raise ConfigError(f"SHIELDWALL_REDIS_URL: {exc}") from exc

    @classmethod
    def from_settings(cls, settings: Settings) -> Revocations:
        """Revocations through ``settings``' Redis and key prefix (none without Redis)."""
        return cls(settings.redis_url, prefix=settings.redis_key_prefix)

    @property
    def shared(self) -> bool:
        """Whether announcements reach other processes (Redis is configured)."""
        return self._client is not None

    def announce(self, key_prefix: str) -> None:
        """Tell every replica that the key ``key_prefix`` was revoked. A Redis failure is
        logged, not raised: the revocation is in the database, and the other replicas' caches
        expire within ``api_key_cache_seconds``."""
        if self._client is None:
            return
        try:
            self._client.publish(self.channel, key_prefix.encode("ascii"))
        except Exception as exc:  # redis.RedisError and OSError alike
            log.warning("announcing the revocation of %s failed: %s", key_prefix, exc)

    def follow(self, forget: Callable[[str | None], None], stop: threading.Event) -> None:
        """Call ``forget`` for each announced revocation until ``stop`` is set (run it in a
        thread; it returns at once without Redis)."""
        if self._listener is None:
            return
        failing = False  # warn once per outage, not every second of it
        while not stop.is_set():
            pubsub = self._listener.pubsub(ignore_subscribe_messages=False)
            try:
                pubsub.subscribe(self.channel)
                while not stop.is_set():
                    message = pubsub.get_message(timeout=RETRY_SECONDS)
                    if message is None:
                        continue
                    if message["type"] == "subscribe":
                        forget(None)  # what was cached before this may be stale
                        if failing:
                            log.warning("following key revocations again")
                            failing = False
                    elif message["type"] == "message":
                        data = message["data"]
                        forget(data.decode("ascii", "replace") if isinstance(data, bytes) else None)
            except Exception as exc:  # redis.RedisError, OSError: wait and subscribe again
                if not failing:
                    log.warning(
                        "following key revocations failed (%s); retrying every %g s (meanwhile "
                        "revocations by other processes take effect within "
                        "api_key_cache_seconds)",
                        exc,
                        RETRY_SECONDS,
                    )
                    failing = True
                stop.wait(RETRY_SECONDS)
            finally:
                with contextlib.suppress(Exception):  # closing a broken connection
                    pubsub.close()

    def close(self) -> None:
        """Close the connection pools."""
        for client in (self._client, self._listener):
            if client is not None:
                client.close()
