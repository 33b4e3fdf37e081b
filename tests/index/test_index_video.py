"""VideoIndex: the same answer as brute-force frame-set matching, against many videos at once."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from shieldwall.errors import Conflict, NotFound
from shieldwall.index.video import VideoIndex
from shieldwall.media import synthetic
from shieldwall.signals.vpdq import FrameHash, hash_video, match_frames


def _family(rng: np.random.Generator, frames: int) -> list[np.ndarray]:
    """A random 'video': each frame a small perturbation of a slowly drifting base code."""
    base = rng.integers(0, 256, 32, dtype=np.uint8)
    out = []
    for _ in range(frames):
        flip = rng.integers(0, 256, 32, dtype=np.uint8) & rng.integers(0, 256, 32, dtype=np.uint8)
        base = np.bitwise_xor(
            base, flip & rng.integers(0, 256, 32, dtype=np.uint8) & np.uint8(0x11)
        )
        out.append(base.copy())
    return out


def _frames(codes: list[np.ndarray], rng: np.random.Generator, step: float) -> list[FrameHash]:
    return [
        FrameHash(i, int(rng.choice([100, 90, 60, 30])), c.tobytes().hex(), round(i * step, 3))
        for i, c in enumerate(codes)
    ]


@settings(max_examples=25, deadline=None)
@given(st.integers(0, 2**32 - 1), st.integers(1, 6), st.integers(0, 3))
def test_equals_brute_force_matching_per_video(seed: int, videos: int, removed: int) -> None:
    rng = np.random.default_rng(seed)
    banked = {}
    index = VideoIndex()
    for vid in range(videos):
        codes = _family(rng, int(rng.integers(1, 40)))
        banked[vid] = _frames(codes, rng, 0.1)
        index.add(vid, banked[vid])
    for vid in range(min(removed, videos - 1)):
        index.remove(vid)
        del banked[vid]
    # A query made of frames taken from the banked videos, perturbed, and some unrelated ones.
    pool = [f for frames in banked.values() for f in frames]
    picks = rng.choice(len(pool), size=min(len(pool), 12), replace=False)
    query = []
    for n, i in enumerate(sorted(picks)):
        code = bytearray(bytes.fromhex(pool[i].pdq))
        for bit in rng.choice(256, size=int(rng.integers(0, 40)), replace=False):
            code[bit // 8] ^= 1 << (bit % 8)
        query.append(FrameHash(n, 100, bytes(code).hex(), float(n)))
    results = dict(index.search(query, query_threshold=0.0))
    for vid, frames in banked.items():
        expected = match_frames(query, frames)
        if expected.query_share > 0:
            assert results[vid] == expected
        else:
            assert vid not in results


def test_add_remove_and_errors() -> None:
    index = VideoIndex()
    frames = [FrameHash(0, 100, "ab" * 32, 0.0), FrameHash(1, 10, "cd" * 32, 0.1)]
    assert index.add(7, frames) == 1  # the quality-10 frame is not usable
    assert 7 in index
    with pytest.raises(Conflict, match="video 7 is already in the index"):
        index.add(7, frames)
    assert [v for v, _ in index.search(frames)] == [7]
    index.remove(7)
    assert index.search(frames) == []
    with pytest.raises(NotFound, match="video 7 is not in the index"):
        index.remove(7)
    index.add(7, frames)  # re-adding after removal works
    assert [v for v, _ in index.search(frames)] == [7]


def test_a_clip_is_found_among_banked_videos(tmp_path: Path) -> None:
    index = VideoIndex()
    source = list(synthetic.panorama(1, 30, 10, 320, 240))
    index.add(1, hash_video(synthetic.video(tmp_path / "a.mp4", source), "a", seconds_per_hash=0))
    for vid, seed in ((2, 2), (3, 3)):
        other = synthetic.video(tmp_path / f"{vid}.mp4", synthetic.panorama(seed, 20, 10, 320, 240))
        index.add(vid, hash_video(other, str(vid), seconds_per_hash=0))
    clip = synthetic.video(tmp_path / "clip.mp4", source[123:223])
    [(vid, match)] = index.search(hash_video(clip, "clip"))
    assert vid == 1
    assert match.query_share == 1.0
    [(start, end)] = match.compared_ranges
    assert 12.0 <= start <= 12.6
    assert 21.0 <= end <= 22.6
