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
U8 = npt.NDArray[np.uint8]
I64 = npt.NDArray[np.int64]
#: Ids as stored in a segment, less the segment's ``id_base``: (n, 3) ``uint8`` (little-endian
#: 24-bit offsets) when they span less than 2**24, else (n,) ``uint32`` or ``int64``.
IdData = U8 | U32 | I64
U16 = npt.NDArray[np.uint16]

#: How a segment is searched: through its tables, by a plain scan, or whichever is cheaper.
SearchMethod = Literal["auto", "probe", "scan"]

#: Most rows one segment holds: a row number and a fragment of at least 4 bits share a uint32.
MAX_SEGMENT_ROWS = 1 << 28

#: Largest number of buckets sharing one ``uint32`` base in a directory (2**11).
MAX_DIR_SHIFT = 11
#: Smallest such block (2**4 buckets).
MIN_DIR_SHIFT = 4
#: A block base with this bit set is an index into the overflow array instead (see pack_dirs).
DIR_OVERFLOW = _kernels.DIR_OVERFLOW

__all__ = [
    "MAX_SEGMENT_ROWS",
    "Matches",
    "SearchMethod",
    "Segment",
    "bucket_bits",
    "pack_dirs",
    "pack_ids",
    "probe_masks",
    "unpack_dirs",
    "unpack_ids",
]


def bucket_bits(n: int) -> int:
    """Directory bits for ``n`` rows: about 16 to 32 rows a bucket, so directories stay small."""
    if n < 64:
        return 1
    return max(1, min(24, n.bit_length() - 1 - 4))


def pack_ids(ids: I64) -> tuple[IdData, int]:
    """``ids`` as compact offsets from a base: 3 bytes each when they span less than 2**24,
    4 when less than 2**32, else the ``int64`` ids themselves (base 0)."""
    if ids.shape[0] == 0:
        return np.zeros((0, 3), np.uint8), 0
    lo, hi = int(ids.min()), int(ids.max())
    if hi - lo < 1 << 24:
        off = (ids - lo).astype("<u4")
        return np.ascontiguousarray(off.view(np.uint8).reshape(-1, 4)[:, :3]), lo
    if hi - lo < 1 << 32:
        return (ids - lo).astype(np.uint32), lo
    return np.ascontiguousarray(ids, dtype=np.int64), 0


def unpack_ids(id_data: IdData, id_base: int, rows: I64) -> I64:
    """The ids of ``rows`` (inverse of :func:`pack_ids`)."""
    if id_data.ndim == 2:
        ids: I64 = _kernels.gather_ids24(id_data, id_base, np.asarray(rows, np.int64))
        return ids
    return id_base + id_data[rows].astype(np.int64)


def _blocks(width: int, shift: int) -> tuple[I64, I64]:
    """First and last directory index of each block of ``2**shift``."""
    first = np.arange(0, width, 1 << shift, dtype=np.int64)
    return first, np.minimum(first + (1 << shift) - 1, width - 1)


def pack_dirs(dirs: U32) -> tuple[U16, U32, U32, int]:
    """Bucket directories (8, 2**b + 1) ``uint32`` as ``(rel, base, over, shift)``.

    ``dirs[i, k] == base[i, k >> shift] + rel[i, k]``: ``uint16`` offsets from a base per block
    of ``2**shift`` buckets. A block spanning 2**16 rows or more (a bucket of heavily
    duplicated codes) has ``DIR_OVERFLOW | j`` as its base instead, and its starts are the
    ``uint32`` values ``over[j + k % 2**shift]``. ``shift`` is the one needing fewest bytes.
    """
    tables, width = dirs.shape
    wide = dirs.astype(np.int64)
    best: tuple[int, int] = (-1, MAX_DIR_SHIFT)
    for shift in range(MIN_DIR_SHIFT, MAX_DIR_SHIFT + 1):
        first, last = _blocks(width, shift)
        n_over = int((wide[:, last] - wide[:, first] >= 1 << 16).sum())
        cost = tables * first.shape[0] * 4 + n_over * (1 << shift) * 4
        if best[0] < 0 or cost < best[0]:
            best = (cost, shift)
    shift = best[1]
    idx = np.arange(width)
    base = np.ascontiguousarray(dirs[:, :: 1 << shift])
    rel = wide - base[:, idx >> shift]
    first, last = _blocks(width, shift)
    over: list[U32] = []
    used = 0
    for i, blk in zip(*np.nonzero(wide[:, last] - wide[:, first] >= 1 << 16), strict=True):
        lo, hi = int(first[blk]), int(last[blk]) + 1
        over.append(np.ascontiguousarray(dirs[i, lo:hi]))
        base[i, blk] = DIR_OVERFLOW | used
        rel[i, lo:hi] = 0
        used += hi - lo
    packed = np.concatenate(over) if over else np.zeros(0, np.uint32)
    return rel.astype(np.uint16), base, packed.astype(np.uint32), shift


def unpack_dirs(rel: U16, base: U32, over: U32, shift: int) -> I64:
    """Absolute bucket starts (inverse of :func:`pack_dirs`), as ``int64``.

    Raises ``ValueError`` when an overflow base points outside ``over``.
    """
    idx = np.arange(rel.shape[1])
    b = base[:, idx >> shift].astype(np.int64)
    out = b + rel.astype(np.int64)
    flagged = b >= DIR_OVERFLOW
    if flagged.any():
        pos = (b - DIR_OVERFLOW + (idx & ((1 << shift) - 1)))[flagged]
        if pos.max() >= over.shape[0]:
            raise ValueError("a directory block points outside the overflow array")
        out[flagged] = over[pos]
    return out


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

    Rows are in the order of their first 32-bit substring, so table 0 needs no entries: its
    bucket ``k`` is the row range from bucket start ``k`` to bucket start ``k + 1``. ``codes``
    is (n, 4) ``uint64``; ``id_data`` the ids less ``id_base`` (see :func:`pack_ids`);
    ``dirs``, ``dir_base``, ``dir_over`` and ``dir_shift`` the bucket starts of the eight tables
    (see :func:`pack_dirs`; :meth:`abs_dirs` unpacks them); ``entries`` (7, n) ``uint32`` for
    tables 1..7; ``dead`` a bitmap of removed rows, allocated on the first removal.
    """

    codes: U64
    id_data: IdData
    id_base: int
    b: int
    rowbits: int
    fbits: int
    dirs: U16
    dir_base: U32
    dir_over: U32
    dir_shift: int
    entries: U32
    dead: U64 = field(default_factory=lambda: np.zeros(0, np.uint64))
    n_dead: int = 0

    def __post_init__(self) -> None:
        if self.dead.shape[0] != (len(self) + 63) // 64 or self.n_dead == 0:
            self.dead = np.zeros(0, np.uint64)
            self.n_dead = 0

    @classmethod
    def build(cls, codes: U64, ids: npt.NDArray[np.integer]) -> Segment:
        """A segment holding ``codes`` (n, 4) ``uint64`` under ``ids`` (n,)."""
        n = codes.shape[0]
        if n > MAX_SEGMENT_ROWS:
            raise ValueError(f"a segment holds at most {MAX_SEGMENT_ROWS} rows, not {n}")
        b = bucket_bits(n)
        unsorted = np.ascontiguousarray(codes, dtype=np.uint64)
        codes = np.empty_like(unsorted)
        order = _kernels.sort_by_substring0(unsorted, b, codes)
        id_data, id_base = pack_ids(np.asarray(ids, dtype=np.int64)[order])
        rowbits = max(1, (n - 1).bit_length())
        fbits = max(0, min(32 - rowbits, 32 - b))
        dirs = np.empty((_kernels.TABLES, (1 << b) + 1), np.uint32)
        entries = np.empty((_kernels.TABLES - 1, n), np.uint32)
        _kernels.build_tables(codes, b, rowbits, fbits, dirs, entries)
        rel, base, over, shift = pack_dirs(dirs)
        return cls(codes, id_data, id_base, b, rowbits, fbits, rel, base, over, shift, entries)

    def __len__(self) -> int:
        return int(self.codes.shape[0])

    @property
    def live(self) -> int:
        """Rows not removed."""
        return len(self) - self.n_dead

    def is_dead(self, row: int) -> bool:
        """Whether ``row`` was removed."""
        return self.n_dead > 0 and bool((int(self.dead[row >> 6]) >> (row & 63)) & 1)

    def kill(self, row: int) -> None:
        """Mark ``row`` removed (idempotent)."""
        if not self.is_dead(row):
            if self.n_dead == 0:
                self.dead = np.zeros((len(self) + 63) // 64, np.uint64)
            self.dead[row >> 6] |= np.uint64(1 << (row & 63))
            self.n_dead += 1

    def dead_bitmap(self) -> U64:
        """A copy of the removal bitmap, ``ceil(n / 64)`` words (zeros when nothing removed)."""
        if self.n_dead == 0:
            return np.zeros((len(self) + 63) // 64, np.uint64)
        return self.dead.copy()

    def ids_at(self, rows: I64) -> I64:
        """The ids of ``rows``."""
        return unpack_ids(self.id_data, self.id_base, rows)

    def id_of(self, row: int) -> int:
        """The id of one row."""
        return int(self.ids_at(np.array([row], np.int64))[0])

    def abs_dirs(self) -> I64:
        """The bucket directories as absolute row offsets (8, 2**b + 1), ``int64``."""
        return unpack_dirs(self.dirs, self.dir_base, self.dir_over, self.dir_shift)

    def live_rows(self) -> I64:
        """Row numbers not removed, ascending."""
        if self.n_dead == 0:
            return np.arange(len(self), dtype=np.int64)
        bits = np.unpackbits(self.dead.view(np.uint8), bitorder="little")[: len(self)]
        return np.flatnonzero(bits == 0).astype(np.int64)

    def nbytes(self) -> int:
        """Bytes held by the segment's arrays."""
        arrays = (self.codes, self.id_data, self.entries, self.dead)
        return sum(a.nbytes for a in arrays) + self.dirs_nbytes()

    def dirs_nbytes(self) -> int:
        """Bytes held by the bucket directories (offsets, bases, overflow)."""
        return self.dirs.nbytes + self.dir_base.nbytes + self.dir_over.nbytes

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
                    self.dir_base,
                    self.dir_over,
                    self.dir_shift,
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
