"""Safe decoding of untrusted bytes into pixels.

Everything that turns uploaded bytes into an image goes through here, so that the limits
(bytes, pixels, dimensions) and the error messages are the same everywhere.
"""

from typing import TYPE_CHECKING, Any

from shieldwall.media.content import Media
from shieldwall.media.image import (
    IMAGE_EXTENSIONS,
    ImageLimits,
    ReducedImage,
    decode_image,
    probe_image,
)

if TYPE_CHECKING:
    from shieldwall.media import synthetic

__all__ = [
    "IMAGE_EXTENSIONS",
    "ImageLimits",
    "Media",
    "ReducedImage",
    "decode_image",
    "probe_image",
    "synthetic",
]


def __getattr__(name: str) -> Any:
    """``shieldwall.media.synthetic`` (test pictures and videos) loads when first asked for: it
    brings PyAV, which a process that never sees a video does not need."""
    if name == "synthetic":
        import importlib  # noqa: PLC0415

        return importlib.import_module("shieldwall.media.synthetic")
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
