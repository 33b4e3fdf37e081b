"""CLI matching throughput: ``shieldwall match`` over a folder of photos, against a bank.

In the same run: ``shieldwall hash`` over the same folder (hashing alone: the floor for any
matcher that hashes what it checks), ``shieldwall match`` with the matches stored, and the
library's :meth:`Matcher.match` on signals already computed (matching alone, per query).
Half of the photos are recompressed copies of banked photos; the run checks that exactly
those match.

    .venv/bin/python bench/banks_match.py --images 400 --bank-size 100000 --workers 2

Prints a markdown table for docs/banks.md.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
from PIL import Image

from shieldwall.banks import NewEntry, add_entries, create_bank
from shieldwall.config import Settings
from shieldwall.hashing import hash_many
from shieldwall.matching import Matcher
from shieldwall.media import synthetic
from shieldwall.signals.base import Signal
from shieldwall.store import Database


def cli(args: list[str], env: dict[str, str]) -> tuple[float, str]:
    started = time.perf_counter()
    out = subprocess.run(
        [sys.executable, "-m", "shieldwall", *args],
        check=False,
        env=env,
        capture_output=True,
        text=True,
    )
    elapsed = time.perf_counter() - started
    if out.returncode not in (0, 1):
        raise SystemExit(
            f"shieldwall {args} exit {out.returncode}: {out.stderr}{out.stdout[-2000:]}"
        )
    return elapsed, out.stdout


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--images", type=int, default=200, help="photos to check")
    parser.add_argument("--bank-size", type=int, default=100_000, help="random hashes banked")
    parser.add_argument("--workers", type=int, default=2, help="hashing processes")
    parser.add_argument("--size", default="1024x768", help="generated photo size WxH")
    parser.add_argument("--photos", default="", help="use these JPEGs instead (e.g. shared data)")
    args = parser.parse_args()
    width, height = (int(v) for v in args.size.split("x"))

    with tempfile.TemporaryDirectory(prefix="shieldwall-bench-") as tmp:
        root = Path(tmp)
        url = f"sqlite:///{root / 'match.db'}"
        db = Database(url)
        create_bank(db, "ncii", "block")
        rng = random.Random(7)
        started = time.perf_counter()
        add_entries(
            db,
            "ncii",
            (
                NewEntry([Signal("pdq", f"{rng.getrandbits(256):064x}", 90)])
                for _ in range(args.bank_size)
            ),
            chunk_size=5000,
        )
        bank_s = time.perf_counter() - started

        banked_dir, queries = root / "banked", root / "queries"
        banked_dir.mkdir()
        queries.mkdir()
        copies = set()
        photos = sorted(Path(args.photos).rglob("*.jpg"))[: args.images] if args.photos else []
        for i in range(args.images):
            if photos:
                with Image.open(photos[i]) as img:
                    scene = np.asarray(img.convert("RGB"))
            else:
                scene = synthetic.scene(10_000 + i, width, height)
            if i % 2 == 0:
                (banked_dir / f"{i}.jpg").write_bytes(synthetic.encode(scene))
                (queries / f"{i:05d}-copy.jpg").write_bytes(synthetic.encode(scene, quality=60))
                copies.add(str(queries / f"{i:05d}-copy.jpg"))
            else:
                (queries / f"{i:05d}.jpg").write_bytes(synthetic.encode(scene))
        banked_files = sorted(str(p) for p in banked_dir.iterdir())
        add_entries(
            db,
            "ncii",
            [NewEntry(list(r.signals.values())) for r in hash_many(banked_files, ["pdq"])],
        )

        env = {**os.environ, "SHIELDWALL_DATABASE_URL": url, "SHIELDWALL_DATA_DIR": tmp}
        w = ["-w", str(args.workers)]
        cli(["match", "--hash", "pdq:" + "0" * 64, "--no-record"], env)  # build the snapshot
        hash_s, _ = cli(["hash", str(queries), *w], env)
        match_s, out = cli(["match", str(queries), "-f", "json", *w], env)
        matched = {o["input"] for o in map(json.loads, out.splitlines()) if o["matches"]}
        found, others = len(matched & copies), len(matched - copies)

        signals = [r.signals["pdq"] for r in hash_many(sorted(map(str, queries.iterdir())))]
        settings = Settings.load(data_dir=root)
        started = time.perf_counter()
        matcher = Matcher.open(db, settings=settings)
        open_s = time.perf_counter() - started
        matcher.match("warm-up", signals[:1], record=False)  # compiled kernels load on first use
        started = time.perf_counter()
        for k, signal in enumerate(signals):
            matcher.match(f"q{k}", [signal], record=False)
        lib_s = time.perf_counter() - started

        n = args.images
        kind = f"photos of {args.photos} re-encoded" if photos else f"generated {args.size} photos"
        print(
            f"\n{n} {kind} (JPEG), bank of {args.bank_size + n // 2:,} PDQ hashes "
            f"(SQLite), {args.workers} hashing workers, {os.cpu_count()} cores, "
            f"load average {os.getloadavg()[0]:.1f} at the end"
        )
        print("| step | time | images/s |")
        print("|---|---|---|")
        print(
            f"| bank {args.bank_size:,} hashes (add_entries) | {bank_s:.1f} s | "
            f"{args.bank_size / bank_s:,.0f} entries/s |"
        )
        print(f"| `shieldwall hash` (hashing only) | {hash_s:.2f} s | {n / hash_s:.0f} |")
        print(
            f"| **`shieldwall match`** (hash, match, store; {found} of {len(copies)} q60 copies "
            f"matched, {others} other photos matched) | "
            f"**{match_s:.2f} s** | **{n / match_s:.0f}** |"
        )
        print(f"| match / hash time | {match_s / hash_s:.2f} | |")
        print(f"| Matcher.open (snapshot + log tail) | {open_s:.2f} s | |")
        print(f"| Matcher.match on computed signals | {lib_s:.2f} s | {n / lib_s:.0f} queries/s |")
        db.dispose()


if __name__ == "__main__":
    main()
