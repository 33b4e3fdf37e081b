"""Parts of the matcher's index for signal types kept in the side table, following the log.

A type kept in ``bank_signal_value`` (:attr:`~shieldwall.signals.Storage.SIDE_TABLE`: a
video's frame set, a photo's local features) has a digest in ``bank_signal.value`` and in the
signal log, so a log entry ``add`` is applied by reading the value of that signal id from the
side table; ``remove`` needs only the id. Such a part is not written to the index snapshot:
:meth:`SideTableSignals.build` reads it from the database when a matcher starts (one query over
the live signals of its types), and from then on it follows the log with the rest of the index.
Subclasses say which index kind they hold and how a value is parsed and indexed.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Sequence
from typing import ClassVar, Generic, TypeVar

from sqlalchemy import select
from sqlalchemy.orm import Session

from shieldwall.signals import IndexKind, all_signal_types
from shieldwall.store import BankSignal, BankSignalValue, Database, LogEntry, LogOp, signal_log

__all__ = ["SideTableSignals"]

V = TypeVar("V")


class SideTableSignals(ABC, Generic[V]):
    """Banked signals of the types one index kind serves (by ``bank_signal.id``), reflecting
    the signal log up to :attr:`seq`."""

    #: The index kind whose types this part holds.
    kind: ClassVar[IndexKind]

    def __init__(self, *, seq: int = 0) -> None:
        self.seq = seq

    @classmethod
    def types(cls) -> frozenset[str]:
        """The registered signal types this part holds."""
        return frozenset(t.name for t in all_signal_types() if t.index is cls.kind)

    @abstractmethod
    def __len__(self) -> int:
        """Signals held."""

    @abstractmethod
    def parse(self, text: str) -> V:
        """A stored value, read for the index."""

    @abstractmethod
    def __contains__(self, signal_id: object) -> bool: ...

    @abstractmethod
    def _add(self, signal_id: int, value: V) -> None: ...

    @abstractmethod
    def _remove(self, signal_id: int) -> None: ...

    def _load(self, db: Database) -> None:
        with db.session() as session:
            if session.get_bind().dialect.name == "postgresql":  # one consistent snapshot
                session.connection(execution_options={"isolation_level": "REPEATABLE READ"})
            self.seq = signal_log.head(session)
            held = self.types()
            if not held:
                return
            rows = session.execute(
                select(BankSignalValue.signal_id, BankSignalValue.value)
                .join(BankSignal, BankSignal.id == BankSignalValue.signal_id)
                .where(BankSignal.live, BankSignal.type.in_(held))
                .order_by(BankSignalValue.signal_id)
                .execution_options(yield_per=1000)
            )
            for signal_id, text in rows:
                self._add(signal_id, self.parse(text))

    def apply(self, session: Session, entries: Sequence[LogEntry]) -> int:
        """Apply the entries of this part's types among ``entries`` (in log order) that are
        after :attr:`seq`, reading added values in ``session``; :attr:`seq` moves to the last
        entry whatever its type. Returns how many entries of its types were applied."""
        held = self.types()
        todo = [e for e in entries if e.seq > self.seq and e.signal_type in held]
        if entries:
            self.seq = max(self.seq, entries[-1].seq)
        wanted = [e.signal_id for e in todo if e.op is LogOp.ADD]
        values: dict[int, V] = {}
        for i in range(0, len(wanted), 500):
            for signal_id, text in session.execute(
                select(BankSignalValue.signal_id, BankSignalValue.value).where(
                    BankSignalValue.signal_id.in_(wanted[i : i + 500])
                )
            ):
                values[signal_id] = self.parse(text)
        for e in todo:
            if e.op is LogOp.REMOVE:
                if e.signal_id in self:
                    self._remove(e.signal_id)
            elif e.signal_id not in self and e.signal_id in values:
                # No value: the bank was deleted since, and its tombstone follows in the log.
                self._add(e.signal_id, values[e.signal_id])
        return len(todo)
