"""Immutable segments of the Hamming index: codes, ids, eight bucket tables, a removal bitmap.

A segment is built once from a batch of codes (a bulk load, a flushed delta, a merge of smaller
segments) and never changes afterwards, except that rows can be marked removed in its bitmap.
"""

from __future__ import annotations

import itertools
import math
from dataclasses import dataclass, field
from functools import cache
from typing import Literal

import numpy as np
import numpy.typing as npt

from shieldwall.index import _kernels

U64 = npt.NDArray[np.uint64]
U32 = npt.NDArray[np.uint32]
I64 = npt.NDArray[np.int64]
#: Ids as stored in a segment: ``uint32`` when they all fit, else ``int64``.
Ids = npt.NDArray[np.uint32] | npt.NDArray[np.int64]

#: How a segment is searched: through its tables, by a plain scan, or whichever is cheaper.
SearchMethod = Literal["auto", "probe", "scan"]

#: Most rows one segment holds: a row number and a fragment of at least 4 bits share a uint32.
MAX_SEGMENT_ROWS = 1 << 28

__all__ = [
    "MAX_SEGMENT_ROWS",
    "Matches",
    "SearchMethod",
    "Segment",
    "bucket_bits",
    "compact_ids",
    "probe_masks",
]


def bucket_bits(n: int) -> int:
    """Directory bits for ``n`` rows: about 16 to 32 rows a bucket, so directories stay small."""
    if n < 64:
        return 1
    return max(1, min(24, n.bit_length() - 1 - 4))


@cache
def probe_masks(b: int, t: int) -> tuple[U32, npt.NDArray[np.int64]]:
    """All ``b``-bit masks of popcount at most ``t``, by popcount, and their popcounts."""
    masks: list[int] = []
    pops: list[int] = []
    for k in range(min(t, b) + 1):
        for bits in itertools.combinations(range(b), k):
            masks.append(sum(1 << x for x in bits))
            pops.append(k)
    return np.array(masks, dtype=np.uint32), np.array(pops, dtype=np.int64)


def _volume(b: int, t: int) -> int:
    """Number of ``b``-bit masks of popcount at most ``t``."""
    return sum(math.comb(b, k) for k in range(min(t, b) + 1))


def compact_ids(ids: I64) -> Ids:
    """``ids`` as ``uint32`` when they all fit (4 bytes a hash saved), else as ``int64``."""
    if ids.shape[0] == 0 or (int(ids.min()) >= 0 and int(ids.max()) < 1 << 32):
        return np.ascontiguousarray(ids, dtype=np.uint32)
    return np.ascontiguousarray(ids, dtype=np.int64)


@dataclass
class Matches:
    """Raw matches of a batch of queries against one segment: parallel arrays."""

    query: I64
    row: I64
    distance: I64


def _outputs(cap: int) -> tuple[I64, I64, I64]:
    return np.empty(cap, np.int64), np.empty(cap, np.int64), np.empty(cap, np.int64)


@dataclass(eq=False)
class Segment:
    """An immutable block of codes with its eight bucket tables.

    ``codes`` is (n, 4) ``uint64``; ``ids`` (n,) ``uint32`` or ``int64``; ``dirs``
    (8, 2**b + 1) ``uint32``; ``entries`` (8, n) ``uint32``; ``dead`` is a bitmap of removed rows.
    """

    codes: U64
    ids: Ids
    b: int
    rowbits: int
    fbits: int
    dirs: U32
    entries: U32
    dead: U64 = field(default_factory=lambda: np.zeros(0, np.uint64))
    n_dead: int = 0

    def __post_init__(self) -> None:
        if self.dead.shape[0] != (len(self) + 63) // 64:
            self.dead = np.zeros((len(self) + 63) // 64, np.uint64)
            self.n_dead = 0

    @classmethod
    def build(cls, codes: U64, ids: npt.NDArray[np.integer]) -> Segment:
        """A segment holding ``codes`` (n, 4) ``uint64`` under ``ids`` (n,)."""
        n = codes.shape[0]
        if n > MAX_SEGMENT_ROWS:
            raise ValueError(f"a segment holds at most {MAX_SEGMENT_ROWS} rows, not {n}")
        codes = np.ascontiguousarray(codes, dtype=np.uint64)
        ids = compact_ids(np.asarray(ids, dtype=np.int64))
        b = bucket_bits(n)
        rowbits = max(1, (n - 1).bit_length())
        fbits = max(0, min(32 - rowbits, 32 - b))
        dirs = np.empty((_kernels.TABLES, (1 << b) + 1), np.uint32)
        entries = np.empty((_kernels.TABLES, n), np.uint32)
        _kernels.build_tables(codes, b, rowbits, fbits, dirs, entries)
        return cls(codes, ids, b, rowbits, fbits, dirs, entries)

    def __len__(self) -> int:
        return int(self.codes.shape[0])

    @property
    def live(self) -> int:
        """Rows not removed."""
        return len(self) - self.n_dead

    def is_dead(self, row: int) -> bool:
        """Whether ``row`` was removed."""
        return bool((int(self.dead[row >> 6]) >> (row & 63)) & 1)

    def kill(self, row: int) -> None:
        """Mark ``row`` removed (idempotent)."""
        if not self.is_dead(row):
            self.dead[row >> 6] |= np.uint64(1 << (row & 63))
            self.n_dead += 1

    def live_rows(self) -> I64:
        """Row numbers not removed, ascending."""
        if self.n_dead == 0:
            return np.arange(len(self), dtype=np.int64)
        bits = np.unpackbits(self.dead.view(np.uint8), bitorder="little")[: len(self)]
        return np.flatnonzero(bits == 0).astype(np.int64)

    def nbytes(self) -> int:
        """Bytes held by the segment's arrays."""
        arrays = (self.codes, self.ids, self.dirs, self.entries, self.dead)
        return sum(a.nbytes for a in arrays)

    def prefers_scan(self, radius: int) -> bool:
        """Whether a plain scan is cheaper than probing the tables for this radius.

        Probing visits ``8 * V(b, t)`` of the ``2**b`` buckets of a table (``V``: the number of
        ``b``-bit masks of popcount at most ``t``), each holding 16 to 32 rows; when that adds
        up to about the segment's size or more (under about 30k rows at radius 31, or radii far
        above 31), reading every code once is cheaper (measured: at 16k rows a scan takes 50 us
        and a probe 63 us; at 64k rows 300 us and 157 us).
        """
        t = radius // _kernels.TABLES
        return _kernels.TABLES * _volume(self.b, t) >= 1 << self.b

    def search(self, queries: U64, radius: int, method: SearchMethod = "auto") -> Matches:
        """Every live row within ``radius`` of each of ``queries`` (q, 4) ``uint64``.

        ``method``: ``"probe"`` the tables, ``"scan"`` every code, or ``"auto"`` (the cheaper).
        Both are exact.
        """
        t = radius // _kernels.TABLES
        cap = max(64, 16 * queries.shape[0])
        scan = method == "scan" or (method == "auto" and self.prefers_scan(radius))
        if not scan and _volume(self.b, t) > 1 << 16:
            scan = True  # a radius far above 31: the mask list alone would be huge
        while True:
            out = _outputs(cap)
            if scan:
                count = _kernels.scan(
                    queries, radius, self.codes, len(self), self.dead, self.n_dead > 0, *out
                )
            else:
                masks, pops = probe_masks(self.b, t)
                count = _kernels.probe(
                    queries,
                    radius,
                    t,
                    self.codes,
                    self.dirs,
                    self.entries,
                    self.b,
                    self.rowbits,
                    self.fbits,
                    masks,
                    masks.shape[0],
                    pops,
                    self.dead,
                    self.n_dead > 0,
                    *out,
                )
            if count <= cap:
                return Matches(out[0][:count], out[1][:count], out[2][:count])
            cap = count
