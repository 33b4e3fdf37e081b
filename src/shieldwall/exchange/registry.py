"""The registry of exchange plug-ins.

Built-in exchanges are listed in :data:`DEFAULT_EXCHANGES` and registered through the same
:func:`register` call that third-party plug-ins go through (entry-point group
``shieldwall.exchanges``, each entry pointing at a :class:`SignalExchange` subclass).
"""

from __future__ import annotations

import re
from importlib.metadata import entry_points
from typing import Final

from shieldwall.errors import UsageError
from shieldwall.exchange.base import SignalExchange
from shieldwall.plugins import load_class

__all__ = [
    "DEFAULT_EXCHANGES",
    "ENTRY_POINT_GROUP",
    "all_exchange_kinds",
    "get_exchange_kind",
    "register",
    "unregister",
]

ENTRY_POINT_GROUP: Final = "shieldwall.exchanges"
#: ``module:Class`` of each built-in exchange.
DEFAULT_EXCHANGES: Final = (
    "shieldwall.exchange.stopncii:StopNCIIExchange",
    "shieldwall.exchange.ncmec:NCMECExchange",
    "shieldwall.exchange.federation:FederationExchange",
)

_KIND = re.compile(r"[a-z][a-z0-9_]{0,63}")
_registry: dict[str, type[SignalExchange]] = {}
_loaded = False


def register(exchange: type[SignalExchange]) -> type[SignalExchange]:
    """Register an exchange plug-in class under its ``kind`` (lower case, new); registering
    the same class again is harmless."""
    if not (isinstance(exchange, type) and issubclass(exchange, SignalExchange)):
        raise TypeError(f"{exchange!r} is not a SignalExchange subclass")
    kind = getattr(exchange, "kind", "")
    if not isinstance(kind, str) or not _KIND.fullmatch(kind):
        raise ValueError(f"exchange kind {kind!r} must be lower-case letters, digits and '_'")
    owner = _registry.get(kind)
    if owner is not None and owner is not exchange:
        raise ValueError(f"exchange kind {kind!r} is already registered by {owner!r}")
    _registry[kind] = exchange
    return exchange


def unregister(kind: str) -> None:
    """Forget the plug-in of ``kind`` (a test's plug-in); an unknown kind is ignored."""
    _registry.pop(kind, None)


def _ensure_loaded() -> None:
    global _loaded  # noqa: PLW0603 - a process-wide registry, filled once
    if _loaded:
        return
    _loaded = True
    for spec in DEFAULT_EXCHANGES:
        register(load_class(spec, SignalExchange))
    for ep in entry_points(group=ENTRY_POINT_GROUP):
        register(ep.load())


def get_exchange_kind(kind: str) -> type[SignalExchange]:
    """The plug-in class of ``kind``, or a :class:`UsageError` naming the known kinds."""
    _ensure_loaded()
    try:
        return _registry[kind.strip().lower()]
    except KeyError:
        known = ", ".join(sorted(_registry))
        raise UsageError(f"unknown exchange kind {kind!r} (known: {known})") from None


def all_exchange_kinds() -> list[type[SignalExchange]]:
    """Every registered plug-in class, in registration order."""
    _ensure_loaded()
    return list(_registry.values())
