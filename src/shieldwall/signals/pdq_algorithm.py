"""PDQ, step by step, in NumPy: conformant with Meta's C++ reference.

Each step is a small pure function so that another implementation (the browser hasher, a GPU
backend) can reproduce the sequence and be checked against our test vectors:

1. :func:`luma` -- ``Y = 0.299 R + 0.587 G + 0.114 B``, computed in float64 and stored as float32,
   as the reference binding does.
2. :func:`filter_weights` -- the reference's blur (two passes of box filters along rows then
   columns, a tent filter, window ``ceil(side / 128)``, edges averaged over the samples that
   exist) followed by sampling 64 points at ``floor((i + 0.5) * side / 64)``. Both are linear
   and separable, so the 64 x 64 buffer is ``R @ Y @ C.T`` with one ``64 x side`` weight matrix
   per axis.
3. (none) -- a 64 x 64 input is the buffer itself: the reference skips the filter.
4. :func:`quality` -- gradient energy of the 64 x 64 buffer, ``0..100``.
5. :func:`dct16` -- ``D @ A @ D.T`` keeping frequencies 1..16 on each axis.
6. :func:`bits_from_dct` -- bit ``16 i + j`` is set when ``B[i, j]`` exceeds the median (the 128th
   smallest of the 256 values, as Torben's median returns).

The hash is 256 bits; bit 255 is the most significant in the 64-digit hex form. Images under 5
pixels on a side hash to zero with quality 0.

:mod:`shieldwall.signals.pdq` applies the weights as narrow bands, to the full-resolution luma
(bit-identical to the reference) or to an image already reduced by the JPEG decoder or a box
reduction (``factor`` > 1: the weights of each block are summed), which keeps the hash within a
few bits of the reference at a fraction of its cost.
"""

from __future__ import annotations

from typing import Final

import numpy as np
import numpy.typing as npt

__all__ = [
    "DCT_MATRIX",
    "DIHEDRAL_NAMES",
    "MIN_HASHABLE_SIDE",
    "WORKING_SIDE",
    "bits_from_dct",
    "bits_to_hex",
    "dct16",
    "dihedral_dcts",
    "filter_weights",
    "hash_buffer",
    "hex_to_bits",
    "jarosz_window",
    "luma",
    "quality",
]

F32 = npt.NDArray[np.float32]
U8 = npt.NDArray[np.uint8]
Bits = npt.NDArray[np.bool_]

#: Side of the buffer the DCT is taken from.
DOWNSAMPLED_SIDE: Final = 64
#: Images with a side under this hash to zero with quality 0, as in the reference.
MIN_HASHABLE_SIDE: Final = 5
#: The fast path reduces images to no less than this many pixels on the short side before
#: filtering. Chosen by measurement (docs/pdq.md): 256 keeps 100 % of photos within 10 bits of
#: the reference.
WORKING_SIDE: Final = 256

#: Names of the 8 dihedral variants, in the order of the reference's ``compute_dihedral``.
DIHEDRAL_NAMES: Final = (
    "original",
    "rotate90",
    "rotate180",
    "rotate270",
    "flipx",
    "flipy",
    "flipplus1",
    "flipminus1",
)


def _dct_matrix() -> F32:
    # As the reference: a float32 scale factor times a double cosine, rounded to float32.
    # (Rounding the scale in double instead changes the last bit of some entries, and with it
    # the rounding noise that decides the bits of near-flat images.)
    scale = np.float64(np.float32(np.sqrt(2.0 / DOWNSAMPLED_SIDE)))
    i = np.arange(1, 17, dtype=np.float64)[:, None]
    j = np.arange(DOWNSAMPLED_SIDE, dtype=np.float64)[None, :]
    d = scale * np.cos(np.pi / 2 / DOWNSAMPLED_SIDE * i * (2 * j + 1))
    return np.asarray(d, dtype=np.float32)


_DCT: Final = _dct_matrix()
_DCT64: Final = _DCT.astype(np.float64)
#: The 16 x 64 DCT matrix in float64, for batched hashing of many buffers at once.
DCT_MATRIX: Final = _DCT64


_LUMA64: Final = np.array([0.299, 0.587, 0.114], dtype=np.float64)


def luma(rgb: U8) -> F32:
    """Luma of an ``(h, w, 3)`` uint8 RGB array, float32, as the reference binding computes it
    (in float64, then rounded to float32)."""
    return np.asarray(rgb.astype(np.float64) @ _LUMA64, dtype=np.float32)


def jarosz_window(old_side: int, new_side: int = DOWNSAMPLED_SIDE) -> int:
    """Box window for reducing ``old_side`` to ``new_side``: ``ceil(old_side / (2 new_side))``."""
    return (old_side + 2 * new_side - 1) // (2 * new_side)


def filter_weights(
    full: int, reduced: int | None = None, factor: int = 1
) -> npt.NDArray[np.float64]:
    """``64 x reduced`` weights of the reference's blur-and-sample along one axis of ``full``
    samples (steps 2-3 of the module docstring).

    Row ``i`` holds the weight the reference gives each sample for output ``i``. With
    ``factor`` > 1 the weights of each block of ``factor`` samples are summed into one column
    (the last block takes the remainder), for an image reduced by whole blocks.
    """
    reduced = full if reduced is None else reduced
    window = jarosz_window(full)
    rows = np.zeros((DOWNSAMPLED_SIDE, full))
    picks = ((np.arange(DOWNSAMPLED_SIDE) + 0.5) * full / DOWNSAMPLED_SIDE).astype(np.intp)
    rows[np.arange(DOWNSAMPLED_SIDE), picks] = 1.0
    if window > 1:
        # Output k of one box pass is the mean of [k - (window - half), k + half - 1], where
        # half = (window + 2) // 2, truncated at the edges: the reference's running window.
        half = (window + 2) // 2
        lo = np.clip(np.arange(full) - (window - half), 0, full)
        hi = np.clip(np.arange(full) + half, 0, full)
        count = (hi - lo).astype(np.float64)
        for _ in range(2):  # two passes: rows @ B, where B[k] = 1/count[k] on [lo[k], hi[k])
            diff = np.zeros((DOWNSAMPLED_SIDE, full + 1))
            spread = rows / count
            np.add.at(diff.T, lo, spread.T)
            np.add.at(diff.T, hi, -spread.T)
            rows = np.cumsum(diff, axis=1)[:, :full]
    blocks = np.minimum(np.arange(full) // factor, reduced - 1)
    folded = np.zeros((DOWNSAMPLED_SIDE, reduced))
    np.add.at(folded.T, blocks, rows.T)
    folded[np.abs(folded) < 1e-9] = 0.0  # cumulative-sum residue outside the tent's support
    return folded


def quality(buf64: F32) -> int:
    """Gradient energy of the 64 x 64 buffer, 0..100; below 50 the hash is unreliable."""
    scale = np.float32(100)
    denom = np.float32(255)
    dv = np.trunc((buf64[:-1, :] - buf64[1:, :]) * scale / denom).astype(np.int64)
    dh = np.trunc((buf64[:, :-1] - buf64[:, 1:]) * scale / denom).astype(np.int64)
    total = int(np.abs(dv).sum() + np.abs(dh).sum())
    return min(total // 90, 100)


def dct16(buf64: F32, *, exact: bool = False) -> npt.NDArray[np.float64]:
    """The 16 x 16 low-frequency DCT coefficients (frequencies 1..16, no DC).

    With ``exact``, the products are accumulated in float32 one term at a time, in the
    reference's order, so that even the rounding noise matches: it decides the bits of
    near-flat images, whose coefficients are all close to the median. Otherwise one float64
    matrix product (faster; differences below 1e-5).
    """
    if not exact:
        a = buf64.astype(np.float64)
        return np.asarray(_DCT64 @ a @ _DCT64.T)
    # T[i, j] = sum_k D[i, k] A[k, j]; np.add.accumulate adds sequentially (np.sum would not).
    products = _DCT[:, :, None] * buf64.astype(np.float32)[None, :, :]
    t = np.add.accumulate(products, axis=1)[:, -1, :]
    # B[i, j] = sum_k T[i, k] D[j, k]
    products = t[:, None, :] * _DCT[None, :, :]
    b = np.add.accumulate(products, axis=2)[:, :, -1]
    return b.astype(np.float64)


def bits_from_dct(coefficients: npt.NDArray[np.floating]) -> Bits:
    """256 bits: coefficient ``(i, j)`` at bit ``16 i + j`` is set when above the median.

    The median is the 128th smallest value, which is what Torben's median in the reference
    returns for 256 values.
    """
    flat = coefficients.reshape(256)
    median = np.partition(flat, 127)[127]
    return np.asarray(flat > median)


def bits_to_hex(bits: Bits) -> str:
    """64 lower-case hex digits, bit 255 first (python-threatexchange's form)."""
    packed = np.packbits(bits[::-1].astype(np.uint8))
    return packed.tobytes().hex()


def hex_to_bits(value: str) -> Bits:
    """Inverse of :func:`bits_to_hex`; ``value`` must already be validated."""
    raw = np.frombuffer(bytes.fromhex(value), dtype=np.uint8)
    return np.unpackbits(raw)[::-1].astype(np.bool_)


def dihedral_dcts(b: npt.NDArray[np.float64]) -> list[npt.NDArray[np.float64]]:
    """The DCT matrices of the 8 rotations and flips of the image, from the original's.

    Reflecting an image negates the coefficients of odd frequency along the reflected axis
    (index ``i`` holds frequency ``i + 1``, so even indices flip); rotating by 90 degrees is a
    transpose plus a reflection. No second pass over the pixels is needed.
    """
    sign = np.where(np.arange(16) % 2 == 0, -1.0, 1.0)
    row_sign = sign[:, None]  # negates even row indices: reflection top-bottom
    col_sign = sign[None, :]  # negates even column indices: reflection left-right
    return [
        b,
        (b * col_sign).T,
        b * row_sign * col_sign,
        (b * row_sign).T,
        b * row_sign,
        b * col_sign,
        b.T,
        (b * row_sign * col_sign).T,
    ]


def hash_buffer(buf64: F32) -> tuple[Bits, int, npt.NDArray[np.float64]]:
    """Steps 4-6 on a 64 x 64 float32 buffer, exactly as the reference: ``(bits, quality,
    dct16)``."""
    coefficients = dct16(buf64, exact=True)
    return bits_from_dct(coefficients), quality(buf64), coefficients
