"""Hashing content into signals: one item, or many on every core.

    >>> from shieldwall import hash_file
    >>> result = hash_file("photo.jpg")                     # doctest: +SKIP
    >>> result.signals["pdq"].value, result.signals["pdq"].quality   # doctest: +SKIP
    ('f8f8f0cee0f4a84f...', 100)

A failure never stops a batch: the item's :attr:`HashResult.error` is the error (a
:class:`~shieldwall.errors.ShieldwallError`, with its HTTP status and exit code) and the others
go on; a caller that wants it raised raises it (``raise result.error``).
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Iterator, Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from itertools import islice
from pathlib import Path

from threadpoolctl import threadpool_limits

from shieldwall.config import Settings, get_settings
from shieldwall.errors import ShieldwallError, UsageError
from shieldwall.media import IMAGE_EXTENSIONS, ImageLimits, Media
from shieldwall.media.video import VIDEO_EXTENSIONS, VideoLimits, looks_like_video
from shieldwall.signals.base import ContentType, Signal
from shieldwall.signals.registry import get_signal_type
from shieldwall.signals.vpdq import VpdqSignal

__all__ = [
    "DEFAULT_SIGNALS",
    "DEFAULT_VIDEO_SIGNALS",
    "BatchItem",
    "HashResult",
    "hash_bytes",
    "hash_file",
    "hash_many",
    "hash_media",
    "sniff_content_type",
]

#: What ``shieldwall hash`` computes unless told otherwise, per kind of content.
DEFAULT_SIGNALS = ("pdq", "md5", "sha256")
DEFAULT_VIDEO_SIGNALS = ("vpdq", "video_md5", "sha256")


@dataclass(frozen=True, slots=True)
class HashResult:
    """The signals of one item, or the error that kept it from being hashed (its message names
    ``source``)."""

    source: str
    signals: dict[str, Signal] = field(default_factory=dict)
    error: ShieldwallError | None = None

    @property
    def ok(self) -> bool:
        """Whether every requested signal was computed."""
        return self.error is None

    @property
    def error_message(self) -> str | None:
        """What is wrong, for a person (``None`` when hashed)."""
        return self.error.message if self.error is not None else None


def limits_from(settings: Settings) -> ImageLimits:
    """The image limits configured in ``settings``."""
    return ImageLimits(
        max_bytes=settings.max_media_bytes,
        max_pixels=settings.max_image_pixels,
        max_dimension=settings.max_image_dimension,
    )


def video_limits_from(settings: Settings) -> VideoLimits:
    """The video limits configured in ``settings``."""
    return VideoLimits(
        max_bytes=settings.max_video_bytes,
        max_duration_seconds=settings.max_video_seconds,
        max_frames=settings.max_video_frames,
        max_dimension=settings.max_video_dimension,
    )


def _signal_names(names: Sequence[str] | None) -> tuple[str, ...] | None:
    if names is None:
        return None
    for name in names:
        get_signal_type(name)  # raises UnknownSignalType with the list of known ones
    return tuple(names)


def content_type_of(path: Path | None, data: bytes | None = None) -> ContentType:
    """Photo or video: by file extension, else by sniffing the first bytes."""
    if path is not None and path.suffix:
        suffix = path.suffix.lower()
        if suffix in VIDEO_EXTENSIONS:
            return ContentType.VIDEO
        if suffix in IMAGE_EXTENSIONS:
            return ContentType.PHOTO
    head = data[:64] if data is not None else _head(path)
    return ContentType.VIDEO if looks_like_video(head) else ContentType.PHOTO


#: First bytes of the image formats we decode (HEIC and AVIF are ISO BMFF: looks_like_video
#: tells them apart from video by their brand).
_IMAGE_MAGIC = (b"\xff\xd8\xff", b"\x89PNG", b"GIF87a", b"GIF89a", b"BM", b"II*\x00", b"MM\x00*")


def sniff_content_type(path: Path) -> ContentType:
    """Photo or video by the file's first bytes, whatever its name says (an upload saved to a
    temporary file); the extension decides only when the bytes are not recognised."""
    head = _head(path)
    if looks_like_video(head):
        return ContentType.VIDEO
    if head.startswith(_IMAGE_MAGIC) or (head[:4] == b"RIFF" and head[8:12] == b"WEBP"):
        return ContentType.PHOTO
    if len(head) >= 12 and head[4:8] == b"ftyp":
        return ContentType.PHOTO  # an ISO BMFF image (HEIC, AVIF)
    return content_type_of(path, head)


def _head(path: Path | None) -> bytes:
    if path is None:
        return b""
    try:
        with path.open("rb") as fh:
            return fh.read(512)
    except OSError:
        return b""  # the decoder reports the real problem with the file


def hash_media(
    media: Media,
    signals: Sequence[str] | None = None,
    content_type: ContentType = ContentType.PHOTO,
    *,
    seconds_per_hash: float | None = None,
) -> HashResult:
    """Compute ``signals`` of one piece of media (default: those for its ``content_type``).

    Requested signals that do not apply to the content type are skipped; if none applies, the
    result is an error. Content that cannot be decoded gives a result with ``error`` set, not
    an exception, so the caller's batch goes on.
    """
    names = _signal_names(signals)
    if names is None:
        names = DEFAULT_VIDEO_SIGNALS if content_type is ContentType.VIDEO else DEFAULT_SIGNALS
    applicable = [n for n in names if content_type in get_signal_type(n).content_types]
    if not applicable:
        return HashResult(
            media.source,
            {},
            UsageError(
                f"{media.source}: none of the signals {', '.join(names)} applies to a "
                f"{content_type.value}"
            ),
        )
    out: dict[str, Signal] = {}
    try:
        for name in applicable:
            signal_type = get_signal_type(name)
            if isinstance(signal_type, VpdqSignal) and seconds_per_hash is not None:
                out[name] = signal_type.compute_frames(media, seconds_per_hash)[0]
            else:
                out[name] = signal_type.compute(media)
    except ShieldwallError as exc:
        return HashResult(media.source, {}, exc)
    return HashResult(media.source, out)


def hash_bytes(
    data: bytes,
    source: str = "<bytes>",
    signals: Sequence[str] | None = None,
    *,
    settings: Settings | None = None,
    apply_orientation: bool = True,
) -> HashResult:
    """Hash content given as bytes; ``source`` names it in error messages."""
    settings = settings or get_settings()
    media = Media(
        data,
        source,
        limits=limits_from(settings),
        video_limits=video_limits_from(settings),
        apply_orientation=apply_orientation,
    )
    return hash_media(media, signals)


def hash_file(
    path: str | os.PathLike[str],
    signals: Sequence[str] | None = None,
    *,
    settings: Settings | None = None,
    apply_orientation: bool = True,
    seconds_per_hash: float | None = None,
    content_type: ContentType | None = None,
    source: str | None = None,
) -> HashResult:
    """Hash one file. Unreadable or undecodable files give a result with ``error`` set.

    ``content_type`` defaults to what the extension says (else the first bytes);
    ``seconds_per_hash`` is the vpdq sampling of a video (default one frame a second);
    ``source`` names the content in the result and its error messages (default: the path; an
    upload saved to a temporary file gives the name the client sent)."""
    settings = settings or get_settings()
    names = _signal_names(signals)
    if content_type is None:
        content_type = content_type_of(Path(path))
    try:
        media = Media.from_path(
            Path(path),
            limits=limits_from(settings),
            video_limits=video_limits_from(settings),
            apply_orientation=apply_orientation,
            load=content_type is ContentType.PHOTO,
            source=source,
        )
    except ShieldwallError as exc:
        return HashResult(source or str(path), {}, exc)
    return hash_media(media, names, content_type, seconds_per_hash=seconds_per_hash)


#: An item of a batch: a path, or ``(source, data)`` for content already in memory (stdin).
BatchItem = str | os.PathLike[str] | tuple[str, bytes]

_WINDOW = 256  # items in flight at once: bounds memory on huge batches


def _worker_init() -> None:
    # Each worker already has a core to itself; BLAS threads inside it would oversubscribe.
    threadpool_limits(1)


def _hash_task(
    args: tuple[BatchItem, tuple[str, ...] | None, Settings, float | None],
) -> HashResult:
    item, names, settings, seconds_per_hash = args
    if isinstance(item, tuple):
        return hash_bytes(item[1], item[0], names, settings=settings)
    return hash_file(item, names, settings=settings, seconds_per_hash=seconds_per_hash)


def hash_many(
    items: Iterable[BatchItem],
    signals: Sequence[str] | None = None,
    *,
    workers: int | None = None,
    settings: Settings | None = None,
    seconds_per_hash: float | None = None,
) -> Iterator[HashResult]:
    """Hash many files (or in-memory items) on ``workers`` processes.

    ``workers`` defaults to the ``workers`` setting, where 0 means one per core. Results come
    back in input order, one per item, as soon as each is ready.
    """
    settings = settings or get_settings()
    names = _signal_names(signals)
    count = workers if workers is not None else settings.workers
    if count <= 0:
        count = os.cpu_count() or 1
    tasks = ((item, names, settings, seconds_per_hash) for item in items)
    if count == 1:
        yield from map(_hash_task, tasks)
        return
    with ProcessPoolExecutor(max_workers=count, initializer=_worker_init) as pool:
        while window := list(islice(tasks, _WINDOW)):
            yield from pool.map(_hash_task, window, chunksize=max(1, len(window) // (4 * count)))
