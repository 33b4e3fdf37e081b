"""Frame variants of a video, for cropped and letterboxed re-encodes (docs/video.md).

The photo mechanisms of :mod:`shieldwall.signals.pdq_variants`, applied frame by frame:

- **Query side** (every lookup, every bank, hash-only banks included): each sampled frame also
  gives the PDQ of the frame with its flat borders trimmed (``trim``: letterboxing,
  pillarboxing, a uniform frame) and with its blurred borders trimmed (``trim-blur``: a
  clip posted "fit" on a blurred, enlarged copy of itself, found by the straight edges of the
  picture pasted on it, :func:`~shieldwall.media.normalise.framed_picture`). The matcher
  counts a query frame as matched when any of its variants is within the frame threshold of
  a banked frame (:meth:`shieldwall.index.video.VideoIndex.search_variants`).
- **Bank side** (where the video is at hand: ``bank add``, an upload to a bank): each banked
  frame also gives the PDQ of its centre (``centre-95``, ``-90``, ``-85``) and of crops of 10 %
  from one side (``crop-top-10`` ... ``crop-right-10``), and the same ``trim`` cuts as the
  query side; each variant is one more frame set of the entry, so that a re-encode cropped by
  the uploader lands near one of them.

A variant frame keeps the number and timestamp of the frame it was cut from. It is hashed
from the frame's working luma (the one the frame's own PDQ was taken from: no second decode)
reduced to 64 x 64 by area averaging, then DCT, quality and median exactly as the reference;
variant frames below the quality floor are dropped. A variant that no frame gives (no border
anywhere, frames too small or too flat) is skipped with the reason, never an error.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Final

import cv2
import numpy as np
import numpy.typing as npt

from shieldwall.media.normalise import Box, framed_picture, trim_borders
from shieldwall.signals.frame_hash import FrameHash
from shieldwall.signals.pdq_variants import quick_pdqs

__all__ = [
    "BANK_CROPS",
    "BANK_VARIANTS",
    "QUERY_VARIANTS",
    "FrameVariantSets",
    "FrameVariants",
]

F32 = npt.NDArray[np.float32]

#: Query-side variants of each sampled frame.
QUERY_VARIANTS: Final = ("trim", "trim-blur")
#: Bank-side crops of each banked frame: (name, top, bottom, left, right) as shares cut.
#: Measured in bench/video_vpdq.py: a crop of 2.5 %, 5 % or 7.5 % each side lands within 31
#: bits of ``centre-95``, ``-90`` or ``-85``, one of 10 % from one side of its ``crop-*-10``;
#: 20 % crops (the photos have them) are left out: each is one more full frame set per video.
BANK_CROPS: Final = (
    ("centre-95", 0.025, 0.025, 0.025, 0.025),
    ("centre-90", 0.05, 0.05, 0.05, 0.05),
    ("centre-85", 0.075, 0.075, 0.075, 0.075),
    ("crop-top-10", 0.10, 0.0, 0.0, 0.0),
    ("crop-bottom-10", 0.0, 0.10, 0.0, 0.0),
    ("crop-left-10", 0.0, 0.0, 0.10, 0.0),
    ("crop-right-10", 0.0, 0.0, 0.0, 0.10),
)
#: Every bank-side variant name: the crops, then the canonical cuts both sides make.
BANK_VARIANTS: Final = (*(c[0] for c in BANK_CROPS), *QUERY_VARIANTS)

#: Frames smaller than this (either side, working luma) give no variants.
MIN_SIDE: Final = 16
#: Variant images hashed per batch (one matrix product for all their DCTs).
_BATCH: Final = 256

_REASONS: Final = {
    "trim": "no flat border (letterbox, pillarbox) in any frame",
    "trim-blur": "no picture pasted on a blurred background in any frame",
}


def _cut(y: F32, top: float, bottom: float, left: float, right: float) -> F32:
    h, w = y.shape
    box = Box(round(h * top), h - round(h * bottom), round(w * left), w - round(w * right))
    return box.of(y)


def _reduced(y: F32, side: int = 128) -> F32:
    """``y`` reduced by area averaging over whole ``k`` x ``k`` blocks, ``k`` the largest
    that keeps the shorter side at least ``side`` (1: ``y`` itself)."""
    h, w = y.shape
    k = min(h, w) // side
    if k <= 1:
        return y
    return np.asarray(cv2.resize(y, (w // k, h // k), interpolation=cv2.INTER_AREA), np.float32)


@dataclass(slots=True)
class FrameVariantSets:
    """A video's frame variants: the frames of each variant by name (frames below the
    quality floor left out), and the variants no frame gave, with the reason."""

    frames: dict[str, list[FrameHash]] = field(default_factory=dict)
    skipped: dict[str, str] = field(default_factory=dict)


class FrameVariants:
    """Collects the variants of a video's frames as they are decoded.

    ``query``: the query-side cuts (:data:`QUERY_VARIANTS`); ``bank``: the bank-side crops
    and cuts (:data:`BANK_VARIANTS`). Call :meth:`add` with each sampled frame's working luma,
    then :meth:`result`.

        >>> collect = FrameVariants(query=True)               # doctest: +SKIP
        >>> for frame in frames: collect.add(frame.number, frame.timestamp, frame.luma)
        >>> collect.result().frames["trim"]                    # doctest: +SKIP
    """

    def __init__(self, *, query: bool = False, bank: bool = False, quality_floor: int = 50) -> None:
        self.query = query
        self.bank = bank
        self.quality_floor = quality_floor
        self._names = (BANK_VARIANTS if bank else ()) + (QUERY_VARIANTS if query else ())
        self._names = tuple(dict.fromkeys(self._names))
        self._frames: dict[str, list[FrameHash]] = {name: [] for name in self._names}
        self._found = dict.fromkeys(self._names, 0)  # frames that gave the cut at all
        self._pending: list[tuple[str, int, float, F32]] = []
        self._seen = 0
        self._same = 0  # frames with flat borders and no blurred ones (trim covers them)
        self._small: tuple[int, int] | None = None

    def add(self, number: int, timestamp: float, luma: F32) -> None:
        """The variants of one frame (its number, timestamp and working luma)."""
        self._seen += 1
        h, w = luma.shape
        if h < MIN_SIDE or w < MIN_SIDE:
            self._small = (w, h)
            return
        images: list[tuple[str, F32]] = []
        # Crops and flat borders are cut from the frame reduced by a whole factor to about
        # 128 px a side (the 64 x 64 hash sees no finer detail; uniform lines stay uniform):
        # at full working size the reductions were most of what banking a video cost.
        small = _reduced(luma)
        if self.bank:
            images += [(name, _cut(small, *shares)) for name, *shares in BANK_CROPS]
        trimmed = trim_borders(small)
        if trimmed is not None:
            images.append(("trim", trimmed.of(small)))
        # A picture pasted on its own blurred copy, found by its straight edges at full size
        # (a reduction blurs them): the photos' trim_blurred looks for fine detail, which
        # video codecs smooth away (on footage it missed every blurred border in
        # bench/video_vpdq.py and cut into dark scenes).
        blurred = framed_picture(luma) if trimmed is None else None
        if blurred is not None:
            images.append(("trim-blur", blurred.of(luma)))
        elif trimmed is not None:
            self._same += 1  # flat borders: trim already cut them
        for name, image in images:
            self._found[name] += 1
            self._pending.append((name, number, timestamp, image))
        if len(self._pending) >= _BATCH:
            self._flush()

    def _flush(self) -> None:
        hashes = quick_pdqs([image for *_, image in self._pending])
        for (name, number, timestamp, _), (value, quality) in zip(
            self._pending, hashes, strict=True
        ):
            if quality >= self.quality_floor:
                self._frames[name].append(FrameHash(number, quality, value, timestamp))
        self._pending.clear()

    def result(self) -> FrameVariantSets:
        """The variants of every frame added so far, and those skipped with the reason."""
        self._flush()
        out = FrameVariantSets()
        for name in self._names:
            if self._frames[name]:
                out.frames[name] = self._frames[name]
            elif self._seen == 0:
                out.skipped[name] = "the video has no sampled frames"
            elif self._small is not None and self._found[name] == 0:
                w, h = self._small
                out.skipped[name] = f"frames too small ({w}x{h}) for variants"
            elif name == "trim-blur" and self._found[name] == 0 and self._same:
                out.skipped[name] = "flat borders only (matched as trim)"
            elif self._found[name] == 0:
                out.skipped[name] = _REASONS.get(name, "no frame gave it")
            else:
                out.skipped[name] = (
                    f"quality below the floor of {self.quality_floor} in every frame"
                )
        return out
