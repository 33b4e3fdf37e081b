"""The Hamming index's hot loops: C (``_hamming.c``, built into ``_hamming.so`` when the package
is installed, called through ctypes) or, where that library is missing, numba
(:mod:`shieldwall.index._kernels_numba`, the reference the C kernels are tested against).

Both have the same functions, arguments and results. The C kernels are the default because a
process that never imports numba is about 190 MB smaller (numba's runtime, LLVM and the loaded
code), which is most of what a matcher process holds besides its index; their speed is the
same (``bench/index_bench.py``). ``SHIELDWALL_INDEX_KERNELS=numba`` picks numba even where the
library is there (``c`` requires it).

See :mod:`shieldwall.index._kernels_numba` for the layout of the tables and why multi-index
hashing is exact.
"""

from __future__ import annotations

import ctypes
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from shieldwall.errors import ShieldwallError

__all__ = [
    "DIR_OVERFLOW",
    "IMPLEMENTATION",
    "TABLES",
    "build_tables",
    "gather_ids24",
    "probe",
    "scan",
    "sort_by_substring0",
]

TABLES = 8
#: Flag of a directory block base that indexes the overflow array (see segment.pack_dirs).
DIR_OVERFLOW = 1 << 31

LIBRARY = Path(__file__).with_name("_hamming.so")

_I64 = ctypes.c_int64
_P = ctypes.c_void_p


def _load() -> ctypes.CDLL | None:
    choice = os.environ.get("SHIELDWALL_INDEX_KERNELS", "auto")
    if choice not in ("auto", "c", "numba"):
        raise ShieldwallError(f"SHIELDWALL_INDEX_KERNELS must be auto, c or numba, not {choice!r}")
    if choice == "numba":
        return None
    try:
        lib = ctypes.CDLL(str(LIBRARY))
    except OSError as exc:
        if choice == "c":
            raise ShieldwallError(
                f"SHIELDWALL_INDEX_KERNELS=c but {LIBRARY} cannot be loaded ({exc}): "
                "reinstall the package with a C compiler at hand"
            ) from exc
        return None
    lib.sw_sort_by_substring0.argtypes = [_P, _I64, _I64, _P, _P]
    lib.sw_sort_by_substring0.restype = _I64
    lib.sw_build_tables.argtypes = [_P, _I64, _I64, _I64, _I64, _P, _P]
    lib.sw_build_tables.restype = _I64
    lib.sw_probe.argtypes = [
        _P, _I64, _I64, _I64,  # queries, nq, radius, t
        _P, _P, _I64, _P, _I64, _P, _I64,  # codes, dirs, width, base, width, over, shift
        _P, _I64, _I64, _I64, _I64,  # entries, n, b, rowbits, fbits
        _P, _I64, _P, _P, _I64,  # masks, nmasks, mask_pop, dead, any_dead
        _P, _P, _P, _I64,  # outputs, cap
    ]  # fmt: skip
    lib.sw_probe.restype = _I64
    lib.sw_gather_ids24.argtypes = [_P, _I64, _P, _I64, _P]
    lib.sw_gather_ids24.restype = None
    lib.sw_scan.argtypes = [_P, _I64, _I64, _P, _I64, _P, _I64, _P, _P, _P, _I64]
    lib.sw_scan.restype = _I64
    return lib


_LIB = _load()
#: Which kernels run: ``"c"`` or ``"numba"``.
IMPLEMENTATION = "c" if _LIB is not None else "numba"


def _ptr(array: npt.NDArray[Any], dtype: type[np.generic]) -> int:
    """The address of a C-contiguous array of ``dtype`` (the kernels read it as such)."""
    if array.dtype != dtype or not array.flags.c_contiguous:
        raise TypeError(f"expected a C-contiguous {np.dtype(dtype)} array, not {array.dtype}")
    address: int = array.__array_interface__["data"][0]
    return address


def _no_memory(what: str) -> MemoryError:
    return MemoryError(f"the Hamming index ran out of memory in {what}")


def _c_sort_by_substring0(codes: Any, b: int, out_codes: Any) -> Any:
    """Row order of ``codes`` by substring 0 (stable); ``out_codes`` filled in that order."""
    n = codes.shape[0]
    order = np.empty(n, np.int64)
    if _lib().sw_sort_by_substring0(
        _ptr(codes, np.uint64), n, b, _ptr(out_codes, np.uint64), _ptr(order, np.int64)
    ):
        raise _no_memory("sorting a segment")
    return order


def _c_build_tables(  # noqa: PLR0917
    codes: Any, b: int, rowbits: int, fbits: int, dirs: Any, entries: Any
) -> None:
    """Fill ``dirs`` (8, 2**b + 1) and ``entries`` (7, n) for ``codes`` (substring-0 order)."""
    if _lib().sw_build_tables(
        _ptr(codes, np.uint64),
        codes.shape[0],
        b,
        rowbits,
        fbits,
        _ptr(dirs, np.uint32),
        _ptr(entries, np.uint32),
    ):
        raise _no_memory("building a segment's tables")


def _c_probe(  # noqa: PLR0917
    queries: Any,
    radius: int,
    t: int,
    codes: Any,
    dirs: Any,
    dir_base: Any,
    dir_over: Any,
    dir_shift: int,
    entries: Any,
    b: int,
    rowbits: int,
    fbits: int,
    masks: Any,
    nmasks: int,
    mask_pop: Any,
    dead: Any,
    any_dead: bool,
    out_query: Any,
    out_row: Any,
    out_dist: Any,
) -> int:
    """Every live row within ``radius`` of each query, found through the tables."""
    count: int = _lib().sw_probe(
        _ptr(queries, np.uint64),
        queries.shape[0],
        radius,
        t,
        _ptr(codes, np.uint64),
        _ptr(dirs, np.uint16),
        dirs.shape[1],
        _ptr(dir_base, np.uint32),
        dir_base.shape[1],
        _ptr(dir_over, np.uint32),
        dir_shift,
        _ptr(entries, np.uint32),
        codes.shape[0],
        b,
        rowbits,
        fbits,
        _ptr(masks, np.uint32),
        nmasks,
        _ptr(mask_pop, np.int64),
        _ptr(dead, np.uint64),
        bool(any_dead),
        _ptr(out_query, np.int64),
        _ptr(out_row, np.int64),
        _ptr(out_dist, np.int64),
        out_row.shape[0],
    )
    if count < 0:
        raise _no_memory("a search")
    return count


def _c_gather_ids24(id_data: Any, base: int, rows: Any) -> Any:
    """``base`` plus the little-endian 24-bit offsets ``id_data[rows]``."""
    rows = np.ascontiguousarray(rows, dtype=np.int64)
    out = np.empty(rows.shape[0], np.int64)
    _lib().sw_gather_ids24(
        _ptr(id_data, np.uint8), base, _ptr(rows, np.int64), rows.shape[0], _ptr(out, np.int64)
    )
    return out


def _c_scan(  # noqa: PLR0917
    queries: Any,
    radius: int,
    codes: Any,
    n: int,
    dead: Any,
    any_dead: bool,
    out_query: Any,
    out_row: Any,
    out_dist: Any,
) -> int:
    """Brute force over the first ``n`` rows of ``codes``; same outputs as :func:`probe`."""
    count: int = _lib().sw_scan(
        _ptr(queries, np.uint64),
        queries.shape[0],
        radius,
        _ptr(codes, np.uint64),
        n,
        _ptr(dead, np.uint64),
        bool(any_dead),
        _ptr(out_query, np.int64),
        _ptr(out_row, np.int64),
        _ptr(out_dist, np.int64),
        out_row.shape[0],
    )
    return count


def _lib() -> ctypes.CDLL:
    assert _LIB is not None
    return _LIB


sort_by_substring0: Callable[..., Any]
build_tables: Callable[..., None]
probe: Callable[..., int]
gather_ids24: Callable[..., Any]
scan: Callable[..., int]

if _LIB is None:
    from shieldwall.index import _kernels_numba

    sort_by_substring0 = _kernels_numba.sort_by_substring0
    build_tables = _kernels_numba.build_tables
    probe = _kernels_numba.probe
    gather_ids24 = _kernels_numba.gather_ids24
    scan = _kernels_numba.scan
else:
    sort_by_substring0 = _c_sort_by_substring0
    build_tables = _c_build_tables
    probe = _c_probe
    gather_ids24 = _c_gather_ids24
    scan = _c_scan
