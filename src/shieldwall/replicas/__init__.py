"""What the replicas of one deployment share: rate limits, the wrong-PIN and sign-in throttles,
and API key revocations.

With ``redis_url`` set, every process (several ``shieldwall serve`` replicas, their
``--workers``, on one host or many) counts against the same windows in Redis, and a key revoked
through one replica is refused by all the others as soon as Redis tells them. Without it, each
process keeps its own, in memory: right for one process on one machine.

- :class:`SharedStore`: where the counters live (Redis, or this process's memory; when Redis
  fails, the memory of this process stands in until it is back, and the failure is logged);
- :class:`MovingWindow`: at most ``amount`` hits per ``seconds`` for each key (the ``limits``
  library's moving-window strategy);
- :class:`Lockout`: failures counted in a row, then a lock for a time (console sign-in);
- :class:`Revocations`: a revoked key announced on a Redis channel to every replica.

This package sits with ``store/`` (docs/architecture.md): it imports only the base.
"""

from __future__ import annotations

from shieldwall.replicas._lockout import Lockout
from shieldwall.replicas._revocations import Revocations
from shieldwall.replicas._store import SharedStore
from shieldwall.replicas._windows import MovingWindow, window_for_rate

__all__ = ["Lockout", "MovingWindow", "Revocations", "SharedStore", "window_for_rate"]
