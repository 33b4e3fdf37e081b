"""The service under load: lookups of given PDQ hashes and of uploaded 1024x768 JPEGs against
a 1M-hash bank, over loopback HTTP, with wrk as the load generator.

For each scenario: requests/s, latency percentiles, errors (non-2xx answers and socket errors),
and the server's resident memory after warm-up and at the end. The floor is the same server
answering ``GET /healthz`` (uvicorn + FastAPI + our middleware, no key, no matching), measured
in the same run: ``ours / floor`` says what authentication, matching and auditing cost.

    .venv/bin/python bench/service_lookup.py --bank-size 1000000 --duration 300

Needs wrk (Debian: ``apt-get install wrk``).
"""

from __future__ import annotations

import argparse
import os
import random
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _bulk_bank import bulk_fill
from _report import write_section
from shieldwall.banks import NewEntry, add_entries, create_bank
from shieldwall.config import Settings
from shieldwall.hashing import hash_bytes
from shieldwall.matching import log_head
from shieldwall.media import synthetic
from shieldwall.people.keys import create_key
from shieldwall.signals.base import Signal
from shieldwall.store import Database

LUA = r"""
local dir = os.getenv("BODIES")
local bodies = {}
local n = tonumber(os.getenv("NBODIES"))
for i = 1, n do
  local f = assert(io.open(dir .. "/" .. i, "rb"))
  bodies[i] = f:read("*a")
  f:close()
end
wrk.method = "POST"
wrk.headers["Authorization"] = "Bearer " .. os.getenv("TOKEN")
wrk.headers["Content-Type"] = os.getenv("CTYPE")
local i = math.random(n)
request = function()
  i = i % n + 1
  return wrk.format(nil, nil, nil, bodies[i])
end
"""


def _rss_one(pid: int) -> int:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    except OSError:
        pass
    return 0


def process_rss_kib(pid: int) -> tuple[int, list[int]]:
    """Resident memory of a process and of each of its server children, in KiB (the
    multiprocessing resource tracker, a few MB, is left out of the children)."""
    try:
        children = [int(c) for c in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()]
    except OSError:
        children = []
    kids = [_rss_one(c) for c in children]
    return _rss_one(pid), [k for k in kids if k > 50 * 1024]


def rss_kib(pid: int) -> int:
    """Resident memory of a process and its children, in KiB."""
    parent, kids = process_rss_kib(pid)
    return parent + sum(kids)


def wrk(
    url: str, duration: int, connections: int, env: dict[str, str] | None, script: Path | None
) -> dict[str, float]:
    cmd = ["wrk", "-t2", f"-c{connections}", f"-d{duration}s", "--latency", "--timeout", "5s"]
    if script is not None:
        cmd += ["-s", str(script)]
    out = subprocess.run(
        [*cmd, url], check=True, capture_output=True, text=True, env={**os.environ, **(env or {})}
    ).stdout
    result: dict[str, float] = {}
    result["rps"] = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))  # type: ignore[union-attr]
    result["requests"] = float(re.search(r"(\d+) requests in", out).group(1))  # type: ignore[union-attr]
    for pct in ("50", "90", "99"):
        m = re.search(rf"^\s+{pct}%\s+([\d.]+)(us|ms|s)\s*$", out, re.M)
        if m:
            value = float(m.group(1)) * {"us": 0.001, "ms": 1.0, "s": 1000.0}[m.group(2)]
            result[f"p{pct}"] = value
    non2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    result["non2xx"] = float(non2xx.group(1)) if non2xx else 0.0
    sock = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", out)
    result["socket_errors"] = float(sum(int(g) for g in sock.groups())) if sock else 0.0
    if result["non2xx"] or result["socket_errors"]:
        print(f"wrk {url}: errors\n{out}", file=sys.stderr)
    return result


def bodies_dir(root: Path, name: str, bodies: list[bytes]) -> Path:
    folder = root / name
    folder.mkdir()
    for i, body in enumerate(bodies, 1):
        (folder / str(i)).write_bytes(body)
    return folder


def multipart(boundary: str, data: bytes, *, plain: bool = False) -> bytes:
    head = (
        f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="u.jpg"\r\n'
        "Content-Type: image/jpeg\r\n\r\n"
    ).encode()
    field = ""
    if plain:  # plain PDQ: no rotations and flips, no normalised cuts, no rotation sweep
        field = "".join(
            f'\r\n--{boundary}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\nfalse'
            for name in ("dihedral", "normalise")
        )
    return head + data + f"{field}\r\n--{boundary}--\r\n".encode()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--bank-size", type=int, default=1_000_000)
    parser.add_argument("--duration", type=int, default=60, help="seconds per scenario")
    parser.add_argument("--connections", type=int, default=32, help="for hash lookups")
    parser.add_argument(
        "--upload-connections", type=int, default=8, help="for uploads (each costs ~4 ms of CPU)"
    )
    parser.add_argument("--workers", type=int, default=2, help="server processes")
    parser.add_argument("--photos", type=int, default=40, help="distinct 1024x768 JPEGs")
    parser.add_argument(
        "--match-share", type=float, default=0.5, help="share of hash lookups that match"
    )
    parser.add_argument(
        "--database-url",
        default=None,
        help="bank in this (empty) database instead of a new SQLite file (PostgreSQL)",
    )
    parser.add_argument(
        "--bulk",
        action="store_true",
        help="fill the bank by direct inserts (bench/_bulk_bank.py), for 10M",
    )
    parser.add_argument(
        "--adds",
        type=int,
        default=-1,
        help="entries added while serving, then memory after the compaction (default: 4%% of "
        "the bank; 0: none)",
    )
    parser.add_argument("--no-write", action="store_true")
    args = parser.parse_args()
    if shutil.which("wrk") is None:
        print("wrk is not installed (apt-get install wrk): service benchmark skipped")
        return
    rng = random.Random(7)
    load_start = os.getloadavg()[0]
    tmp = Path(tempfile.mkdtemp(prefix="shieldwall-bench-svc-"))
    try:
        settings = Settings(
            data_dir=tmp / "data", database_url=args.database_url or f"sqlite:///{tmp / 'sw.db'}"
        )
        db = Database(settings.resolved_database_url())
        create_bank(db, "bench", "block")
        photos = [
            synthetic.encode(synthetic.scene(seed=1000 + i), quality=90) for i in range(args.photos)
        ]
        banked = [hash_bytes(p).signals["pdq"] for p in photos[: args.photos // 2]]
        started = time.perf_counter()

        def entries() -> object:
            for s in banked:
                yield NewEntry([s], external_ids=[f"photo-{s.value[:8]}"])
            for _ in range(args.bank_size - len(banked)):
                yield NewEntry([Signal("pdq", rng.getrandbits(256).to_bytes(32, "big").hex(), 100)])

        if args.bulk:  # the banked photos as add_entries writes them, the rest inserted fast
            add_entries(db, "bench", (NewEntry([s]) for s in banked))
            bulk_fill(db, "bench", args.bank_size - len(banked), rng)
        else:
            add_entries(db, "bench", entries(), chunk_size=5000)  # type: ignore[arg-type]
        bank_s = time.perf_counter() - started
        _, token = create_key(db, "bench", "match", rate_limit=1e9)
        db.dispose()

        port = 18000 + rng.randrange(1000)
        env = {
            **os.environ,
            "SHIELDWALL_DATA_DIR": str(settings.data_dir),
            "SHIELDWALL_DATABASE_URL": settings.resolved_database_url(),
            "SHIELDWALL_LOG_FORMAT": "json",
        }
        log = (tmp / "serve.log").open("wb")
        server = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "shieldwall",
                "serve",
                "--port",
                str(port),
                "--workers",
                str(args.workers),
                "--role",
                "matcher",
            ],
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        url = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 600
        while True:
            try:
                if httpx.get(url + "/readyz", timeout=2).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            if time.monotonic() > deadline or server.poll() is not None:
                raise SystemExit("server did not start: " + (tmp / "serve.log").read_text()[-2000:])
            time.sleep(0.5)
        ready_s = time.perf_counter() - started - bank_s

        script = tmp / "bodies.lua"
        script.write_text(LUA)

        # Hash lookups: random hashes, and (match share) a banked photo's hash with a few bits
        # flipped; then all matching and none matching, to compare their costs.
        def lookup_body(matching: bool) -> bytes:
            if matching:
                value = int(rng.choice(banked).value, 16) ^ (0b1011 << rng.randrange(250))
            else:
                value = rng.getrandbits(256)
            return b'{"signals":[{"type":"pdq","value":"%064x"}]}' % value

        json_bodies = [lookup_body(rng.random() < args.match_share) for _ in range(2000)]
        hashes_dir = bodies_dir(tmp, "hashes", json_bodies)
        matching_dir = bodies_dir(tmp, "matching", [lookup_body(True) for _ in range(2000)])
        unmatched_dir = bodies_dir(tmp, "unmatched", [lookup_body(False) for _ in range(2000)])
        boundary = "benchboundary7e3f"
        upload_dir = bodies_dir(tmp, "uploads", [multipart(boundary, p) for p in photos])
        plain_dir = bodies_dir(tmp, "plain", [multipart(boundary, p, plain=True) for p in photos])
        common = {"TOKEN": token}

        # Warm up (numba kernels, connections), then the scenarios.
        wrk(
            url + "/v1/lookup/signals",
            5,
            args.connections,
            {**common, "BODIES": str(hashes_dir), "NBODIES": "2000", "CTYPE": "application/json"},
            script,
        )
        rss_warm = rss_kib(server.pid)
        floor = wrk(url + "/healthz", max(10, args.duration // 5), args.connections, None, None)
        pdq = wrk(
            url + "/v1/lookup/signals",
            args.duration,
            args.connections,
            {**common, "BODIES": str(hashes_dir), "NBODIES": "2000", "CTYPE": "application/json"},
            script,
        )
        rss_after_pdq = rss_kib(server.pid)
        json_env = {**common, "NBODIES": "2000", "CTYPE": "application/json"}
        short = max(10, args.duration // 3)
        # All matching against none matching: 3 rounds each, interleaved, the best of each
        # (so that neither pays for coming first or for a burst of load elsewhere).
        rounds: dict[str, list[dict[str, float]]] = {"matching": [], "unmatched": []}
        for _ in range(3):
            for which, folder in (("matching", matching_dir), ("unmatched", unmatched_dir)):
                rounds[which].append(
                    wrk(
                        url + "/v1/lookup/signals",
                        short,
                        args.connections,
                        {**json_env, "BODIES": str(folder)},
                        script,
                    )
                )
        only_matching = max(rounds["matching"], key=lambda r: r["rps"])
        only_unmatched = max(rounds["unmatched"], key=lambda r: r["rps"])
        upload_env = {
            **common,
            "BODIES": str(upload_dir),
            "NBODIES": str(len(photos)),
            "CTYPE": f"multipart/form-data; boundary={boundary}",
        }
        upload_warm = wrk(url + "/v1/lookup", 20, args.upload_connections, upload_env, script)
        rss_upload_warm = rss_kib(server.pid)
        jpeg = wrk(url + "/v1/lookup", args.duration, args.upload_connections, upload_env, script)
        turned = wrk(
            url + "/v1/lookup",
            args.duration,
            args.upload_connections,
            {**upload_env, "BODIES": str(plain_dir)},
            script,
        )
        rss_end = rss_kib(server.pid)
        parent_end, workers_end = process_rss_kib(server.pid)
        # Adds while serving, enough to start each worker's background compaction (the small
        # segments past 1/32 of the main one), then lookups on the compacted index.
        adds = args.adds if args.adds >= 0 else args.bank_size // 25
        workers_compacted: list[int] = []
        if adds:
            db = Database(settings.resolved_database_url())
            add_entries(
                db,
                "bench",
                (
                    NewEntry([Signal("pdq", f"{rng.getrandbits(256):064x}", 100)])
                    for _ in range(adds)
                ),
                chunk_size=5000,
            )
            head = log_head(db)
            db.dispose()
            caught_up = 0
            deadline = time.monotonic() + 600
            while caught_up < 40 and time.monotonic() < deadline:  # 40 answers in a row
                seq = httpx.get(url + "/readyz", timeout=10).json().get("index_seq") or 0
                caught_up = caught_up + 1 if seq >= head else 0
                time.sleep(0.05)
            time.sleep(max(10.0, args.bank_size / 1e6 * 5))  # the compaction itself
            wrk(
                url + "/v1/lookup/signals",
                short,
                args.connections,
                {**json_env, "BODIES": str(hashes_dir)},
                script,
            )
            _, workers_compacted = process_rss_kib(server.pid)
        server.terminate()
        server.wait(timeout=60)
        log.close()
    finally:
        if "server" in locals() and server.poll() is None:  # a failed run stops its server
            server.terminate()
            server.wait(timeout=60)
        shutil.rmtree(tmp, ignore_errors=True)

    total = pdq["requests"] + jpeg["requests"] + turned["requests"]
    rows = [
        ("`GET /healthz` (floor: no key, no matching)", floor),
        (
            f"**lookup of a given PDQ hash** (`POST /v1/lookup/signals`, "
            f"{args.match_share:.0%} matching)",
            pdq,
        ),
        ("the same, every lookup matching (best of 3 rounds)", only_matching),
        ("the same, no lookup matching (best of 3 rounds, interleaved)", only_unmatched),
        (
            "**lookup of an uploaded 1024x768 JPEG** (`POST /v1/lookup`, defaults: robustness on)",
            jpeg,
        ),
        ("the same as plain PDQ (`dihedral=false`, `normalise=false`)", turned),
    ]
    lines = [
        f"Bank: {args.bank_size:,} PDQ hashes in {db.dialect} (banked in {bank_s:.0f} s"
        f"{' by direct inserts' if args.bulk else ''}; "
        "server ready, "
        f"index built from the database, {ready_s:.0f} s later). Server: `shieldwall serve "
        f"--role matcher --workers {args.workers}`; load: wrk, 2 threads, {args.connections} "
        f"connections ({args.upload_connections} for uploads), {args.duration} s per scenario, "
        "on the same 2-core machine as the server. "
        f"{args.match_share:.0%} of the hash lookups and half the photos match a banked item. "
        "Errors: non-2xx answers plus socket errors.",
        "",
        "| scenario | requests/s | p50 ms | p90 ms | p99 ms | requests | errors |",
        "|---|---|---|---|---|---|---|",
    ]
    for name, r in rows:
        lines.append(
            f"| {name} | {r['rps']:,.0f} | {r.get('p50', 0):.1f} | {r.get('p90', 0):.1f} | "
            f"{r.get('p99', 0):.1f} | {r['requests']:,.0f} | "
            f"{r['non2xx'] + r['socket_errors']:.0f} |"
        )
    lines += [
        "",
        f"PDQ lookup / floor: {pdq['rps'] / floor['rps']:.2f}; a lookup that matches costs "
        f"{only_unmatched['rps'] / only_matching['rps']:.2f}x one that does not (requests/s "
        "of none matching / all matching); upload with the robustness "
        f"variants on (the defaults) / as plain PDQ: {jpeg['rps'] / turned['rps']:.2f}. Resident "
        "memory of the server "
        f"processes: {rss_warm / 1024:.0f} MiB after warm-up, {rss_after_pdq / 1024:.0f} MiB "
        f"after the {pdq['requests']:,.0f} hash lookups; {rss_upload_warm / 1024:.0f} MiB after "
        f"{upload_warm['requests']:,.0f} warm-up uploads, {rss_end / 1024:.0f} MiB after "
        f"{jpeg['requests'] + turned['requests']:,.0f} more ({total:,.0f} lookups in all). "
        f"At the end: the supervising parent {parent_end / 1024:.0f} MiB, each worker "
        + ", ".join(f"{w / 1024:.0f}" for w in workers_end)
        + f" MiB (goal: 150 MiB + 100 bytes per banked hash = "
        f"{150 + args.bank_size * 100 / 2**20:.0f} MiB)."
        + (
            f" After {adds:,} more entries added while serving (a background compaction in "
            "each worker) and lookups on the compacted index: each worker "
            + ", ".join(f"{w / 1024:.0f}" for w in workers_compacted)
            + f" MiB (goal {150 + (args.bank_size + adds) * 100 / 2**20:.0f} MiB)."
            if workers_compacted
            else ""
        ),
        "",
        f"Load average of the machine (1 min) at the start {load_start:.1f}, at the end "
        f"{os.getloadavg()[0]:.1f}: with other jobs on the 2 cores the requests/s fall, and "
        "only the ratios within one run compare.",
    ]
    body = "\n".join(lines)
    print(body)
    if not args.no_write:
        postgres = db.dialect == "postgresql"
        size = "" if args.bank_size == 1_000_000 else f"_{args.bank_size}"
        if args.bank_size % 1_000_000 == 0 and size:
            size = f"_{args.bank_size // 1_000_000}m"
        write_section(
            "service_lookup" + ("_postgresql" if postgres else "") + size,
            "## Service: lookups under load"
            + (", PostgreSQL" if postgres else "")
            + (f", {args.bank_size:,} hashes" if size else "")
            + "\n\n"
            + body,
            f".venv/bin/python bench/service_lookup.py --bank-size {args.bank_size} "
            f"--duration {args.duration} --workers {args.workers} --connections {args.connections} "
            f"--upload-connections {args.upload_connections} --match-share {args.match_share}"
            + (" --bulk" if args.bulk else "")
            + (f" --database-url {args.database_url} (an empty database)" if postgres else ""),
        )


if __name__ == "__main__":
    main()
