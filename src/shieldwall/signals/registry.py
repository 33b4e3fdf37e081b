"""The registry of signal types.

Built-in types are listed in :data:`DEFAULT_SIGNAL_TYPES` and registered through the same
:func:`register` call that third-party plug-ins go through (entry-point group
``shieldwall.signal_types``, each entry pointing at a :class:`SignalType` subclass).
"""

from __future__ import annotations

from importlib import import_module
from importlib.metadata import entry_points
from typing import Final

from shieldwall.errors import UnknownSignalType
from shieldwall.signals.base import ContentType, SignalType

__all__ = [
    "DEFAULT_SIGNAL_TYPES",
    "ENTRY_POINT_GROUP",
    "all_signal_types",
    "get_signal_type",
    "register",
]

ENTRY_POINT_GROUP: Final = "shieldwall.signal_types"
#: ``module:Class`` of each built-in signal type.
DEFAULT_SIGNAL_TYPES: Final = (
    "shieldwall.signals.pdq:PdqSignal",
    "shieldwall.signals.cryptographic:Md5Signal",
    "shieldwall.signals.cryptographic:Sha256Signal",
    "shieldwall.signals.vpdq:VpdqSignal",
    "shieldwall.signals.vpdq:VideoMd5Signal",
)

_registry: dict[str, SignalType] = {}
_loaded = False


def register(signal_type: type[SignalType]) -> SignalType:
    """Register a signal type class; its ``name`` must be new and lower-case."""
    name = signal_type.name
    if not name or name != name.lower() or ":" in name:
        raise ValueError(f"signal type name {name!r} must be lower-case without ':'")
    existing = _registry.get(name)
    if existing is not None and type(existing) is not signal_type:
        raise ValueError(f"signal type {name!r} is already registered by {type(existing)!r}")
    instance = existing or signal_type()
    _registry[name] = instance
    return instance


def _load_class(spec: str) -> type[SignalType]:
    module_name, _, attr = spec.partition(":")
    cls = getattr(import_module(module_name), attr)
    if not (isinstance(cls, type) and issubclass(cls, SignalType)):
        raise TypeError(f"{spec} is not a SignalType subclass")
    return cls


def _ensure_loaded() -> None:
    global _loaded  # noqa: PLW0603 - a process-wide registry, filled once
    if _loaded:
        return
    _loaded = True
    for spec in DEFAULT_SIGNAL_TYPES:
        register(_load_class(spec))
    for ep in entry_points(group=ENTRY_POINT_GROUP):
        register(ep.load())


def get_signal_type(name: str) -> SignalType:
    """The signal type called ``name``, or :class:`UnknownSignalType` listing the known ones."""
    _ensure_loaded()
    try:
        return _registry[name.strip().lower()]
    except KeyError:
        known = ", ".join(sorted(_registry))
        raise UnknownSignalType(f"unknown signal type {name!r} (known: {known})") from None


def all_signal_types(content_type: ContentType | None = None) -> list[SignalType]:
    """Every registered type, in registration order, optionally only those for ``content_type``."""
    _ensure_loaded()
    return [
        t for t in _registry.values() if content_type is None or content_type in t.content_types
    ]
