"""Benchmark of ``shieldwall.index`` against faiss, pinned to one core.

For each size and data kind, in the same run: build time, memory per hash, median query time
of an exact radius-31 search (one query per call), agreement with ``IndexBinaryFlat``
(brute force), the same for faiss ``IndexBinaryMultiHash(256, 16, 16)`` with nflip 1 (HMA's
index) and ``IndexBinaryFlat``; then add/remove-to-visible latency and snapshot save/load times
of our index.

    .venv/bin/python bench/index_bench.py --sizes 1000000 10000000 --kinds random clustered

Prints a markdown table (for docs/index.md) and writes JSON next to ``--out`` when given.
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import faiss
import numpy as np
import numpy.typing as npt

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _report import write_section
from shieldwall.index import HammingIndex, SignalIndex

U8 = npt.NDArray[np.uint8]
RADIUS = 31


def pin_one_core() -> int:
    """Run on one core only (and tell faiss to use one thread)."""
    cpu = max(os.sched_getaffinity(0))
    os.sched_setaffinity(0, {cpu})
    faiss.omp_set_num_threads(1)
    return cpu


def rss() -> int:
    """Resident set size of this process, bytes."""
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")


def flip_bits(rng: np.random.Generator, words: npt.NDArray[np.uint64], max_flips: int) -> None:
    """Flip 0..max_flips random bits in each row of ``words`` (n, 4) in place."""
    n = words.shape[0]
    k = rng.integers(0, max_flips + 1, size=n)
    rows = np.arange(n)
    for j in range(max_flips):
        pos = rng.integers(0, 256, size=n)
        bit = np.left_shift(np.uint64(1), (pos % 64).astype(np.uint64))
        words[rows, pos // 64] ^= np.where(j < k, bit, np.uint64(0))


def make_codes(rng: np.random.Generator, n: int, kind: str) -> U8:
    """``n`` codes as (n, 32) bytes.

    ``random``: uniform. ``clustered``: families of near-duplicates (about 20 members each, up
    to 16 bits from their centre), and 2 % low-entropy codes (centres with only 16 bits set).
    """
    if kind == "random":
        return rng.integers(0, 256, size=(n, 32), dtype=np.uint8)
    out = np.empty((n, 4), np.uint64)
    chunk = 1 << 20
    families = rng.integers(0, 2**64, size=(max(1, n // 20), 4), dtype=np.uint64)
    low = np.zeros((20, 4), np.uint64)
    flip_bits(rng, low, 16)
    for start in range(0, n, chunk):
        m = min(chunk, n - start)
        words = families[rng.integers(0, families.shape[0], size=m)]
        is_low = rng.random(m) < 0.02
        words[is_low] = low[rng.integers(0, low.shape[0], size=int(is_low.sum()))]
        flip_bits(rng, words, 16)
        out[start : start + m] = words
    return out.astype(">u8").view(np.uint8).reshape(n, 32)


def make_queries(rng: np.random.Generator, codes: U8, q: int) -> U8:
    """Half near stored codes (up to 24 bits away), half fresh random codes."""
    near = codes[rng.integers(0, codes.shape[0], size=q // 2)].view(">u8").astype(np.uint64)
    flip_bits(rng, near, 24)
    near8 = near.astype(">u8").view(np.uint8).reshape(-1, 32)
    return np.concatenate([near8, rng.integers(0, 256, size=(q - q // 2, 32), dtype=np.uint8)])


def timed_queries(search: Any, queries: U8) -> tuple[float, list[set[int]]]:
    """Median milliseconds of one-query calls, and the id sets found."""
    times, found = [], []
    for i in range(queries.shape[0]):
        t = time.perf_counter()
        ids = search(queries[i : i + 1])
        times.append(time.perf_counter() - t)
        found.append(ids)
    return statistics.median(times) * 1e3, found


def bench(n: int, kind: str, nq: int, seed: int, skip_multihash: bool) -> dict[str, Any]:
    rng = np.random.default_rng(seed)
    codes = make_codes(rng, n, kind)
    queries = make_queries(rng, codes, nq)
    row: dict[str, Any] = {"n": n, "kind": kind, "queries": nq}

    gc.collect()
    before = rss()
    t = time.perf_counter()
    index = HammingIndex()
    index.add_many(np.arange(n, dtype=np.int64), codes)
    row["ours_build_s"] = time.perf_counter() - t
    row["ours_bytes_per_hash"] = index.nbytes() / n
    row["ours_bytes_per_hash_parts"] = memory_parts(index, n)
    row["ours_rss_bytes_per_hash"] = (rss() - before) / n

    def ours(q: U8) -> set[int]:
        return {h.id for h in index.search(q[0].tobytes(), RADIUS)}

    ours(queries[:1])  # compile / warm up
    row["ours_ms"], ours_found = timed_queries(ours, queries)
    t = time.perf_counter()
    index.search_batch(queries, RADIUS)
    row["ours_batch_ms_per_query"] = (time.perf_counter() - t) / nq * 1e3

    flat = faiss.IndexBinaryFlat(256)
    flat.add(codes)

    def flat_search(q: U8) -> set[int]:
        _, _, ids = flat.range_search(q, RADIUS + 1)  # faiss radius is strict
        return set(ids.tolist())

    row["flat_ms"], flat_found = timed_queries(flat_search, queries)
    row["ours_equals_flat"] = ours_found == flat_found
    row["hits_per_query"] = sum(map(len, flat_found)) / nq

    if not skip_multihash:
        gc.collect()
        before = rss()
        t = time.perf_counter()
        mh = faiss.IndexBinaryMultiHash(256, 16, 16)
        mh.nflip = 1
        mh.add(codes)
        row["hma_build_s"] = time.perf_counter() - t
        row["hma_rss_bytes_per_hash"] = (rss() - before) / n

        def mh_search(q: U8) -> set[int]:
            _, _, ids = mh.range_search(q, RADIUS + 1)
            return set(ids.tolist())

        row["hma_ms"], mh_found = timed_queries(mh_search, queries)
        row["hma_equals_flat"] = mh_found == flat_found
        row["speedup_vs_hma"] = row["hma_ms"] / row["ours_ms"]
        mh.reset()

    row.update(update_latency(index, rng))
    row.update(snapshot_times(index))

    # A follower's steady state: 100k single adds since the last compaction live in small
    # segments and the delta, which every query also searches; then an explicit compact().
    fresh = rng.integers(0, 256, size=(100_000, 32), dtype=np.uint8)
    for i in range(fresh.shape[0]):
        index.add(n + i, fresh[i].tobytes())
    row["segments_after_100k_adds"] = len(index.segments)
    row["ours_ms_after_100k_adds"], _ = timed_queries(ours, queries)
    index.wait_for_compaction()
    t = time.perf_counter()
    index.compact()
    row["compact_s"] = time.perf_counter() - t
    row["segments_after_compaction"] = len(index.segments)
    row["ours_ms_after_compaction"], found = timed_queries(ours, queries)
    row["ours_equals_flat_after_adds"] = all(f <= g for f, g in zip(flat_found, found, strict=True))
    return row


def update_latency(index: HammingIndex, rng: np.random.Generator) -> dict[str, float]:
    """Milliseconds from the start of add/remove to the end of a query that sees the change.

    5000 adds (so at least one delta flush into a segment is included), then 5000 removes.
    """
    fresh = rng.integers(0, 256, size=(5000, 32), dtype=np.uint8)
    add_t, rem_t = [], []
    for i in range(fresh.shape[0]):
        code = fresh[i].tobytes()
        t = time.perf_counter()
        index.add(-1 - i, code)
        hits = index.search(code, 0)
        add_t.append(time.perf_counter() - t)
        assert any(h.id == -1 - i for h in hits)
    for i in range(fresh.shape[0]):
        code = fresh[i].tobytes()
        t = time.perf_counter()
        index.remove(-1 - i, code)
        hits = index.search(code, 0)
        rem_t.append(time.perf_counter() - t)
        assert all(h.id != -1 - i for h in hits)
    ms = np.array(add_t) * 1e3, np.array(rem_t) * 1e3
    return {
        "add_visible_ms_median": float(np.median(ms[0])),
        "add_visible_ms_p99": float(np.percentile(ms[0], 99)),
        "add_visible_ms_max": float(ms[0].max()),
        "remove_visible_ms_median": float(np.median(ms[1])),
        "remove_visible_ms_p99": float(np.percentile(ms[1], 99)),
        "remove_visible_ms_max": float(ms[1].max()),
    }


def snapshot_times(index: HammingIndex) -> dict[str, float]:
    """Seconds to save and to load a snapshot of the index, and its size."""
    sig = SignalIndex(seq=1)
    sig.hamming_parts["pdq"] = index
    with tempfile.TemporaryDirectory(dir=os.environ.get("BENCH_TMP")) as tmp:
        path = Path(tmp) / "bench.swidx"
        t = time.perf_counter()
        sig.save(path)
        save_s = time.perf_counter() - t
        size = path.stat().st_size
        os.sync()
        t = time.perf_counter()
        loaded = SignalIndex.load(path)
        load_s = time.perf_counter() - t
        assert len(loaded.hamming("pdq")) == len(index)
    return {"snapshot_save_s": save_s, "snapshot_load_s": load_s, "snapshot_mb": size / 1e6}


def memory_parts(index: HammingIndex, n: int) -> dict[str, float]:
    """Bytes per hash of each kind of array (all segments; the delta's preallocated arrays)."""
    parts = {"codes": 0, "ids": 0, "entries": 0, "dirs": 0, "bitmap": 0}
    for seg in index.segments:
        parts["codes"] += seg.codes.nbytes
        parts["ids"] += seg.id_data.nbytes
        parts["entries"] += seg.entries.nbytes
        parts["dirs"] += seg.dirs_nbytes()
        parts["bitmap"] += seg.dead.nbytes
    out = {k: v / n for k, v in parts.items()}
    out["delta"] = (index.nbytes() - sum(parts.values())) / n
    return out


def memory_lines(rows: list[dict[str, Any]]) -> str:
    lines = ["Our bytes per hash by array, right after the bulk load:", ""]
    for r in rows:
        parts = ", ".join(f"{k} {v:.3f}" for k, v in r["ours_bytes_per_hash_parts"].items())
        lines.append(f"- {r['n']:,} {r['kind']}: {parts} = {r['ours_bytes_per_hash']:.3f}")
    return "\n".join(lines)


def markdown(rows: list[dict[str, Any]]) -> str:
    head = (
        "| hashes | data | ours ms | HMA ms | Flat ms | ours/HMA speed-up | exact | ours B/hash "
        "| HMA B/hash (RSS) | build ours / HMA s | add→visible ms med/p99/max "
        "| remove→visible ms med/p99/max | snapshot MB, save / load s "
        "| ours ms after 100k adds (segments), after compact() |\n"
        "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|\n"
    )
    lines = []
    for r in rows:
        hma = f"{r['hma_ms']:.2f}" if "hma_ms" in r else "n/a"
        speed = f"{r['speedup_vs_hma']:.1f}x" if "speedup_vs_hma" in r else "n/a"
        exact = "yes" if r["ours_equals_flat"] else "NO"
        if "hma_equals_flat" in r:
            exact += f" (HMA {'yes' if r['hma_equals_flat'] else 'NO'})"
        hma_mem = f"{r['hma_rss_bytes_per_hash']:.0f}" if "hma_rss_bytes_per_hash" in r else "n/a"
        hma_build = f"{r['hma_build_s']:.1f}" if "hma_build_s" in r else "n/a"
        lines.append(
            f"| {r['n']:,} | {r['kind']} | {r['ours_ms']:.3f} | {hma} | {r['flat_ms']:.2f} "
            f"| {speed} | {exact} | {r['ours_bytes_per_hash']:.1f} "
            f"({r['ours_rss_bytes_per_hash']:.0f} RSS) | {hma_mem} "
            f"| {r['ours_build_s']:.1f} / {hma_build} "
            f"| {r['add_visible_ms_median']:.3f} / {r['add_visible_ms_p99']:.2f} / "
            f"{r['add_visible_ms_max']:.1f} "
            f"| {r['remove_visible_ms_median']:.3f} / {r['remove_visible_ms_p99']:.2f} / "
            f"{r['remove_visible_ms_max']:.1f} "
            f"| {r['snapshot_mb']:.0f}, {r['snapshot_save_s']:.2f} / {r['snapshot_load_s']:.2f} "
            f"| {r['ours_ms_after_100k_adds']:.3f} ({r['segments_after_100k_adds']} segments), "
            f"{r['ours_ms_after_compaction']:.3f} ({r['segments_after_compaction']}, "
            f"compact {r['compact_s']:.1f} s) |"
        )
    return head + "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[1_000_000])
    parser.add_argument("--kinds", nargs="+", default=["random", "clustered"])
    parser.add_argument("--queries", type=int, default=200)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--skip-multihash", action="store_true")
    parser.add_argument("--out", type=Path)
    args = parser.parse_args()
    cpu = pin_one_core()
    print(f"pinned to cpu {cpu}; python {sys.version.split()[0]}", flush=True)
    rows = []
    for n in args.sizes:
        for kind in args.kinds:
            row = bench(n, kind, args.queries, args.seed, args.skip_multihash)
            print(json.dumps(row), flush=True)
            rows.append(row)
            if args.out:
                args.out.write_text(json.dumps(rows, indent=1))
    body = f"{markdown(rows)}\n\n{memory_lines(rows)}"
    print(body)
    command = " ".join(["python bench/index_bench.py", *sys.argv[1:]])
    write_section("index_bench", f"## index_bench\n\n{body}", command)


if __name__ == "__main__":
    main()
