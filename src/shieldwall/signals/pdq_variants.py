"""PDQ variants of a photo, for altered copies (docs/matching.md).

- **Query side** (:func:`query_variants`, every lookup, every bank, hash-only banks included):
  the PDQ of the picture with its borders trimmed, without a caption bar, the photo found inside
  a screenshot, and a small sweep of rotations undone and cropped to their inner rectangle.
- **Bank side** (:func:`bank_variants`, where the image is at hand: ``bank add``, a reviewer's
  removal): the PDQ of crops from each side and the centre, and of the same canonical cuts as
  the query side (so a photo whose own margins are flat is cut alike on both sides).

A variant is hashed from the working image the main PDQ was taken from (no second decode),
reduced to 64 x 64 by area averaging and then DCT, quality and median exactly as the
reference. It is approximate by nature and equally so on both sides. A variant that cannot be
computed (a tiny or flat picture, a screenshot with no photo in it) is not made, and
:func:`query_variants` says why in its ``skipped`` answer; it never fails a lookup.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Final

import cv2
import numpy as np
import numpy.typing as npt

from shieldwall.media.image import ReducedImage
from shieldwall.media.normalise import (
    Box,
    caption_cuts,
    inner_crop,
    photo_in_screenshot,
    rotate_back,
    trim_blurred,
    trim_borders,
)
from shieldwall.signals import pdq_algorithm as algo

__all__ = [
    "BANK_CROPS",
    "ROTATIONS",
    "Variants",
    "bank_variants",
    "query_variants",
    "quick_pdqs",
    "working_luma",
]

F32 = npt.NDArray[np.float32]
_LUMA = np.array([0.299, 0.587, 0.114], dtype=np.float32)

#: Angles (degrees, counter-clockwise) undone on the query side.
ROTATIONS: Final = (-8.0, -5.0, -3.0, 3.0, 5.0, 8.0)
#: Bank-side crops: (name, top, bottom, left, right) as shares of the height and width cut.
BANK_CROPS: Final = (
    ("crop-top-10", 0.10, 0.0, 0.0, 0.0),
    ("crop-bottom-10", 0.0, 0.10, 0.0, 0.0),
    ("crop-left-10", 0.0, 0.0, 0.10, 0.0),
    ("crop-right-10", 0.0, 0.0, 0.0, 0.10),
    ("crop-top-20", 0.20, 0.0, 0.0, 0.0),
    ("crop-bottom-20", 0.0, 0.20, 0.0, 0.0),
    ("crop-left-20", 0.0, 0.0, 0.20, 0.0),
    ("crop-right-20", 0.0, 0.0, 0.0, 0.20),
    ("centre-90", 0.05, 0.05, 0.05, 0.05),
    ("centre-80", 0.10, 0.10, 0.10, 0.10),
)


@dataclass(slots=True)
class Variants:
    """Named PDQ hashes ``(hex, quality)`` of a picture's variants, and the variants that were
    not made with the reason."""

    hashes: dict[str, tuple[str, int]] = field(default_factory=dict)
    skipped: dict[str, str] = field(default_factory=dict)


def working_luma(image: ReducedImage) -> F32:
    """The luma of a decoded (possibly reduced) image as ``float32``."""
    if image.is_luma:
        return image.rgb.astype(np.float32)
    h, w = image.rgb.shape[:2]
    return (image.rgb.reshape(-1, 3).astype(np.float32) @ _LUMA).reshape(h, w)


def _buffer(y: F32) -> F32:
    side = algo.DOWNSAMPLED_SIDE
    h, w = y.shape
    interpolation = cv2.INTER_AREA if h >= side and w >= side else cv2.INTER_LINEAR
    buf = cv2.resize(np.ascontiguousarray(y), (side, side), interpolation=interpolation)
    return np.asarray(buf, dtype=np.float32)


def quick_pdqs(images: list[F32]) -> list[tuple[str, int]]:
    """PDQ of each luma image through a 64 x 64 area reduction: ``(hex, quality)``. The DCTs
    of all of them are one batched matrix product (float64; the reference's float32 order of
    additions only matters for near-flat images, which the quality floor leaves out)."""
    if not images:
        return []
    small = [min(y.shape) < algo.MIN_HASHABLE_SIDE for y in images]
    bufs = np.stack(
        [
            _buffer(y) if not s else np.zeros((64, 64), np.float32)
            for y, s in zip(images, small, strict=True)
        ]
    )
    coefficients = algo.DCT_MATRIX @ bufs.astype(np.float64) @ algo.DCT_MATRIX.T
    flat = coefficients.reshape(len(images), 256)
    medians = np.partition(flat, 127, axis=1)[:, 127:128]
    out = []
    for k, tiny in enumerate(small):
        if tiny:
            out.append(("0" * 64, 0))
            continue
        out.append((algo.bits_to_hex(flat[k] > medians[k]), algo.quality(bufs[k])))
    return out


def _cut(y: F32, top: float, bottom: float, left: float, right: float) -> F32:
    h, w = y.shape
    box = Box(round(h * top), h - round(h * bottom), round(w * left), w - round(w * right))
    return box.of(y)


def _shrink(y: F32, side: int = 128) -> F32:
    """``y`` reduced by area averaging until its shorter side is about ``side`` (rotations are
    undone at that size: the 64 x 64 hash does not see finer detail)."""
    h, w = y.shape
    scale = side / min(h, w)
    if scale >= 1:
        return y
    size = (max(1, round(w * scale)), max(1, round(h * scale)))
    return np.asarray(cv2.resize(y, size, interpolation=cv2.INTER_AREA), dtype=np.float32)


Named = list[tuple[str, F32]]


def _canonical(y: F32, images: Named, skipped: dict[str, str]) -> None:
    """The cuts both sides make: borders trimmed, caption bars removed, a screenshot's photo."""
    trimmed = trim_borders(y)
    if trimmed is None:
        skipped["trim"] = "no flat border to trim"
    else:
        images.append(("trim", trimmed.of(y)))
    blurred = trim_blurred(y)
    if blurred is None:
        skipped["trim-blur"] = "no blurred or flat border to trim"
    elif blurred != trimmed:
        images.append(("trim-blur", blurred.of(y)))
    captions = caption_cuts(y)
    if not captions:
        skipped["caption"] = "no caption bar above or below"
    images.extend((name, box.of(y)) for name, box in captions.items())
    screenshot = photo_in_screenshot(y)
    if screenshot is None:
        skipped["screenshot"] = "no photo-like rectangle inside"
    else:
        inner = screenshot.of(y)
        images.append(("screenshot", inner))
        again = trim_borders(inner)  # a screenshot of a photo posted with borders
        if again is not None:
            images.append(("screenshot-trim", again.of(inner)))


def _hashed(images: Named, skipped: dict[str, str]) -> Variants:
    hashes = quick_pdqs([image for _, image in images])
    return Variants({name: h for (name, _), h in zip(images, hashes, strict=True)}, skipped)


def query_variants(
    y: F32, *, normalise: bool = True, rotations: Iterable[float] = ROTATIONS
) -> Variants:
    """The query-side variants of a luma image (see the module docstring)."""
    skipped: dict[str, str] = {}
    if y.shape[0] < 16 or y.shape[1] < 16:
        return Variants({}, {"all": f"too small ({y.shape[1]}x{y.shape[0]}) for variants"})
    images: Named = []
    if normalise:
        _canonical(y, images, skipped)
    small = _shrink(y)
    for angle in rotations:
        # Cropped to the inner rectangle: meets a banked photo's inner crops (bank side).
        images.append((f"rotate{angle:+g}", rotate_back(small, angle)))
    return _hashed(images, skipped)


def bank_variants(y: F32, *, rotations: Iterable[float] = ROTATIONS) -> Variants:
    """The bank-side variants of a banked photo's luma image: its crops, its centre as the
    rotation sweep's inner crops keep it, and the canonical cuts."""
    skipped: dict[str, str] = {}
    if y.shape[0] < 16 or y.shape[1] < 16:
        return Variants({}, {"all": f"too small ({y.shape[1]}x{y.shape[0]}) for variants"})
    images: Named = [
        (name, _cut(y, top, bottom, left, right)) for name, top, bottom, left, right in BANK_CROPS
    ]
    h, w = y.shape
    for angle in sorted({abs(a) for a in rotations}):
        inner = inner_crop(h, w, angle)
        images.append((f"inner{angle:g}", inner.of(y)))
        # A copy rotated and cropped, then turned back and cropped again by the query side.
        twice = inner_crop(inner.height, inner.width, angle)
        box = Box(
            inner.top + twice.top,
            inner.top + twice.bottom,
            inner.left + twice.left,
            inner.left + twice.right,
        )
        images.append((f"inner{angle:g}x2", box.of(y)))
    _canonical(y, images, skipped)
    return _hashed(images, skipped)
