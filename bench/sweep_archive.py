"""A sweep at archive scale: one new bank entry swept over a ledger of N synthetic PDQ hashes,
the ledger scanned in partitions (ledger id ranges) as Ray would spread them over nodes.

Builds the ledger once (random PDQ codes from NumPy, inserted in bulk through the SQLite driver:
``ledger_item`` and ``ledger_signal`` rows as ``add_to_ledger`` writes them), plants copies of
the new entry's hash at chosen distances, then runs each sweep in a fresh process (so that its
peak memory is its own) and checks that it finds exactly the planted copies.

    .venv/bin/python bench/sweep_archive.py --items 10000000 --partitions 1 8 [--ray]

Prints a markdown table for docs/banks.md ("Sweeps at archive scale"). ``--keep FILE`` keeps
the built ledger (and reuses it when the file exists).
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import random
import resource
import sqlite3
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

from shieldwall.banks import NewEntry, add_entries, create_bank
from shieldwall.config import Settings
from shieldwall.errors import ShieldwallError
from shieldwall.matching import sweep
from shieldwall.signals.base import Signal
from shieldwall.store import Database

BATCH = 200_000
#: Planted copies of the new entry: distances (the bank's PDQ threshold is 31).
PLANTED = (0, 8, 20, 31)
SEED = 18


def flip(value: int, count: int, rng: random.Random) -> int:
    for bit in rng.sample(range(256), count):
        value ^= 1 << bit
    return value


def build(path: Path, items: int) -> tuple[float, str, dict[int, int]]:
    """Fill a new ledger; returns (seconds, the new entry's hash, planted item id -> distance)."""
    Database(f"sqlite:///{path}").dispose()  # the schema, by the migrations
    rng = random.Random(SEED)
    banked = rng.getrandbits(256)
    spots = rng.sample(range(1, items + 1), len(PLANTED))
    planted = {spot: flip(banked, d, rng) for spot, d in zip(spots, PLANTED, strict=True)}
    gen = np.random.default_rng(SEED)
    started = time.perf_counter()
    conn = sqlite3.connect(path)
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("PRAGMA synchronous=OFF")
    now = "2026-12-03 00:00:00.000000"
    for start in range(1, items + 1, BATCH):
        stop = min(items + 1, start + BATCH)
        codes = gen.integers(0, 256, size=(stop - start, 32), dtype=np.uint8)
        text = codes.tobytes().hex()
        hexes = [text[64 * k : 64 * k + 64] for k in range(stop - start)]
        for spot, value in planted.items():
            if start <= spot < stop:
                hexes[spot - start] = f"{value:064x}"
        with conn:
            conn.executemany(
                "INSERT INTO ledger_item (id, content_id, seen_at) VALUES (?, ?, ?)",
                ((i, f"post-{i}", now) for i in range(start, stop)),
            )
            conn.executemany(
                "INSERT INTO ledger_signal (id, item_id, type, value) VALUES (?, ?, 'pdq', ?)",
                ((i, i, h) for i, h in zip(range(start, stop), hexes, strict=True)),
            )
        print(f"  built {stop - 1:,} / {items:,}", file=sys.stderr, end="\r")
    conn.close()
    print(file=sys.stderr)
    return (
        time.perf_counter() - started,
        f"{banked:064x}",
        dict(zip(spots, PLANTED, strict=True)),
    )


def run_sweep(path: Path, partitions: int, use_ray: bool) -> dict[str, object]:
    """One sweep in this process (a fresh one): seconds, matches, peak RSS."""
    db = Database(f"sqlite:///{path}")
    settings = Settings.load(data_dir=path.parent, flood_max_contents=1000)
    runner = None
    if use_ray:
        import ray  # noqa: PLC0415 (optional)

        from shieldwall.matching.backfill_ray import scan_on_ray  # noqa: PLC0415

        src = str(Path(__file__).resolve().parents[1] / "src")
        ray.init(num_cpus=2, runtime_env={"env_vars": {"PYTHONPATH": src}}, log_to_driver=False)
        runner = scan_on_ray
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    outcome = sweep(db, settings=settings, partitions=partitions, runner=runner)
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    if use_ray:
        ray.shutdown()
    db.dispose()
    return {
        "seconds": outcome.seconds,
        "scanned": outcome.ledger_scanned,
        "found": sorted(int(c.removeprefix("post-")) for c in outcome.matches),
        "rss_mib_before": before / 1024,
        "rss_mib_peak": peak / 1024,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--items", type=int, default=1_000_000)
    parser.add_argument("--partitions", type=int, nargs="+", default=[1, 8])
    parser.add_argument("--ray", action="store_true", help="also sweep with Ray (2 CPUs)")
    parser.add_argument("--keep", type=Path, help="keep (or reuse) the ledger in this file")
    parser.add_argument("--sweep-only", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--use-ray", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.sweep_only:
        print(json.dumps(run_sweep(args.sweep_only, args.partitions[0], args.use_ray)))
        return

    with tempfile.TemporaryDirectory(prefix="shieldwall-bench-") as tmp:
        path = args.keep or Path(tmp) / "ledger.db"
        meta = path.with_suffix(".json")
        if path.exists() and meta.exists():
            info = json.loads(meta.read_text())
            build_s = float(info["build_s"])
        else:
            build_s, banked, planted = build(path, args.items)
            info = {"build_s": build_s, "banked": banked, "planted": planted}
            meta.write_text(json.dumps(info))
        planted_ids = {int(k): v for k, v in dict(info["planted"]).items()}
        size_mb = path.stat().st_size / 1e6
        db = Database(f"sqlite:///{path}")
        with contextlib.suppress(ShieldwallError):  # a kept ledger: the bank exists
            create_bank(db, "ncii", "block")
        add_entries(db, "ncii", [NewEntry([Signal("pdq", str(info["banked"]), 90)])])
        db.dispose()
        load = os.getloadavg()[0]
        runs = [(p, False) for p in args.partitions]
        runs += [(max(args.partitions), True)] if args.ray else []
        rows = []
        for partitions, use_ray in runs:
            command = [sys.executable, __file__, "--sweep-only", str(path)]
            command += ["--partitions", str(partitions)] + (["--use-ray"] if use_ray else [])
            # Each sweep sees the entry as new: --full would too, but this is the real path.
            with Database(f"sqlite:///{path}").transaction() as session:
                session.connection().exec_driver_sql("DELETE FROM sweep_state")
                session.connection().exec_driver_sql("DELETE FROM match")
            result = json.loads(
                subprocess.run(command, check=True, capture_output=True, text=True).stdout
            )
            assert set(result["found"]) == set(planted_ids), (result["found"], planted_ids)
            rows.append((partitions, use_ray, result))
        print(
            f"\nLedger of {args.items:,} PDQ hashes (SQLite, {size_mb:,.0f} MB), one new block "
            f"entry, {len(planted_ids)} planted copies at distances {sorted(PLANTED)}; "
            f"built in {build_s:.0f} s; load average {load:.1f} on {os.cpu_count()} cores"
        )
        print("| sweep | time | ledger rows/s | RSS after imports -> peak | found |")
        print("|---|---|---|---|---|")
        for partitions, use_ray, r in rows:
            name = (
                f"Ray, {partitions} tasks on 2 CPUs"
                if use_ray
                else f"{partitions} partition(s), one process"
            )
            seconds = float(r["seconds"])
            print(
                f"| {name} | {seconds:.1f} s | {int(r['scanned']) / seconds:,.0f} | "
                f"{float(r['rss_mib_before']):.0f} -> {float(r['rss_mib_peak']):.0f} MiB | "
                f"{len(r['found'])} / {len(planted_ids)} |"
            )


if __name__ == "__main__":
    main()
