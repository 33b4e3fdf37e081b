"""The matcher's whole in-memory index: one Hamming index per Hamming signal type (PDQ), one
exact index per exact type (MD5, SHA-256), chosen by each type's declared capabilities.

It reflects the signal log up to :attr:`SignalIndex.seq`. A follower process keeps it in sync
by feeding it the log's new entries with :meth:`SignalIndex.apply`; a restart loads a snapshot
(:meth:`SignalIndex.load`) and then applies the log's tail after the snapshot's ``seq``.

Example::

    index = SignalIndex()
    index.apply([Change(1, ChangeOp.ADD, 7, "pdq", "f" * 64)])
    index.seq                                  # 1
    index.search("pdq", "f" * 64)              # [Hit(id=7, distance=0)]
    index.save(path)
    SignalIndex.load(path).seq                 # 1
"""

from __future__ import annotations

import threading
from collections.abc import Iterable, Sequence
from pathlib import Path

from shieldwall.errors import Conflict, UnknownSignalType
from shieldwall.index import snapshot
from shieldwall.index.changes import Change, ChangeOp
from shieldwall.index.exact import ExactIndex
from shieldwall.index.hamming import CodeLike, HammingIndex, Hit
from shieldwall.signals import IndexKind, SignalType, get_signal_type
from shieldwall.store.sealing import Keyring

__all__ = ["SignalIndex"]


class SignalIndex:
    """A Hamming or exact index per signal type, plus the log sequence number they reflect.

    The part for a type is made on its first signal, from what the type declares
    (:attr:`~shieldwall.signals.SignalType.index` and ``code_bytes``); a type served by
    another index (a video's frame set) raises :class:`~shieldwall.errors.UnknownSignalType`.
    """

    def __init__(self, *, seq: int = 0, delta_capacity: int = 4096) -> None:
        """An empty index that reflects the log up to ``seq`` (0: nothing applied yet)."""
        self.seq = seq
        self.delta_capacity = delta_capacity
        #: Hamming indexes by signal type name.
        self.hamming_parts: dict[str, HammingIndex] = {}
        #: Exact indexes by signal type name.
        self.exact: dict[str, ExactIndex] = {}
        #: The snapshot format version this index was loaded from (the current one when new).
        self.format_version = snapshot.FORMAT_VERSION
        self._lock = threading.RLock()

    def __len__(self) -> int:
        """Live entries over all signal types."""
        return sum(len(h) for h in self.hamming_parts.values()) + sum(
            len(e) for e in self.exact.values()
        )

    def hamming(self, signal_type: str) -> HammingIndex:
        """The Hamming index of ``signal_type`` (made empty on first use)."""
        part = self.hamming_parts.get(signal_type)
        if part is None:
            kind = self._kind(signal_type, IndexKind.HAMMING)
            part = self.hamming_parts.setdefault(
                kind.name, HammingIndex(delta_capacity=self.delta_capacity)
            )
        return part

    def exact_part(self, signal_type: str) -> ExactIndex:
        """The exact index of ``signal_type`` (made empty on first use)."""
        part = self.exact.get(signal_type)
        if part is None:
            kind = self._kind(signal_type, IndexKind.EXACT)
            part = self.exact.setdefault(kind.name, ExactIndex(kind.code_bytes))
        return part

    def add(self, signal_type: str, id: int, value: str | bytes) -> None:
        """Store one signal (does not move :attr:`seq`; :meth:`apply` does)."""
        if self._index_of(signal_type) is IndexKind.HAMMING:
            self.hamming(signal_type).add(id, value)
        else:
            self.exact_part(signal_type).add(id, value)

    def remove(self, signal_type: str, id: int, value: str | bytes) -> None:
        """Remove one signal; raises :class:`~shieldwall.errors.NotFound` when absent."""
        if self._index_of(signal_type) is IndexKind.HAMMING:
            self.hamming(signal_type).remove(id, value)
        else:
            self.exact_part(signal_type).remove(id, value)

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

    def search(self, signal_type: str, code: CodeLike, radius: int = 31) -> list[Hit]:
        """Every entry of a Hamming type within ``radius`` of ``code``, by distance then id;
        for an exact type, the entries equal to ``code`` (distance 0), by id."""
        if self._index_of(signal_type) is IndexKind.EXACT:
            if isinstance(code, str | bytes):
                return [Hit(i, 0) for i in sorted(self.lookup(signal_type, code))]
            raise UnknownSignalType(f"{signal_type} is looked up by its digest, not a code array")
        part = self.hamming_parts.get(signal_type)
        return [] if part is None else part.search(code, radius)

    def search_many(
        self, signal_type: str, codes: Sequence[CodeLike], radius: int = 31
    ) -> list[list[Hit]]:
        """:meth:`search` for many codes of one type at once: one list of hits per code, in
        order (a Hamming type's are searched in one batch)."""
        if self._index_of(signal_type) is IndexKind.EXACT:
            return [self.search(signal_type, code, radius) for code in codes]
        part = self.hamming_parts.get(signal_type)
        if part is None or not codes:
            return [[] for _ in codes]
        return part.search_batch(list(codes), radius)

    def lookup(self, signal_type: str, value: str | bytes) -> list[int]:
        """Ids of entries of an exact type (``md5``, ``sha256``) equal to ``value``."""
        part = self.exact.get(signal_type)
        if part is None:
            self._kind(signal_type, IndexKind.EXACT)
            return []
        return part.lookup(value)

    def save(self, path: Path, *, keyring: Keyring | None = None) -> None:
        """Write a snapshot file (see :mod:`shieldwall.index.snapshot`), atomically; sealed
        with ``keyring``'s current key when given."""
        with self._lock:
            snapshot.write(
                path,
                seq=self.seq,
                hamming={name: part.state() for name, part in self.hamming_parts.items()},
                exact={name: part.items() for name, part in self.exact.items()},
                keyring=keyring,
            )

    @classmethod
    def load(cls, path: Path, *, keyring: Keyring | None = None) -> SignalIndex:
        """Read a snapshot file (sealed with a key of ``keyring``, or plain); raises
        :class:`~shieldwall.errors.SnapshotError` if unusable."""
        content = snapshot.read(path, keyring)
        index = cls(seq=content.seq)
        index.format_version = content.version
        for name, part in content.hamming.items():
            index.hamming(name).restore(part.segments, part.delta_ids, part.delta_codes)
        for name, (ids, digests) in content.exact.items():
            exact = index.exact_part(name)
            for i in range(ids.shape[0]):
                exact.add(int(ids[i]), digests[i].tobytes())
        return index

    def _index_of(self, signal_type: str) -> IndexKind:
        if signal_type in self.hamming_parts:
            return IndexKind.HAMMING
        if signal_type in self.exact:
            return IndexKind.EXACT
        return self._known(signal_type).index

    def _known(self, signal_type: str) -> SignalType:
        try:
            return get_signal_type(signal_type)
        except UnknownSignalType:
            raise UnknownSignalType(
                f"the index holds no signal type {signal_type!r} (it holds the registered "
                "exact and Hamming types)"
            ) from None

    def _kind(self, signal_type: str, wanted: IndexKind) -> SignalType:
        kind = self._known(signal_type)
        if kind.index is not wanted:
            raise UnknownSignalType(
                f"the index holds no signal type {signal_type!r}: it is served by the "
                f"{kind.index.value} index, not the {wanted.value} one"
            )
        if kind.name != signal_type:  # an alias: the part lives under the canonical name
            raise UnknownSignalType(
                f"signal type {signal_type!r} is an alias: index it as {kind.name!r}"
            )
        return kind
