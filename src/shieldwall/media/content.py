"""A piece of content to hash: its bytes, a name for messages, and decoded views made on demand."""

from __future__ import annotations

from pathlib import Path

from shieldwall.errors import EmptyMedia, MediaError, MediaTooLarge
from shieldwall.media.image import ImageLimits, ReducedImage, decode_image

__all__ = ["Media"]


class Media:
    """Bytes of one piece of content plus lazily decoded images.

    Signal types ask for what they need: cryptographic hashes read :attr:`data`, PDQ asks for
    :meth:`image` at the resolution it works at. Each decoded view is made once.

        >>> media = Media(b"...", source="upload-17")       # doctest: +SKIP
        >>> media.image(min_side=128).rgb.shape              # doctest: +SKIP
        (171, 128, 3)
    """

    __slots__ = ("_images", "apply_orientation", "data", "limits", "source")

    def __init__(
        self,
        data: bytes,
        source: str,
        *,
        limits: ImageLimits | None = None,
        apply_orientation: bool = True,
    ) -> None:
        self.data = data
        self.source = source
        self.limits = limits or ImageLimits()
        self.apply_orientation = apply_orientation
        self._images: dict[tuple[int | None, bool], ReducedImage] = {}

    @classmethod
    def from_path(
        cls, path: Path, *, limits: ImageLimits | None = None, apply_orientation: bool = True
    ) -> Media:
        """Read a file, refusing it before reading when it is over the byte limit."""
        limits = limits or ImageLimits()
        source = str(path)
        try:
            size = path.stat().st_size
            if size > limits.max_bytes:
                raise MediaTooLarge(
                    f"{source}: {size:,} bytes is over the limit of {limits.max_bytes:,} bytes"
                )
            data = path.read_bytes()
        except IsADirectoryError as exc:
            raise MediaError(f"{source}: is a directory") from exc
        except FileNotFoundError as exc:
            raise MediaError(f"{source}: no such file") from exc
        except PermissionError as exc:
            raise MediaError(f"{source}: permission denied") from exc
        except OSError as exc:
            raise MediaError(f"{source}: cannot read: {exc.strerror or exc}") from exc
        if not data:
            raise EmptyMedia(f"{source}: empty file (0 bytes)")
        return cls(data, source, limits=limits, apply_orientation=apply_orientation)

    def image(self, min_side: int | None = None, *, luma_ok: bool = False) -> ReducedImage:
        """The upright image, reduced while both sides stay at least ``min_side``.

        With ``luma_ok`` the result may be luma only (see :func:`decode_image`).
        """
        key = (min_side, luma_ok)
        if key not in self._images:
            self._images[key] = decode_image(
                self.data,
                self.source,
                limits=self.limits,
                min_side=min_side,
                apply_orientation=self.apply_orientation,
                luma_ok=luma_ok,
            )
        return self._images[key]
