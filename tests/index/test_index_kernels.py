"""The C kernels of the Hamming index give exactly what the numba kernels (the reference) give:
the same sort, tables, search results and ids, on random, clustered and duplicated codes."""

from __future__ import annotations

import os
import subprocess
import sys

import numpy as np
import numpy.typing as npt
import pytest

from shieldwall.index import _kernels, _kernels_numba
from shieldwall.index.segment import Segment, pack_ids, probe_masks

pytestmark = pytest.mark.skipif(
    _kernels.IMPLEMENTATION != "c", reason="the C kernels were not built here"
)

U64 = npt.NDArray[np.uint64]


def _codes(rng: np.random.Generator, n: int) -> U64:
    """Random codes, a cluster of near neighbours and exact duplicates (big buckets)."""
    codes = rng.integers(0, 2**63, size=(n, 4), dtype=np.int64).astype(np.uint64) * np.uint64(2)
    if n >= 200:
        centre = codes[0].copy()
        for i in range(1, 100):  # within a few bits of the first code
            codes[i] = centre ^ (np.uint64(1) << rng.integers(0, 64, size=4).astype(np.uint64))
        codes[100:180] = codes[3]  # one bucket far over the insertion-sort size
    return np.ascontiguousarray(codes)


@pytest.mark.parametrize("n", [1, 7, 300, 5000])
def test_sort_and_tables_are_the_reference(n: int) -> None:
    rng = np.random.default_rng(n)
    codes = _codes(rng, n)
    b = max(1, min(24, n.bit_length() - 1 - 4))
    got_codes, want_codes = np.empty_like(codes), np.empty_like(codes)
    got = _kernels.sort_by_substring0(codes, b, got_codes)
    want = _kernels_numba.sort_by_substring0(codes, b, want_codes)
    assert np.array_equal(got, want)
    assert np.array_equal(got_codes, want_codes)
    rowbits = max(1, (n - 1).bit_length())
    fbits = max(0, min(32 - rowbits, 32 - b))
    dirs = [np.empty((8, (1 << b) + 1), np.uint32) for _ in range(2)]
    entries = [np.empty((7, n), np.uint32) for _ in range(2)]
    _kernels.build_tables(want_codes, b, rowbits, fbits, dirs[0], entries[0])
    _kernels_numba.build_tables(want_codes, b, rowbits, fbits, dirs[1], entries[1])
    assert np.array_equal(dirs[0], dirs[1])
    assert np.array_equal(entries[0], entries[1])


def _outputs(cap: int) -> tuple[npt.NDArray[np.int64], ...]:
    return tuple(np.empty(cap, np.int64) for _ in range(3))


@pytest.mark.parametrize("radius", [0, 8, 31, 40])
def test_probe_and_scan_are_the_reference(radius: int) -> None:
    rng = np.random.default_rng(radius)
    codes = _codes(rng, 20_000)
    segment = Segment.build(codes, np.arange(codes.shape[0], dtype=np.int64) * 3 + 11)
    for row in (5, 17, 2000):
        segment.kill(row)
    flips = np.uint64(1) << rng.integers(0, 64, size=(64, 4)).astype(np.uint64)
    queries = np.ascontiguousarray(np.concatenate([codes[:64] ^ flips, codes[100:102]]))
    t = radius // 8
    masks, pops = probe_masks(segment.b, t)
    results = []
    for kernels in (_kernels, _kernels_numba):
        for cap in (3, 100_000):  # too small: the count is still right, the rest not written
            out = _outputs(cap)
            count = kernels.probe(
                queries, radius, t, segment.codes, segment.dirs, segment.dir_base,
                segment.dir_over, segment.dir_shift, segment.entries, segment.b,
                segment.rowbits, segment.fbits, masks, masks.shape[0], pops, segment.dead,
                segment.n_dead > 0, *out,
            )  # fmt: skip
            scanned = _outputs(cap)
            scan_count = kernels.scan(
                queries, radius, segment.codes, len(segment), segment.dead, True, *scanned
            )
            keep = min(count, cap)
            scanned_rows = scanned[1][: min(cap, scan_count)].tolist()
            results.append((count, [o[:keep].tolist() for o in out], scan_count, scanned_rows))
    assert results[0] == results[2] and results[1] == results[3]
    count, (query, row, _), scan_count, _ = results[1]
    assert count == scan_count > 66  # probing finds exactly what a scan finds
    assert set(zip(query, row, strict=True)) == {
        (int(q), int(r))
        for q, r in zip(*np.nonzero(_distances(queries, segment.codes) <= radius), strict=True)
        if not segment.is_dead(int(r))
    }


def _distances(queries: U64, codes: U64) -> npt.NDArray[np.int64]:
    counts: npt.NDArray[np.int64] = np.bitwise_count(queries[:, None, :] ^ codes[None, :, :]).sum(
        axis=2, dtype=np.int64
    )
    return counts


def test_ids_are_the_reference() -> None:
    ids = np.arange(1000, dtype=np.int64) * 7 + 123_456
    data, base = pack_ids(ids)
    rows = np.array([0, 5, 999, 5], np.int64)
    assert np.array_equal(_kernels.gather_ids24(data, base, rows), ids[rows])
    assert np.array_equal(
        _kernels.gather_ids24(data, base, rows), _kernels_numba.gather_ids24(data, base, rows)
    )


def test_a_matcher_process_never_imports_numba() -> None:
    """The point of the C kernels: numba's runtime (about 190 MB) stays out of the process."""
    code = (
        "import sys\n"
        "from shieldwall.index.hamming import HammingIndex\n"
        "index = HammingIndex()\n"
        "index.add_many(range(50_000), ['%064x' % (i * 2654435761) for i in range(50_000)])\n"
        "index.compact()\n"
        "assert index.search('%064x' % 2654435761, radius=31)\n"
        "print('numba' in sys.modules)\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=300
    )
    assert out.stdout.strip() == "False"


def test_a_wrong_array_is_refused_not_read() -> None:
    codes = np.zeros((4, 4), np.int64)  # not uint64
    with pytest.raises(TypeError, match="uint64"):
        _kernels.sort_by_substring0(codes, 1, np.empty((4, 4), np.uint64))


def test_numba_runs_where_it_is_chosen() -> None:
    """The fallback (no C compiler at install) still serves the index."""
    code = (
        "from shieldwall.index import _kernels\n"
        "from shieldwall.index.hamming import HammingIndex\n"
        "index = HammingIndex()\n"
        "index.add(7, 'f' * 64)\n"
        "print(_kernels.IMPLEMENTATION, index.search('f' * 63 + 'e', radius=31))\n"
    )
    env = {**os.environ, "SHIELDWALL_INDEX_KERNELS": "numba"}
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, env=env,
        timeout=300,
    )  # fmt: skip
    assert out.stdout.strip() == "numba [Hit(id=7, distance=1)]"
