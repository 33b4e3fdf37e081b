"""Normalising a picture before it is hashed: the regions and orientations that an uploader's
edits leave recognisable (issue 13, docs/matching.md).

Altered re-uploads of an intimate image are rarely byte-identical: they come back with borders
or letterboxing, a caption bar above or below, inside a screenshot of an app, rotated a little,
cropped. Each function here looks at a luma image (2-D ``float32``, any size; the PDQ pipeline's
working image) and proposes the part of it that is the photo, so that the PDQ of that part can
be matched too. They are *canonicalisations*: applied the same way to a banked original (where
the image is at hand) and to a query, they cut both at the same places, so a photo whose own
margins are flat is cut the same on both sides.

Every function is cheap (a few vectorised passes over an image of about 256 px) and never
raises for odd input: a flat, tiny or photo-less picture gives ``None`` or nothing, and the
caller says why the variant was skipped.

    >>> box = trim_borders(y)                  # doctest: +SKIP
    >>> y[box.top:box.bottom, box.left:box.right]   # doctest: +SKIP
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Final

import cv2
import numpy as np
import numpy.typing as npt

__all__ = [
    "Box",
    "caption_cuts",
    "framed_picture",
    "inner_crop",
    "photo_in_screenshot",
    "rotate_back",
    "trim_blurred",
    "trim_borders",
]

F32 = npt.NDArray[np.float32]

#: A region smaller than this share of the picture is not taken for the photo.
MIN_AREA: Final = 0.2
#: A cut that removes less than this share of a side is no cut (noise, JPEG ringing).
MIN_CUT: Final = 0.02


@dataclass(frozen=True, slots=True)
class Box:
    """A rectangle of an image: rows ``top:bottom``, columns ``left:right``."""

    top: int
    bottom: int
    left: int
    right: int

    @property
    def height(self) -> int:
        """Rows in the box."""
        return self.bottom - self.top

    @property
    def width(self) -> int:
        """Columns in the box."""
        return self.right - self.left

    def of(self, y: F32) -> F32:
        """The part of ``y`` inside the box."""
        return y[self.top : self.bottom, self.left : self.right]

    def is_cut_of(self, height: int, width: int) -> bool:
        """Whether the box is a real cut of a ``height`` x ``width`` image: it leaves out at
        least :data:`MIN_CUT` of some side and keeps at least :data:`MIN_AREA` of the area."""
        kept = (self.height * self.width) / max(1, height * width)
        cut = max(
            self.top / height,
            (height - self.bottom) / height,
            self.left / width,
            (width - self.right) / width,
        )
        return kept >= MIN_AREA and cut >= MIN_CUT and self.height >= 8 and self.width >= 8


def _run_from(quiet: npt.NDArray[np.bool_]) -> int:
    """How many leading entries of ``quiet`` are true."""
    loud = np.flatnonzero(~quiet)
    return int(loud[0]) if loud.size else int(quiet.size)


def _edges(quiet_rows: npt.NDArray[np.bool_], quiet_cols: npt.NDArray[np.bool_]) -> Box:
    top = _run_from(quiet_rows)
    bottom = len(quiet_rows) - _run_from(quiet_rows[::-1])
    left = _run_from(quiet_cols)
    right = len(quiet_cols) - _run_from(quiet_cols[::-1])
    return Box(top, max(top, bottom), left, max(left, right))


def trim_borders(y: F32, *, spread: float = 3.0) -> Box | None:
    """The picture without flat borders (black, white, any uniform colour, letterboxing):
    rows and columns at the edges whose standard deviation is under ``spread`` luma levels.
    Uniform lines stay uniform at any scale, so the same photo is cut the same way however
    large it was posted. ``None`` when there is nothing to trim or the rest is too small."""
    h, w = y.shape
    if h < 16 or w < 16:
        return None
    edges = (y[0], y[-1], y[:, 0], y[:, -1])
    if all(float(line.std()) >= spread for line in edges):
        return None  # no edge line is flat: nothing to trim (most photos; skips the rest)
    box = _edges(y.std(axis=1) < spread, y.std(axis=0) < spread)
    return box if box.is_cut_of(h, w) else None


def trim_blurred(y: F32, *, ratio: float = 0.4) -> Box | None:
    """The picture without a blurred background (a photo posted "fit" on a blurred, enlarged
    copy of itself) or flat borders: rows and columns at the edges whose fine detail (the
    mean absolute difference from a slightly blurred copy: texture and noise, which a blurred
    background has none of) is under ``ratio`` of that in the middle of the picture."""
    h, w = y.shape
    if h < 16 or w < 16:
        return None
    fine = np.abs(y - cv2.GaussianBlur(y, (0, 0), 1.0))
    rows, cols = fine.mean(axis=1), fine.mean(axis=0)
    middle = float(
        np.median(np.concatenate([rows[h // 4 : 3 * h // 4], cols[w // 4 : 3 * w // 4]]))
    )
    if middle <= 0.5:  # a flat picture: no photo to find
        return None
    box = _edges(rows < ratio * middle, cols < ratio * middle)
    return box if box.is_cut_of(h, w) else None


def _symmetric_edge(
    y: F32, axis: int, *, step: float, contrast: float, lo: float, hi: float
) -> int:
    """The distance ``k`` from both ends of ``axis`` (1: columns, 0: rows) of a pair of
    straight edges across ``y``, or 0 when there is none. An edge's strength is the median,
    over the lines across it (every third), of the step in luma there: a pasted picture's edge
    steps in nearly every line, a scene's edges only in some. One edge of the pair must be at
    least ``step`` and ``contrast`` times the strength at a typical position; its mirror (to
    within a line: sizes are rounded when pasted) at least ``step`` too, or a spike: twice as
    strong as the lines two and three away on either side, and at least 3 levels (where the
    background happens to resemble the picture's own edge there)."""
    lines = y[::3] if axis == 1 else y[:, ::3].T
    n = y.shape[axis]
    first, last = max(3, int(n * lo)), int(n * hi)
    if last <= first:
        return 0
    steps = cv2.absdiff(lines[:, 1:], lines[:, :-1])
    # A median of at least ``step`` needs half the lines at least ``step``: a cheap count
    # leaves the medians to the few positions that pass it.
    half = (steps >= step).mean(axis=0) >= 0.5
    k = np.arange(first, last)
    mirror = np.stack([n - k - 2, n - k - 1, np.minimum(n - k, n - 2)])
    passing = k[half[k - 1] | half[mirror].any(axis=0)]
    if passing.size == 0:
        return 0
    typical = float(np.median(np.median(steps[:, ::8], axis=0)))
    medians: dict[int, float] = {}

    def strength(j: int) -> float:
        if j not in medians:
            medians[j] = float(np.median(steps[:, j])) if 0 <= j < n - 1 else 0.0
        return medians[j]

    def spike(j: int) -> bool:
        around = max(strength(j + d) for d in (-3, -2, 2, 3))
        return strength(j) >= max(3.0, 2 * around)

    best = (0.0, 0)
    for at in (int(a) for a in passing):
        near = at - 1
        far = max((n - at - 2, n - at - 1, min(n - at, n - 2)), key=strength)
        strong, weak = sorted((near, far), key=strength, reverse=True)
        if strength(strong) < max(step, contrast * typical):
            continue
        if strength(weak) >= step or spike(weak):
            best = max(best, (strength(strong) + strength(weak), at))
    return best[1]


def framed_picture(
    y: F32, *, step: float = 10.0, contrast: float = 3.0, lo: float = 0.02, hi: float = 0.3
) -> Box | None:
    """A picture pasted centred on a background (a blurred, enlarged copy of itself, a
    gradient, a pattern): straight edges across the whole picture at the same distance from
    both sides (or from top and bottom), one of them with a median step in luma over the
    lines across of at least ``step`` levels and ``contrast`` times that at a typical position
    (see :func:`_symmetric_edge`). Scenes have edges, but seldom two straight ones mirrored
    across the middle that nearly every line crosses. ``None`` when there is none or the rest
    is too small."""
    h, w = y.shape
    if h < 16 or w < 16:
        return None
    box = Box(0, h, 0, w)
    k = _symmetric_edge(y, 1, step=step, contrast=contrast, lo=lo, hi=hi)
    if k:
        box = Box(0, h, k, w - k)
    k = _symmetric_edge(y, 0, step=step, contrast=contrast, lo=lo, hi=hi)
    if k:
        box = Box(k, h - k, box.left, box.right)
    return box if box.is_cut_of(h, w) else None


def _band_end(y: F32, *, from_top: bool) -> int:
    """Rows of a caption band at the top (or bottom) edge: a band of one colour (the edge
    row's) with text in it, ending at its last row that is all band colour before the picture.
    0 when there is none."""
    h = y.shape[0]
    limit = int(h * 0.45)
    rows = (y if from_top else y[::-1])[:limit]
    colour = float(np.median(rows[0]))
    if float(np.mean(np.abs(rows[0] - colour) <= 12.0)) < 0.5:
        return 0  # the edge row is not mostly one colour: no band (most photos)
    near = np.abs(rows - colour) <= 12.0
    share = near.mean(axis=1)
    mostly = share[:limit] >= 0.5
    span = _run_from(mostly)  # the band: rows mostly of its colour (text rows included)
    if span < int(h * 0.04):
        return 0
    pure = np.flatnonzero(share[:span] >= 0.98)
    if pure.size == 0:
        return 0
    end = int(pure[-1]) + 1  # after the band's last clean row
    if end < int(h * 0.04) or end >= limit:
        return 0
    if share[:end].mean() < 0.6:  # mostly picture, not a band
        return 0
    return end


def caption_cuts(y: F32) -> dict[str, Box]:
    """The picture without a caption bar above, below, or both (a meme's flat band with text
    in it), by name: ``caption-top``, ``caption-bottom``, ``caption-both``. Empty when it has
    none."""
    h, w = y.shape
    if h < 16 or w < 16:
        return {}
    top = _band_end(y, from_top=True)
    bottom = _band_end(y, from_top=False)
    out: dict[str, Box] = {}
    if top:
        out["caption-top"] = Box(top, h, 0, w)
    if bottom:
        out["caption-bottom"] = Box(0, h - bottom, 0, w)
    if top and bottom and h - bottom - top > 8:
        out["caption-both"] = Box(top, h - bottom, 0, w)
    return {k: b for k, b in out.items() if b.is_cut_of(h, w)}


def _longest_run(loud: npt.NDArray[np.bool_]) -> tuple[int, int]:
    """Start and end of the longest run of true entries (0, 0 when none)."""
    padded = np.concatenate([[False], loud, [False]])
    edges = np.flatnonzero(padded[1:] != padded[:-1])
    if edges.size == 0:
        return 0, 0
    starts, ends = edges[::2], edges[1::2]
    k = int(np.argmax(ends - starts))
    return int(starts[k]), int(ends[k])


def photo_in_screenshot(y: F32, *, flat: float = 1.0, dense: float = 0.8) -> Box | None:
    """The photo inside a screenshot (app chrome, status bars, text around it): interface
    backgrounds are flat and text is sparse strokes on them, while nearly every pixel of a
    photograph differs from its neighbours (texture, noise). The photo is the bounding box of
    the largest connected region of 4 x 4 blocks in which at least ``dense`` of the pixels are
    not ``flat`` (luma levels). ``None`` when no region is a real cut of the picture."""
    h, w = y.shape
    if h < 32 or w < 32:
        return None
    # At full working size: every other pixel (a quarter of the cost) lost a fifth of the
    # screenshots and a tenth of the captions in bench/robustness.py. OpenCV's passes give the
    # same blocks as NumPy's in a fifth of the time.
    dx = cv2.absdiff(y[:-1, 1:], y[:-1, :-1])
    dy = cv2.absdiff(y[1:, :-1], y[:-1, :-1])
    _, busy = cv2.threshold(cv2.max(dx, dy), flat, 1.0, cv2.THRESH_BINARY)
    bh, bw = busy.shape[0] // 4, busy.shape[1] // 4
    blocks = cv2.resize(busy[: bh * 4, : bw * 4], (bw, bh), interpolation=cv2.INTER_AREA)
    # No closing of holes: it would join the photo to the lines of text around it.
    mask = (blocks >= dense).astype(np.uint8)
    count, _, stats, _ = cv2.connectedComponentsWithStats(mask, connectivity=4)
    if count <= 1:
        return None
    best = 1 + int(np.argmax(stats[1:, cv2.CC_STAT_AREA]))
    x, top, width, height = (int(stats[best, k]) for k in range(4))
    box = Box(top * 4, min(h, (top + height) * 4 + 1), x * 4, min(w, (x + width) * 4 + 1))
    return box if box.is_cut_of(h, w) else None


def inner_crop(height: int, width: int, degrees: float) -> Box:
    """The largest axis-aligned rectangle, centred, inside a ``height`` x ``width`` image
    rotated by ``degrees`` (what an editor's "rotate and crop" keeps)."""
    a = math.radians(abs(degrees))
    sin, cos = math.sin(a), math.cos(a)
    long_side, short_side = max(width, height), min(width, height)
    if short_side <= 2 * sin * cos * long_side or abs(sin - cos) < 1e-10:
        x = 0.5 * short_side
        wr, hr = (x / sin, x / cos) if width >= height else (x / cos, x / sin)
    else:
        cos2 = cos * cos - sin * sin
        wr, hr = (width * cos - height * sin) / cos2, (height * cos - width * sin) / cos2
    wr, hr = min(width, int(wr)), min(height, int(hr))
    top, left = (height - hr) // 2, (width - wr) // 2
    return Box(top, top + hr, left, left + wr)


def rotate_back(y: F32, degrees: float) -> F32:
    """``y`` rotated by ``degrees`` (counter-clockwise) about its centre and cropped to the
    inner rectangle that has no corner fill: undoes a small rotation of an uploaded copy."""
    h, w = y.shape
    matrix = cv2.getRotationMatrix2D((w / 2, h / 2), degrees, 1.0)
    turned = np.asarray(cv2.warpAffine(y, matrix, (w, h), flags=cv2.INTER_LINEAR), np.float32)
    return inner_crop(h, w, degrees).of(turned)
