"""The video part of the matcher's index: banked vpdq frame sets and video MD5s, following the log.

A banked ``vpdq`` signal is stored as the SHA-256 of its text (``bank_signal.value`` and the
signal log carry that digest) with its frames in ``bank_video``. So a log entry ``add vpdq`` is
applied by reading the frames of that signal id from ``bank_video``; ``remove`` needs only the
id. The frames go into a :class:`~shieldwall.index.video.VideoIndex` (every usable frame in the
exact Hamming index). ``video_md5`` digests are looked up exactly.

This part is not written to the index snapshot: :meth:`VideoSignals.build` reads it from the
database when a matcher starts (one query over the live video signals), and from then on it
follows the log like the rest of the index.
"""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import select
from sqlalchemy.orm import Session

from shieldwall.index.video import VideoIndex
from shieldwall.signals.vpdq import FRAME_QUALITY_FLOOR, FrameHash, VideoMatch, parse_vpdq
from shieldwall.store import BankSignal, BankVideo, Database, LogEntry, LogOp, signal_log

__all__ = ["INDEXED_HERE", "VideoSignals"]

#: The signal types this part holds (the rest of the index holds every other bankable type).
INDEXED_HERE = frozenset({"vpdq", "video_md5"})


class VideoSignals:
    """Banked videos' frame sets (by ``bank_signal.id`` of their vpdq signal) and video MD5s,
    reflecting the signal log up to :attr:`seq`."""

    def __init__(self, *, seq: int = 0, quality_floor: int = FRAME_QUALITY_FLOOR) -> None:
        self.seq = seq
        self.frames = VideoIndex(quality_floor=quality_floor)
        self._md5: dict[str, set[int]] = {}

    def __len__(self) -> int:
        """Banked videos (vpdq signals) plus video MD5s held."""
        return len(self.frames) + sum(len(ids) for ids in self._md5.values())

    @classmethod
    def build(cls, db: Database, *, quality_floor: int = FRAME_QUALITY_FLOOR) -> VideoSignals:
        """Every live video signal of the database, at the log's current head."""
        with db.session() as session:
            if session.get_bind().dialect.name == "postgresql":  # one consistent snapshot
                session.connection(execution_options={"isolation_level": "REPEATABLE READ"})
            out = cls(seq=signal_log.head(session), quality_floor=quality_floor)
            for signal_id, value in session.execute(
                select(BankSignal.id, BankSignal.value).where(
                    BankSignal.live, BankSignal.type == "video_md5"
                )
            ):
                out._md5.setdefault(value, set()).add(signal_id)
            rows = session.execute(
                select(BankVideo.signal_id, BankVideo.vpdq)
                .join(BankSignal, BankSignal.id == BankVideo.signal_id)
                .where(BankSignal.live)
                .order_by(BankVideo.signal_id)
                .execution_options(yield_per=1000)
            )
            for signal_id, text in rows:
                out.frames.add(signal_id, parse_vpdq(text))
        return out

    def apply(self, session: Session, entries: Sequence[LogEntry]) -> int:
        """Apply the video entries among ``entries`` (in log order) that are after :attr:`seq`,
        reading added frames in ``session``; :attr:`seq` moves to the last entry whatever its
        type. Returns how many video entries were applied."""
        todo = [e for e in entries if e.seq > self.seq and e.signal_type in INDEXED_HERE]
        if entries:
            self.seq = max(self.seq, entries[-1].seq)
        wanted = [e.signal_id for e in todo if e.op is LogOp.ADD and e.signal_type == "vpdq"]
        frames: dict[int, list[FrameHash]] = {}
        for i in range(0, len(wanted), 500):
            for signal_id, text in session.execute(
                select(BankVideo.signal_id, BankVideo.vpdq).where(
                    BankVideo.signal_id.in_(wanted[i : i + 500])
                )
            ):
                frames[signal_id] = parse_vpdq(text)
        for e in todo:
            if e.signal_type == "video_md5":
                ids = self._md5.setdefault(e.value, set())
                if e.op is LogOp.ADD:
                    ids.add(e.signal_id)
                else:
                    ids.discard(e.signal_id)
                    if not ids:
                        del self._md5[e.value]
            elif e.op is LogOp.REMOVE:
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

    def lookup_md5(self, value: str) -> list[int]:
        """Ids of the live ``video_md5`` signals equal to ``value``."""
        return sorted(self._md5.get(value, ()))
