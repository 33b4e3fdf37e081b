"""Local features: ORB keypoints with binary descriptors, verified geometrically.

For what a whole-image hash cannot reach (a photo under big meme text, inside a screenshot, in a
collage, cropped hard, rotated and cropped), a photo is also described by up to
:data:`KEYPOINTS` ORB keypoints from OpenCV: each a position and a 256-bit descriptor of the
patch around it, invariant to rotation and (through an 8-level pyramid) to scale. Keypoints are
spread over a 4 x 4 grid of the image (the strongest :data:`KEYPOINTS` / 16 per cell), so that
big text or stickers, whose sharp corners are the strongest, cannot take all of them.

Two photos match when at least :data:`MIN_INLIERS` descriptor correspondences (each within
:data:`DESCRIPTOR_RADIUS` bits and clearly nearer than the second nearest: Lowe's ratio test)
agree on one similarity transform (rotation, scale, translation: a RANSAC fit by OpenCV's
``estimateAffinePartial2D``), with a plausible scale and turn, the agreeing keypoints cover at
least :data:`MIN_COVERAGE` of the banked photo, and they are at least :data:`MIN_DENSITY` of
the keypoints either photo has where the two overlap. The last two rules keep unrelated photos
of one place apart: the same floorboards or wall in two photos of different garments give
dozens of consistent keypoints over a third of the picture, but the garment's keypoints, the
most of them, find no partner.

The distance of a match is ``100 - inliers`` (at least 0), so the default threshold
(:attr:`OrbSignal.default_threshold`, 80) asks for 20 inliers; a pair that does not verify is
100 apart. Measured recall, false matches, bytes per entry and query cost: docs/benchmarks.md.

String form: ``orb1.`` then URL-safe base64 (no padding) of: the image's width and height and
the keypoint count (``<HHH``, little-endian), each keypoint's position as two ``uint16`` shares
of the width and height (``x / width * 65535``), then the descriptors (32 bytes each).
"""

from __future__ import annotations

import base64
import binascii
import struct
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Final

import cv2
import numpy as np
import numpy.typing as npt

from shieldwall.errors import MalformedSignal
from shieldwall.media import Media
from shieldwall.signals.base import Comparison, ContentType, Signal, SignalType, Storage

__all__ = [
    "DESCRIPTOR_RADIUS",
    "KEYPOINTS",
    "MAX_ROTATION",
    "MIN_COVERAGE",
    "MIN_DENSITY",
    "MIN_INLIERS",
    "FeatureMatch",
    "LocalFeatures",
    "OrbSignal",
    "decode_features",
    "encode_features",
    "extract_features",
    "hamming",
    "is_match",
    "match_pair",
    "nearest_two",
    "verify",
]

#: Keypoints kept per photo (at most).
KEYPOINTS: Final = 800
#: The grid the keypoints are spread over (cells per side).
GRID: Final = 4
#: The image is reduced so that its longer side is at most this many pixels before detection.
MAX_SIDE: Final = 1024
#: Largest Hamming distance (of 256 bits) between two descriptors that may correspond.
DESCRIPTOR_RADIUS: Final = 64
#: A correspondence's nearest descriptor must be nearer than this share of the second nearest.
RATIO: Final = 0.8
#: Correspondences that must agree on one similarity for a match.
MIN_INLIERS: Final = 20
#: Share of the banked photo's area that the agreeing keypoints' convex hull must cover.
MIN_COVERAGE: Final = 0.2
#: Of the keypoints in the overlap, the share that must agree (see :func:`verify`).
MIN_DENSITY: Final = 0.12
#: Largest turn (degrees) between the two photos: re-posts are tilted a little; quarter turns
#: and flips are PDQ's (its rotations and flips), and a repeated texture (floorboards, tiles)
#: lines up at any angle.
MAX_ROTATION: Final = 20.0
#: Plausible scale between the two photos (a screenshot shows a photo smaller; a crop larger).
MIN_SCALE: Final = 0.25
MAX_SCALE: Final = 4.0
#: RANSAC's reprojection limit, as a share of the banked photo's longer side.
REPROJECTION: Final = 0.015
#: Fewer keypoints than this: too little detail to describe (quality 0..100 scales up to it).
FULL_QUALITY_KEYPOINTS: Final = 200
_PREFIX: Final = "orb1."
_HEADER = struct.Struct("<HHH")
_MAX_SHARE: Final = 65535

F32 = npt.NDArray[np.float32]
U8 = npt.NDArray[np.uint8]


@dataclass(frozen=True, slots=True)
class LocalFeatures:
    """A photo's keypoints: ``points`` ``(n, 2)`` in pixels of a ``width`` x ``height`` image,
    ``descriptors`` ``(n, 32)`` uint8."""

    width: int
    height: int
    points: F32
    descriptors: U8

    def __len__(self) -> int:
        return int(self.descriptors.shape[0])

    @property
    def quality(self) -> int:
        """0..100: how many keypoints it has, against :data:`FULL_QUALITY_KEYPOINTS`."""
        return min(100, round(100 * len(self) / FULL_QUALITY_KEYPOINTS))


@dataclass(frozen=True, slots=True)
class FeatureMatch:
    """How a query photo lines up with a banked one."""

    #: Correspondences that agree on the transform.
    inliers: int
    #: Share of the banked photo covered by the agreeing keypoints' convex hull.
    coverage: float
    #: Scale and rotation (degrees) taking the query's keypoints onto the banked photo's.
    scale: float
    rotation: float
    #: Of the keypoints either photo has where the two overlap, the share that agree (the
    #: smaller of the two shares).
    density: float = 1.0

    @property
    def distance(self) -> int:
        """``100 - inliers``, at least 0 (the type's distance)."""
        return max(0, 100 - self.inliers)


def _detector() -> Any:  # cv2.ORB: OpenCV's stubs do not declare ORB_create
    # Four times as many candidates as kept, so that every grid cell has its share to choose
    # from. ORB is deterministic for a given image.
    return cv2.ORB_create(  # type: ignore[attr-defined]
        nfeatures=KEYPOINTS * GRID,
        scaleFactor=1.2,
        nlevels=8,
        edgeThreshold=15,
        patchSize=31,
        fastThreshold=10,
    )


def extract_features(gray: U8) -> LocalFeatures:
    """The keypoints of a luma image ``(h, w)`` uint8 (reduced to :data:`MAX_SIDE` first);
    positions are in the given image's pixels."""
    height, width = int(gray.shape[0]), int(gray.shape[1])
    scale = min(1.0, MAX_SIDE / max(height, width, 1))
    image: npt.NDArray[Any] = gray
    if scale < 1.0:
        size = (max(1, round(width * scale)), max(1, round(height * scale)))
        image = cv2.resize(gray, size, interpolation=cv2.INTER_AREA)
    detector = _detector()
    keypoints = detector.detect(image, None)
    keypoints = _spread(keypoints, image.shape[1], image.shape[0])
    if keypoints:
        keypoints, descriptors = detector.compute(image, keypoints)
    if not keypoints or descriptors is None:
        return LocalFeatures(
            width, height, np.zeros((0, 2), np.float32), np.zeros((0, 32), np.uint8)
        )
    points = np.array([k.pt for k in keypoints], dtype=np.float32) / np.float32(scale)
    return LocalFeatures(width, height, points, np.ascontiguousarray(descriptors, dtype=np.uint8))


def _spread(keypoints: Sequence[cv2.KeyPoint], width: int, height: int) -> list[cv2.KeyPoint]:
    """The strongest :data:`KEYPOINTS` / cells keypoints of each grid cell, in a stable order."""
    per_cell = KEYPOINTS // (GRID * GRID)
    cells: dict[tuple[int, int], list[int]] = {}
    ranked = sorted(
        range(len(keypoints)),
        key=lambda i: (-keypoints[i].response, keypoints[i].pt[1], keypoints[i].pt[0]),
    )
    for i in ranked:
        x, y = keypoints[i].pt
        cell = (min(GRID - 1, int(y * GRID / height)), min(GRID - 1, int(x * GRID / width)))
        cells.setdefault(cell, []).append(i)
    chosen = sorted(i for ids in cells.values() for i in ids[:per_cell])
    return [keypoints[i] for i in chosen]


# -- the string form ----------------------------------------------------------------------------


def encode_features(features: LocalFeatures) -> str:
    """The ``orb1.`` string form (positions kept as shares of the image, 16 bits each)."""
    n = len(features)
    w, h = max(1, features.width), max(1, features.height)
    shares = np.empty((n, 2), dtype=np.float64)
    if n:
        shares[:, 0] = features.points[:, 0] / w
        shares[:, 1] = features.points[:, 1] / h
    packed = np.clip(np.rint(shares * _MAX_SHARE), 0, _MAX_SHARE).astype("<u2")
    raw = (
        _HEADER.pack(min(features.width, 65535), min(features.height, 65535), n)
        + packed.tobytes()
        + np.ascontiguousarray(features.descriptors, dtype=np.uint8).tobytes()
    )
    return _PREFIX + base64.urlsafe_b64encode(raw).rstrip(b"=").decode("ascii")


def decode_features(value: str) -> LocalFeatures:
    """Read the string form; :class:`MalformedSignal` says what is wrong."""
    text = value.strip()
    if not text.startswith(_PREFIX):
        raise MalformedSignal(f"orb value must start with {_PREFIX!r}")
    body = text[len(_PREFIX) :]
    try:
        raw = base64.urlsafe_b64decode(body + "=" * (-len(body) % 4))
    except (binascii.Error, ValueError):
        raise MalformedSignal("orb value is not URL-safe base64 after 'orb1.'") from None
    if len(raw) < _HEADER.size:
        raise MalformedSignal("orb value is too short for its header")
    width, height, n = _HEADER.unpack_from(raw)
    if width == 0 or height == 0:
        raise MalformedSignal("orb value names an empty image")
    expected = _HEADER.size + n * 4 + n * 32
    if len(raw) != expected:
        raise MalformedSignal(f"orb value holds {len(raw)} bytes; {n} keypoints need {expected}")
    if n > KEYPOINTS:
        raise MalformedSignal(f"orb value holds {n} keypoints, more than {KEYPOINTS}")
    shares = np.frombuffer(raw, dtype="<u2", count=n * 2, offset=_HEADER.size).reshape(n, 2)
    points = np.empty((n, 2), dtype=np.float32)
    points[:, 0] = shares[:, 0].astype(np.float32) / _MAX_SHARE * width
    points[:, 1] = shares[:, 1].astype(np.float32) / _MAX_SHARE * height
    descriptors = np.frombuffer(raw, dtype=np.uint8, offset=_HEADER.size + n * 4).reshape(n, 32)
    return LocalFeatures(width, height, points, descriptors.copy())


# -- verification ---------------------------------------------------------------------------------


def correspondences(
    nearest: npt.NDArray[np.int64], first: npt.NDArray[np.int64], second: npt.NDArray[np.int64]
) -> npt.NDArray[np.bool_]:
    """Which query keypoints keep their nearest banked descriptor (``nearest`` >= 0) at
    distance ``first``, given the second nearest's ``second`` (-1: none within the radius):
    Lowe's ratio test, with an absent second nearest read as just beyond the radius."""
    beyond = np.where(second < 0, DESCRIPTOR_RADIUS + 1, second)
    return (nearest >= 0) & (first <= DESCRIPTOR_RADIUS) & (first < RATIO * beyond)


def verify(
    query: LocalFeatures,
    query_rows: npt.NDArray[np.int64],
    banked: LocalFeatures,
    banked_rows: npt.NDArray[np.int64],
) -> FeatureMatch | None:
    """Fit a similarity from the query's keypoints ``query_rows`` onto the banked photo's
    corresponding ``banked_rows`` (RANSAC) and say how well it holds; ``None`` when too few
    correspond or nothing fits."""
    if query_rows.shape[0] < MIN_INLIERS:
        return None
    query_points, banked_points = query.points[query_rows], banked.points[banked_rows]
    limit = REPROJECTION * max(banked.width, banked.height)
    matrix, mask = cv2.estimateAffinePartial2D(
        query_points,
        banked_points,
        method=cv2.RANSAC,
        ransacReprojThreshold=limit,
        maxIters=2000,
        confidence=0.99,
    )
    if matrix is None or mask is None:
        return None
    keep = mask.ravel().astype(bool)
    inliers = int(keep.sum())
    scale = float(np.hypot(matrix[0, 0], matrix[1, 0]))
    rotation = float(np.degrees(np.arctan2(matrix[1, 0], matrix[0, 0])))
    coverage = 0.0
    if inliers >= 3:
        hull = cv2.convexHull(banked_points[keep].astype(np.float32))
        coverage = float(cv2.contourArea(hull)) / float(banked.width * banked.height)
    # Of the keypoints that each photo has where the two overlap, the share that agree.
    density = 0.0
    if MIN_SCALE <= scale <= MAX_SCALE:  # else no match, and the inverse may be degenerate
        overlap = min(
            _inside(banked.points, _frame(query, matrix)),
            _inside(query.points, _frame(banked, cv2.invertAffineTransform(matrix))),
        )
        density = inliers / max(1, overlap)
    return FeatureMatch(
        inliers, round(coverage, 4), round(scale, 4), round(rotation, 2), round(density, 4)
    )


def _frame(features: LocalFeatures, matrix: npt.NDArray[Any]) -> F32:
    """The corners of ``features``' image mapped by the 2 x 3 ``matrix``."""
    w, h = float(features.width), float(features.height)
    corners = np.array([[[0.0, 0.0], [w, 0.0], [w, h], [0.0, h]]], dtype=np.float32)
    return np.asarray(cv2.transform(corners, matrix)[0], dtype=np.float32)


def _inside(points: F32, quad: F32) -> int:
    """How many ``points`` lie in the convex quadrilateral ``quad`` (corners in order)."""
    if points.shape[0] == 0:
        return 0
    corners = quad.astype(np.float64)
    edges = np.roll(corners, -1, axis=0) - corners
    rel = points.astype(np.float64)[:, None, :] - corners[None, :, :]
    cross = edges[None, :, 0] * rel[:, :, 1] - edges[None, :, 1] * rel[:, :, 0]
    return int(np.sum(np.all(cross >= 0, axis=1) | np.all(cross <= 0, axis=1)))


def is_match(found: FeatureMatch | None, min_inliers: int = MIN_INLIERS) -> bool:
    """Whether a verified fit counts: enough inliers, dense and covering enough, at a plausible
    scale and turn."""
    return (
        found is not None
        and found.inliers >= min_inliers
        and found.coverage >= MIN_COVERAGE
        and found.density >= MIN_DENSITY
        and MIN_SCALE <= found.scale <= MAX_SCALE
        and abs(found.rotation) <= MAX_ROTATION
    )


def nearest_two(query: LocalFeatures, banked: LocalFeatures) -> npt.NDArray[np.int64]:
    """Rows ``(query keypoint, nearest banked keypoint)`` that pass the ratio test."""
    if len(query) == 0 or len(banked) == 0:
        return np.zeros((0, 2), dtype=np.int64)
    distances = hamming(query.descriptors, banked.descriptors)
    if len(banked) > 1:
        two = np.argpartition(distances, 1, axis=1)[:, :2]
        d2 = np.take_along_axis(distances, two, axis=1)
        swap = d2[:, 1] < d2[:, 0]
        two[swap] = two[swap][:, ::-1]
        d2[swap] = d2[swap][:, ::-1]
        nearest, first, second = (
            two[:, 0],
            d2[:, 0],
            np.where(d2[:, 1] <= DESCRIPTOR_RADIUS, d2[:, 1], -1),
        )
    else:
        nearest = np.zeros(len(query), dtype=np.int64)
        first, second = distances[:, 0], np.full(len(query), -1)
    keep = correspondences(
        nearest.astype(np.int64), first.astype(np.int64), second.astype(np.int64)
    )
    rows = np.flatnonzero(keep).astype(np.int64)
    return np.stack([rows, nearest[keep].astype(np.int64)], axis=1)


def match_pair(query: LocalFeatures, banked: LocalFeatures) -> FeatureMatch | None:
    """Verify ``query`` against one banked photo by brute-force descriptor matching (the
    index first finds the banked photos worth it: :mod:`shieldwall.index.local_features`)."""
    rows = nearest_two(query, banked)
    return verify(query, rows[:, 0], banked, rows[:, 1])


def hamming(a: U8, b: U8) -> npt.NDArray[np.int32]:
    """``(len(a), len(b))`` Hamming distances between rows of 32-byte descriptors."""
    wa = np.ascontiguousarray(a).view(np.uint64)
    wb = np.ascontiguousarray(b).view(np.uint64)
    out = np.zeros((wa.shape[0], wb.shape[0]), dtype=np.int32)
    for word in range(wa.shape[1]):
        out += np.bitwise_count(wa[:, word, None] ^ wb[None, :, word])
    return out


# -- the signal type ----------------------------------------------------------------------------


class OrbSignal(SignalType):
    """ORB local features of a photo, matched by descriptor candidates and verified geometry.

    Not computed by default (it costs ~30 ms a photo and ~25 kB an entry): a bank opts in
    (``local_features``), and then photos banked with the image at hand carry it, and uploads
    are described when some bank holds it. Never exact evidence.
    """

    name = "orb"
    content_types = frozenset({ContentType.PHOTO})
    comparison = Comparison.LOCAL_FEATURES
    code_bytes = 32  # one descriptor, as the Hamming index stores it
    storage = Storage.SIDE_TABLE
    default_threshold = 100 - MIN_INLIERS
    quality_floor = 50
    computed_by_default = False

    def compute(self, media: Media) -> Signal:
        image = media.image(min_side=MAX_SIDE // 2, luma_ok=True)
        gray = image.rgb if image.is_luma else cv2.cvtColor(image.rgb, cv2.COLOR_RGB2GRAY)
        features = extract_features(np.ascontiguousarray(gray))
        return Signal(self.name, encode_features(features), features.quality)

    def validate(self, value: str) -> str:
        return encode_features(decode_features(value))

    def distance(self, a: str, b: str) -> int:
        """``100 - inliers`` of the weaker direction (symmetric), 100 when it does not verify."""
        fa, fb = decode_features(a), decode_features(b)
        if fa.descriptors.tobytes() == fb.descriptors.tobytes() and len(fa):
            return 0
        found = [match_pair(fa, fb), match_pair(fb, fa)]
        if not all(is_match(f) for f in found):
            return 100
        return max(f.distance for f in found if f is not None)
