"""Exact Hamming-radius search over 256-bit codes (PDQ), with immediate adds and removes.

The index is a short list of immutable :class:`~shieldwall.index.segment.Segment` objects (each
with eight multi-index-hashing tables) plus a small mutable *delta* that is scanned by brute
force. An add goes to the delta and a remove sets a bit in a segment's bitmap (or deletes from
the delta), so both are visible to the very next query and nothing is rebuilt. A full delta
becomes a new small segment; small segments of similar size are merged, up to ``merge_limit``
rows, so a query visits few segments. :meth:`HammingIndex.compact` merges everything into one
segment; a long-running follower calls it now and then (it takes seconds at 10M hashes).

Example::

    index = HammingIndex()
    index.add(7, "f" * 64)
    index.search("f" * 63 + "e", radius=31)   # [Hit(id=7, distance=1)]
"""

from __future__ import annotations

import threading
from collections.abc import Iterable, Sequence
from typing import NamedTuple

import numpy as np
import numpy.typing as npt

from shieldwall.errors import MalformedSignal, NotFound, UsageError
from shieldwall.index import _kernels
from shieldwall.index.memory import trim_heap
from shieldwall.index.segment import (
    I64,
    MAX_SEGMENT_ROWS,
    U64,
    Matches,
    SearchMethod,
    Segment,
)

__all__ = ["CODE_BYTES", "CodeLike", "HammingIndex", "Hit", "as_code", "as_codes"]

CODE_BYTES = 32
MAX_RADIUS = 256

#: A 256-bit code: 64 hex digits, 32 bytes, or an array of four ``uint64`` words.
CodeLike = str | bytes | npt.NDArray[np.uint64]


class Hit(NamedTuple):
    """One stored hash within the radius: its id and its Hamming distance to the query."""

    id: int
    distance: int


def as_code(value: CodeLike) -> U64:
    """A code as four ``uint64`` words (big-endian words of the 32 bytes, in order).

    Raises :class:`~shieldwall.errors.MalformedSignal` for anything that is not 256 bits.
    """
    if isinstance(value, np.ndarray):
        if value.shape != (4,) or value.dtype != np.uint64:
            raise MalformedSignal(f"a 256-bit code array has shape (4,) uint64, not {value.shape}")
        return value
    if isinstance(value, str):
        if len(value) != 2 * CODE_BYTES:
            raise MalformedSignal(f"a 256-bit hash has 64 hex digits, not {len(value)}")
        try:
            value = bytes.fromhex(value)
        except ValueError as exc:
            raise MalformedSignal(f"not a hexadecimal hash: {value!r}") from exc
    if len(value) != CODE_BYTES:
        raise MalformedSignal(f"a 256-bit hash has 32 bytes, not {len(value)}")
    return np.frombuffer(value, dtype=">u8").astype(np.uint64)


def as_codes(values: Sequence[CodeLike] | npt.NDArray[np.generic]) -> U64:
    """Codes as a (q, 4) ``uint64`` array from (q, 32) ``uint8``, (q, 4) ``uint64`` or a list."""
    if isinstance(values, np.ndarray):
        if values.ndim == 2 and values.shape[1] == CODE_BYTES and values.dtype == np.uint8:
            return np.ascontiguousarray(values).view(">u8").astype(np.uint64)
        if values.ndim == 2 and values.shape[1] == 4 and values.dtype == np.uint64:
            return np.ascontiguousarray(values)
        raise MalformedSignal(f"codes must be (q, 32) uint8 or (q, 4) uint64, not {values.shape}")
    if len(values) == 0:
        return np.zeros((0, 4), np.uint64)
    return np.stack([as_code(v) for v in values])


def to_bytes(code: U64) -> bytes:
    """The 32 bytes of a code (inverse of :func:`as_code`)."""
    return code.astype(">u8").tobytes()


def _scan(codes: U64, n: int, queries: U64, radius: int) -> Matches:
    dead = np.zeros(0, np.uint64)
    cap = max(64, n)
    while True:
        out = (np.empty(cap, np.int64), np.empty(cap, np.int64), np.empty(cap, np.int64))
        count = _kernels.scan(queries, radius, codes, n, dead, False, *out)
        if count <= cap:
            return Matches(out[0][:count], out[1][:count], out[2][:count])
        cap = count


class HammingIndex:
    """Every stored 256-bit code within a Hamming radius of a query: exact, 100 % recall.

    Thread-safe: one lock serialises changes and queries. ``ids`` are the caller's integers
    (signal ids); the index does not require them to be unique, and it keeps one entry per
    :meth:`add`.
    """

    def __init__(
        self,
        *,
        delta_capacity: int = 4096,
        merge_limit: int = 1 << 14,
        compact_threshold: int | None = 1 << 15,
        search_method: SearchMethod = "auto",
    ) -> None:
        """``delta_capacity``: adds held in the brute-force delta before it becomes a segment.
        ``merge_limit``: the largest segment that a flush merges small segments into, in the
        caller's thread (a few milliseconds). ``compact_threshold``: when the segments other
        than the largest hold this many rows, and at least 1/32 of the largest, a background
        thread runs :meth:`compact` (``None``: never automatically). ``search_method``: how
        segments are searched (``"auto"``: tables for big segments, a scan for small ones;
        tests force either)."""
        if delta_capacity < 1:
            raise UsageError("delta_capacity must be at least 1")
        self._lock = threading.RLock()
        self._compact_lock = threading.Lock()
        self._segments: list[Segment] = []
        self._delta_capacity = delta_capacity
        self._merge_limit = merge_limit
        self._compact_threshold = compact_threshold
        self._compacting: set[int] = set()
        self._journal: list[tuple[int, U64]] = []
        self._compactor: threading.Thread | None = None
        self._method: SearchMethod = search_method
        self._delta_codes = np.zeros((delta_capacity, 4), np.uint64)
        self._delta_ids = np.zeros(delta_capacity, np.int64)
        self._delta_n = 0

    # -- reading -------------------------------------------------------------------------

    def __len__(self) -> int:
        """Number of live entries."""
        with self._lock:
            return sum(s.live for s in self._segments) + self._delta_n

    @property
    def segments(self) -> tuple[Segment, ...]:
        """The current immutable segments (for snapshots and diagnostics)."""
        with self._lock:
            return tuple(self._segments)

    def search(self, code: CodeLike, radius: int = 31) -> list[Hit]:
        """Every live entry within ``radius`` (inclusive) of ``code``, by distance then id."""
        return self.search_batch(as_code(code)[None, :], radius)[0]

    def search_batch(
        self, codes: Sequence[CodeLike] | npt.NDArray[np.generic], radius: int = 31
    ) -> list[list[Hit]]:
        """:meth:`search` for many codes at once: one list of hits per query, in order."""
        if not 0 <= radius <= MAX_RADIUS:
            raise UsageError(f"radius must be between 0 and {MAX_RADIUS}, not {radius}")
        queries = as_codes(codes)
        nq = queries.shape[0]
        qs, ids, ds = self.search_arrays(queries, radius)
        result: list[list[Hit]] = [[] for _ in range(nq)]
        if not qs.shape[0]:
            return result
        order = np.lexsort((ids, ds, qs))
        bounds = np.searchsorted(qs[order], np.arange(nq + 1)).tolist()
        id_list, d_list = ids[order].tolist(), ds[order].tolist()
        for qi in range(nq):
            lo, hi = bounds[qi], bounds[qi + 1]
            if lo < hi:
                result[qi] = list(map(Hit, id_list[lo:hi], d_list[lo:hi]))
        return result

    def search_arrays(
        self, codes: Sequence[CodeLike] | npt.NDArray[np.generic], radius: int = 31
    ) -> tuple[I64, I64, I64]:
        """:meth:`search_batch` as three arrays ``(query row, id, distance)``, unordered: for
        callers that aggregate many hits (no :class:`Hit` objects are made)."""
        if not 0 <= radius <= MAX_RADIUS:
            raise UsageError(f"radius must be between 0 and {MAX_RADIUS}, not {radius}")
        queries = as_codes(codes)
        parts_q: list[I64] = []
        parts_id: list[I64] = []
        parts_d: list[I64] = []
        with self._lock:
            for seg in self._segments:
                m = seg.search(queries, radius, self._method)
                if m.row.shape[0]:
                    parts_q.append(m.query)
                    parts_id.append(seg.ids_at(m.row))
                    parts_d.append(m.distance)
            if self._delta_n:
                m = _scan(self._delta_codes, self._delta_n, queries, radius)
                if m.row.shape[0]:
                    parts_q.append(m.query)
                    parts_id.append(self._delta_ids[m.row])
                    parts_d.append(m.distance)
        if not parts_q:
            empty = np.zeros(0, dtype=np.int64)
            return empty, empty.copy(), empty.copy()
        return np.concatenate(parts_q), np.concatenate(parts_id), np.concatenate(parts_d)

    def items(self) -> tuple[I64, U64]:
        """All live entries as ``(ids, codes)`` arrays (segment order, then the delta)."""
        with self._lock:
            ids = [s.ids_at(s.live_rows()) for s in self._segments]
            codes = [s.codes[s.live_rows()] for s in self._segments]
            ids.append(self._delta_ids[: self._delta_n].copy())
            codes.append(self._delta_codes[: self._delta_n].copy())
            return np.concatenate(ids), np.concatenate(codes)

    def nbytes(self) -> int:
        """Bytes held by the index's arrays (codes, ids, tables, bitmaps, delta)."""
        with self._lock:
            delta = self._delta_codes.nbytes + self._delta_ids.nbytes
            return sum(s.nbytes() for s in self._segments) + delta

    # -- changing ------------------------------------------------------------------------

    def add(self, id: int, code: CodeLike) -> None:
        """Store ``code`` under ``id`` (a 64-bit signed integer); visible to the next query."""
        c = as_code(code)
        if not -(1 << 63) <= id < 1 << 63:
            raise UsageError(f"index ids are 64-bit signed integers, not {id}")
        with self._lock:
            self._delta_codes[self._delta_n] = c
            self._delta_ids[self._delta_n] = id
            self._delta_n += 1
            if self._delta_n == self._delta_capacity:
                self._flush()

    def add_many(
        self, ids: Iterable[int] | I64, codes: Sequence[CodeLike] | npt.NDArray[np.generic]
    ) -> None:
        """Store many codes at once (a bulk load builds segments directly)."""
        arr = as_codes(codes)
        id_arr = np.asarray(list(ids) if not isinstance(ids, np.ndarray) else ids, np.int64)
        if id_arr.shape[0] != arr.shape[0]:
            raise UsageError(f"{id_arr.shape[0]} ids for {arr.shape[0]} codes")
        if arr.shape[0] < self._delta_capacity:
            for i in range(arr.shape[0]):
                self.add(int(id_arr[i]), arr[i])
            return
        with self._lock:
            for start in range(0, arr.shape[0], MAX_SEGMENT_ROWS):
                stop = start + MAX_SEGMENT_ROWS
                self._segments.append(Segment.build(arr[start:stop], id_arr[start:stop]))

    def remove(self, id: int, code: CodeLike) -> None:
        """Remove one entry stored under ``id`` with exactly this ``code``; visible at once.

        Raises :class:`~shieldwall.errors.NotFound` when there is no such live entry.
        """
        c = as_code(code)
        with self._lock:
            n = self._delta_n
            hit = np.flatnonzero(
                (self._delta_ids[:n] == id) & (self._delta_codes[:n] == c).all(axis=1)
            )
            if hit.shape[0]:
                i, last = int(hit[0]), n - 1
                self._delta_codes[i] = self._delta_codes[last]
                self._delta_ids[i] = self._delta_ids[last]
                self._delta_n = last
                return
            for seg in self._segments:
                m = seg.search(c[None, :], 0)
                for row in m.row.tolist():
                    if seg.id_of(row) == id:
                        seg.kill(row)
                        if seg_key(seg) in self._compacting:
                            self._journal.append((id, c))
                        if seg.live == 0:
                            self._segments.remove(seg)
                        return
        raise NotFound(f"no PDQ entry {id} with hash {to_bytes(c).hex()} in the index")

    def compact(self) -> None:
        """Merge all segments and the delta into one segment, dropping removed rows.

        The build (seconds at 10M hashes) runs without the lock: queries, adds and removes go
        on meanwhile against the old segments, and removes that hit them are replayed on the
        merged segment before it replaces them. One compaction runs at a time.
        """
        with self._compact_lock:
            with self._lock:
                if self._delta_n:
                    self._segments.append(self._delta_segment())
                old = list(self._segments)
                if len(old) <= 1 and not any(s.n_dead for s in old):
                    return
                rows = [s.live_rows() for s in old]
                self._compacting = {seg_key(s) for s in old}
                self._journal = []
            try:
                # Codes and ids of a segment never change, so the copy needs no lock.
                codes = np.concatenate([s.codes[r] for s, r in zip(old, rows, strict=True)])
                ids = np.concatenate([s.ids_at(r) for s, r in zip(old, rows, strict=True)])
                merged = [
                    Segment.build(codes[i : i + MAX_SEGMENT_ROWS], ids[i : i + MAX_SEGMENT_ROWS])
                    for i in range(0, ids.shape[0], MAX_SEGMENT_ROWS)
                ]
            except BaseException:
                with self._lock:
                    self._compacting = set()
                    self._journal = []
                raise
            with self._lock:
                for id_, code in self._journal:
                    _kill_one(merged, id_, code)
                replaced = {seg_key(s) for s in old}
                rest = [s for s in self._segments if seg_key(s) not in replaced]
                self._segments = [m for m in merged if m.live > 0] + rest
                self._compacting = set()
                self._journal = []
            # The old segments and the merge's temporaries are freed now; arrays under glibc's
            # (raised) mmap threshold went back to its heap, which keeps the pages unless asked.
            del old, rows, codes, ids, merged
            trim_heap()

    def wait_for_compaction(self) -> None:
        """Block until a background compaction started by a flush, if any, has finished."""
        thread = self._compactor
        if thread is not None:
            thread.join()

    def restore(self, segments: Iterable[Segment], delta_ids: I64, delta_codes: U64) -> None:
        """Replace the whole content (used when loading a snapshot)."""
        with self._lock:
            self._segments = [s for s in segments if s.live > 0]
            self._delta_n = 0
            for i in range(delta_ids.shape[0]):
                self.add(int(delta_ids[i]), delta_codes[i])

    def state(self) -> tuple[list[tuple[Segment, U64]], I64, U64]:
        """A consistent view for a snapshot: each segment with a copy of its removal bitmap,
        and copies of the delta's ids and codes, all taken under the lock."""
        with self._lock:
            segments = [(seg, seg.dead_bitmap()) for seg in self._segments]
            ids, codes = self.delta()
            return segments, ids, codes

    def delta(self) -> tuple[I64, U64]:
        """The entries still in the brute-force delta, as ``(ids, codes)`` copies."""
        with self._lock:
            n = self._delta_n
            return self._delta_ids[:n].copy(), self._delta_codes[:n].copy()

    def _delta_segment(self) -> Segment:
        n = self._delta_n
        seg = Segment.build(self._delta_codes[:n].copy(), self._delta_ids[:n].copy())
        self._delta_n = 0
        return seg

    def _flush(self) -> None:
        self._segments.append(self._delta_segment())
        segs = self._segments
        while len(segs) >= 2:
            a, b = segs[-2], segs[-1]
            if 2 * b.live < a.live or a.live + b.live > self._merge_limit:
                break
            if seg_key(a) in self._compacting or seg_key(b) in self._compacting:
                break
            ra, rb = a.live_rows(), b.live_rows()
            merged = Segment.build(
                np.concatenate([a.codes[ra], b.codes[rb]]),
                np.concatenate([a.ids_at(ra), b.ids_at(rb)]),
            )
            segs[-2:] = [merged]
        self._maybe_compact_in_background()

    def _maybe_compact_in_background(self) -> None:
        if self._compact_threshold is None or len(self._segments) < 2:
            return
        if self._compactor is not None and self._compactor.is_alive():
            return
        lives = [s.live for s in self._segments]
        # Relative to the largest segment too, so that a long run of adds costs O(n log n) in
        # compactions rather than O(n^2).
        if sum(lives) - max(lives) < max(self._compact_threshold, max(lives) // 32):
            return
        self._compactor = threading.Thread(
            target=self.compact, name="shieldwall-index-compact", daemon=True
        )
        self._compactor.start()


def seg_key(segment: Segment) -> int:
    """Identity of a segment object (segments are compared by identity, never by content)."""
    return id(segment)


def _kill_one(segments: list[Segment], id_: int, code: U64) -> None:
    for seg in segments:
        m = seg.search(code[None, :], 0)
        for row in m.row.tolist():
            if seg.id_of(row) == id_ and not seg.is_dead(row):
                seg.kill(row)
                return
