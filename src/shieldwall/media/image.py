"""Image decoding with limits, EXIF orientation and correct mode conversion.

Formats: JPEG, PNG, WebP (animated: first frame), GIF (animated: first frame), BMP, TIFF,
HEIC/HEIF (through pillow-heif). The decoder never hands back more pixels than the caller asked
for when it can avoid it: JPEG is decoded at 1/2, 1/4 or 1/8 scale in the DCT domain ("draft"
mode), other formats are box-reduced right after decoding. The caller learns the exact block
factor of the reduction so it can account for it (see :mod:`shieldwall.signals.pdq`).

Mode conversion follows what hash banks expect, so that our hashes agree with theirs: alpha is
dropped (as Pillow's ``convert("RGB")``, the reference tools and HMA do), CMYK and palette images
are converted by Pillow, and 16- and 32-bit greyscale is scaled to 8 bits instead of being
clipped (Pillow's own conversion clips, which turns most 16-bit photos white).
"""

from __future__ import annotations

import io
import warnings
from dataclasses import dataclass, field
from typing import Final

import numpy as np
import numpy.typing as npt
from PIL import Image, UnidentifiedImageError

from shieldwall.errors import CorruptMedia, EmptyMedia, MediaTooLarge, UnsupportedMedia
from shieldwall.media.budget import (
    DEFAULT_MAX_DECODE_BYTES,
    DecodeBudget,
    image_decode_cost,
    shared_budget,
)

# Our own limits (ImageLimits, checked from the header before any decoding) replace Pillow's
# process-wide decompression-bomb guard, whose error would name Pillow's limit, not the
# setting that the operator can change, and which fires before we see the header at all.
Image.MAX_IMAGE_PIXELS = None

_heif_registered = False


def _register_heif(data: bytes) -> None:
    """HEIC/HEIF support, a plug-in of Pillow's registry, loaded with the first file in an ISO
    media container (``ftyp`` at byte 4): not in a process that never sees one (about 4 MiB)."""
    global _heif_registered  # noqa: PLW0603 (registered once per process)
    if _heif_registered or data[4:8] != b"ftyp":
        return
    try:
        import pillow_heif  # noqa: PLC0415 (loaded on first use)
    except ImportError:  # pragma: no cover - pillow-heif is a declared dependency
        return
    pillow_heif.register_heif_opener()
    _heif_registered = True


__all__ = [
    "IMAGE_EXTENSIONS",
    "ImageLimits",
    "ReducedImage",
    "check_size",
    "decode_image",
    "probe_image",
]

#: Formats we accept; anything else Pillow happens to open is refused as unsupported.
SUPPORTED_FORMATS: Final = frozenset(
    {"JPEG", "MPO", "PNG", "WEBP", "GIF", "BMP", "TIFF", "HEIF", "HEIC", "AVIF"}
)
#: File name extensions looked at when walking a directory.
IMAGE_EXTENSIONS: Final = frozenset(
    {
        ".jpg",
        ".jpeg",
        ".jpe",
        ".jfif",
        ".png",
        ".webp",
        ".gif",
        ".bmp",
        ".tif",
        ".tiff",
        ".heic",
        ".heif",
        ".avif",
    }
)
_JPEG_SCALES: Final = (8, 4, 2, 1)
_TRANSPOSING_ORIENTATIONS: Final = frozenset({5, 6, 7, 8})
# EXIF orientation tag -> the transposition that makes the image upright (as ImageOps does).
_ORIENTATION_TRANSPOSE: Final = {
    2: Image.Transpose.FLIP_LEFT_RIGHT,
    3: Image.Transpose.ROTATE_180,
    4: Image.Transpose.FLIP_TOP_BOTTOM,
    5: Image.Transpose.TRANSPOSE,
    6: Image.Transpose.ROTATE_270,
    7: Image.Transpose.TRANSVERSE,
    8: Image.Transpose.ROTATE_90,
}


@dataclass(frozen=True, slots=True)
class ImageLimits:
    """Refuse images over these sizes before decoding a single pixel.

    ``max_decode_bytes`` bounds the memory one decode may hold at its peak (estimated from the
    header: see :mod:`shieldwall.media.budget`); ``budget`` is the process's budget that
    concurrent decodes share.
    """

    max_bytes: int = 64 * 1024 * 1024
    max_pixels: int = 80_000_000
    max_dimension: int = 30_000
    max_decode_bytes: int = DEFAULT_MAX_DECODE_BYTES
    budget: DecodeBudget = field(default_factory=shared_budget)


@dataclass(frozen=True, slots=True)
class ReducedImage:
    """An upright image, possibly reduced from the original by whole-pixel blocks.

    ``rgb`` is ``(height, width, 3)`` uint8 RGB, or ``(height, width)`` uint8 luma (BT.601 Y,
    straight from a JPEG's Y plane) when the caller allowed ``luma_ok`` and the decoder could
    skip colour entirely; ``is_luma`` says which. ``full_width`` x ``full_height`` is the size
    of the upright original; each pixel of ``rgb`` is (approximately) the mean of a
    ``factor_x`` x ``factor_y`` block of it, blocks anchored at the top-left corner (the last block
    on each axis may be partial).
    """

    rgb: npt.NDArray[np.uint8]
    full_width: int
    full_height: int
    factor_x: int
    factor_y: int
    format: str
    frames: int
    is_luma: bool = False


def check_size(source: str, size: int, limit: int | None = None) -> None:
    """:class:`EmptyMedia` for 0 bytes, :class:`MediaTooLarge` over ``limit`` (if any)."""
    if size == 0:
        raise EmptyMedia(f"{source}: empty file (0 bytes)")
    if limit is not None and size > limit:
        raise MediaTooLarge(f"{source}: {size:,} bytes is over the limit of {limit:,} bytes")


def _open(data: bytes, source: str, limits: ImageLimits) -> Image.Image:
    check_size(source, len(data), limits.max_bytes)
    _register_heif(data)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            img = Image.open(io.BytesIO(data))
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
        raise MediaTooLarge(f"{source}: image dimensions are too large ({exc})") from exc
    except UnidentifiedImageError as exc:
        raise UnsupportedMedia(f"{source}: not an image in a supported format") from exc
    except (OSError, SyntaxError, ValueError) as exc:
        raise CorruptMedia(f"{source}: cannot read image header: {exc}") from exc
    if img.format not in SUPPORTED_FORMATS:
        raise UnsupportedMedia(f"{source}: image format {img.format} is not supported")
    width, height = img.size
    if width <= 0 or height <= 0:
        raise CorruptMedia(f"{source}: image header gives an empty size {width}x{height}")
    if max(width, height) > limits.max_dimension:
        raise MediaTooLarge(
            f"{source}: {width}x{height} has a side over the limit of {limits.max_dimension:,} px "
            "(max_image_dimension, SHIELDWALL_MAX_IMAGE_DIMENSION)"
        )
    if width * height > limits.max_pixels:
        raise MediaTooLarge(
            f"{source}: {width}x{height} = {width * height:,} pixels is over the limit of "
            f"{limits.max_pixels:,} (max_image_pixels, SHIELDWALL_MAX_IMAGE_PIXELS; "
            "decompression bomb?)"
        )
    return img


def probe_image(
    data: bytes, source: str, limits: ImageLimits | None = None
) -> tuple[str, int, int]:
    """Check the header and limits without decoding pixels: ``(format, width, height)``."""
    img = _open(data, source, limits or ImageLimits())
    return str(img.format), img.size[0], img.size[1]


def _orientation(img: Image.Image) -> int:
    try:
        value = img.getexif().get(0x0112, 1)
    except Exception:
        return 1
    return value if isinstance(value, int) and 1 <= value <= 8 else 1


#: Greyscale modes wider than 8 bits: scaled to 8 bits (Pillow's own conversion clips them).
_WIDE_GREY: Final = frozenset({"I;16", "I;16B", "I;16L", "I;16N", "I", "F"})
#: Rows converted at a time from wide greyscale: the float64 working copy stays small.
_WIDE_ROWS: Final = 256


def _wide_to_grey(img: Image.Image) -> Image.Image:
    """16- and 32-bit greyscale scaled to 8 bits (``L``), a band of rows at a time, so that
    the float64 working copy never holds the whole image."""
    src = np.asarray(img)
    mode = img.mode
    divide = mode.startswith("I;16") or (mode == "I" and src.max(initial=0) > 255)
    multiply = mode == "F" and src.max(initial=0) <= 1.0
    grey = np.empty(src.shape, dtype=np.uint8)
    for start in range(0, src.shape[0], _WIDE_ROWS):
        band = src[start : start + _WIDE_ROWS].astype(np.float64)
        if divide:
            band /= 257.0
        elif multiply:
            band *= 255.0
        np.rint(band, out=band)
        np.clip(band, 0, 255, out=band)
        grey[start : start + _WIDE_ROWS] = band
    del src, band  # before Pillow copies the grey into an image of its own
    return Image.fromarray(grey)


def _to_rgb(img: Image.Image) -> Image.Image:
    """Convert any mode to 8-bit RGB the way hash banks do, scaling wide greyscale."""
    mode = img.mode
    if mode == "RGB":
        return img
    if mode in _WIDE_GREY:
        return _wide_to_grey(img).convert("RGB")
    return img.convert("RGB")


def _jpeg_scale(width: int, height: int, min_side: int) -> int:
    for scale in _JPEG_SCALES:
        if -(-width // scale) >= min_side and -(-height // scale) >= min_side:
            return scale
    return 1


def _frame_count(img: Image.Image, source: str) -> int:
    """How many frames the image has; reading it walks a TIFF's or GIF's frame headers, where
    Pillow reports a damaged one with a ``TypeError`` or ``KeyError`` (found by fuzzing)."""
    try:
        return int(getattr(img, "n_frames", 1) or 1)
    except (OSError, SyntaxError, ValueError, EOFError, TypeError, KeyError) as exc:
        raise CorruptMedia(f"{source}: a frame header is damaged ({exc})") from exc


def decode_image(
    data: bytes,
    source: str,
    *,
    limits: ImageLimits | None = None,
    min_side: int | None = None,
    apply_orientation: bool = True,
    luma_ok: bool = False,
) -> ReducedImage:
    """Decode ``data`` into an upright RGB image.

    ``source`` names the content in error messages (a path, ``stdin``, an upload id). With
    ``min_side``, the image may be reduced by whole blocks as long as both sides stay at least
    ``min_side`` pixels (or at the original size when smaller). With ``luma_ok``, a reduced
    JPEG is decoded to its Y plane only (JPEG's Y is BT.601 luma, the weights PDQ uses), which
    skips chroma decoding and colour conversion: about a third faster. Raises a
    :class:`~shieldwall.errors.MediaError` subclass that says what is wrong with ``source``.
    """
    limits = limits or ImageLimits()
    img = _open(data, source, limits)
    full_w, full_h = img.size
    frames = _frame_count(img, source)
    fmt = str(img.format)
    try:
        if frames > 1:
            img.seek(0)
        if min_side is not None and fmt in {"JPEG", "MPO"}:
            factor = _jpeg_scale(full_w, full_h, min_side)
            if factor > 1:
                grey = luma_ok and img.mode in {"RGB", "L"}  # YCbCr or greyscale, not CMYK
                img.draft("L" if grey else "RGB", (-(-full_w // factor), -(-full_h // factor)))
    except (OSError, SyntaxError, ValueError, EOFError) as exc:
        raise CorruptMedia(f"{source}: image data is damaged or truncated ({exc})") from exc
    # The cost is known from the header (and the draft scale) before a pixel is decoded.
    width, height = img.size
    reduced = min_side is not None and min(width, height) // min_side >= 2
    cost = image_decode_cost(width, height, img.mode, reduced=reduced, image_format=fmt)
    if cost > limits.max_decode_bytes:
        raise MediaTooLarge(
            f"{source}: decoding {full_w}x{full_h} ({img.mode}) would take about "
            f"{cost / 2**20:,.0f} MiB, over the limit of {limits.max_decode_bytes / 2**20:,.0f} "
            "MiB a decode (max_decode_bytes, SHIELDWALL_MAX_DECODE_BYTES)"
        )
    with limits.budget.hold(cost, source):
        return _decode(
            img,
            source,
            (full_w, full_h, frames),
            min_side=min_side,
            apply_orientation=apply_orientation,
            luma_ok=luma_ok,
        )


def _decode(
    img: Image.Image,
    source: str,
    header: tuple[int, int, int],
    *,
    min_side: int | None,
    apply_orientation: bool,
    luma_ok: bool,
) -> ReducedImage:
    """Load, convert and reduce ``img`` (opened, maybe drafted; ``header`` is the full width,
    height and frame count), within the caller's hold of the budget."""
    full_w, full_h, frames = header
    fmt = str(img.format)
    try:
        img.load()
    except (OSError, SyntaxError, ValueError, EOFError) as exc:
        raise CorruptMedia(f"{source}: image data is damaged or truncated ({exc})") from exc
    # After the pixels: a PNG's EXIF may follow its image data, so reading it first would load
    # the pixels inside _orientation, which swallows errors (a damaged PNG hashed as black).
    orientation = _orientation(img) if apply_orientation else 1
    factor_x = max(1, round(full_w / img.size[0]))
    factor_y = max(1, round(full_h / img.size[1]))
    is_luma = img.mode == "L" and luma_ok and factor_x > 1
    if img.mode in _WIDE_GREY:
        img = _wide_to_grey(img)  # then reduced as greyscale, before its RGB conversion
    extra = 1
    if min_side is not None:
        extra = min(img.size[0] // min_side, img.size[1] // min_side)
    if extra >= 2 and img.mode in {"L", "1"}:
        # Greyscale to RGB copies the grey into each channel, so box-reducing first gives the
        # same pixels, without the full-size RGB copy (4 bytes a pixel in Pillow). Bilevel
        # pixels become 0 or 255 either way, so they go through greyscale (1 byte a pixel).
        img = (img.convert("L") if img.mode == "1" else img).reduce(extra)
        factor_x *= extra
        factor_y *= extra
        extra = 1
    rgb_img = img if is_luma else _to_rgb(img)
    del img  # the decoded original is no longer needed once converted
    if extra >= 2:
        rgb_img = rgb_img.reduce(extra)
        factor_x *= extra
        factor_y *= extra
    if orientation != 1:
        rgb_img = rgb_img.transpose(_ORIENTATION_TRANSPOSE[orientation])
        if orientation in _TRANSPOSING_ORIENTATIONS:
            full_w, full_h = full_h, full_w
            factor_x, factor_y = factor_y, factor_x
    pixels = np.asarray(rgb_img, dtype=np.uint8)
    if pixels.ndim != (2 if is_luma else 3):  # pragma: no cover - guaranteed above
        raise CorruptMedia(f"{source}: decoded to an unexpected shape {pixels.shape}")
    return ReducedImage(pixels, full_w, full_h, factor_x, factor_y, fmt, frames, is_luma)
