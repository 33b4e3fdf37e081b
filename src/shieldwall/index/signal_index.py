"""The matcher's whole in-memory index: PDQ by Hamming radius, MD5 and SHA-256 exactly.

It reflects the signal log up to :attr:`SignalIndex.seq`. A follower process keeps it in sync
by feeding it the log's new entries with :meth:`SignalIndex.apply`; a restart loads a snapshot
(:meth:`SignalIndex.load`) and then applies the log's tail after the snapshot's ``seq``.

Example::

    index = SignalIndex()
    index.apply([Change(1, ChangeOp.ADD, 7, "pdq", "f" * 64)])
    index.seq                                  # 1
    index.search_pdq("f" * 64)                 # [Hit(id=7, distance=0)]
    index.save(path)
    SignalIndex.load(path).seq                 # 1
"""

from __future__ import annotations

import threading
from collections.abc import Iterable
from pathlib import Path

from shieldwall.errors import Conflict, UnknownSignalType
from shieldwall.index import snapshot
from shieldwall.index.changes import Change, ChangeOp
from shieldwall.index.exact import ExactIndex
from shieldwall.index.hamming import CodeLike, HammingIndex, Hit

__all__ = ["EXACT_TYPES", "HAMMING_TYPES", "SignalIndex"]

#: Signal types searched by Hamming radius, and their code length in bytes.
HAMMING_TYPES = {"pdq": 32}
#: Signal types looked up exactly, and their digest length in bytes.
EXACT_TYPES = {"md5": 16, "sha256": 32}


class SignalIndex:
    """PDQ, MD5 and SHA-256 indexes plus the log sequence number they reflect."""

    def __init__(self, *, seq: int = 0, delta_capacity: int = 4096) -> None:
        """An empty index that reflects the log up to ``seq`` (0: nothing applied yet)."""
        self.seq = seq
        self.pdq = HammingIndex(delta_capacity=delta_capacity)
        self.exact = {name: ExactIndex(size) for name, size in EXACT_TYPES.items()}
        self._lock = threading.RLock()

    def __len__(self) -> int:
        """Live entries over all signal types."""
        return len(self.pdq) + sum(len(e) for e in self.exact.values())

    def add(self, signal_type: str, id: int, value: str | bytes) -> None:
        """Store one signal (does not move :attr:`seq`; :meth:`apply` does)."""
        if signal_type in HAMMING_TYPES:
            self.pdq.add(id, value)
        else:
            self._exact(signal_type).add(id, value)

    def remove(self, signal_type: str, id: int, value: str | bytes) -> None:
        """Remove one signal; raises :class:`~shieldwall.errors.NotFound` when absent."""
        if signal_type in HAMMING_TYPES:
            self.pdq.remove(id, value)
        else:
            self._exact(signal_type).remove(id, value)

    def apply(self, changes: Iterable[Change]) -> int:
        """Apply log entries in ``seq`` order and return how many were applied.

        Entries at or below :attr:`seq` are skipped (already reflected), so replaying an
        overlapping tail is harmless. ``seq`` advances after each applied entry: when one fails
        (:class:`~shieldwall.errors.NotFound`, :class:`~shieldwall.errors.MalformedSignal`,
        ...), everything before it stays applied and the caller can resume or rebuild. An entry
        whose ``seq`` is below one already applied in the same call raises
        :class:`~shieldwall.errors.Conflict`.
        """
        applied = 0
        with self._lock:
            for change in changes:
                if change.seq <= self.seq:
                    if applied:
                        raise Conflict(
                            f"log entry {change.seq} comes after {self.seq}: changes must be "
                            "in ascending seq order"
                        )
                    continue
                if change.op == ChangeOp.ADD:
                    self.add(change.signal_type, change.id, change.value)
                elif change.op == ChangeOp.REMOVE:
                    self.remove(change.signal_type, change.id, change.value)
                else:  # pragma: no cover - the enum has two members
                    raise Conflict(f"unknown log operation {change.op!r}")
                self.seq = change.seq
                applied += 1
        return applied

    def search_pdq(self, code: CodeLike, radius: int = 31) -> list[Hit]:
        """Every PDQ entry within ``radius`` of ``code``, by distance then id."""
        return self.pdq.search(code, radius)

    def lookup(self, signal_type: str, value: str | bytes) -> list[int]:
        """Ids of entries of an exact type (``md5``, ``sha256``) equal to ``value``."""
        return self._exact(signal_type).lookup(value)

    def save(self, path: Path) -> None:
        """Write a snapshot file (see :mod:`shieldwall.index.snapshot`), atomically."""
        with self._lock:
            snapshot.write(self, path)

    @classmethod
    def load(cls, path: Path) -> SignalIndex:
        """Read a snapshot file; raises :class:`~shieldwall.errors.SnapshotError` if unusable."""
        content = snapshot.read(path)
        index = cls(seq=content.seq)
        index.pdq.restore(content.segments, content.delta_ids, content.delta_codes)
        for name, (ids, digests) in content.exact.items():
            for i in range(ids.shape[0]):
                index.exact[name].add(int(ids[i]), digests[i].tobytes())
        return index

    def _exact(self, signal_type: str) -> ExactIndex:
        try:
            return self.exact[signal_type]
        except KeyError:
            known = ", ".join([*HAMMING_TYPES, *EXACT_TYPES])
            raise UnknownSignalType(
                f"the index holds no signal type {signal_type!r} (it holds {known})"
            ) from None
