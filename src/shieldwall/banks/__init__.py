"""Hash banks: block, allow and review banks of known content, curated by case.

A bank holds entries; an entry holds the signals (hashes) of one item, the external ids (case
numbers) that hold it, a note and its provenance. Withdrawing a case removes an entry's signals
only when no other active case holds it. Every change is logged for the index followers
(:mod:`shieldwall.store.signal_log`).
"""

from shieldwall.banks._banks import (
    BANKABLE_TYPES,
    create_bank,
    delete_bank,
    get_bank,
    list_banks,
    parse_signal_string,
    prepare_signal,
    set_bank_enabled,
    set_bank_threshold,
)
from shieldwall.banks._entries import CHUNK_SIZE, add_entries, add_entry, get_entry
from shieldwall.banks._formats import (
    BankFormat,
    entry_to_json,
    export_entries,
    read_entries,
    write_entries,
)
from shieldwall.banks._model import (
    AddOutcome,
    BankInfo,
    BankKind,
    EntryInfo,
    EntryStatus,
    NewEntry,
    Provenance,
    Rejected,
    WithdrawOutcome,
)
from shieldwall.banks._withdrawal import (
    disable_entry,
    enable_entry,
    withdraw,
    withdraw_cases,
    withdraw_entry,
)

__all__ = [
    "BANKABLE_TYPES",
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
    "WithdrawOutcome",
    "add_entries",
    "add_entry",
    "create_bank",
    "delete_bank",
    "disable_entry",
    "enable_entry",
    "entry_to_json",
    "export_entries",
    "get_bank",
    "get_entry",
    "list_banks",
    "parse_signal_string",
    "prepare_signal",
    "read_entries",
    "set_bank_enabled",
    "set_bank_threshold",
    "withdraw",
    "withdraw_cases",
    "withdraw_entry",
    "write_entries",
]
