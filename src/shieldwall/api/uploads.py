"""Uploaded content: streamed to a temporary file with a size limit, never held whole in
memory (a video can be gigabytes), then hashed or matched from disk."""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

from shieldwall.config import Settings
from shieldwall.errors import EmptyMedia, MediaTooLarge
from shieldwall.media.video import looks_like_video
from shieldwall.signals.base import ContentType

__all__ = ["SavedUpload", "save_upload"]

_CHUNK = 1024 * 1024


@dataclass(frozen=True, slots=True)
class SavedUpload:
    """An upload on disk: where, how big, photo or video, and the name the client gave."""

    path: Path
    size: int
    content_type: ContentType
    filename: str


@contextmanager
def save_upload(
    stream: BinaryIO, filename: str | None, settings: Settings
) -> Iterator[SavedUpload]:
    """Copy ``stream`` to a temporary file in ``data_dir/uploads`` (removed afterwards),
    refusing content over ``max_video_bytes`` (videos) or ``max_media_bytes`` (photos) as soon
    as it passes the limit."""
    head = stream.read(64)
    if not head:
        raise EmptyMedia(f"{filename or 'the upload'}: the file is empty (0 bytes)")
    kind = ContentType.VIDEO if looks_like_video(head) else ContentType.PHOTO
    limit = settings.max_video_bytes if kind is ContentType.VIDEO else settings.max_media_bytes
    folder = settings.data_dir / "uploads"
    folder.mkdir(parents=True, exist_ok=True)
    fd, name = tempfile.mkstemp(dir=folder, prefix="upload-")
    path = Path(name)
    try:
        with os.fdopen(fd, "wb") as out:
            out.write(head)
            size = len(head)
            while chunk := stream.read(_CHUNK):
                size += len(chunk)
                if size > limit:
                    raise MediaTooLarge(
                        f"{filename or 'the upload'}: over the {kind.value} limit of {limit} bytes"
                    )
                out.write(chunk)
        yield SavedUpload(path, size, kind, filename or "upload")
    finally:
        path.unlink(missing_ok=True)
