"""Matching: content and signals against the banks, the ledger of hosted content, sweeps.

>>> from shieldwall.matching import Matcher                 # doctest: +SKIP
>>> Matcher(open_database()).match_file("upload.jpg").matched   # doctest: +SKIP
True
"""

from shieldwall.matching._matcher import BankMatch, Matcher, MatchOutcome, prepare_snapshot
from shieldwall.matching.index import (
    BruteForceIndex,
    IndexHit,
    MultiIndex,
    SignalIndexLike,
    build_index,
    default_index,
    follow,
    load_index,
    snapshot_path,
)
from shieldwall.matching.ledger import SweepOutcome, add_to_ledger, sweep
from shieldwall.matching.quarantine import QuarantinedSignal, list_quarantined, release_signal
from shieldwall.matching.records import StoredMatch, list_matches, remove_from_ledger
from shieldwall.matching.sync import log_head

__all__ = [
    "BankMatch",
    "BruteForceIndex",
    "IndexHit",
    "MatchOutcome",
    "Matcher",
    "MultiIndex",
    "QuarantinedSignal",
    "SignalIndexLike",
    "StoredMatch",
    "SweepOutcome",
    "add_to_ledger",
    "build_index",
    "default_index",
    "follow",
    "list_matches",
    "list_quarantined",
    "load_index",
    "log_head",
    "prepare_snapshot",
    "release_signal",
    "remove_from_ledger",
    "snapshot_path",
    "sweep",
]
