"""Review previews: a content's image fetched from the platform through the configured URL
template (``preview_url_template``), held in memory for one answer and never stored.

Two renderings, both re-encoded (metadata such as GPS positions is dropped, and a hostile
file never reaches the reviewer's browser as it came):

- ``blurred``: greyscale, at most :data:`BLURRED_SIDE` pixels, blurred so that nothing
  intimate can be made out; shown until the reviewer reveals it;
- ``full``: colour, at most :data:`FULL_SIDE` pixels; every such answer is an audited reveal.
"""

from __future__ import annotations

import io
from urllib.parse import quote

from PIL import Image, ImageFilter

from shieldwall.config import Settings
from shieldwall.errors import FetchRefused, UnsupportedMedia
from shieldwall.media.image import ImageLimits, probe_image
from shieldwall.net.fetch import get_bytes
from shieldwall.net.policy import AddressPolicy, Resolver

__all__ = ["BLURRED_SIDE", "FULL_SIDE", "fetch_preview", "preview_url", "render_preview"]

#: Longest side of the blurred rendering.
BLURRED_SIDE = 360
#: Longest side of the revealed rendering.
FULL_SIDE = 1600


def preview_url(settings: Settings, content_id: str) -> str:
    """The platform's preview URL of ``content_id`` (quoted into the template)."""
    template = settings.preview_url_template
    if not template:
        raise FetchRefused("no preview source is configured (SHIELDWALL_PREVIEW_URL_TEMPLATE)")
    return template.replace("{content_id}", quote(content_id, safe=""))


def fetch_preview(
    settings: Settings, content_id: str, *, resolver: Resolver | None = None
) -> bytes:
    """The preview's bytes, fetched under the outbound address policy (no redirects).
    Raises the :class:`~shieldwall.errors.FetchError` family."""
    headers = {}
    if settings.preview_authorization:
        headers["Authorization"] = settings.preview_authorization
    body, _content_type = get_bytes(
        preview_url(settings, content_id),
        headers=headers,
        policy=AddressPolicy.from_networks(settings.outbound_allowed_networks, resolver),
        timeout_seconds=settings.preview_timeout_seconds,
        max_bytes=settings.preview_max_bytes,
    )
    return body


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
