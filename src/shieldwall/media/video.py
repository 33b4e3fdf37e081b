"""Video decoding with PyAV (its wheels bundle FFmpeg): probing with limits, and frames sampled
at a fixed rate, upright, as luma.

Sampling follows Meta's vpdq so that frame numbers and timestamps agree with hashes made by it:
frame ``n`` (counted from 0 in presentation order) is sampled when ``n % every == 0`` with
``every = round(fps * seconds_per_hash)`` (every frame when ``seconds_per_hash`` is 0), and its
timestamp is ``n / fps``.

Decoding only what is needed:
- when the next sampled frame lies beyond the next keyframe, the demuxer seeks to the keyframe
  before it instead of decoding the frames in between;
- frames that are not sampled and that no other frame refers to (most B-frames) are not decoded
  at all (``skip_frame = NONREF`` for their packets);
- sampled frames are scaled down in FFmpeg (area averaging, luma plane only) to no less than
  ``min_side`` pixels, so big frames are never converted at full size.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from dataclasses import dataclass, field
from fractions import Fraction
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import numpy.typing as npt

from shieldwall.errors import CorruptMedia, EmptyMedia, MediaTooLarge, UnsupportedMedia
from shieldwall.media.budget import (
    DEFAULT_MAX_DECODE_BYTES,
    DecodeBudget,
    shared_budget,
    video_decode_cost,
)

if TYPE_CHECKING:
    import av
    import av.container
    import av.video.stream

__all__ = [
    "VIDEO_EXTENSIONS",
    "VideoFrame",
    "VideoInfo",
    "VideoLimits",
    "looks_like_video",
    "probe_video",
    "sample_frames",
]

#: The block size frame buffers are rounded up to (codecs code whole macroblocks or
#: superblocks: a 1080-line H.264 stream decodes 1088 lines).
_ALIGN = 128
#: Pixels a decoder may pad each side of a frame with.
_EDGE = 64

VIDEO_EXTENSIONS = frozenset(
    {
        ".mp4",
        ".m4v",
        ".mov",
        ".webm",
        ".mkv",
        ".avi",
        ".mpg",
        ".mpeg",
        ".ts",
        ".3gp",
        ".wmv",
        ".flv",
    }
)


@dataclass(frozen=True, slots=True)
class VideoLimits:
    """Refuse videos over these sizes from the container header, before decoding.

    ``max_decode_bytes`` bounds the decoder's memory (estimated from the frame size: see
    :func:`~shieldwall.media.budget.video_decode_cost`); ``budget`` is the process's budget
    that concurrent decodes share, held for the whole decode.
    """

    max_bytes: int = 4 * 1024**3
    max_duration_seconds: float = 4 * 3600.0
    max_frames: int = 1_000_000
    max_dimension: int = 8192
    max_decode_bytes: int = DEFAULT_MAX_DECODE_BYTES
    budget: DecodeBudget = field(default_factory=shared_budget)


@dataclass(frozen=True, slots=True)
class VideoInfo:
    """What the container says about the video stream (coded width and height)."""

    width: int
    height: int
    fps: float
    duration_seconds: float
    frames: int
    codec: str


@dataclass(frozen=True, slots=True)
class VideoFrame:
    """One sampled frame: its number, timestamp and upright luma.

    ``luma`` is ``(h, w)`` float32 BT.601 luma scaled to 0..255 (full range); each pixel is the
    mean of a ``factor`` x ``factor`` block of the upright ``full_width`` x ``full_height`` frame.
    """

    number: int
    timestamp: float
    luma: npt.NDArray[np.float32]
    full_width: int
    full_height: int
    factor: int


# Container signatures besides ISO BMFF (ftyp), AVI (RIFF) and MPEG-TS (sync bytes):
# Matroska/WebM, MPEG-PS, FLV, ASF/WMV.
_MAGIC = (b"\x1a\x45\xdf\xa3", b"\x00\x00\x01\xba", b"FLV", b"\x30\x26\xb2\x75")


def looks_like_video(head: bytes) -> bool:
    """Whether the first bytes look like a video container (not a decoding guarantee)."""
    if len(head) >= 12 and head[4:8] == b"ftyp":
        return not head[8:12].startswith((b"heic", b"heix", b"mif1", b"msf1", b"avif", b"hevc"))
    if head.startswith(b"RIFF"):
        return head[8:12] == b"AVI "
    if len(head) > 188 * 2 and head[0] == 0x47 and head[188] == 0x47:
        return True
    return head.startswith(_MAGIC)


def _aligned(side: int) -> int:
    return -(-side // _ALIGN) * _ALIGN


def _probe_options(limits: VideoLimits) -> dict[str, str]:
    """FFmpeg's options while it reads the header (``avformat_find_stream_info`` decodes a
    few frames): no frame over the largest the limits admit, so that a stream whose frames
    are larger than its container says is not decoded at that size before we see it (found by
    fuzzing: a 2 KB WebM whose VP9 frames were 4081x28704 took 200 MB to open)."""
    largest = min(_aligned(limits.max_dimension) ** 2, limits.max_decode_bytes * 2 // 3)
    return {"max_pixels": str(max(1, largest))}


def _decode_options(info: VideoInfo) -> dict[str, str]:
    """FFmpeg's options while we decode: no frame much larger than the header's, which the
    decode budget was reserved for. Decoders check their padded buffers against it (MPEG-4
    part 2 adds 32-pixel edges all round), hence the margin: twice the area with 64 pixels
    more on each side, rounded up to the codecs' blocks."""
    margin = _aligned(info.width + 2 * _EDGE) * _aligned(info.height + 2 * _EDGE)
    return {"max_pixels": str(2 * margin)}


def _fail_open(exc: Exception, source: str, head: bytes) -> CorruptMedia | UnsupportedMedia:
    import av.error  # noqa: PLC0415 (loaded with the first video)

    if looks_like_video(head):  # a video container that FFmpeg cannot read: damaged
        return CorruptMedia(
            f"{source}: cannot read the video container (truncated or damaged?): {exc}"
        )
    if isinstance(exc, av.error.InvalidDataError):
        return UnsupportedMedia(f"{source}: not a video in a supported format")
    return CorruptMedia(f"{source}: cannot read the video container: {exc}")


def probe_video(path: Path, source: str, limits: VideoLimits | None = None) -> VideoInfo:
    """Open the container, check the limits from its header and describe the video stream.

    Raises :class:`~shieldwall.errors.MediaError` subclasses naming ``source``: no video stream
    (audio-only files included), an unreadable container, or a video over a limit.
    """
    import av  # noqa: PLC0415 (PyAV, 23 MiB resident: loaded with the first video)
    import av.error  # noqa: PLC0415

    limits = limits or VideoLimits()
    try:
        size = path.stat().st_size
    except OSError as exc:
        raise CorruptMedia(f"{source}: cannot read: {exc.strerror or exc}") from exc
    if size == 0:
        raise EmptyMedia(f"{source}: empty file (0 bytes)")
    if size > limits.max_bytes:
        raise MediaTooLarge(
            f"{source}: {size:,} bytes is over the video limit of {limits.max_bytes:,} bytes"
        )
    try:
        with av.open(
            str(path), metadata_errors="ignore", options=_probe_options(limits)
        ) as container:
            return _describe(container, source, limits)
    except (av.error.FFmpegError, OSError, ValueError) as exc:
        with path.open("rb") as fh:
            head = fh.read(64)
        raise _fail_open(exc, source, head) from exc


def _describe(
    container: av.container.InputContainer, source: str, limits: VideoLimits
) -> VideoInfo:
    import av  # noqa: PLC0415 (loaded by probe_video already)

    if not container.streams.video:
        kinds = sorted({s.type for s in container.streams})
        what = f"only {', '.join(kinds)} streams" if kinds else "no streams"
        raise UnsupportedMedia(f"{source}: no video stream ({what})")
    stream = container.streams.video[0]
    rate = stream.average_rate or stream.guessed_rate or stream.base_rate
    fps = float(rate) if rate else 0.0
    if not fps or not math.isfinite(fps) or fps <= 0 or fps > 1000:
        raise CorruptMedia(f"{source}: the video stream has no usable frame rate ({rate})")
    duration = 0.0
    if stream.duration is not None and stream.time_base is not None:
        duration = float(stream.duration * stream.time_base)
    elif container.duration is not None:
        duration = container.duration / av.time_base
    frames = stream.frames or round(duration * fps)
    codec = stream.codec_context
    if codec is None:  # FFmpeg knows no decoder for the stream's codec (found by fuzzing)
        raise UnsupportedMedia(f"{source}: no decoder for the video stream's codec")
    width = codec.width
    height = codec.height
    if width <= 0 or height <= 0:
        raise CorruptMedia(f"{source}: the video stream has no frame size")
    if max(width, height) > limits.max_dimension:
        raise MediaTooLarge(
            f"{source}: {width}x{height} frames are over the limit of {limits.max_dimension} px"
        )
    if duration > limits.max_duration_seconds:
        raise MediaTooLarge(
            f"{source}: {duration / 3600:.1f} hours is over the limit of "
            f"{limits.max_duration_seconds / 3600:.1f} hours"
        )
    if frames > limits.max_frames:
        raise MediaTooLarge(
            f"{source}: {frames:,} frames is over the limit of {limits.max_frames:,}"
        )
    cost = video_decode_cost(width, height)
    if cost > limits.max_decode_bytes:
        raise MediaTooLarge(
            f"{source}: decoding {width}x{height} frames would take about "
            f"{cost / 2**20:,.0f} MiB, over the limit of {limits.max_decode_bytes / 2**20:,.0f} "
            "MiB a decode (max_decode_bytes, SHIELDWALL_MAX_DECODE_BYTES)"
        )
    return VideoInfo(width, height, fps, duration, frames, codec.name)


def _upright(luma: npt.NDArray[np.float32], rotation: int) -> npt.NDArray[np.float32]:
    turns = round(rotation / 90) % 4
    return np.ascontiguousarray(np.rot90(luma, k=turns)) if turns else luma


def _luma(frame: av.VideoFrame, min_side: int) -> tuple[npt.NDArray[np.float32], int]:
    factor = max(1, min(frame.width, frame.height) // min_side)
    if factor > 1:
        small = frame.reformat(
            width=-(-frame.width // factor),
            height=-(-frame.height // factor),
            format="gray",
            interpolation="AREA",
        )
    else:
        small = frame.reformat(format="gray")
    y = small.to_ndarray().astype(np.float32)
    if str(frame.color_range) != "JPEG" and "j" not in frame.format.name:
        # Limited ("MPEG") range: Y runs 16..235. Scale to full range, as an RGB conversion would,
        # so that PDQ's quality (a gradient measure) agrees with RGB-based hashers.
        y = (y - 16.0) * np.float32(255.0 / 219.0)
    return y, factor


def sample_frames(
    path: Path,
    source: str,
    *,
    seconds_per_hash: float = 1.0,
    limits: VideoLimits | None = None,
    min_side: int = 256,
) -> Iterator[VideoFrame]:
    """Yield the sampled frames of the video at ``path`` in order (see the module docstring).

    Corrupt data raises :class:`~shieldwall.errors.CorruptMedia` naming the frame or time
    where decoding failed; a video with no frame raises it too.
    """
    import av  # noqa: PLC0415 (loaded by probe_video already)
    import av.error  # noqa: PLC0415

    limits = limits or VideoLimits()
    info = probe_video(path, source, limits)
    every = 1 if seconds_per_hash <= 0 else max(1, round(info.fps * seconds_per_hash))
    progress = _Progress()
    try:
        with (
            limits.budget.hold(video_decode_cost(info.width, info.height), source),
            av.open(
                str(path), metadata_errors="ignore", options=_decode_options(info)
            ) as container,
        ):
            stream = container.streams.video[0]
            stream.thread_type = "NONE"
            stream.codec_context.thread_count = 1
            stream.codec_context.options = _decode_options(info)
            yield from _decode(
                container,
                stream,
                info,
                every=every,
                min_side=min_side,
                limits=limits,
                progress=progress,
            )
    except av.error.FFmpegError as exc:
        larger = ""
        if isinstance(exc, av.error.ArgumentError):  # FFmpeg refused a frame over max_pixels
            larger = f" (or a frame is larger than the {info.width}x{info.height} of its header)"
        raise CorruptMedia(
            f"{source}: video data is damaged after frame {progress.number} "
            f"({progress.number / info.fps:.2f} s){larger}: {exc}"
        ) from exc
    except MediaTooLarge as exc:
        raise MediaTooLarge(f"{source}: {exc.message}") from exc
    if progress.decoded == 0:
        raise EmptyMedia(f"{source}: the video stream has no frames")


@dataclass(slots=True)
class _Progress:
    number: int = 0
    decoded: int = 0


def _decode(
    container: av.container.InputContainer,
    stream: av.video.stream.VideoStream,
    info: VideoInfo,
    *,
    every: int,
    min_side: int,
    limits: VideoLimits,
    progress: _Progress,
) -> Iterator[VideoFrame]:
    time_base = stream.time_base or Fraction(1, 1000)
    start = stream.start_time or 0
    frame_ticks = 1 / (info.fps * time_base)  # pts ticks per frame
    keyframes = sorted(e.timestamp for e in stream.index_entries if e.is_keyframe)
    may_seek = bool(keyframes) and every > 1
    codec = stream.codec_context
    next_number = 0
    last_pts: int | None = None
    seek_from: int | None = None  # last_pts when we sought; the next frame must be later
    sought: int | None = None  # the keyframe last sought: each seek must go past it
    while True:
        if seek_from is not None:
            container.seek(int(start + next_number * frame_ticks), stream=stream, backward=True)
            codec.flush_buffers()
        restart = False
        for packet in container.demux(stream):
            target = start + next_number * frame_ticks
            wanted = (
                packet.pts is None or packet.is_keyframe or packet.pts >= target - frame_ticks / 2
            )
            codec.skip_frame = "DEFAULT" if wanted else "NONREF"
            for frame in packet.decode():
                if frame.pts is None:
                    number = progress.number + (progress.decoded > 0)
                else:
                    number = round((frame.pts - start) / frame_ticks)
                if seek_from is not None:
                    if frame.pts is not None and frame.pts <= seek_from:
                        may_seek = False  # the index misled us: decode straight through
                    seek_from = None
                last_pts = frame.pts
                progress.number = number
                progress.decoded += 1
                if number > limits.max_frames:
                    raise MediaTooLarge(f"more than {limits.max_frames:,} frames")
                if number < next_number or number % every:
                    continue
                luma, factor = _luma(frame, min_side)
                rotation = frame.rotation or 0
                full_w, full_h = frame.width, frame.height
                if round(rotation / 90) % 2:
                    full_w, full_h = full_h, full_w
                yield VideoFrame(
                    number, number / info.fps, _upright(luma, rotation), full_w, full_h, factor
                )
                next_number = number + every
            if may_seek and last_pts is not None and seek_from is None:
                key = _keyframe_before(keyframes, start + next_number * frame_ticks)
                # Each seek goes to a later keyframe than the last (a damaged index sent the
                # decoder back to the same one forever: found by fuzzing), so seeks are bounded.
                if (
                    key is not None
                    and key > last_pts + 2 * frame_ticks
                    and (sought is None or key > sought)
                ):
                    seek_from, sought = last_pts, key
                    restart = True
                    break
        if not restart:
            return


def _keyframe_before(keyframes: list[int], pts: float) -> int | None:
    """The last keyframe at or before ``pts``."""
    lo, hi = 0, len(keyframes)
    while lo < hi:
        mid = (lo + hi) // 2
        if keyframes[mid] <= pts:
            lo = mid + 1
        else:
            hi = mid
    return keyframes[lo - 1] if lo else None
