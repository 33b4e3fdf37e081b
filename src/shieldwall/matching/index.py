"""The in-memory index matching searches, and how it follows the signal log.

:class:`SignalIndexLike` is the whole interface matching needs. :class:`BruteForceIndex` is an
exact NumPy implementation (XOR and popcount over every stored PDQ code), the reference the
other is tested against; :func:`default_index` gives :class:`MultiIndex`, the
multi-index-hashing index of :mod:`shieldwall.index` with snapshot files. Every implementation
must pass ``tests/matching/test_index_contract.py``.

An index is derived, never authoritative: :func:`build_index` fills one from the live signals
and the log head, and :func:`follow` applies the log entries written since, so a process sees
other processes' changes without rebuilding anything.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path
from typing import NamedTuple, Protocol, runtime_checkable

import numpy as np
import numpy.typing as npt
from sqlalchemy import select
from sqlalchemy.orm import Session

from shieldwall.errors import SnapshotError
from shieldwall.index import Change, ChangeOp, SignalIndex
from shieldwall.matching.video import INDEXED_HERE as VIDEO_INDEXED
from shieldwall.store import BankSignal, Database, LogEntry, LogOp, signal_log

__all__ = [
    "HAMMING_TYPES",
    "BruteForceIndex",
    "IndexHit",
    "MultiIndex",
    "SignalIndexLike",
    "apply_entries",
    "build_index",
    "default_index",
    "follow",
    "load_index",
    "pdq_codes",
    "snapshot_path",
]

#: Signal types searched by Hamming radius (every other type is looked up exactly).
HAMMING_TYPES = frozenset({"pdq"})
#: Log entries read per query when following.
FOLLOW_BATCH = 10_000

U64 = npt.NDArray[np.uint64]


class IndexHit(NamedTuple):
    """A stored signal id and its distance to the query."""

    id: int
    distance: int


@runtime_checkable
class SignalIndexLike(Protocol):
    """What matching needs of an in-memory index of bank signals (ids are ``bank_signal.id``).

    To implement one: keep ``seq`` as the last log entry reflected; ``apply`` entries in order,
    skipping those at or below ``seq``; ``add`` without moving ``seq`` (used to build from the
    live signals); ``search`` returns every stored id within ``radius`` (exact types: equal).
    """

    seq: int

    def apply(self, entries: Sequence[LogEntry]) -> int:
        """Apply log entries after :attr:`seq` in order; returns how many were applied."""
        ...

    def add(self, signal_type: str, id: int, value: str) -> None:
        """Store one signal (does not move :attr:`seq`)."""
        ...

    def search(self, signal_type: str, value: str, radius: int) -> list[IndexHit]:
        """Every stored signal of ``signal_type`` within ``radius`` of ``value``."""
        ...

    def __len__(self) -> int:
        """Signals stored."""
        ...


def pdq_codes(values: Sequence[str]) -> U64:
    """64-hex-digit PDQ values as an ``(n, 4)`` uint64 array (big-endian words)."""
    if not values:
        return np.zeros((0, 4), dtype=np.uint64)
    raw = np.frombuffer(bytes.fromhex("".join(values)), dtype=">u8").reshape(len(values), 4)
    return raw.astype(np.uint64)


class BruteForceIndex:
    """Exact index: PDQ by XOR + popcount over every stored code, other types by equality.

    Adds and removes are O(1) (a removed row is swapped with the last); a search costs one pass
    over the codes (about 32 bytes per hash), which is fine to a few million hashes.
    """

    def __init__(self, *, seq: int = 0) -> None:
        self.seq = seq
        self._codes: U64 = np.zeros((1024, 4), dtype=np.uint64)
        self._ids: list[int] = []
        self._row: dict[int, int] = {}
        self._exact: dict[tuple[str, str], set[int]] = {}

    def __len__(self) -> int:
        return len(self._ids) + sum(len(v) for v in self._exact.values())

    def add(self, signal_type: str, id: int, value: str) -> None:
        if signal_type not in HAMMING_TYPES:
            self._exact.setdefault((signal_type, value), set()).add(id)
            return
        code = pdq_codes([value])[0]
        row = self._row.get(id)
        if row is None:
            row = len(self._ids)
            if row == self._codes.shape[0]:
                self._codes = np.concatenate([self._codes, np.zeros_like(self._codes)])
            self._ids.append(id)
            self._row[id] = row
        self._codes[row] = code

    def remove(self, signal_type: str, id: int, value: str) -> None:
        """Forget one signal; absent ids are ignored (replaying a tombstone is harmless)."""
        if signal_type not in HAMMING_TYPES:
            ids = self._exact.get((signal_type, value))
            if ids is not None:
                ids.discard(id)
                if not ids:
                    del self._exact[(signal_type, value)]
            return
        row = self._row.pop(id, None)
        if row is None:
            return
        last = len(self._ids) - 1
        if row != last:
            moved = self._ids[last]
            self._ids[row] = moved
            self._codes[row] = self._codes[last]
            self._row[moved] = row
        self._ids.pop()

    def apply(self, entries: Sequence[LogEntry]) -> int:
        applied = 0
        for entry in entries:
            if entry.seq <= self.seq:
                continue
            if entry.op is LogOp.ADD:
                self.add(entry.signal_type, entry.signal_id, entry.value)
            else:
                self.remove(entry.signal_type, entry.signal_id, entry.value)
            self.seq = entry.seq
            applied += 1
        return applied

    def search(self, signal_type: str, value: str, radius: int) -> list[IndexHit]:
        if signal_type not in HAMMING_TYPES:
            return [IndexHit(i, 0) for i in sorted(self._exact.get((signal_type, value), ()))]
        n = len(self._ids)
        if n == 0:
            return []
        query = pdq_codes([value])[0]
        distances = np.bitwise_count(self._codes[:n] ^ query).sum(axis=1, dtype=np.int64)
        rows = np.flatnonzero(distances <= radius)
        hits = [IndexHit(self._ids[r], int(distances[r])) for r in rows]
        hits.sort(key=lambda h: (h.distance, h.id))
        return hits


#: Makes an empty index at a given log seq.
IndexFactory = Callable[[int], SignalIndexLike]


class MultiIndex:
    """:class:`shieldwall.index.SignalIndex` (exact multi-index hashing, snapshot files) behind
    :class:`SignalIndexLike`: log entries and hits are translated, nothing else."""

    def __init__(self, inner: SignalIndex) -> None:
        self.inner = inner

    @property
    def seq(self) -> int:
        """The last log entry the index reflects."""
        return self.inner.seq

    @seq.setter
    def seq(self, value: int) -> None:
        self.inner.seq = value

    def __len__(self) -> int:
        return len(self.inner)

    def add(self, signal_type: str, id: int, value: str) -> None:
        self.inner.add(signal_type, id, value)

    def apply(self, entries: Sequence[LogEntry]) -> int:
        return self.inner.apply(
            Change(e.seq, ChangeOp(e.op.value), e.signal_id, e.signal_type, e.value)
            for e in entries
        )

    def search(self, signal_type: str, value: str, radius: int) -> list[IndexHit]:
        if signal_type in HAMMING_TYPES:
            return [IndexHit(h.id, h.distance) for h in self.inner.search_pdq(value, radius)]
        return [IndexHit(i, 0) for i in sorted(self.inner.lookup(signal_type, value))]

    def save(self, path: Path) -> None:
        """Write a snapshot file (atomically)."""
        self.inner.save(path)

    @classmethod
    def load(cls, path: Path) -> MultiIndex:
        """Read a snapshot file; :class:`~shieldwall.errors.SnapshotError` when unusable."""
        return cls(SignalIndex.load(path))


def default_index(seq: int = 0) -> SignalIndexLike:
    """An empty index at ``seq``: the multi-index-hashing :class:`MultiIndex`."""
    return MultiIndex(SignalIndex(seq=seq))


def _consistent(session: Session) -> None:
    """Read the live signals and the log head from one snapshot (PostgreSQL: repeatable read)."""
    if session.get_bind().dialect.name == "postgresql":
        session.connection(execution_options={"isolation_level": "REPEATABLE READ"})


def build_index(db: Database, factory: IndexFactory = default_index) -> SignalIndexLike:
    """An index of every live bank signal, at the log's current head."""
    with db.session() as session:
        _consistent(session)
        head = signal_log.head(session)
        index = factory(head)
        rows = session.execute(
            select(BankSignal.id, BankSignal.type, BankSignal.value)
            .where(BankSignal.live, BankSignal.type.not_in(VIDEO_INDEXED))
            .order_by(BankSignal.id)
            .execution_options(yield_per=50_000)
        )
        for signal_id, signal_type, value in rows:
            index.add(signal_type, signal_id, value)
    return index


def snapshot_path(db: Database, data_dir: Path) -> Path:
    """Where this database's index snapshot lives: named by the database's instance id, so a
    snapshot is never loaded for another database."""
    return data_dir / "index" / f"signals-{db.instance_id()}.snapshot"


def load_index(db: Database, path: Path) -> tuple[SignalIndexLike, bool]:
    """The index saved at ``path`` brought up to date by following the log, or (missing,
    damaged, ahead of the database) one rebuilt from the live signals. Returns the index and
    whether it came from the snapshot."""
    try:
        index: SignalIndexLike = MultiIndex.load(path)
    except SnapshotError:
        return build_index(db), False
    with db.session() as session:
        head = signal_log.head(session)
    if index.seq > head:  # a snapshot of a state this database never had: do not trust it
        return build_index(db), False
    follow(db, index)
    return index, True


def apply_entries(index: SignalIndexLike, entries: Sequence[LogEntry]) -> int:
    """Apply log entries to ``index``, passing over the video ones (vpdq, video_md5: the
    matcher's :class:`~shieldwall.matching.video.VideoSignals` holds those), and move its
    ``seq`` to the last entry. Returns how many entries the index applied."""
    applied = index.apply([e for e in entries if e.signal_type not in VIDEO_INDEXED])
    if entries and entries[-1].seq > index.seq:
        index.seq = entries[-1].seq
    return applied


def follow(db: Database, index: SignalIndexLike) -> int:
    """Apply every log entry after ``index.seq``; returns how many were applied (video
    entries are passed over: see :func:`apply_entries`)."""
    applied = 0
    while True:
        with db.session() as session:
            entries = signal_log.read_after(session, index.seq, FOLLOW_BATCH)
        if not entries:
            return applied
        applied += apply_entries(index, entries)
        if len(entries) < FOLLOW_BATCH:
            return applied
