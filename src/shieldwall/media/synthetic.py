"""Synthetic photo-like scenes for tests, the demo and benchmarks.

No test or fixture of Shieldwall contains a real photo of a person: tests generate scenes with
the statistics that matter to perceptual hashes (smooth gradients, blobs, hard edges, texture
noise), deterministic for a seed, with PDQ quality well above the floor.
"""

from __future__ import annotations

import io

import numpy as np
import numpy.typing as npt
from PIL import Image

__all__ = ["encode", "scene"]


def scene(seed: int, width: int = 1024, height: int = 768) -> npt.NDArray[np.uint8]:
    """A deterministic ``(height, width, 3)`` uint8 scene; different seeds look unrelated."""
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
    field += rng.normal(0, 4, size=field.shape).astype(np.float32)
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
