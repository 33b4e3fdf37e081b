"""In-memory exact index of signals: PDQ by Hamming radius, MD5 and SHA-256 by equality.

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
from shieldwall.index.signal_index import EXACT_TYPES, HAMMING_TYPES, SignalIndex
from shieldwall.index.snapshot import FORMAT_VERSION

__all__ = [
    "EXACT_TYPES",
    "FORMAT_VERSION",
    "HAMMING_TYPES",
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
