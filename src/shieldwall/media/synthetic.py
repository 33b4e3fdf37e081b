"""Synthetic photo-like scenes for tests, the demo and benchmarks.

No test or fixture of Shieldwall contains a real photo of a person: tests generate scenes with
the statistics that matter to perceptual hashes (smooth gradients, blobs, hard edges, texture
noise), deterministic for a seed, with PDQ quality well above the floor.
"""

from __future__ import annotations

import io
import struct
import zlib
from collections.abc import Iterable, Iterator
from pathlib import Path

import av
import numpy as np
import numpy.typing as npt
from PIL import Image

__all__ = ["encode", "flat_png", "panorama", "scene", "video"]

_PNG_COLOUR = {"L": (0, 1), "RGB": (2, 3), "RGBA": (6, 4), "LA": (4, 2)}


def flat_png(width: int, height: int, mode: str = "L") -> bytes:
    """A PNG of one colour (black), ``width`` x ``height`` in ``mode`` (L, LA, RGB, RGBA),
    compressed as hard as zlib can: the worst case of decoding cost per byte (80 million
    pixels take about 80 KB). Written row by row, so making it costs little memory."""
    colour, channels = _PNG_COLOUR[mode]
    row = bytes(1 + width * channels)  # filter byte 0, then the row's samples
    compressor = zlib.compressobj(9)
    parts = [compressor.compress(row) for _ in range(height)]
    parts.append(compressor.flush())

    def chunk(kind: bytes, body: bytes) -> bytes:
        crc = zlib.crc32(kind + body) & 0xFFFFFFFF
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", crc)

    header = struct.pack(">IIBBBBB", width, height, 8, colour, 0, 0, 0)
    return b"".join(
        (
            b"\x89PNG\r\n\x1a\n",
            chunk(b"IHDR", header),
            chunk(b"IDAT", b"".join(parts)),
            chunk(b"IEND", b""),
        )
    )


def scene(
    seed: int, width: int = 1024, height: int = 768, *, noise: float = 4.0
) -> npt.NDArray[np.uint8]:
    """A deterministic ``(height, width, 3)`` uint8 scene; different seeds look unrelated.

    ``noise`` is the standard deviation of per-pixel sensor-like noise.
    """
    rng = np.random.default_rng(seed)
    y, x = np.mgrid[0:height, 0:width].astype(np.float32)
    y /= height
    x /= width
    field = np.zeros((3, height, width), dtype=np.float32)
    for _ in range(6):  # low-frequency waves
        fx, fy = rng.uniform(-4, 4, size=2)
        wave = np.sin(2 * np.pi * (fx * x + fy * y) + rng.uniform(0, 2 * np.pi))
        field += wave[None] * rng.uniform(-40, 40, size=(3, 1, 1)).astype(np.float32)
    for _ in range(10):  # soft blobs
        cx, cy = rng.uniform(0, 1, size=2)
        sigma = rng.uniform(0.03, 0.2)
        blob = np.exp(-((x - cx) ** 2 + (y - cy) ** 2) / (2 * sigma**2))
        field += blob[None] * rng.uniform(-90, 90, size=(3, 1, 1)).astype(np.float32)
    for _ in range(6):  # hard-edged shapes
        cx, cy = rng.uniform(0, 1, size=2)
        rx, ry = rng.uniform(0.04, 0.25, size=2)
        if rng.random() < 0.5:
            mask = ((x - cx) / rx) ** 2 + ((y - cy) / ry) ** 2 <= 1
        else:
            mask = (np.abs(x - cx) <= rx) & (np.abs(y - cy) <= ry)
        field += mask[None] * rng.uniform(-70, 70, size=(3, 1, 1)).astype(np.float32)
    if noise:
        field += rng.normal(0, noise, size=field.shape).astype(np.float32)
    base = rng.uniform(90, 160, size=(3, 1, 1)).astype(np.float32)
    rgb = np.clip(field + base, 0, 255).astype(np.uint8)
    return np.ascontiguousarray(rgb.transpose(1, 2, 0))


def encode(rgb: npt.NDArray[np.uint8], fmt: str = "JPEG", **params: object) -> bytes:
    """Encode an RGB array with Pillow (``quality=90`` by default for JPEG)."""
    if fmt == "JPEG":
        params.setdefault("quality", 90)
    buf = io.BytesIO()
    Image.fromarray(rgb).save(buf, format=fmt, **params)
    return buf.getvalue()


def panorama(
    seed: int, seconds: float, fps: int, width: int, height: int
) -> Iterator[npt.NDArray[np.uint8]]:
    """Frames of a camera panning slowly across a wide scene: neighbouring frames are nearly
    the same, frames a few seconds apart show different things (as real footage does)."""
    count = max(1, round(seconds * fps))
    step = max(1, width // (8 * fps))  # an eighth of the frame width per second
    # Drawn at half size and scaled up: footage is smoother than a still's fine detail. The
    # scene is a strip of scenes two frames wide each: one scene stretched over the whole pan
    # would scale its shapes with the pan's length, and a long pan would show nothing but
    # smooth gradients (PDQ quality near the floor, hashes that flip on re-encoding).
    half_width, half_height = (width + step * count + 1) // 2, (height + 1) // 2
    half = np.concatenate(
        [
            scene(seed * 10_007 + j, width, half_height, noise=1.0)
            for j in range(-(-half_width // width))
        ],
        axis=1,
    )[:, :half_width]
    wide = np.asarray(
        Image.fromarray(half).resize(
            (half.shape[1] * 2, half.shape[0] * 2), Image.Resampling.BICUBIC
        )
    )
    for i in range(count):
        yield np.ascontiguousarray(wide[:, i * step : i * step + width])


def video(
    path: Path,
    frames: Iterable[npt.NDArray[np.uint8]],
    *,
    fps: int = 10,
    codec: str = "libx264",
    rotation: int | None = None,
    pts_scale: int = 1,
) -> Path:
    """Encode RGB frames into a video file (container from the suffix); returns ``path``.

    ``rotation`` writes display-rotation metadata; ``pts_scale`` spaces the timestamps out
    (a file whose header claims a duration far longer than its content).
    """
    container = av.open(str(path), "w")
    stream: av.video.stream.VideoStream | None = None
    try:
        for i, rgb in enumerate(frames):
            if stream is None:
                stream = _video_stream(container, codec, fps, rgb.shape[1], rgb.shape[0])
                if rotation is not None:
                    stream.set_display_rotation(rotation)
            frame = av.VideoFrame.from_ndarray(rgb, format="rgb24")
            frame.pts = i * pts_scale
            for packet in stream.encode(frame):
                container.mux(packet)
        if stream is not None:
            for packet in stream.encode():
                container.mux(packet)
    finally:
        container.close()
    return path


def _video_stream(
    container: av.container.OutputContainer, codec: str, fps: int, width: int, height: int
) -> av.video.stream.VideoStream:
    stream = container.add_stream(codec, rate=fps)
    assert isinstance(stream, av.video.stream.VideoStream)
    stream.width = width
    stream.height = height
    stream.pix_fmt = "yuv420p"
    if codec == "libx264":
        stream.options = {"preset": "ultrafast", "crf": "18"}
    else:  # other encoders default to bitrates meant for much bigger frames
        stream.bit_rate = 4_000_000
    return stream
