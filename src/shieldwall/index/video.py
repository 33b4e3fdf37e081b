"""Banked videos' frame hashes in the Hamming index: exact frame-set matching against many
videos at once.

Each usable frame (quality >= 50) of a banked video is one entry of a :class:`HammingIndex`;
a query video's usable frames are searched in one batch, the hits grouped by banked video, and
each video's :class:`~shieldwall.signals.vpdq.VideoMatch` (both shares, both sides' matched
time ranges) computed exactly as :func:`~shieldwall.signals.vpdq.match_frames` would compute it
against that video alone. Adding or removing a video is visible to the next query.
"""

from __future__ import annotations

import threading
from bisect import bisect_right
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from shieldwall.errors import Conflict, NotFound
from shieldwall.index.hamming import HammingIndex
from shieldwall.signals.vpdq import (
    FRAME_QUALITY_FLOOR,
    FRAME_THRESHOLD,
    FrameHash,
    VideoMatch,
    usable,
    video_match,
)

__all__ = ["VideoIndex"]


@dataclass(frozen=True, slots=True)
class _Banked:
    frames: list[FrameHash]  # usable frames only
    first_id: int  # index entry ids first_id .. first_id + len(frames) - 1


class VideoIndex:
    """Frame hashes of banked videos, keyed by the caller's video ids (bank entry ids)."""

    def __init__(self, *, quality_floor: int = FRAME_QUALITY_FLOOR) -> None:
        self._index = HammingIndex()
        self._quality_floor = quality_floor
        self._videos: dict[int, _Banked] = {}
        # Entry id -> video id, for the entries of live videos. Entry ids are handed out in
        # blocks per video and never reused, so a block's owner is found by bisection.
        self._starts: list[int] = []
        self._owners: list[int] = []
        self._next_id = 0
        self._lock = threading.Lock()

    def __len__(self) -> int:
        """Number of banked videos."""
        return len(self._videos)

    def __contains__(self, video_id: object) -> bool:
        return video_id in self._videos

    def add(self, video_id: int, frames: Sequence[FrameHash]) -> int:
        """Bank a video's frames; returns how many were usable (0: nothing will ever match).

        Raises :class:`~shieldwall.errors.Conflict` when ``video_id`` is already banked.
        """
        keep = usable(frames, self._quality_floor)
        with self._lock:
            if video_id in self._videos:
                raise Conflict(f"video {video_id} is already in the index")
            first = self._next_id
            self._next_id += max(1, len(keep))
            self._videos[video_id] = _Banked(keep, first)
            self._starts.append(first)
            self._owners.append(video_id)
        if keep:
            codes = [f.pdq for f in keep]
            self._index.add_many(range(first, first + len(keep)), codes)
        return len(keep)

    def remove(self, video_id: int) -> None:
        """Take a video out; :class:`~shieldwall.errors.NotFound` if it is not banked."""
        with self._lock:
            banked = self._videos.pop(video_id, None)
            if banked is None:
                raise NotFound(f"video {video_id} is not in the index")
        for offset, frame in enumerate(banked.frames):
            self._index.remove(banked.first_id + offset, frame.pdq)

    def _owner(self, entry_id: int) -> int | None:
        at = bisect_right(self._starts, entry_id) - 1
        if at < 0:
            return None
        video_id = self._owners[at]
        banked = self._videos.get(video_id)
        if banked is None or not banked.first_id <= entry_id < banked.first_id + len(banked.frames):
            return None  # an entry of a video removed (or re-added) since
        return video_id

    def search(
        self,
        query: Sequence[FrameHash],
        *,
        frame_threshold: int = FRAME_THRESHOLD,
        query_threshold: float = 0.8,
        compared_threshold: float = 0.0,
    ) -> list[tuple[int, VideoMatch]]:
        """Banked videos that ``query`` matches, best first: ``(video_id, match)``.

        A video is returned when its match reaches both thresholds (share of the query's
        usable frames matched, share of the banked video's usable frames matched).
        """
        q = usable(query, self._quality_floor)
        if not q:
            return []
        hits = self._index.search_batch([f.pdq for f in q], frame_threshold)
        query_hits: dict[int, np.ndarray] = {}
        banked_hits: dict[int, np.ndarray] = {}
        with self._lock:
            for qi, frame_hits in enumerate(hits):
                for hit in frame_hits:
                    video_id = self._owner(hit.id)
                    if video_id is None:
                        continue
                    banked = self._videos[video_id]
                    if video_id not in query_hits:
                        query_hits[video_id] = np.zeros(len(q), dtype=np.bool_)
                        banked_hits[video_id] = np.zeros(len(banked.frames), dtype=np.bool_)
                    query_hits[video_id][qi] = True
                    banked_hits[video_id][hit.id - banked.first_id] = True
            candidates = [(v, self._videos[v].frames) for v in query_hits]
        results = []
        for video_id, frames in candidates:
            match = video_match(q, query_hits[video_id], frames, banked_hits[video_id])
            if match.is_match(query_threshold, compared_threshold):
                results.append((video_id, match))
        results.sort(key=lambda item: (-item[1].query_share, -item[1].compared_share, item[0]))
        return results
