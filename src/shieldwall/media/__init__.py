"""Safe decoding of untrusted bytes into pixels.

Everything that turns uploaded bytes into an image goes through here, so that the limits
(bytes, pixels, dimensions) and the error messages are the same everywhere.
"""

from shieldwall.media import synthetic
from shieldwall.media.content import Media
from shieldwall.media.image import (
    IMAGE_EXTENSIONS,
    ImageLimits,
    ReducedImage,
    decode_image,
    probe_image,
)

__all__ = [
    "IMAGE_EXTENSIONS",
    "ImageLimits",
    "Media",
    "ReducedImage",
    "decode_image",
    "probe_image",
    "synthetic",
]
