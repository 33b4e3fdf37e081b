"""A memory budget for decoding: per request, and for the whole process.

Decoding is where an upload's cost can explode: a 95 KB PNG can declare 80 million pixels of a
single colour, and Pillow decodes it all (hundreds of MB) before a single one is hashed. So
every decode first estimates, from the header alone, how many bytes it will hold at its peak
(:func:`image_decode_cost`, :func:`video_decode_cost`), then

- refuses the content when that is over the per-request limit (``max_decode_bytes``), with a
  :class:`~shieldwall.errors.MediaTooLarge` naming the setting;
- takes that many bytes from the process's :class:`DecodeBudget` (``decode_memory_budget``)
  for the time of the decode, waiting while other decodes hold it, and refusing with
  :class:`~shieldwall.errors.MediaBusy` (503) after ``decode_wait_seconds``.

So however many requests arrive at once, the pixels being decoded in one process never add up
to more than the budget.

    >>> budget = DecodeBudget(total_bytes=1 << 30, wait_seconds=30)
    >>> with budget.hold(300 << 20, "upload-17"):    # doctest: +SKIP
    ...     decode()
"""

from __future__ import annotations

import ctypes
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Final

from shieldwall.errors import MediaBusy

__all__ = [
    "DEFAULT_DECODE_MEMORY_BUDGET",
    "DEFAULT_DECODE_WAIT_SECONDS",
    "DEFAULT_MAX_DECODE_BYTES",
    "DecodeBudget",
    "image_decode_cost",
    "return_freed_buffers",
    "shared_budget",
    "video_decode_cost",
]

DEFAULT_MAX_DECODE_BYTES: Final = 512 * 1024 * 1024
DEFAULT_DECODE_MEMORY_BUDGET: Final = 1024 * 1024 * 1024
DEFAULT_DECODE_WAIT_SECONDS: Final = 30.0

# Bytes a pixel takes in each Pillow mode, as decoded.
_MODE_BYTES: Final = {
    "1": 1,
    "L": 1,
    "P": 1,
    "LA": 4,  # Pillow keeps LA, La, PA in 4-byte pixels
    "La": 4,
    "PA": 4,
    "RGB": 4,  # Pillow's RGB pixels are 32 bits wide
    "RGBA": 4,
    "RGBa": 4,
    "RGBX": 4,
    "CMYK": 4,
    "YCbCr": 4,
    "LAB": 4,
    "HSV": 4,
    "I": 4,
    "F": 4,
    "I;16": 2,
    "I;16L": 2,
    "I;16B": 2,
    "I;16N": 2,
}
#: The largest decoded picture buffer of H.264 and HEVC (level 6.2), in 16x16 macroblocks: a
#: decoder keeps at most this many macroblocks of reference frames, and never more than 16
#: frames (VP9 and AV1 keep at most 8).
_MAX_DPB_MACROBLOCKS: Final = 696_320
_MAX_DPB_FRAMES: Final = 16
#: Frames held besides the reference frames: the one being decoded, the one handed to us, and
#: its scaled copy.
_FRAMES_IN_HAND: Final = 3
#: Formats whose decoder fills a buffer of its own that is then copied, through a Python bytes
#: object, into Pillow's image (libwebp, libavif; libheif through pillow-heif keeps 3 bytes a
#: pixel): bytes a pixel, measured by bench/decode_cost.py.
_DECODER_BUFFER_BYTES: Final = {"WEBP": 8, "AVIF": 8, "HEIF": 4, "HEIC": 4}


def image_decode_cost(
    width: int, height: int, mode: str, *, reduced: bool, image_format: str = ""
) -> int:
    """Bytes an image decode holds at its peak, estimated from the header.

    The decoded image in its own mode (and the decoder's own buffer for the formats that have
    one), plus its RGB conversion (unless it is RGB already; wide greyscale also goes through a
    float64 array), plus, when the caller did not let it be reduced, the full-size array handed
    back.
    """
    pixels = width * height
    own = pixels * _MODE_BYTES.get(mode, 4)
    own += pixels * _DECODER_BUFFER_BYTES.get(image_format, 0)
    if mode == "RGB" or (mode == "L" and reduced):  # greyscale is reduced before converting
        convert = 0
    elif mode == "1" and reduced:  # bilevel: to greyscale, reduced, then converted
        convert = pixels
    elif mode.startswith("I") or mode == "F":
        # The samples as an array (Pillow's tobytes() holds two copies for a moment), 8-bit
        # grey (scaled a band of rows at a time) and Pillow's copy of it, then RGB unless the
        # grey is reduced first.
        convert = pixels * (2 * _MODE_BYTES.get(mode, 4) + 2 + (0 if reduced else 4))
    else:
        convert = pixels * 4
    out = 0 if reduced else pixels * 3
    return own + convert + out


def video_decode_cost(width: int, height: int) -> int:
    """Bytes a video decode holds at its peak: its reference frames (as many as the codecs'
    level limits allow at this frame size, 16 at most) and :data:`_FRAMES_IN_HAND` more, each
    8-bit 4:2:0 (1.5 bytes a pixel), the commonest format."""
    macroblocks = -(-width // 16) * -(-height // 16)
    references = max(1, min(_MAX_DPB_FRAMES, _MAX_DPB_MACROBLOCKS // max(1, macroblocks)))
    return width * height * 3 // 2 * (references + _FRAMES_IN_HAND)


class DecodeBudget:
    """Bytes of decoding that may be in progress in this process at once: a semaphore
    weighted by each decode's estimated peak.

    A decode larger than the whole budget is granted alone (when nothing else holds any), so
    that a budget smaller than the per-request limit slows work down but refuses nothing that
    the limit lets through; ``Settings`` keeps the limit at or under the budget anyway.
    """

    def __init__(self, total_bytes: int, wait_seconds: float = DEFAULT_DECODE_WAIT_SECONDS):
        if total_bytes <= 0:
            raise ValueError("a decode budget must be positive")
        self.total_bytes = total_bytes
        self.wait_seconds = wait_seconds
        self._held = 0
        self._peak = 0
        self._cond = threading.Condition()

    @property
    def held(self) -> int:
        """Bytes held now."""
        with self._cond:
            return self._held

    @property
    def peak(self) -> int:
        """Most bytes ever held at once (for tests and benchmarks)."""
        with self._cond:
            return self._peak

    def _fits(self, cost: int) -> bool:
        return self._held == 0 or self._held + cost <= self.total_bytes

    @contextmanager
    def hold(self, cost: int, source: str) -> Iterator[None]:
        """Hold ``cost`` bytes of the budget for the duration of the block, waiting up to
        :attr:`wait_seconds` for them; :class:`~shieldwall.errors.MediaBusy` naming ``source``
        and the settings when they do not come free in time."""
        deadline = time.monotonic() + self.wait_seconds
        with self._cond:
            while not self._fits(cost):
                left = deadline - time.monotonic()
                if left <= 0:
                    raise MediaBusy(
                        f"{source}: decoding it needs {cost / 2**20:,.0f} MiB and the other "
                        f"decodes in progress hold {self._held / 2**20:,.0f} MiB of this "
                        f"process's decode_memory_budget of {self.total_bytes / 2**20:,.0f} MiB "
                        f"(SHIELDWALL_DECODE_MEMORY_BUDGET) for longer than "
                        f"decode_wait_seconds ({self.wait_seconds:g} s); try again later"
                    )
                self._cond.wait(left)
            self._held += cost
            self._peak = max(self._peak, self._held)
        try:
            yield
        finally:
            with self._cond:
                self._held -= cost
                self._cond.notify_all()


_SHARED: dict[tuple[int, float], DecodeBudget] = {}
_SHARED_LOCK = threading.Lock()


def shared_budget(
    total_bytes: int = DEFAULT_DECODE_MEMORY_BUDGET,
    wait_seconds: float = DEFAULT_DECODE_WAIT_SECONDS,
) -> DecodeBudget:
    """The process's budget for these settings: every decode configured alike shares one."""
    with _SHARED_LOCK:
        budget = _SHARED.get((total_bytes, wait_seconds))
        if budget is None:
            budget = _SHARED[(total_bytes, wait_seconds)] = DecodeBudget(total_bytes, wait_seconds)
        return budget


#: glibc's mallopt parameter M_MMAP_THRESHOLD.
_M_MMAP_THRESHOLD: Final = -3


def return_freed_buffers() -> bool:
    """Make large allocations (1 MiB and more: decoded pixels) come from their own memory maps,
    given back to the system when freed, so that the budget bounds resident memory and not only
    live memory.

    glibc otherwise raises its mmap threshold after the first large free (up to 32 MiB), and
    later buffers of that size come from per-thread arenas, which keep the freed pages
    resident: with many request threads, a service's resident size would grow by up to one
    decode per thread whatever the budget. Returns whether it applied (glibc only; elsewhere
    a no-op). Called once at the start of a service or worker process.
    """
    try:
        libc = ctypes.CDLL(None)
        mallopt = libc.mallopt
    except (OSError, AttributeError):
        return False
    mallopt.argtypes = [ctypes.c_int, ctypes.c_int]
    mallopt.restype = ctypes.c_int
    return bool(mallopt(_M_MMAP_THRESHOLD, 1 << 20))
