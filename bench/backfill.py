"""Backfill throughput: ``shieldwall backfill`` (hash into the ledger, one transaction per batch)
against ``shieldwall hash`` (hash to JSON lines) on the same photos, with 1 and 2 workers, and
on a local Ray with 2 actors.

Photos: ``--images`` generated 640x480 JPEG scenes (q90). Each command runs as a subprocess, as
an operator runs it, on a fresh SQLite ledger; the time is the whole command's (start-up
included) and the rate the images per second over that time. The load average of the machine
is printed beside: on a shared machine it moves the figures more than anything else.

    python bench/backfill.py --images 400

Writes its section of docs/benchmarks.md.
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

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _report import write_section
from shieldwall.matching.backfill import HashedItem, write_batch
from shieldwall.media import synthetic
from shieldwall.store import Database

SRC = Path(__file__).resolve().parents[1] / "src"


def timed(command: list[str], env: dict[str, str]) -> tuple[float, str]:
    started = time.perf_counter()
    done = subprocess.run(command, env=env, capture_output=True, text=True, check=False)
    seconds = time.perf_counter() - started
    if done.returncode not in (0, 1):
        raise SystemExit(f"{command}: exit {done.returncode}\n{done.stderr}")
    return seconds, done.stdout


def write_rate(folder: Path, batches: int = 40, size: int = 256) -> float:
    """Items/s that the driver's batch writes reach alone (SQLite, random hashes)."""
    db = Database(f"sqlite:///{folder / 'writes.db'}")
    rng = random.Random(18)
    write_batch(db, [HashedItem("warm", None, (("md5", f"{0:032x}", None),))])  # migrated
    started = time.perf_counter()
    for b in range(batches):
        write_batch(
            db,
            [
                HashedItem(
                    f"w-{b}-{i}",
                    f"file:1:{i}",
                    (
                        ("pdq", f"{rng.getrandbits(256):064x}", 90),
                        ("md5", f"{rng.getrandbits(128):032x}", None),
                        ("sha256", f"{rng.getrandbits(256):064x}", None),
                    ),
                )
                for i in range(size)
            ],
        )
    seconds = time.perf_counter() - started
    db.dispose()
    return batches * size / seconds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--images", type=int, default=400)
    parser.add_argument("--no-ray", action="store_true", help="skip the Ray run")
    parser.add_argument("--rounds", type=int, default=2, help="best of this many runs each")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="shieldwall-bench-") as tmp:
        folder = Path(tmp) / "archive"
        folder.mkdir()
        for i in range(args.images):
            (folder / f"{i:06}.jpg").write_bytes(
                synthetic.encode(synthetic.scene(i, 640, 480), quality=90)
            )
        env = {**os.environ, "PYTHONPATH": str(SRC), "SHIELDWALL_DATA_DIR": str(Path(tmp) / "d")}
        py = [sys.executable, "-m", "shieldwall"]
        runs: list[tuple[str, list[str], bool]] = []
        for workers in (1, 2):
            runs.append(
                (
                    f"`shieldwall hash -w {workers}`",
                    ["hash", str(folder), "-w", str(workers)],
                    False,
                )
            )
            runs.append(
                (
                    f"`shieldwall backfill -w {workers}`",
                    ["backfill", str(folder), "-w", str(workers), "--no-match", "-f", "json"],
                    True,
                )
            )
        if not args.no_ray:
            runs.append(
                (
                    "`shieldwall backfill --engine ray -w 2` (local Ray)",
                    [
                        "backfill",
                        str(folder),
                        "--engine",
                        "ray",
                        "-w",
                        "2",
                        "--no-match",
                        "-f",
                        "json",
                    ],
                    True,
                )
            )
        one = Path(tmp) / "one"
        one.mkdir()
        (one / "000000.jpg").write_bytes((folder / "000000.jpg").read_bytes())
        rows = []
        hash_rate: dict[str, float] = {}
        # run -> (startup, seconds, load) of its best round (the shortest seconds - startup)
        best: dict[int, tuple[float, float, float]] = {}
        for r in range(args.rounds):
            # Rounds interleave the commands, so that a burst of load hits them alike.
            for k, (_name, command, is_backfill) in enumerate(runs):
                load = os.getloadavg()[0]
                # The same command on one photo: its start-up, taken off for the marginal rate.
                small = [str(one) if c == str(folder) else c for c in command]
                db_one = f"sqlite:///{Path(tmp) / f's{k}-{r}.db'}"
                startup, _ = timed(py + small, {**env, "SHIELDWALL_DATABASE_URL": db_one})
                db_all = f"sqlite:///{Path(tmp) / f'l{k}-{r}.db'}"
                seconds, out = timed(py + command, {**env, "SHIELDWALL_DATABASE_URL": db_all})
                if is_backfill:
                    report = json.loads(out)
                    assert report["recorded"] == args.images, report
                old = best.get(k)
                if old is None or seconds - startup < old[1] - old[0]:
                    best[k] = (startup, seconds, load)
                print(k, r, startup, seconds, load, file=sys.stderr)
        for k, (name, command, is_backfill) in enumerate(runs):
            startup, seconds, load = best[k]
            rate = (args.images - 1) / max(seconds - startup, 1e-9)
            count = command[command.index("-w") + 1]
            if not is_backfill:
                hash_rate[count] = rate
            ratio = f"{rate / hash_rate[count]:.2f}" if is_backfill and count in hash_rate else ""
            rows.append(
                f"| {name} | {seconds:.1f} s | {startup:.1f} s | {args.images / seconds:.1f} | "
                f"**{rate:.1f}** | {ratio} | {load:.1f} |"
            )
        writes = write_rate(Path(tmp))
    body = (
        "## Backfill\n\n"
        f"`shieldwall backfill` of {args.images} generated 640x480 JPEG photos into a fresh "
        "SQLite ledger (no matching), against `shieldwall hash` of the same files to JSON lines. "
        "Each command runs whole, as an operator runs it, and again on one photo: the round "
        f"(of {args.rounds}, interleaved) with the best marginal rate is shown. The one-photo "
        "time is its start-up "
        "(imports, the database opened and migrated, Ray started), taken off to give the "
        "marginal rate. The machine has 2 cores shared with "
        "other jobs: the highest load average at a start is in the last column, and it moves "
        "these figures more than anything else: with the load several times the cores, a second "
        "worker has no idle core to use, so the 2-worker rows show contention, not scaling.\n\n"
        "| command | time | start-up | images/s (whole) | images/s (marginal) | "
        "backfill / hash | load |\n"
        "|---|---|---|---|---|---|---|\n" + "\n".join(rows) + "\n\n"
        "The Ray row pays for starting its actors inside the run (each imports Shieldwall and "
        "warms its hasher; the one-photo run starts one, the full run two) and for Ray Data's "
        "scheduling and object store: on one loaded machine that is all overhead; Ray is there "
        "for many nodes.\n\n"
        "On N nodes (docs/backfill.md): the items are sharded over the Ray actors (one CPU each, "
        "the hasher loaded once per actor); the driver lists the archive, checks the ledger for "
        "what is done, and writes each batch in one transaction. Hashing scales with the cores "
        "until that one writer is the bottleneck: the batch writes alone reach "
        f"{writes:,.0f} items/s here (SQLite, 256 items a transaction, same load), so about "
        f"{writes / max(hash_rate.values()):,.0f} times the hashing rate of this machine's "
        "best run above; past that, PostgreSQL and several drivers, each on its own part "
        "of the listing."
    )
    write_section(
        "backfill", body, f"python bench/backfill.py --images {args.images} --rounds {args.rounds}"
    )


if __name__ == "__main__":
    main()
