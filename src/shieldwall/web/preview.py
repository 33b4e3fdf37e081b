"""Review previews: a content's image fetched from the platform through the configured URL
template (``preview_url_template``, :mod:`shieldwall.cases.platform`), held in memory for one
answer and never stored.

Two renderings, both re-encoded (metadata such as GPS positions is dropped, and a hostile
file never reaches the reviewer's browser as it came):

- ``blurred``: greyscale, at most :data:`BLURRED_SIDE` pixels, blurred so that nothing
  intimate can be made out; shown until the reviewer reveals it;
- ``full``: colour, at most :data:`FULL_SIDE` pixels; every such answer is an audited reveal.
"""

from __future__ import annotations

import io

from PIL import Image, ImageFilter

from shieldwall.cases.platform import fetch_preview, preview_url
from shieldwall.errors import UnsupportedMedia
from shieldwall.media.image import ImageLimits, probe_image

__all__ = ["BLURRED_SIDE", "FULL_SIDE", "fetch_preview", "preview_url", "render_preview"]

#: Longest side of the blurred rendering.
BLURRED_SIDE = 360
#: Longest side of the revealed rendering.
FULL_SIDE = 1600


def render_preview(data: bytes, *, reveal: bool, limits: ImageLimits | None = None) -> bytes:
    """A JPEG rendering of the image ``data`` (see the module). Raises the
    :class:`~shieldwall.errors.MediaError` family for what is not a readable image (checked
    from the header first: decompression bombs are refused before decoding)."""
    limits = limits or ImageLimits()
    probe_image(data, "preview", limits)
    try:
        with Image.open(io.BytesIO(data)) as img:
            img.seek(0)
            frame = img.convert("RGB")
    except (OSError, ValueError, SyntaxError) as exc:
        raise UnsupportedMedia(f"preview: cannot decode the image: {exc}") from exc
    if reveal:
        frame.thumbnail((FULL_SIDE, FULL_SIDE))
        out = frame
    else:
        frame.thumbnail((BLURRED_SIDE, BLURRED_SIDE))
        grey = frame.convert("L")
        out = grey.filter(ImageFilter.GaussianBlur(radius=max(grey.size) / 24))
    out.info.clear()  # no comment, ICC profile or other metadata of the original goes out
    buffer = io.BytesIO()
    out.save(buffer, "JPEG", quality=85 if reveal else 70)
    return buffer.getvalue()
