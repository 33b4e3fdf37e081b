"""Hash banks: block, allow and review banks of known content, curated by case.

A bank holds entries; an entry holds the signals (hashes) of one item, the external ids (case
numbers) that hold it, a note and its provenance. Withdrawing a case removes an entry's signals
only when no other active case holds it. Every change is logged for the index followers
(:mod:`shieldwall.store.signal_log`).

The records and enums below load at once; the functions load the database layer on first use,
so that ``shieldwall --help`` and commands that never touch a bank stay quick to start.
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING, Any

from shieldwall.banks._model import (
    AddOutcome,
    BankFormat,
    BankInfo,
    BankKind,
    EntryInfo,
    EntryStatus,
    NewEntry,
    Provenance,
    Rejected,
    WithdrawOutcome,
)

if TYPE_CHECKING:
    from shieldwall.banks._banks import (
        create_bank,
        delete_bank,
        get_bank,
        list_banks,
        parse_signal_string,
        prepare_signal,
        set_bank_enabled,
        set_bank_threshold,
        signals_to_bank,
        stored_value,
    )
    from shieldwall.banks._entries import (
        CHUNK_SIZE,
        SignalInfo,
        add_entries,
        add_entries_in,
        add_entry,
        add_entry_in,
        entry_holders_in,
        find_entries,
        get_entry,
        list_signals,
    )
    from shieldwall.banks._formats import (
        entry_to_json,
        export_entries,
        read_entries,
        write_entries,
    )
    from shieldwall.banks._withdrawal import (
        disable_entry,
        enable_entry,
        withdraw,
        withdraw_cases,
        withdraw_entry,
        withdraw_in,
    )

_LAZY = {
    "shieldwall.banks._banks": (
        "create_bank",
        "delete_bank",
        "get_bank",
        "list_banks",
        "parse_signal_string",
        "prepare_signal",
        "set_bank_enabled",
        "set_bank_threshold",
        "signals_to_bank",
        "stored_value",
    ),
    "shieldwall.banks._entries": (
        "CHUNK_SIZE",
        "SignalInfo",
        "add_entries",
        "add_entries_in",
        "add_entry",
        "add_entry_in",
        "entry_holders_in",
        "find_entries",
        "get_entry",
        "list_signals",
    ),
    "shieldwall.banks._formats": (
        "entry_to_json",
        "export_entries",
        "read_entries",
        "write_entries",
    ),
    "shieldwall.banks._withdrawal": (
        "disable_entry",
        "enable_entry",
        "withdraw",
        "withdraw_cases",
        "withdraw_entry",
        "withdraw_in",
    ),
}
_WHERE = {name: module for module, names in _LAZY.items() for name in names}


def __getattr__(name: str) -> Any:
    module = _WHERE.get(name)
    if module is None:
        raise AttributeError(f"module 'shieldwall.banks' has no attribute {name!r}")
    return getattr(import_module(module), name)


__all__ = [
    "CHUNK_SIZE",
    "AddOutcome",
    "BankFormat",
    "BankInfo",
    "BankKind",
    "EntryInfo",
    "EntryStatus",
    "NewEntry",
    "Provenance",
    "Rejected",
    "SignalInfo",
    "WithdrawOutcome",
    "add_entries",
    "add_entries_in",
    "add_entry",
    "add_entry_in",
    "create_bank",
    "delete_bank",
    "disable_entry",
    "enable_entry",
    "entry_holders_in",
    "entry_to_json",
    "export_entries",
    "find_entries",
    "get_bank",
    "get_entry",
    "list_banks",
    "list_signals",
    "parse_signal_string",
    "prepare_signal",
    "read_entries",
    "set_bank_enabled",
    "set_bank_threshold",
    "signals_to_bank",
    "stored_value",
    "withdraw",
    "withdraw_cases",
    "withdraw_entry",
    "withdraw_in",
    "write_entries",
]
