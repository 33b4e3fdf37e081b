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
from shieldwall.media.budget import shared_budget
from shieldwall.media.image import check_size
from shieldwall.media.video import VIDEO_EXTENSIONS, VideoLimits, looks_like_video
from shieldwall.signals import (
    ContentType,
    Signal,
    VariantOptions,
    all_signal_types,
    get_signal_type,
)
from shieldwall.signals.vpdq import VpdqSignal

__all__ = [
    "BatchItem",
    "HashResult",
    "default_signals",
    "hash_bytes",
    "hash_file",
    "hash_many",
    "hash_media",
    "ledger_signals",
    "sniff_content_type",
]


def default_signals(content_type: ContentType) -> tuple[str, ...]:
    """What is computed unless told otherwise for ``content_type``: every registered type
    that applies to it and is :attr:`~shieldwall.signals.SignalType.computed_by_default`
    (photos: pdq, md5, sha256; videos: md5, sha256, vpdq; then plug-ins), in registration
    order."""
    return tuple(t.name for t in all_signal_types(content_type) if t.computed_by_default)


def ledger_signals() -> tuple[str, ...]:
    """What the ledger of hosted content is recorded with: the default types it keeps
    (:attr:`~shieldwall.signals.SignalType.in_ledger`; a video's frame set is not kept)."""
    return tuple(t.name for t in all_signal_types() if t.in_ledger and t.computed_by_default)


@dataclass(frozen=True, slots=True)
class HashResult:
    """The signals of one item, or the error that kept it from being hashed (its message names
    ``source``)."""

    source: str
    signals: dict[str, Signal] = field(default_factory=dict)
    error: ShieldwallError | None = None
    #: Query-side variants by name (PDQ's rotations and flips, normalised cuts, rotations
    #: undone; a video's frames with their borders trimmed, as vpdq signals), when asked for:
    #: computed in the same pass as :attr:`signals`, from the same decode.
    variants: dict[str, Signal] = field(default_factory=dict)
    #: Variants asked for but not made, with the reason (a flat picture has no border to
    #: trim, a photo is no screenshot): never an error.
    skipped: dict[str, str] = field(default_factory=dict)
    #: Bank-side variants (a photo's crops, a video's frame sets of cropped frames, each a
    #: :class:`Signal` with its ``variant`` name), when asked for: what banking the content
    #: holds beside its signals.
    bank_variants: list[Signal] = field(default_factory=list)

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
        max_decode_bytes=settings.max_decode_bytes,
        budget=shared_budget(settings.decode_memory_budget, settings.decode_wait_seconds),
    )


def video_limits_from(settings: Settings) -> VideoLimits:
    """The video limits configured in ``settings``."""
    return VideoLimits(
        max_bytes=settings.max_video_bytes,
        max_duration_seconds=settings.max_video_seconds,
        max_frames=settings.max_video_frames,
        max_dimension=settings.max_video_dimension,
        max_decode_bytes=settings.max_decode_bytes,
        budget=shared_budget(settings.decode_memory_budget, settings.decode_wait_seconds),
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


def sniff_content_type(content: Path | bytes) -> ContentType:
    """Photo or video by the first bytes of a file or of content in memory (stdin, an upload
    saved to a temporary file), whatever a name says. When the bytes are not recognised, a
    file's extension decides; content in memory is then a photo (whose decoder says what is
    wrong with it)."""
    head = content[:_HEAD] if isinstance(content, bytes) else _head(content)
    if looks_like_video(head):
        return ContentType.VIDEO
    if head.startswith(_IMAGE_MAGIC) or (head[:4] == b"RIFF" and head[8:12] == b"WEBP"):
        return ContentType.PHOTO
    if len(head) >= 12 and head[4:8] == b"ftyp":
        return ContentType.PHOTO  # an ISO BMFF image (HEIC, AVIF)
    if isinstance(content, bytes):
        return ContentType.PHOTO
    return content_type_of(content, head)


_HEAD = 512


def _head(path: Path | None) -> bytes:
    if path is None:
        return b""
    try:
        with path.open("rb") as fh:
            return fh.read(_HEAD)
    except OSError:
        return b""  # the decoder reports the real problem with the file


def hash_media(
    media: Media,
    signals: Sequence[str] | None = None,
    content_type: ContentType = ContentType.PHOTO,
    *,
    seconds_per_hash: float | None = None,
    variants: VariantOptions | None = None,
    bank_variants: bool = False,
    extra_signals: Sequence[str] = (),
) -> HashResult:
    """Compute ``signals`` of one piece of media (default: those for its ``content_type``),
    and the ``extra_signals`` types beside them where they apply (a bank's local features).

    Requested signals that do not apply to the content type are skipped; if none applies, the
    result is an error. Content that cannot be decoded gives a result with ``error`` set, not
    an exception, so the caller's batch goes on. With ``variants``, the types that have
    query-side variants (PDQ) give those asked for too, from the same decode
    (``HashResult.variants``, and ``HashResult.skipped`` for those that could not be made);
    a video's frames with their borders trimmed when ``variants.normalise``.
    With ``bank_variants``, the bank-side variants to bank beside the signals
    (``HashResult.bank_variants``: a photo's crops, a video's cropped frame sets).
    """
    names = _signal_names(signals)
    if names is None:
        names = default_signals(content_type)
    names = (*names, *(n for n in extra_signals if n not in names))
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
    extra: dict[str, Signal] = {}
    skipped: dict[str, str] = {}
    banked: list[Signal] = []
    try:
        for name in applicable:
            signal_type = get_signal_type(name)
            if isinstance(signal_type, VpdqSignal):  # frames and their variants, one decode
                hashed = signal_type.hash_frames(
                    media,
                    signal_type.seconds_per_hash if seconds_per_hash is None else seconds_per_hash,
                    normalise=variants is not None and variants.normalise,
                    bank_variants=bank_variants,
                )
                out[name] = hashed.signal
                extra.update(hashed.variants)
                skipped.update(hashed.skipped)
                banked.extend(hashed.bank_variants)
                continue
            if variants is not None and variants.any and signal_type.has_variants:
                out[name], found, missed = signal_type.compute_with_variants(media, variants)
                extra.update(found)
                skipped.update(missed)
            else:
                out[name] = signal_type.compute(media)
            if name in extra_signals and not signal_type.is_usable(out[name]):
                del out[name]  # an extra type is a bonus: a flat photo goes without it
                skipped[name] = f"too little detail for {name} (quality below the floor)"
                continue
            if bank_variants and signal_type.has_variants:
                banked.extend(signal_type.compute_bank_variants(media).values())
    except ShieldwallError as exc:
        return HashResult(media.source, {}, exc)
    return HashResult(media.source, out, variants=extra, skipped=skipped, bank_variants=banked)


def hash_bytes(
    data: bytes,
    source: str = "<bytes>",
    signals: Sequence[str] | None = None,
    *,
    settings: Settings | None = None,
    apply_orientation: bool = True,
    seconds_per_hash: float | None = None,
    content_type: ContentType | None = None,
) -> HashResult:
    """Hash content given as bytes (a photo or a video); ``source`` names it in error messages.

    ``content_type`` defaults to what the first bytes say (:func:`sniff_content_type`); the
    content must be within the byte limit of its kind (``max_media_bytes``,
    ``max_video_bytes``). ``seconds_per_hash`` is the vpdq sampling of a video."""
    settings = settings or get_settings()
    if content_type is None:
        content_type = sniff_content_type(data)
    video = content_type is ContentType.VIDEO
    try:
        check_size(
            source, len(data), settings.max_video_bytes if video else settings.max_media_bytes
        )
    except ShieldwallError as exc:
        return HashResult(source, {}, exc)
    media = Media(
        data,
        source,
        limits=limits_from(settings),
        video_limits=video_limits_from(settings),
        apply_orientation=apply_orientation,
    )
    return hash_media(media, signals, content_type, seconds_per_hash=seconds_per_hash)


def hash_file(
    path: str | os.PathLike[str],
    signals: Sequence[str] | None = None,
    *,
    settings: Settings | None = None,
    apply_orientation: bool = True,
    seconds_per_hash: float | None = None,
    content_type: ContentType | None = None,
    variants: VariantOptions | None = None,
    bank_variants: bool = False,
    source: str | None = None,
    extra_signals: Sequence[str] = (),
) -> HashResult:
    """Hash one file. Unreadable or undecodable files give a result with ``error`` set.

    ``content_type`` defaults to what the extension says (else the first bytes);
    ``seconds_per_hash`` is the vpdq sampling of a video (default one frame a second);
    ``variants``, ``bank_variants`` and ``extra_signals``: see :func:`hash_media`. The file is
    read and decoded once. ``source`` names the content in the result and its error messages
    (default: the path; an upload saved to a temporary file gives the name the client sent)."""
    settings = settings or get_settings()
    names = _signal_names(signals)
    source = str(path) if source is None else source
    if content_type is None:
        content_type = content_type_of(Path(path))
    try:
        media = Media.from_path(
            Path(path),
            source=source,
            limits=limits_from(settings),
            video_limits=video_limits_from(settings),
            apply_orientation=apply_orientation,
            load=content_type is ContentType.PHOTO,
        )
    except ShieldwallError as exc:
        return HashResult(source, {}, exc)
    return hash_media(
        media,
        names,
        content_type,
        seconds_per_hash=seconds_per_hash,
        variants=variants,
        bank_variants=bank_variants,
        extra_signals=extra_signals,
    )


#: An item of a batch: a path; ``(source, data)`` for content in memory; ``(source, path)`` for
#: a file that results name otherwise, a photo or a video by its first bytes (stdin, spooled
#: to a temporary file).
BatchItem = str | os.PathLike[str] | tuple[str, bytes] | tuple[str, Path]

_WINDOW = 256  # items in flight at once: bounds memory on huge batches


def _worker_init() -> None:
    # Each worker already has a core to itself; BLAS threads inside it would oversubscribe.
    threadpool_limits(1)


@dataclass(frozen=True, slots=True)
class _Task:
    names: tuple[str, ...] | None
    settings: Settings
    seconds_per_hash: float | None
    variants: VariantOptions | None
    bank_variants: bool
    extra_signals: tuple[str, ...] = ()


def _hash_task(args: tuple[BatchItem, _Task]) -> HashResult:
    item, task = args
    if isinstance(item, tuple):
        source, content = item
        if isinstance(content, bytes):
            return hash_bytes(
                content,
                source,
                task.names,
                settings=task.settings,
                seconds_per_hash=task.seconds_per_hash,
            )
        path: Path = content
        content_type: ContentType | None = sniff_content_type(path)  # a spooled stdin: no name
    else:
        source, path = str(item), Path(item)
        # The name decides, as for one file, unless variants need to know now (a photo or a
        # video whatever its name).
        content_type = sniff_content_type(path) if task.variants is not None else None
    return hash_file(
        path,
        task.names,
        settings=task.settings,
        seconds_per_hash=task.seconds_per_hash,
        content_type=content_type,
        variants=task.variants,
        bank_variants=task.bank_variants,
        source=source,
        extra_signals=task.extra_signals,
    )


def hash_many(
    items: Iterable[BatchItem],
    signals: Sequence[str] | None = None,
    *,
    workers: int | None = None,
    settings: Settings | None = None,
    seconds_per_hash: float | None = None,
    variants: VariantOptions | None = None,
    bank_variants: bool = False,
    extra_signals: Sequence[str] = (),
) -> Iterator[HashResult]:
    """Hash many files (or in-memory items) on ``workers`` processes.

    ``workers`` defaults to the ``workers`` setting, where 0 means one per core. Results come
    back in input order, one per item, as soon as each is ready. ``variants`` (photos) and
    ``bank_variants``, ``extra_signals``: see :func:`hash_media` (files only).
    """
    settings = settings or get_settings()
    names = _signal_names(signals)
    count = workers if workers is not None else settings.workers
    if count <= 0:
        count = os.cpu_count() or 1
    task = _Task(names, settings, seconds_per_hash, variants, bank_variants, tuple(extra_signals))
    tasks = ((item, task) for item in items)
    if count == 1:
        yield from map(_hash_task, tasks)
        return
    with ProcessPoolExecutor(max_workers=count, initializer=_worker_init) as pool:
        while window := list(islice(tasks, _WINDOW)):
            yield from pool.map(_hash_task, window, chunksize=max(1, len(window) // (4 * count)))
