"""Giving freed memory back to the operating system, after a matcher built or compacted its
index.

CPython frees the objects of a large read (a million rows of the database) into its own and
the C library's heaps, which keep the pages: the process stays as large as at its peak.
:func:`release_memory` collects garbage, then asks glibc (``malloc_trim``) to return the free
pages; elsewhere (another C library, another system) it only collects. :func:`trim_heap` only
returns the pages (after a compaction, whose freed arrays need no collection).
"""

from __future__ import annotations

import ctypes
import gc
import sys

__all__ = ["release_memory", "trim_heap"]


def trim_heap() -> None:
    """Return the C library's free pages to the system (glibc; elsewhere nothing)."""
    if not sys.platform.startswith("linux"):
        return
    try:  # the process's own symbols, as media.budget.return_freed_buffers reads mallopt
        trim = ctypes.CDLL(None).malloc_trim
    except (OSError, AttributeError):  # not glibc
        return
    trim.argtypes = [ctypes.c_size_t]
    trim.restype = ctypes.c_int
    trim(0)


def release_memory() -> None:
    """Collect garbage and return the C library's free pages to the system (glibc)."""
    gc.collect()
    trim_heap()
