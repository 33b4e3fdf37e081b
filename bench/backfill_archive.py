"""The backfill at archive size (issue 18, "Done when"): ``--images`` photos (100,000 by default)
hashed into the ledger once locally (``shieldwall backfill -w 2``) and once on a local Ray
(``--engine ray -w 2``), each into its own SQLite ledger, and the two ledgers compared row for
row (content ids, stamps, signal types and values: a SHA-256 over an ordered dump of each).

The photos: ``--scenes`` generated 640x480 scenes (generating a scene is the slow part, about a
tenth of a second each), each cut into ``images / scenes`` different photos (a window shifted
by a few pixels, a JPEG quality from 60 to 95, a brightness step), so that every file has its
own bytes and hashes; plus one corrupt file that both runs must list as failed and go past.
Each command runs as an operator runs it, in a subprocess; the time is the whole command's.

    python bench/backfill_archive.py --images 100000

Writes its section of docs/benchmarks.md (``--no-write``: print only).
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import numpy as np
from sqlalchemy import select

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _report import write_section
from shieldwall.media import synthetic
from shieldwall.store import Database
from shieldwall.store.models import LedgerItem, LedgerSignal

SRC = Path(__file__).resolve().parents[1] / "src"
WIDTH, HEIGHT, MARGIN = 640, 480, 16


def _photos(job: tuple[Path, int, int]) -> int:
    """Write the photos of one scene (``per`` of them) under ``folder/<scene % 100>/``."""
    folder, scene, per = job
    rng = np.random.default_rng(scene)
    big = synthetic.scene(scene, WIDTH + MARGIN, HEIGHT + MARGIN)
    out = folder / f"{scene % 100:02}"
    out.mkdir(exist_ok=True)
    for k in range(per):
        dx, dy = (int(v) for v in rng.integers(0, MARGIN, 2))
        window = big[dy : dy + HEIGHT, dx : dx + WIDTH].astype(np.int16)
        shade = np.clip(window + int(rng.integers(-12, 13)), 0, 255).astype(np.uint8)
        quality = int(rng.integers(60, 96))
        (out / f"{scene:05}-{k:03}.jpg").write_bytes(synthetic.encode(shade, quality=quality))
    return per


def make_archive(folder: Path, images: int, scenes: int, processes: int) -> float:
    started = time.perf_counter()
    per, extra = divmod(images, scenes)
    jobs = [(folder, s, per + (1 if s < extra else 0)) for s in range(scenes)]
    with ProcessPoolExecutor(processes) as pool:
        made = sum(pool.map(_photos, jobs, chunksize=4))
    assert made == images
    (folder / "00" / "corrupt.jpg").write_bytes(b"\xff\xd8\xff\xe0 not a whole JPEG")
    return time.perf_counter() - started


def ledger_digest(url: str) -> tuple[int, int, str]:
    """Items, signals and a SHA-256 over the ordered dump of the ledger (ids included)."""
    db = Database(url, migrate=False)
    digest = hashlib.sha256()
    with db.session() as session:
        items = session.execute(
            select(LedgerItem.id, LedgerItem.content_id, LedgerItem.source_stamp).order_by(
                LedgerItem.id
            )
        ).all()
        signals = session.execute(
            select(LedgerSignal.item_id, LedgerSignal.type, LedgerSignal.value).order_by(
                LedgerSignal.item_id, LedgerSignal.type, LedgerSignal.value
            )
        ).all()
    db.dispose()
    for row in items:
        digest.update(repr(tuple(row)).encode())
    for row in signals:
        digest.update(repr(tuple(row)).encode())
    return len(items), len(signals), digest.hexdigest()


def run(command: list[str], env: dict[str, str]) -> tuple[float, dict[str, object], str]:
    started = time.perf_counter()
    done = subprocess.run(command, env=env, capture_output=True, text=True, check=False)
    seconds = time.perf_counter() - started
    if done.returncode not in (0, 1):
        raise SystemExit(f"{command}: exit {done.returncode}\n{done.stderr[-3000:]}")
    report: dict[str, object] = json.loads(done.stdout)
    return seconds, report, done.stderr


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--images", type=int, default=100_000)
    parser.add_argument("--scenes", type=int, default=1_000)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--no-write", action="store_true")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="shieldwall-bench-archive-") as tmp:
        folder = Path(tmp) / "archive"
        folder.mkdir()
        made_s = make_archive(folder, args.images, args.scenes, max(1, os.cpu_count() or 1))
        size = sum(p.stat().st_size for p in folder.rglob("*.jpg"))
        env = {**os.environ, "PYTHONPATH": str(SRC), "SHIELDWALL_DATA_DIR": str(Path(tmp) / "d")}
        py = [sys.executable, "-m", "shieldwall", "backfill", str(folder)]
        common = ["-w", str(args.workers), "--no-match", "-f", "json"]
        rows = []
        digests = []
        for name, extra in (
            (f"local, `-w {args.workers}`", []),
            (f"Ray, `--engine ray -w {args.workers}` (local Ray)", ["--engine", "ray"]),
        ):
            url = f"sqlite:///{Path(tmp) / (name.split(',')[0].lower() + '.db')}"
            load = os.getloadavg()[0]
            seconds, report, stderr = run(
                py + extra + common, {**env, "SHIELDWALL_DATABASE_URL": url}
            )
            items, signals, digest = ledger_digest(url)
            digests.append(digest)
            failed = report.get("failed")
            named = [str(f.get("content_id")) for f in failed] if isinstance(failed, list) else []
            assert report.get("recorded") == args.images == items, (report, items)
            assert "corrupt.jpg" in stderr, stderr[-2000:]
            rows.append(
                f"| {name} | {items:,} | {signals:,} | {len(named)} ({', '.join(named)}) | "
                f"{seconds:,.0f} s | "
                f"{args.images / seconds:,.1f} | {load:.1f} | `{digest[:16]}` |"
            )
            print(rows[-1], flush=True)
    same = len(set(digests)) == 1
    body = "\n".join(
        [
            "## Backfill at archive size (issue 18)",
            "",
            f"{args.images:,} generated 640x480 JPEG photos ({size / 2**30:.1f} GiB, "
            f"{args.scenes:,} scenes cut {args.images // args.scenes} ways each, made in "
            f"{made_s:.0f} s) and one corrupt file, hashed by `shieldwall backfill` into a fresh "
            "SQLite ledger, once with each engine; the time is the whole command's (start-up "
            "included), the load average the machine's at its start.",
            "",
            "| engine | items recorded | signals | failed | time | items/s | load | "
            "ledger SHA-256 |",
            "|---|---:|---:|---:|---:|---:|---:|---|",
            *rows,
            "",
            (
                "The two ledgers are identical, row for row (ids, content ids, stamps, signal "
                "types and values)."
                if same
                else "**The two ledgers differ.**"
            ),
        ]
    )
    print(body)
    if not same:
        raise SystemExit("the ledgers differ")
    if not args.no_write:
        write_section(
            "backfill_archive",
            body,
            f"python bench/backfill_archive.py --images {args.images} --scenes {args.scenes} "
            f"--workers {args.workers}",
        )


if __name__ == "__main__":
    main()
