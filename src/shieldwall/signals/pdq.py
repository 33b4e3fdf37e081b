"""PDQ: Meta's 256-bit perceptual hash, with a fast pipeline of our own.

The C++ reference blurs the *full-resolution* luma image (a tent filter made of two box passes,
window ``ceil(side / 128)``) and samples 64 x 64 points from it. That costs 20-40 ms for a
1024 x 768 photo in python-threatexchange. We get within a few bits of it in about a tenth of
the time:

1. Decode at reduced size: JPEG in the DCT domain at 1/2, 1/4 or 1/8 scale and to its Y plane
   only (JPEG's Y is BT.601 luma, PDQ's weights), other formats box reduced, keeping both sides
   at least :data:`~shieldwall.signals.pdq_algorithm.WORKING_SIDE` (256) pixels. Each decoded
   pixel is then (about) the mean of a ``k x k`` block.
2. The reference's blur-and-sample is linear and separable, so its 64 x 64 buffer is
   ``R @ Y @ C.T`` for two matrices that depend only on the full-resolution size. We build those
   matrices (cached per size) and fold each block's weights into one column, which gives
   matrices that apply directly to the reduced image. The only error left is the detail inside
   each block, which the reference's blur mostly removes anyway.
3. DCT, quality and median exactly as the reference (:mod:`~shieldwall.signals.pdq_algorithm`).

When no reduction was possible (``k = 1``, e.g. a 64 x 64 image or a small PNG) the exact
reference steps run and the hash is bit-identical to the reference. Measured conformance and
speed: ``docs/benchmarks.md``.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from types import MappingProxyType

import numpy as np
import numpy.typing as npt

from shieldwall.errors import MalformedSignal
from shieldwall.media import Media, ReducedImage
from shieldwall.signals import pdq_algorithm as algo
from shieldwall.signals import pdq_variants
from shieldwall.signals.base import (
    Comparison,
    ContentType,
    Exchange,
    Signal,
    SignalType,
    VariantOptions,
)

__all__ = [
    "PdqHash",
    "PdqSignal",
    "hamming_distance",
    "pdq_from_image",
    "pdq_from_luma",
    "pdq_from_rgb",
]

_HEX_DIGITS = frozenset("0123456789abcdef")
_LUMA = np.array([0.299, 0.587, 0.114], dtype=np.float32)


@dataclass(frozen=True, slots=True)
class PdqHash:
    """A PDQ hash with its quality and the DCT it was taken from (for dihedral variants)."""

    bits: npt.NDArray[np.bool_]
    quality: int
    dct: npt.NDArray[np.float64]

    @property
    def hex(self) -> str:
        """64 lower-case hex digits, most significant bit first."""
        return algo.bits_to_hex(self.bits)

    def dihedral(self) -> dict[str, str]:
        """Hex hashes of the 8 rotations and flips, keyed by the reference's names."""
        return {
            name: algo.bits_to_hex(algo.bits_from_dct(dct))
            for name, dct in zip(algo.DIHEDRAL_NAMES, algo.dihedral_dcts(self.dct), strict=True)
        }


Band = tuple[npt.NDArray[np.intp], npt.NDArray[np.floating]]


@lru_cache(maxsize=256)
def _axis_band(full: int, reduced: int, factor: int, exact: bool = False) -> Band:
    """``filter_weights`` as bands: output ``i`` = ``sum_s weights[i, s] * x[start[i] + s]``.

    Each output touches only a few neighbouring samples (the tent's support divided by the
    block size), so applying the band costs a few vector operations instead of a matrix product
    that is ~95 % zeros.
    """
    matrix = algo.filter_weights(full, reduced, factor)
    nonzero = matrix != 0
    first = np.argmax(nonzero, axis=1)
    last = reduced - 1 - np.argmax(nonzero[:, ::-1], axis=1)
    width = int((last - first).max()) + 1
    start = np.minimum(first, reduced - width).astype(np.intp)
    columns = start[:, None] + np.arange(width)[None, :]
    weights = np.take_along_axis(matrix, columns, axis=1)
    weights = weights if exact else weights.astype(np.float32)
    start.setflags(write=False)
    weights.setflags(write=False)
    return start, weights


def _apply_bands(y: npt.NDArray[np.floating], rows: Band, cols: Band) -> npt.NDArray[np.float32]:
    """``(h, w) -> (64, 64)``: the row band along axis 0, then the column band along axis 1."""
    start, weights = rows
    tmp = weights[:, 0, None] * y[start]
    for s in range(1, weights.shape[1]):
        tmp += weights[:, s, None] * y[start + s]
    start, weights = cols
    out = tmp[:, start] * weights[None, :, 0]
    for s in range(1, weights.shape[1]):
        out += tmp[:, start + s] * weights[None, :, s]
    return np.asarray(out, dtype=np.float32)


def pdq_from_rgb(rgb: npt.NDArray[np.uint8]) -> PdqHash:
    """Hash a full-resolution ``(h, w, 3)`` uint8 array as the reference does."""
    y = algo.luma(rgb)
    return pdq_from_luma(y, y.shape[1], y.shape[0], 1, 1)


def pdq_from_image(image: ReducedImage) -> PdqHash:
    """Hash a decoded (possibly reduced) image; see the module docstring for the method."""
    if image.factor_x == 1 and image.factor_y == 1 and not image.is_luma:
        return pdq_from_rgb(image.rgb)
    height, width = image.rgb.shape[:2]
    # The reduced path is approximate anyway, so float32 throughout: a contiguous
    # matrix-vector product for luma is ~10x faster than the reference's per-channel float64.
    if image.is_luma:
        y = image.rgb.astype(np.float32)
    else:
        y = (image.rgb.reshape(-1, 3).astype(np.float32) @ _LUMA).reshape(height, width)
    return pdq_from_luma(y, image.full_width, image.full_height, image.factor_x, image.factor_y)


def pdq_from_luma(
    y: npt.NDArray[np.float32],
    full_width: int,
    full_height: int,
    factor_x: int,
    factor_y: int,
    *,
    exact: bool = True,
) -> PdqHash:
    """Hash a float32 luma image reduced by ``factor_x`` x ``factor_y`` blocks from
    ``full_width`` x ``full_height``.

    Unreduced input (factors of 1) runs the reference's exact steps unless ``exact`` is false
    (video frames: the banded filter is several times faster and the difference is rounding).
    """
    exact = exact and factor_x == 1 and factor_y == 1
    height, width = y.shape
    if exact and (height, width) == (algo.DOWNSAMPLED_SIDE, algo.DOWNSAMPLED_SIDE):
        bits, quality, dct = algo.hash_buffer(y)  # the reference skips the filter here
        return PdqHash(bits, quality, dct)
    if min(full_width, full_height) < algo.MIN_HASHABLE_SIDE:
        return PdqHash(np.zeros(256, dtype=np.bool_), 0, np.zeros((16, 16)))
    # Exact: float64 weights give the reference's float32 buffer (to float64 rounding, which
    # the float32 result absorbs) at a fraction of the cost of blurring every pixel; the
    # reference-order float32 DCT then reproduces its bits.
    along_rows = _axis_band(full_height, height, factor_y, exact)
    along_cols = _axis_band(full_width, width, factor_x, exact)
    buf = _apply_bands(y.astype(np.float64) if exact else y, along_rows, along_cols)
    dct = algo.dct16(buf, exact=exact)
    return PdqHash(algo.bits_from_dct(dct), algo.quality(buf), dct)


def hamming_distance(a: str, b: str) -> int:
    """Bits that differ between two canonical 64-digit hex PDQ hashes."""
    return (int(a, 16) ^ int(b, 16)).bit_count()


class PdqSignal(SignalType):
    """PDQ hash of a photo: 256 bits as 64 hex digits plus a quality 0..100.

    Matches at Hamming distance <= 31 by default; hashes of quality < 50 are too flat to match
    reliably and are never banked or matched.
    """

    name = "pdq"
    content_types = frozenset({ContentType.PHOTO})
    comparison = Comparison.HAMMING
    code_bytes = 32
    default_threshold = 31
    quality_floor = 50
    has_variants = True
    exchange_names = MappingProxyType(
        {Exchange.THREATEXCHANGE: "pdq", Exchange.STOPNCII: "ImagePDQ", Exchange.NCMEC: "PDQ"}
    )

    def hash(self, media: Media) -> PdqHash:
        """The full :class:`PdqHash` (with the DCT, for dihedral variants)."""
        return pdq_from_image(media.image(min_side=algo.WORKING_SIDE, luma_ok=True))

    def compute(self, media: Media) -> Signal:
        result = self.hash(media)
        return Signal(self.name, result.hex, result.quality)

    def compute_with_variants(
        self, media: Media, options: VariantOptions
    ) -> tuple[Signal, dict[str, Signal], dict[str, str]]:
        """The hash and, from the same decode, its variants: the other 7 rotations and flips
        (from the same DCT), the normalised cuts and the rotations undone
        (:mod:`shieldwall.signals.pdq_variants`); variants below the quality floor are
        skipped with the reason."""
        image = media.image(min_side=algo.WORKING_SIDE, luma_ok=True)
        result = pdq_from_image(image)
        signal = Signal(self.name, result.hex, result.quality)
        variants: dict[str, Signal] = {}
        if options.dihedral:
            for name, value in result.dihedral().items():
                variants[name] = Signal(self.name, value, result.quality)
        found = pdq_variants.query_variants(
            pdq_variants.working_luma(image),
            normalise=options.normalise,
            rotations=options.rotations,
        )
        skipped = dict(found.skipped)
        for name, (value, quality) in found.hashes.items():
            if self.quality_floor is not None and quality < self.quality_floor:
                skipped[name] = f"quality {quality} is below the floor of {self.quality_floor}"
                continue
            variants[name] = Signal(self.name, value, quality)
        return signal, {k: v for k, v in variants.items() if v.value != signal.value}, skipped

    def compute_bank_variants(self, media: Media) -> dict[str, Signal]:
        """Crops from each side and the centre, and the canonical cuts, of a photo to bank
        (usable ones, each different from the photo's own hash)."""
        image = media.image(min_side=algo.WORKING_SIDE, luma_ok=True)
        own = self.compute(media).value
        found = pdq_variants.bank_variants(pdq_variants.working_luma(image))
        return {
            name: Signal(self.name, value, quality, variant=name)
            for name, (value, quality) in found.hashes.items()
            if (self.quality_floor is None or quality >= self.quality_floor) and value != own
        }

    def compute_dihedral(self, media: Media) -> dict[str, Signal]:
        """The 8 rotation and flip variants, keyed by the reference's names."""
        result = self.hash(media)
        return {
            name: Signal(self.name, value, result.quality)
            for name, value in result.dihedral().items()
        }

    def validate(self, value: str) -> str:
        canonical = value.strip().lower()
        if len(canonical) != 64:
            raise MalformedSignal(
                f"pdq hash must be 64 hex digits (256 bits), got {len(canonical)} characters"
            )
        if not set(canonical) <= _HEX_DIGITS:
            bad = sorted(set(canonical) - _HEX_DIGITS)[0]
            raise MalformedSignal(f"pdq hash must contain only hex digits 0-9 a-f, found {bad!r}")
        return canonical

    def distance(self, a: str, b: str) -> int:
        return hamming_distance(a, b)
