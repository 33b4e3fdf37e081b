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
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

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

__all__ = ["VariantMatch", "VideoIndex"]


@dataclass(frozen=True, slots=True)
class VariantMatch:
    """A banked video that a query matched, as given and through its frame variants.

    ``original``: the match on the query's frames as given; ``through_variants``: the match
    counting a frame when any of its variants matched, when that adds frames; each ``None``
    when it does not reach the thresholds (one of them is set). ``variant``: the query-side
    variant that matched most of the frames the original did not (``"original"`` when none
    added any).
    """

    video_id: int
    original: VideoMatch | None
    through_variants: VideoMatch | None
    variant: str

    @property
    def best(self) -> VideoMatch:
        """The match with the larger query share (the frames as given on a tie)."""
        if self.original is None:
            assert self.through_variants is not None
            return self.through_variants
        if self.through_variants is None:
            return self.original
        if self.through_variants.query_share > self.original.query_share:
            return self.through_variants
        return self.original


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
        found = self.search_variants(
            query,
            {},
            frame_threshold=frame_threshold,
            query_threshold=query_threshold,
            compared_threshold=compared_threshold,
        )
        return [(m.video_id, m.original) for m in found if m.original is not None]

    def search_variants(
        self,
        query: Sequence[FrameHash],
        variants: Mapping[str, Sequence[FrameHash]],
        *,
        frame_threshold: int = FRAME_THRESHOLD,
        query_threshold: float = 0.8,
        compared_threshold: float = 0.0,
    ) -> list[VariantMatch]:
        """Banked videos that ``query`` matches, as given or through its frame variants (each
        frame's variants by name, a variant frame carrying its frame's number), best first.

        All the frames and their variants are searched in one batch. A query frame counts as
        matched through its variants when any of them is within ``frame_threshold`` of a
        banked frame; a frame counts as usable when any of its versions is. Each video's
        :attr:`VariantMatch.original` is its match on the frames as given (what
        :meth:`search` returns), :attr:`VariantMatch.through_variants` the match with the
        variants, when they add frames; each is kept only when it reaches the thresholds.
        """
        q = usable(query, self._quality_floor)
        by_number: dict[int, FrameHash] = {f.number: f for f in q}
        names = list(variants)
        alternatives: list[tuple[int, int, str]] = []  # (frame number, version, pdq)
        alternatives += [(f.number, 0, f.pdq) for f in q]
        for k, name in enumerate(names, start=1):
            for f in usable(variants[name], self._quality_floor):
                by_number.setdefault(f.number, f)
                alternatives.append((f.number, k, f.pdq))
        if not alternatives:
            return []
        frames_all = sorted(by_number.values(), key=lambda f: (f.timestamp, f.number))
        position = {f.number: i for i, f in enumerate(frames_all)}
        original_at = np.array([position[f.number] for f in q], dtype=np.intp)
        hits = self._index.search_batch([pdq for *_, pdq in alternatives], frame_threshold)
        # Per video: which (version, frame) pairs hit, and which banked frames were hit by the
        # frames as given and by any version.
        versions: dict[int, npt.NDArray[np.bool_]] = {}
        banked_plain: dict[int, npt.NDArray[np.bool_]] = {}
        banked_any: dict[int, npt.NDArray[np.bool_]] = {}
        with self._lock:
            for (number, version, _), frame_hits in zip(alternatives, hits, strict=True):
                at = position[number]
                for hit in frame_hits:
                    video_id = self._owner(hit.id)
                    if video_id is None:
                        continue
                    banked = self._videos[video_id]
                    if video_id not in versions:
                        versions[video_id] = np.zeros((len(names) + 1, len(frames_all)), np.bool_)
                        banked_plain[video_id] = np.zeros(len(banked.frames), dtype=np.bool_)
                        banked_any[video_id] = np.zeros(len(banked.frames), dtype=np.bool_)
                    versions[video_id][version, at] = True
                    banked_any[video_id][hit.id - banked.first_id] = True
                    if version == 0:
                        banked_plain[video_id][hit.id - banked.first_id] = True
            candidates = [(v, self._videos[v].frames) for v in versions]
        results = []
        for video_id, frames in candidates:
            matched = versions[video_id]
            as_given = np.asarray(matched[0, original_at], dtype=np.bool_)
            plain = video_match(q, as_given, frames, banked_plain[video_id])
            original = plain if plain.is_match(query_threshold, compared_threshold) else None
            through: VideoMatch | None = None
            variant = "original"
            gained = matched[1:] & ~matched[0]
            if gained.any():
                variant = names[int(np.argmax(gained.sum(axis=1)))]
                anyhow = np.asarray(matched.any(axis=0), dtype=np.bool_)
                either = video_match(frames_all, anyhow, frames, banked_any[video_id])
                if either.is_match(query_threshold, compared_threshold):
                    through = either
            if original is not None or through is not None:
                results.append(VariantMatch(video_id, original, through, variant))
        results.sort(key=lambda m: (-m.best.query_share, -m.best.compared_share, m.video_id))
        return results
