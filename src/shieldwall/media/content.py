"""A piece of content to hash: its bytes (or file), a name for messages, and decoded views."""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from pathlib import Path

from shieldwall.errors import MediaError
from shieldwall.media.image import ImageLimits, ReducedImage, check_size, decode_image
from shieldwall.media.video import VideoLimits

__all__ = ["Media"]

_CHUNK = 1 << 20


class Media:
    """One piece of content plus lazily decoded views of it.

    Images are small enough to hold in memory (``data``); videos stay on disk (``path``) and are
    streamed by the decoder and the digests. Signal types ask for what they need: digests call
    :meth:`digest`, PDQ asks for :meth:`image` at the resolution it works at, vPDQ opens
    :attr:`path`. Each decoded view is made once.

        >>> media = Media(b"...", source="upload-17")       # doctest: +SKIP
        >>> media.image(min_side=128).rgb.shape              # doctest: +SKIP
        (171, 128, 3)
    """

    __slots__ = (
        "_data",
        "_images",
        "apply_orientation",
        "limits",
        "path",
        "source",
        "video_limits",
    )

    def __init__(
        self,
        data: bytes | None,
        source: str,
        *,
        path: Path | None = None,
        limits: ImageLimits | None = None,
        video_limits: VideoLimits | None = None,
        apply_orientation: bool = True,
    ) -> None:
        if data is None and path is None:
            raise ValueError("Media needs data or a path")
        self._data = data
        self.path = path
        self.source = source
        self.limits = limits or ImageLimits()
        self.video_limits = video_limits or VideoLimits()
        self.apply_orientation = apply_orientation
        self._images: dict[tuple[int | None, bool], ReducedImage] = {}

    @classmethod
    def from_path(
        cls,
        path: Path,
        *,
        limits: ImageLimits | None = None,
        video_limits: VideoLimits | None = None,
        apply_orientation: bool = True,
        load: bool = True,
        source: str | None = None,
    ) -> Media:
        """Media of a file. With ``load`` (images) the bytes are read now, refusing the file
        before reading when it is over the byte limit; without (videos) it stays on disk.
        ``source`` names it in messages (default: the path)."""
        limits = limits or ImageLimits()
        source = source or str(path)
        try:
            size = path.stat().st_size
            if path.is_dir():
                raise MediaError(f"{source}: is a directory")
            if not load:
                check_size(source, size)  # videos have their own byte limit, in the decoder
                return cls(
                    None,
                    source,
                    path=path,
                    limits=limits,
                    video_limits=video_limits,
                    apply_orientation=apply_orientation,
                )
            check_size(source, size, limits.max_bytes)
            data = path.read_bytes()
        except FileNotFoundError as exc:
            raise MediaError(f"{source}: no such file") from exc
        except PermissionError as exc:
            raise MediaError(f"{source}: permission denied") from exc
        except IsADirectoryError as exc:
            raise MediaError(f"{source}: is a directory") from exc
        except OSError as exc:
            raise MediaError(f"{source}: cannot read: {exc.strerror or exc}") from exc
        check_size(source, len(data), limits.max_bytes)  # the file may have changed meanwhile
        return cls(
            data,
            source,
            path=path,
            limits=limits,
            video_limits=video_limits,
            apply_orientation=apply_orientation,
        )

    @property
    def data(self) -> bytes:
        """All the bytes (read from :attr:`path` on first use, within the byte limit)."""
        if self._data is None:
            assert self.path is not None
            check_size(self.source, self.path.stat().st_size, self.limits.max_bytes)
            self._data = self.path.read_bytes()
        return self._data

    def chunks(self) -> Iterator[bytes]:
        """The bytes in pieces, streamed from disk when the content is a file."""
        if self._data is not None:
            yield self._data
            return
        assert self.path is not None
        try:
            with self.path.open("rb") as fh:
                while chunk := fh.read(_CHUNK):
                    yield chunk
        except OSError as exc:
            raise MediaError(f"{self.source}: cannot read: {exc.strerror or exc}") from exc

    def digest(self, algorithm: str) -> str:
        """Hex digest of the bytes, streamed (``md5``, ``sha256``, ...)."""
        h = hashlib.new(algorithm)
        for chunk in self.chunks():
            h.update(chunk)
        return h.hexdigest()

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
