"""The registry of signal types.

Built-in types are listed in :data:`DEFAULT_SIGNAL_TYPES` and registered through the same
:func:`register` call that third-party plug-ins go through (entry-point group
``shieldwall.signal_types``, each entry pointing at a :class:`SignalType` subclass).

Layers above ask the registry about capabilities, never about names:
:func:`is_exact_evidence`, :func:`from_exchange_name`, :func:`bankable_types`.
"""

from __future__ import annotations

from importlib.metadata import entry_points
from typing import Final

from shieldwall.errors import UnknownSignalType
from shieldwall.plugins import load_class
from shieldwall.signals.base import Comparison, ContentType, Exchange, SignalType

__all__ = [
    "DEFAULT_SIGNAL_TYPES",
    "ENTRY_POINT_GROUP",
    "HAMMING_CODE_BYTES",
    "all_signal_types",
    "bankable_types",
    "find_signal_type",
    "from_exchange_name",
    "get_signal_type",
    "is_exact_evidence",
    "register",
    "unregister",
]

ENTRY_POINT_GROUP: Final = "shieldwall.signal_types"
#: ``module:Class`` of each built-in signal type.
DEFAULT_SIGNAL_TYPES: Final = (
    "shieldwall.signals.pdq:PdqSignal",
    "shieldwall.signals.cryptographic:Md5Signal",
    "shieldwall.signals.cryptographic:Sha256Signal",
    "shieldwall.signals.vpdq:VpdqSignal",
    "shieldwall.signals.local_features:OrbSignal",
)
#: The Hamming index serves 256-bit codes (four 64-bit words per code).
HAMMING_CODE_BYTES: Final = 32

_registry: dict[str, SignalType] = {}
#: Alias -> canonical name.
_aliases: dict[str, str] = {}
_loaded = False


def _check_declarations(cls: type[SignalType]) -> None:
    name = cls.name
    if not name or name != name.lower() or ":" in name:
        raise ValueError(f"signal type name {name!r} must be lower-case without ':'")
    comparison = getattr(cls, "comparison", None)
    if not isinstance(comparison, Comparison):
        raise ValueError(f"signal type {name!r} must declare a Comparison as its comparison")
    if comparison is Comparison.HAMMING and cls.code_bytes != HAMMING_CODE_BYTES:
        raise ValueError(
            f"signal type {name!r}: the Hamming index serves {HAMMING_CODE_BYTES * 8}-bit codes, "
            f"not {cls.code_bytes * 8}-bit ones"
        )
    if comparison is Comparison.EXACT and not 1 <= cls.code_bytes <= 64:
        raise ValueError(f"signal type {name!r}: an exact digest must be 1..64 bytes")
    if cls.exact_evidence and comparison is not Comparison.EXACT:
        raise ValueError(f"signal type {name!r}: only an exact comparison is exact evidence")
    for alias in cls.aliases:
        if alias != alias.lower() or ":" in alias or alias == name:
            raise ValueError(f"signal type {name!r}: alias {alias!r} is not a distinct name")


def register(signal_type: type[SignalType]) -> SignalType:
    """Register a signal type class; its ``name`` and aliases must be new and lower-case, and
    its capabilities consistent (a Hamming type has 256-bit codes, only an exact comparison is
    exact evidence). Registering the same class again returns the registered instance."""
    _check_declarations(signal_type)
    name = signal_type.name
    taken = {name, *signal_type.aliases}
    for key in taken:
        owner = _registry.get(_aliases.get(key, key))
        if owner is not None and type(owner) is not signal_type:
            raise ValueError(f"signal type {key!r} is already registered by {type(owner)!r}")
    instance = _registry.get(name) or signal_type()
    _registry[name] = instance
    for alias in signal_type.aliases:
        _aliases[alias] = name
    return instance


def unregister(name: str) -> None:
    """Forget the type called ``name`` and its aliases (a test's plug-in; a process never
    needs it otherwise). An unknown name is ignored."""
    instance = _registry.pop(name, None)
    if instance is not None:
        for alias in instance.aliases:
            _aliases.pop(alias, None)


def _ensure_loaded() -> None:
    global _loaded  # noqa: PLW0603 - a process-wide registry, filled once
    if _loaded:
        return
    _loaded = True
    for spec in DEFAULT_SIGNAL_TYPES:
        register(load_class(spec, SignalType))
    for ep in entry_points(group=ENTRY_POINT_GROUP):
        register(ep.load())


def get_signal_type(name: str) -> SignalType:
    """The signal type called ``name`` (or one of its aliases), or :class:`UnknownSignalType`
    listing the known ones."""
    _ensure_loaded()
    key = name.strip().lower()
    try:
        return _registry[_aliases.get(key, key)]
    except KeyError:
        known = ", ".join(sorted(_registry))
        raise UnknownSignalType(f"unknown signal type {name!r} (known: {known})") from None


def find_signal_type(name: str) -> SignalType | None:
    """The signal type called ``name`` (or an alias), or ``None`` when none is registered
    (stored data may name a type whose plug-in is gone)."""
    try:
        return get_signal_type(name)
    except UnknownSignalType:
        return None


def all_signal_types(content_type: ContentType | None = None) -> list[SignalType]:
    """Every registered type, in registration order, optionally only those for ``content_type``."""
    _ensure_loaded()
    return [
        t for t in _registry.values() if content_type is None or content_type in t.content_types
    ]


def bankable_types() -> list[SignalType]:
    """The types banks can hold (some index serves them), in registration order."""
    return [t for t in all_signal_types() if t.bankable]


def is_exact_evidence(name: str) -> bool:
    """Whether a match on the type called ``name`` proves an exact copy (the one rule cases,
    queues and automated copy removal share). An unknown type is not exact evidence."""
    kind = find_signal_type(name)
    return kind is not None and kind.exact_evidence


def from_exchange_name(exchange: Exchange, name: str) -> SignalType:
    """The type an exchange format calls ``name`` (``ImagePDQ`` in StopNCII's), or
    :class:`UnknownSignalType` naming the ones that format has."""
    for signal_type in all_signal_types():
        if signal_type.exchange_names.get(exchange, "").lower() == name.strip().lower():
            return signal_type
    known = sorted(n for t in all_signal_types() if (n := t.exchange_names.get(exchange)))
    raise UnknownSignalType(
        f"{exchange.value} signal type {name!r} is not supported (supported: {', '.join(known)})"
    )
