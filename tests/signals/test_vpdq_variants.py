"""Frame variants of video frames: the cuts each frame gives (borders trimmed, a picture
pasted on its blurred copy found by its edges, bank-side crops), and the frames index's
search through them."""

from __future__ import annotations

import cv2
import numpy as np
import numpy.typing as npt

from shieldwall.index.video import VideoIndex
from shieldwall.media import synthetic
from shieldwall.media.normalise import Box, framed_picture
from shieldwall.signals.frame_hash import FrameHash
from shieldwall.signals.pdq_variants import quick_pdqs
from shieldwall.signals.vpdq_variants import FrameVariants

F32 = npt.NDArray[np.float32]


def luma(seed: int, width: int = 320, height: int = 240) -> F32:
    rgb = next(synthetic.panorama(seed, 1, 10, width, height))
    return np.ascontiguousarray(
        rgb.astype(np.float32) @ np.array([0.299, 0.587, 0.114], np.float32)
    )


def on_blurred_copy(y: F32, pad: int) -> F32:
    h, w = y.shape
    big = cv2.resize(y, (w + 2 * pad, round(h * (w + 2 * pad) / w)))[:h]
    canvas = cv2.GaussianBlur(big, (0, 0), 12)
    canvas[:, pad : pad + w] = y
    return np.asarray(canvas, np.float32)


def test_a_picture_pasted_on_its_blurred_copy_is_found_by_its_edges() -> None:
    y = luma(5)
    assert framed_picture(on_blurred_copy(y, 53)) == Box(0, 240, 53, 373)
    for seed in (5, 6, 7):
        assert framed_picture(luma(seed)) is None  # a scene: no mirrored straight edges
    assert framed_picture(np.zeros((10, 10), np.float32)) is None


def test_each_frame_gives_its_cuts_under_its_own_number_and_time() -> None:
    y = luma(8)
    boxed = np.zeros((320, 320), np.float32)
    boxed[40:280] = y
    collect = FrameVariants(query=True)
    collect.add(7, 0.7, boxed)
    collect.add(8, 0.8, on_blurred_copy(y, 53))
    collect.add(9, 0.9, y)
    found = collect.result()
    [trim] = found.frames["trim"]
    [blur] = found.frames["trim-blur"]
    assert (trim.number, trim.timestamp, blur.number, blur.timestamp) == (7, 0.7, 8, 0.8)
    [(own, _)] = quick_pdqs([y])
    assert trim.pdq == own  # the bars cut off exactly: the frame itself
    assert found.skipped == {}


def test_the_frames_index_counts_a_frame_matched_through_any_of_its_variants() -> None:
    banked = [FrameHash(n, 100, f"{n:02x}" * 32, n / 10) for n in range(10)]
    index = VideoIndex()
    index.add(1, banked)
    unrelated = "a5" * 32
    query = [FrameHash(n, 100, unrelated if n % 2 else banked[n].pdq, n) for n in range(10)]
    trimmed = [FrameHash(n, 100, banked[n].pdq, n) for n in range(1, 10, 2)]
    assert index.search(query, frame_threshold=0) == []  # half the frames: under 80 %
    [m] = index.search_variants(query, {"trim": trimmed}, frame_threshold=0)
    assert m.original is None and m.variant == "trim"
    assert m.through_variants is not None and m.through_variants.query_share == 1.0
    assert m.best is m.through_variants
    # Frames too flat as given count when a variant of theirs is usable.
    flat = [FrameHash(n, 10, banked[n].pdq, n) for n in range(10)]
    [m] = index.search_variants(flat, {"trim": banked}, frame_threshold=0)
    assert m.original is None and m.best.query_share == 1.0
