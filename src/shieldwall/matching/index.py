"""The in-memory index matching searches, and how it follows the signal log.

It holds the signal types whose declared index is exact or Hamming
(:func:`indexed_here`); a video's frame set is held by
:class:`~shieldwall.matching.video.VideoSignals`. :class:`SignalIndexLike` is the whole
interface matching needs. :class:`BruteForceIndex` is an exact NumPy implementation (XOR and
popcount over every stored code of each Hamming type), the reference the other is tested
against; :func:`default_index` gives :class:`MultiIndex`, the
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
from shieldwall.index import FORMAT_VERSION, Change, ChangeOp, SignalIndex
from shieldwall.signals import IndexKind, all_signal_types, get_signal_type
from shieldwall.store import BankSignal, Database, LogEntry, LogOp, signal_log
from shieldwall.store.sealing import Keyring

__all__ = [
    "BruteForceIndex",
    "IndexHit",
    "MultiIndex",
    "SignalIndexLike",
    "apply_entries",
    "build_index",
    "default_index",
    "follow",
    "indexed_here",
    "load_index",
    "pdq_codes",
    "snapshot_path",
]

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

    def search_many(
        self, signal_type: str, values: Sequence[str], radius: int
    ) -> list[list[IndexHit]]:
        """:meth:`search` for many values of one type at once (an upload and its variants):
        one list of hits per value, in order."""
        ...

    def __len__(self) -> int:
        """Signals stored."""
        ...


def indexed_here() -> frozenset[str]:
    """The registered signal types this index holds: those served by an exact or a Hamming
    index (a frame set is held by :class:`~shieldwall.matching.video.VideoSignals`)."""
    return frozenset(
        t.name for t in all_signal_types() if t.index in (IndexKind.EXACT, IndexKind.HAMMING)
    )


def _is_hamming(signal_type: str) -> bool:
    return get_signal_type(signal_type).index is IndexKind.HAMMING


def pdq_codes(values: Sequence[str]) -> U64:
    """64-hex-digit 256-bit codes (PDQ, or any Hamming type's) as an ``(n, 4)`` uint64 array
    (big-endian words)."""
    if not values:
        return np.zeros((0, 4), dtype=np.uint64)
    raw = np.frombuffer(bytes.fromhex("".join(values)), dtype=">u8").reshape(len(values), 4)
    return raw.astype(np.uint64)


class _Codes:
    """One Hamming type's codes, brute force."""

    def __init__(self) -> None:
        self.codes: U64 = np.zeros((1024, 4), dtype=np.uint64)
        self.ids: list[int] = []
        self.row: dict[int, int] = {}


class BruteForceIndex:
    """Exact index: each Hamming type by XOR + popcount over every stored code, exact types by
    equality.

    Adds and removes are O(1) (a removed row is swapped with the last); a search costs one pass
    over the codes (about 32 bytes per hash), which is fine to a few million hashes.
    """

    def __init__(self, *, seq: int = 0) -> None:
        self.seq = seq
        self._hamming: dict[str, _Codes] = {}
        self._exact: dict[tuple[str, str], set[int]] = {}

    def __len__(self) -> int:
        return sum(len(c.ids) for c in self._hamming.values()) + sum(
            len(v) for v in self._exact.values()
        )

    def add(self, signal_type: str, id: int, value: str) -> None:
        if not _is_hamming(signal_type):
            self._exact.setdefault((signal_type, value), set()).add(id)
            return
        part = self._hamming.setdefault(signal_type, _Codes())
        code = pdq_codes([value])[0]
        row = part.row.get(id)
        if row is None:
            row = len(part.ids)
            if row == part.codes.shape[0]:
                part.codes = np.concatenate([part.codes, np.zeros_like(part.codes)])
            part.ids.append(id)
            part.row[id] = row
        part.codes[row] = code

    def remove(self, signal_type: str, id: int, value: str) -> None:
        """Forget one signal; absent ids are ignored (replaying a tombstone is harmless)."""
        if not _is_hamming(signal_type):
            ids = self._exact.get((signal_type, value))
            if ids is not None:
                ids.discard(id)
                if not ids:
                    del self._exact[(signal_type, value)]
            return
        part = self._hamming.get(signal_type)
        row = None if part is None else part.row.pop(id, None)
        if part is None or row is None:
            return
        last = len(part.ids) - 1
        if row != last:
            moved = part.ids[last]
            part.ids[row] = moved
            part.codes[row] = part.codes[last]
            part.row[moved] = row
        part.ids.pop()

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
        if not _is_hamming(signal_type):
            return [IndexHit(i, 0) for i in sorted(self._exact.get((signal_type, value), ()))]
        part = self._hamming.get(signal_type)
        n = 0 if part is None else len(part.ids)
        if part is None or n == 0:
            return []
        query = pdq_codes([value])[0]
        distances = np.bitwise_count(part.codes[:n] ^ query).sum(axis=1, dtype=np.int64)
        rows = np.flatnonzero(distances <= radius)
        hits = [IndexHit(part.ids[r], int(distances[r])) for r in rows]
        hits.sort(key=lambda h: (h.distance, h.id))
        return hits

    def search_many(
        self, signal_type: str, values: Sequence[str], radius: int
    ) -> list[list[IndexHit]]:
        return [self.search(signal_type, v, radius) for v in values]


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
        return [IndexHit(h.id, h.distance) for h in self.inner.search(signal_type, value, radius)]

    def search_many(
        self, signal_type: str, values: Sequence[str], radius: int
    ) -> list[list[IndexHit]]:
        return [
            [IndexHit(h.id, h.distance) for h in hits]
            for hits in self.inner.search_many(signal_type, values, radius)
        ]

    def save(self, path: Path, *, keyring: Keyring | None = None) -> None:
        """Write a snapshot file (atomically), sealed when ``keyring`` is given."""
        self.inner.save(path, keyring=keyring)

    @classmethod
    def load(cls, path: Path, *, keyring: Keyring | None = None) -> MultiIndex:
        """Read a snapshot file; :class:`~shieldwall.errors.SnapshotError` when unusable."""
        return cls(SignalIndex.load(path, keyring=keyring))


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
            .where(BankSignal.live, BankSignal.type.in_(indexed_here()))
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
    damaged, ahead of the database, or of an older format) one rebuilt from the live signals.
    Returns the index and whether it came from the snapshot.

    A snapshot of an older format is rebuilt rather than followed: before format 3 the log's
    ``video_md5`` entries (now ``md5``) were not in the snapshot, so following on from it would
    miss them."""
    try:
        loaded = MultiIndex.load(path, keyring=db.keyring)
    except SnapshotError:
        return build_index(db), False
    if loaded.inner.format_version < FORMAT_VERSION:
        return build_index(db), False
    index: SignalIndexLike = loaded
    with db.session() as session:
        head = signal_log.head(session)
    if index.seq > head:  # a snapshot of a state this database never had: do not trust it
        return build_index(db), False
    follow(db, index)
    return index, True


def apply_entries(index: SignalIndexLike, entries: Sequence[LogEntry]) -> int:
    """Apply log entries to ``index``, passing over the types it does not hold (a frame set:
    the matcher's :class:`~shieldwall.matching.video.VideoSignals` holds those), and move its
    ``seq`` to the last entry. Returns how many entries the index applied."""
    here = indexed_here()
    applied = index.apply([e for e in entries if e.signal_type in here])
    if entries and entries[-1].seq > index.seq:
        index.seq = entries[-1].seq
    return applied


def follow(db: Database, index: SignalIndexLike) -> int:
    """Apply every log entry after ``index.seq``; returns how many were applied (frame-set
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
