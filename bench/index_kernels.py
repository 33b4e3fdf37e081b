"""The Hamming index's C kernels against its numba kernels (the reference), in the same run.

Each runs in a process of its own (``SHIELDWALL_INDEX_KERNELS=c`` / ``numba``) on the same
codes: the time to build one segment of ``--size`` random codes, the median time of an exact
radius-31 search (one query per call, half of them near a stored code), and the process's
resident memory after the searches, with and without the index.

    .venv/bin/python bench/index_kernels.py --size 1000000
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _report import write_section


def _rss_mib() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def child(size: int, queries: int) -> None:
    """One measurement, printed as JSON."""
    import numpy as np  # noqa: PLC0415

    from shieldwall.index import _kernels  # noqa: PLC0415
    from shieldwall.index.hamming import HammingIndex  # noqa: PLC0415

    base = _rss_mib()
    rng = np.random.default_rng(7)
    codes = rng.integers(0, 256, size=(size, 32), dtype=np.uint8)
    index = HammingIndex()
    started = time.perf_counter()
    index.add_many(np.arange(size, dtype=np.int64), codes)
    index.compact()
    build_s = time.perf_counter() - started
    asked = rng.integers(0, 256, size=(queries, 32), dtype=np.uint8)
    asked[::2] = codes[: queries // 2 + queries % 2]
    asked[::2, :2] ^= 0x5A  # 8 bits off a stored code
    times = []
    found = 0
    for q in asked:
        t = time.perf_counter()
        found += len(index.search(bytes(q), radius=31))
        times.append(time.perf_counter() - t)
    print(
        json.dumps(
            {
                "implementation": _kernels.IMPLEMENTATION,
                "build_s": build_s,
                "median_us": statistics.median(times[10:]) * 1e6,
                "first_ms": times[0] * 1e3,
                "found": found,
                "rss_mib": _rss_mib(),
                "index_mib": index.nbytes() / 2**20,
                "numba_loaded": "numba" in sys.modules,
                "base_mib": base,
            }
        )
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--size", type=int, default=1_000_000)
    parser.add_argument("--queries", type=int, default=400)
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--no-write", action="store_true")
    args = parser.parse_args()
    if args.child:
        child(args.size, args.queries)
        return
    results = {}
    for name in ("c", "numba"):
        env = {**os.environ, "SHIELDWALL_INDEX_KERNELS": name}
        out = subprocess.run(
            [sys.executable, __file__, "--child", "--size", str(args.size), "--queries",
             str(args.queries)],
            env=env, capture_output=True, text=True, check=True,
        )  # fmt: skip
        results[name] = json.loads(out.stdout.strip().splitlines()[-1])
    c, nb = results["c"], results["numba"]
    assert c["found"] == nb["found"], "the two kernels disagree"
    lines = [
        f"{args.size:,} random codes in one segment, {args.queries} radius-31 searches (one "
        "query per call, half near a stored code), each kernel in a fresh process on the same "
        "codes; both found the same "
        f"{c['found']:,} hits. Resident memory is the whole process after the searches "
        f"(index arrays: {c['index_mib']:.0f} MiB).",
        "",
        "| kernels | build s | median search us | first search ms | process MiB | numba loaded |",
        "|---|---|---|---|---|---|",
    ]
    for r in (c, nb):
        lines.append(
            f"| {r['implementation']} | {r['build_s']:.2f} | {r['median_us']:.0f} | "
            f"{r['first_ms']:.0f} | {r['rss_mib']:.0f} | {r['numba_loaded']} |"
        )
    lines += [
        "",
        f"C / numba: build {c['build_s'] / nb['build_s']:.2f}, median search "
        f"{c['median_us'] / nb['median_us']:.2f}, memory {c['rss_mib'] / nb['rss_mib']:.2f} "
        f"({nb['rss_mib'] - c['rss_mib']:.0f} MiB less without numba's runtime).",
    ]
    body = "\n".join(lines)
    print(body)
    if not args.no_write:
        write_section(
            "index_kernels",
            "## Index kernels: C against numba\n\n" + body,
            f".venv/bin/python bench/index_kernels.py --size {args.size} --queries {args.queries}",
        )


if __name__ == "__main__":
    main()
