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
    "quick_pdq",
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


def quick_pdq(y: F32) -> tuple[str, int]:
    """PDQ of a luma image through a 64 x 64 area reduction: ``(hex, quality)``."""
    h, w = y.shape
    if h < algo.MIN_HASHABLE_SIDE or w < algo.MIN_HASHABLE_SIDE:
        return "0" * 64, 0
    side = algo.DOWNSAMPLED_SIDE
    interpolation = cv2.INTER_AREA if h >= side and w >= side else cv2.INTER_LINEAR
    buf = cv2.resize(np.ascontiguousarray(y), (side, side), interpolation=interpolation)
    bits, quality, _ = algo.hash_buffer(np.asarray(buf, dtype=np.float32))
    return algo.bits_to_hex(bits), quality


def _cut(y: F32, top: float, bottom: float, left: float, right: float) -> F32:
    h, w = y.shape
    box = Box(round(h * top), h - round(h * bottom), round(w * left), w - round(w * right))
    return box.of(y)


def _canonical(y: F32, out: Variants) -> None:
    """The cuts both sides make: borders trimmed, caption bars removed, a screenshot's photo."""
    trimmed = trim_borders(y)
    if trimmed is None:
        out.skipped["trim"] = "no flat border to trim"
    else:
        out.hashes["trim"] = quick_pdq(trimmed.of(y))
    blurred = trim_blurred(y)
    if blurred is None:
        out.skipped["trim-blur"] = "no blurred or flat border to trim"
    elif blurred != trimmed:
        out.hashes["trim-blur"] = quick_pdq(blurred.of(y))
    captions = caption_cuts(y)
    if not captions:
        out.skipped["caption"] = "no caption bar above or below"
    for name, box in captions.items():
        out.hashes[name] = quick_pdq(box.of(y))
    screenshot = photo_in_screenshot(y)
    if screenshot is None:
        out.skipped["screenshot"] = "no photo-like rectangle inside"
    else:
        inner = screenshot.of(y)
        out.hashes["screenshot"] = quick_pdq(inner)
        again = trim_borders(inner)  # a screenshot of a photo posted with borders
        if again is not None:
            out.hashes["screenshot-trim"] = quick_pdq(again.of(inner))


def query_variants(
    y: F32, *, normalise: bool = True, rotations: Iterable[float] = ROTATIONS
) -> Variants:
    """The query-side variants of a luma image (see the module docstring)."""
    out = Variants()
    if y.shape[0] < 16 or y.shape[1] < 16:
        out.skipped["all"] = f"too small ({y.shape[1]}x{y.shape[0]}) for variants"
        return out
    if normalise:
        _canonical(y, out)
    for angle in rotations:
        # Cropped to the inner rectangle: meets a banked photo's inner crops (bank side).
        out.hashes[f"rotate{angle:+g}"] = quick_pdq(rotate_back(y, angle))
    return out


def bank_variants(y: F32, *, rotations: Iterable[float] = ROTATIONS) -> Variants:
    """The bank-side variants of a banked photo's luma image: its crops, its centre as the
    rotation sweep's inner crops keep it, and the canonical cuts."""
    out = Variants()
    if y.shape[0] < 16 or y.shape[1] < 16:
        out.skipped["all"] = f"too small ({y.shape[1]}x{y.shape[0]}) for variants"
        return out
    for name, top, bottom, left, right in BANK_CROPS:
        out.hashes[name] = quick_pdq(_cut(y, top, bottom, left, right))
    h, w = y.shape
    for angle in sorted({abs(a) for a in rotations}):
        inner = inner_crop(h, w, angle)
        out.hashes[f"inner{angle:g}"] = quick_pdq(inner.of(y))
        # A copy rotated and cropped, then turned back and cropped again by the query side.
        twice = inner_crop(inner.height, inner.width, angle)
        box = Box(
            inner.top + twice.top,
            inner.top + twice.bottom,
            inner.left + twice.left,
            inner.left + twice.right,
        )
        out.hashes[f"inner{angle:g}x2"] = quick_pdq(box.of(y))
    _canonical(y, out)
    return out
