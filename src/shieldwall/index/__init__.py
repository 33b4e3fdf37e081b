"""In-memory exact index of signals: Hamming types (PDQ) by radius, exact types (MD5, SHA-256)
by equality, each type placed by the capabilities it declares.

- :class:`HammingIndex`: every stored 256-bit code within a radius (exact, multi-index hashing
  over eight 32-bit substrings, plus a brute-force delta for fresh adds).
- :class:`ExactIndex`: ids stored under a cryptographic digest.
- :class:`SignalIndex`: both, plus the signal-log sequence number they reflect, :meth:`apply`
  for log entries, and snapshot files (:mod:`shieldwall.index.snapshot`).

See ``docs/index.md`` for the design, the snapshot format and the measurements.
"""

from shieldwall.index.changes import Change, ChangeOp
from shieldwall.index.exact import ExactIndex
from shieldwall.index.hamming import CodeLike, HammingIndex, Hit, as_code, as_codes
from shieldwall.index.signal_index import SignalIndex
from shieldwall.index.snapshot import FORMAT_VERSION

__all__ = [
    "FORMAT_VERSION",
    "Change",
    "ChangeOp",
    "CodeLike",
    "ExactIndex",
    "HammingIndex",
    "Hit",
    "SignalIndex",
    "as_code",
    "as_codes",
]
