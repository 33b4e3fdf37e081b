"""The frame-set part of the matcher's index: banked videos' frames, following the log.

It holds the signal types compared as a set of frame hashes
(:attr:`~shieldwall.signals.Comparison.FRAME_SET`, served by the frames index: ``vpdq``). Such
a type is kept in the side table (its ``bank_signal.value`` and log entries carry a digest of
the text), so a log entry ``add`` is applied by reading the frames of that signal id from
``bank_signal_value``; ``remove`` needs only the id. The frames go into a
:class:`~shieldwall.index.video.VideoIndex` (every usable frame in the exact Hamming index).
A video's MD5 is an ordinary ``md5`` signal in the main index.

This part is not written to the index snapshot: :meth:`VideoSignals.build` reads it from the
database when a matcher starts (one query over the live video signals), and from then on it
follows the log like the rest of the index.
"""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import select
from sqlalchemy.orm import Session

from shieldwall.index.video import VideoIndex
from shieldwall.signals import IndexKind, all_signal_types
from shieldwall.signals.vpdq import FRAME_QUALITY_FLOOR, FrameHash, VideoMatch, parse_vpdq
from shieldwall.store import BankSignal, BankSignalValue, Database, LogEntry, LogOp, signal_log

__all__ = ["VideoSignals", "frame_set_types"]


def frame_set_types() -> frozenset[str]:
    """The registered signal types this part holds (those the frames index serves)."""
    return frozenset(t.name for t in all_signal_types() if t.index is IndexKind.FRAMES)


class VideoSignals:
    """Banked videos' frame sets (by ``bank_signal.id`` of their frame-set signal), reflecting
    the signal log up to :attr:`seq`."""

    def __init__(self, *, seq: int = 0, quality_floor: int = FRAME_QUALITY_FLOOR) -> None:
        self.seq = seq
        self.frames = VideoIndex(quality_floor=quality_floor)

    def __len__(self) -> int:
        """Banked videos held."""
        return len(self.frames)

    @classmethod
    def build(cls, db: Database, *, quality_floor: int = FRAME_QUALITY_FLOOR) -> VideoSignals:
        """Every live video signal of the database, at the log's current head."""
        with db.session() as session:
            if session.get_bind().dialect.name == "postgresql":  # one consistent snapshot
                session.connection(execution_options={"isolation_level": "REPEATABLE READ"})
            out = cls(seq=signal_log.head(session), quality_floor=quality_floor)
            rows = session.execute(
                select(BankSignalValue.signal_id, BankSignalValue.value)
                .join(BankSignal, BankSignal.id == BankSignalValue.signal_id)
                .where(BankSignal.live, BankSignal.type.in_(frame_set_types()))
                .order_by(BankSignalValue.signal_id)
                .execution_options(yield_per=1000)
            )
            for signal_id, text in rows:
                out.frames.add(signal_id, parse_vpdq(text))
        return out

    def apply(self, session: Session, entries: Sequence[LogEntry]) -> int:
        """Apply the frame-set entries among ``entries`` (in log order) that are after
        :attr:`seq`, reading added frames in ``session``; :attr:`seq` moves to the last entry
        whatever its type. Returns how many frame-set entries were applied."""
        held = frame_set_types()
        todo = [e for e in entries if e.seq > self.seq and e.signal_type in held]
        if entries:
            self.seq = max(self.seq, entries[-1].seq)
        wanted = [e.signal_id for e in todo if e.op is LogOp.ADD]
        frames: dict[int, list[FrameHash]] = {}
        for i in range(0, len(wanted), 500):
            for signal_id, text in session.execute(
                select(BankSignalValue.signal_id, BankSignalValue.value).where(
                    BankSignalValue.signal_id.in_(wanted[i : i + 500])
                )
            ):
                frames[signal_id] = parse_vpdq(text)
        for e in todo:
            if e.op is LogOp.REMOVE:
                if e.signal_id in self.frames:
                    self.frames.remove(e.signal_id)
            elif e.signal_id not in self.frames and e.signal_id in frames:
                # No frames: the bank was deleted since, and its tombstone follows in the log.
                self.frames.add(e.signal_id, frames[e.signal_id])
        return len(todo)

    def search(
        self,
        frames: Sequence[FrameHash],
        *,
        frame_threshold: int,
        query_threshold: float,
        compared_threshold: float,
    ) -> list[tuple[int, VideoMatch]]:
        """Banked videos (vpdq signal ids) that the query's frames match, best first."""
        return self.frames.search(
            frames,
            frame_threshold=frame_threshold,
            query_threshold=query_threshold,
            compared_threshold=compared_threshold,
        )
