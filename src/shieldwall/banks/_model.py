"""The vocabulary of banks: kinds, provenance, statuses, and the plain records the API returns."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from shieldwall.signals.base import Signal

__all__ = [
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
]


class BankFormat(StrEnum):
    """File formats of bank import and export (see :mod:`shieldwall.banks._formats`)."""

    jsonl = "jsonl"
    csv = "csv"
    signals = "signals"
    #: python-threatexchange's file exchange: ``<type> <value>`` a line, HMA's type names.
    threatexchange = "threatexchange"


class BankKind(StrEnum):
    """What a match against the bank means."""

    #: Known abusive content: a match blocks (or queues) the upload.
    BLOCK = "block"
    #: Known false positives (memes, logos, stock images): a match suppresses every other match.
    ALLOW = "allow"
    #: Suspected content: a match queues the upload for review.
    REVIEW = "review"


class Provenance(StrEnum):
    """Who the hash came from (never *which* person: that stays out of the bank)."""

    VICTIM = "victim"
    REVIEWER = "reviewer"
    PARTNER = "partner"


class EntryStatus(StrEnum):
    """Whether an entry matches."""

    ACTIVE = "active"
    #: Every case holding it was withdrawn; its signals are tombstoned.
    WITHDRAWN = "withdrawn"
    #: Not matched until ``disabled_until`` (or until enabled, when that is ``None``).
    DISABLED = "disabled"


@dataclass(frozen=True, slots=True)
class BankInfo:
    """A bank as the API shows it."""

    id: int
    name: str
    kind: BankKind
    enabled: bool
    thresholds: dict[str, int]
    description: str
    source: str | None
    created_at: datetime
    #: Whether matches through variants (a query's normalised cuts and rotations, a banked
    #: photo's crops) count in this bank.
    match_variants: bool = True
    #: Whether photos banked with the image at hand also carry their local features (``orb``).
    local_features: bool = False
    #: Entries by status, and live signals (filled by :func:`~shieldwall.banks.get_bank`).
    entry_counts: dict[str, int] = field(default_factory=dict)
    live_signals: int | None = None

    def threshold(self, signal_type: str, default: int) -> int:
        """The bank's threshold for ``signal_type``, or ``default`` (the type's own)."""
        return self.thresholds.get(signal_type, default)


@dataclass(frozen=True, slots=True)
class EntryInfo:
    """A bank entry with its signals and external ids."""

    id: int
    bank: str
    status: EntryStatus
    disabled_until: datetime | None
    note: str
    provenance: Provenance
    signals: list[Signal]
    #: External id -> ``active`` | ``withdrawn``.
    external_ids: dict[str, str]
    created_at: datetime


@dataclass(frozen=True, slots=True)
class NewEntry:
    """What to add to a bank: the signals of one item, its external ids (case numbers) and a note.

    ``withdrawn_ids`` are external ids to withdraw from the same item in the same step (a
    partner's record that says case C2 of this hash was withdrawn).
    """

    signals: list[Signal]
    external_ids: list[str] = field(default_factory=list)
    note: str = ""
    provenance: Provenance = Provenance.REVIEWER
    withdrawn_ids: list[str] = field(default_factory=list)
    #: Where it came from, for messages (a path, ``line 12``).
    source: str = ""


@dataclass(frozen=True, slots=True)
class Rejected:
    """An input that was not added, and why."""

    source: str
    reason: str
    code: str


@dataclass(slots=True)
class AddOutcome:
    """What adding a batch did."""

    #: Entries created, and existing entries that the batch touched (merged into).
    created: list[int] = field(default_factory=list)
    merged: list[int] = field(default_factory=list)
    rejected: list[Rejected] = field(default_factory=list)

    @property
    def entry_ids(self) -> list[int]:
        """Every entry the batch created or touched."""
        return [*self.created, *self.merged]


@dataclass(frozen=True, slots=True)
class WithdrawOutcome:
    """What withdrawing an external id did."""

    external_id: str
    #: Entries whose last active case this was: their signals are removed from matching.
    withdrawn_entries: list[int]
    #: Entries another active case still holds: their signals stay.
    kept_entries: list[int]
