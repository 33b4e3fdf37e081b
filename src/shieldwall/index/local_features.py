"""Banked photos' local features in the Hamming index: candidates by descriptor, then geometry.

Every keypoint descriptor (256 bits) of every banked photo is one entry of a
:class:`~shieldwall.index.hamming.HammingIndex`; entry ids are handed out in blocks per photo,
so a hit names its photo. Two stages:

1. candidates: a query photo's descriptors are searched in one batch within
   :data:`CANDIDATE_RADIUS` (24 bits, where the index's multi-index tables prune); each banked
   photo gets a vote per query keypoint with a descriptor of it that close; the
   :data:`CANDIDATES` photos with the most votes (at least :data:`MIN_VOTES`) go on;
2. verification: each candidate is matched in full
   (:func:`~shieldwall.signals.local_features.match_pair`: every descriptor pair, the ratio
   test within 64 bits, a RANSAC similarity and its checks). Nothing is a match before it
   verifies.

Measured on 300 banked photos, the two stages find what a full 64-bit search of every
descriptor finds, at a quarter of its cost (docs/benchmarks.md).
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from typing import Final

import numpy as np

from shieldwall.errors import Conflict, NotFound
from shieldwall.index.hamming import HammingIndex, as_codes
from shieldwall.signals.local_features import (
    MIN_INLIERS,
    FeatureMatch,
    LocalFeatures,
    is_match,
    match_pair,
)

__all__ = ["CANDIDATES", "CANDIDATE_RADIUS", "FeatureIndex"]

#: Radius of the candidate search: descriptors this close vote for their photo. Small enough
#: for the index's multi-index tables to prune; a true copy has dozens of such pairs.
CANDIDATE_RADIUS: Final = 24
#: Votes a banked photo needs to be verified at all.
MIN_VOTES: Final = 3
#: Banked photos verified per query at most (those with the most votes).
CANDIDATES: Final = 8


@dataclass(frozen=True, slots=True)
class _Banked:
    features: LocalFeatures
    first_id: int  # index entry ids first_id .. first_id + len(features) - 1


class FeatureIndex:
    """Local features of banked photos, keyed by the caller's ids (bank signal ids)."""

    def __init__(self) -> None:
        self._index = HammingIndex()
        self._photos: dict[int, _Banked] = {}
        self._starts: list[int] = []
        self._owners: list[int] = []
        self._next_id = 0
        self._lock = threading.Lock()

    def __len__(self) -> int:
        """Banked photos held."""
        return len(self._photos)

    def __contains__(self, photo_id: object) -> bool:
        return photo_id in self._photos

    @property
    def descriptors(self) -> int:
        """Descriptors held over all photos."""
        return len(self._index)

    def nbytes(self) -> int:
        """Bytes of the descriptor index plus the keypoint positions."""
        points = sum(b.features.points.nbytes for b in self._photos.values())
        return self._index.nbytes() + points

    def add(self, photo_id: int, features: LocalFeatures) -> None:
        """Bank a photo's features; :class:`~shieldwall.errors.Conflict` if already held."""
        with self._lock:
            if photo_id in self._photos:
                raise Conflict(f"photo {photo_id} is already in the local-feature index")
            first = self._next_id
            self._next_id += max(1, len(features))
            self._photos[photo_id] = _Banked(features, first)
            self._starts.append(first)
            self._owners.append(photo_id)
        if len(features):
            ids = np.arange(first, first + len(features), dtype=np.int64)
            self._index.add_many(ids, features.descriptors)

    def remove(self, photo_id: int) -> None:
        """Take a photo out; :class:`~shieldwall.errors.NotFound` if it is not held."""
        with self._lock:
            banked = self._photos.pop(photo_id, None)
            if banked is None:
                raise NotFound(f"photo {photo_id} is not in the local-feature index")
        codes = as_codes(banked.features.descriptors)
        for offset in range(len(banked.features)):
            self._index.remove(banked.first_id + offset, codes[offset])

    def search(
        self, query: LocalFeatures, *, min_inliers: int = MIN_INLIERS
    ) -> list[tuple[int, FeatureMatch]]:
        """Banked photos that ``query`` matches (verified), most inliers first."""
        if len(query) < min_inliers or not self._photos:
            return []
        found_query, found_ids, _ = self._index.search_arrays(query.descriptors, CANDIDATE_RADIUS)
        with self._lock:
            starts = np.asarray(self._starts, dtype=np.int64)
            owners = np.asarray(self._owners, dtype=np.int64)
            at = np.searchsorted(starts, found_ids, side="right") - 1
            photo = owners[np.maximum(at, 0)]
            # Votes: the distinct query keypoints with a near descriptor in each banked photo.
            pairs = np.unique(np.stack([photo[at >= 0], found_query[at >= 0]], axis=1), axis=0)
            photos, votes = np.unique(pairs[:, 0], return_counts=True)
            order = np.lexsort((photos, -votes))
            chosen = [int(photos[k]) for k in order[:CANDIDATES] if votes[k] >= MIN_VOTES]
            banked = {p: self._photos[p].features for p in chosen if p in self._photos}
        results = []
        for photo_id, features in banked.items():
            fit = match_pair(query, features)
            if fit is not None and is_match(fit, min_inliers):
                results.append((photo_id, fit))
        results.sort(key=lambda item: (-item[1].inliers, item[0]))
        return results
