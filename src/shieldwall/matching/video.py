"""The frame-set part of the matcher's index: banked videos' frames, following the log.

It holds the signal types compared as a set of frame hashes
(:attr:`~shieldwall.signals.Comparison.FRAME_SET`, served by the frames index: ``vpdq``), kept
in the side table and followed as :class:`~shieldwall.matching.side_table.SideTableSignals`
describes. The frames go into a :class:`~shieldwall.index.video.VideoIndex` (every usable frame
in the exact Hamming index). A video's MD5 is an ordinary ``md5`` signal in the main index.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from shieldwall.index.video import VariantMatch, VideoIndex
from shieldwall.matching.side_table import SideTableSignals
from shieldwall.signals import IndexKind
from shieldwall.signals.frame_hash import FrameHash, parse_vpdq
from shieldwall.signals.vpdq import FRAME_QUALITY_FLOOR, VideoMatch
from shieldwall.store import Database

__all__ = ["VideoSignals", "frame_set_types"]


def frame_set_types() -> frozenset[str]:
    """The registered signal types this part holds (those the frames index serves)."""
    return VideoSignals.types()


class VideoSignals(SideTableSignals[list[FrameHash]]):
    """Banked videos' frame sets (by ``bank_signal.id`` of their frame-set signal), reflecting
    the signal log up to :attr:`seq`."""

    kind = IndexKind.FRAMES

    def __init__(self, *, seq: int = 0, quality_floor: int = FRAME_QUALITY_FLOOR) -> None:
        super().__init__(seq=seq)
        self.frames = VideoIndex(quality_floor=quality_floor)

    def __len__(self) -> int:
        """Banked videos held."""
        return len(self.frames)

    def __contains__(self, signal_id: object) -> bool:
        return signal_id in self.frames

    def parse(self, text: str) -> list[FrameHash]:
        return parse_vpdq(text)

    def _add(self, signal_id: int, value: list[FrameHash]) -> None:
        self.frames.add(signal_id, value)

    def _remove(self, signal_id: int) -> None:
        self.frames.remove(signal_id)

    @classmethod
    def build(cls, db: Database, *, quality_floor: int = FRAME_QUALITY_FLOOR) -> VideoSignals:
        """Every live video signal of the database, at the log's current head."""
        out = cls(quality_floor=quality_floor)
        out._load(db)
        return out

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

    def search_variants(
        self,
        frames: Sequence[FrameHash],
        variants: Mapping[str, Sequence[FrameHash]],
        *,
        frame_threshold: int,
        query_threshold: float,
        compared_threshold: float,
    ) -> list[VariantMatch]:
        """Banked videos that the query's frames match, as given or through their variants
        (each frame's borders trimmed), best first; see
        :meth:`~shieldwall.index.video.VideoIndex.search_variants`."""
        return self.frames.search_variants(
            frames,
            variants,
            frame_threshold=frame_threshold,
            query_threshold=query_threshold,
            compared_threshold=compared_threshold,
        )
