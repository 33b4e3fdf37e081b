"""Signal types: hashes as plug-ins that declare how they are compared, indexed, stored,
weighed as evidence and spelled by the exchanges (see :mod:`shieldwall.signals.base` and
docs/signals.md)."""

from shieldwall.signals.base import (
    Comparison,
    ContentType,
    Exchange,
    IndexKind,
    Signal,
    SignalType,
    Storage,
    VariantOptions,
)
from shieldwall.signals.registry import (
    all_signal_types,
    bankable_types,
    find_signal_type,
    from_exchange_name,
    get_signal_type,
    is_exact_evidence,
    register,
    unregister,
)

__all__ = [
    "Comparison",
    "ContentType",
    "Exchange",
    "IndexKind",
    "Signal",
    "SignalType",
    "Storage",
    "VariantOptions",
    "all_signal_types",
    "bankable_types",
    "find_signal_type",
    "from_exchange_name",
    "get_signal_type",
    "is_exact_evidence",
    "register",
    "unregister",
]
