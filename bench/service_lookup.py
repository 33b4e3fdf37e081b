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
from _report import write_section
from shieldwall.banks import NewEntry, add_entries, create_bank
from shieldwall.config import Settings
from shieldwall.hashing import hash_bytes
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


def rss_kib(pid: int) -> int:
    """Resident memory of a process and its children, in KiB."""
    total = 0
    pids = [pid]
    try:
        children = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
        pids += [int(c) for c in children]
    except OSError:
        pass
    for p in pids:
        try:
            for line in Path(f"/proc/{p}/status").read_text().splitlines():
                if line.startswith("VmRSS:"):
                    total += int(line.split()[1])
        except OSError:
            pass
    return total


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
    parser.add_argument("--no-write", action="store_true")
    args = parser.parse_args()
    if shutil.which("wrk") is None:
        print("wrk is not installed (apt-get install wrk): service benchmark skipped")
        return
    rng = random.Random(7)
    tmp = Path(tempfile.mkdtemp(prefix="shieldwall-bench-svc-"))
    try:
        settings = Settings(data_dir=tmp / "data", database_url=f"sqlite:///{tmp / 'sw.db'}")
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
        # Hash lookups: random hashes, and 1 in 20 a banked photo's hash with a few bits flipped.
        json_bodies = []
        for i in range(2000):
            if i % 20 == 0:
                value = int(banked[i // 20 % len(banked)].value, 16) ^ (
                    0b1011 << rng.randrange(250)
                )
            else:
                value = rng.getrandbits(256)
            json_bodies.append(b'{"signals":[{"type":"pdq","value":"%064x"}]}' % value)
        hashes_dir = bodies_dir(tmp, "hashes", json_bodies)
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
        server.terminate()
        server.wait(timeout=60)
        log.close()
    finally:
        shutil.rmtree(tmp, ignore_errors=True)

    total = pdq["requests"] + jpeg["requests"] + turned["requests"]
    rows = [
        ("`GET /healthz` (floor: no key, no matching)", floor),
        ("**lookup of a given PDQ hash** (`POST /v1/lookup/signals`)", pdq),
        (
            "**lookup of an uploaded 1024x768 JPEG** (`POST /v1/lookup`, defaults: robustness on)",
            jpeg,
        ),
        ("the same as plain PDQ (`dihedral=false`, `normalise=false`)", turned),
    ]
    lines = [
        f"Bank: {args.bank_size:,} PDQ hashes in SQLite (banked in {bank_s:.0f} s; server ready, "
        f"index built from the database, {ready_s:.0f} s later). Server: `shieldwall serve "
        f"--role matcher --workers {args.workers}`; load: wrk, 2 threads, {args.connections} "
        f"connections ({args.upload_connections} for uploads), {args.duration} s per scenario, "
        "on the same 2-core machine as the server. "
        "1 in 20 hash lookups and half the photos match a banked item. Errors: non-2xx answers "
        "plus socket errors.",
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
        f"PDQ lookup / floor: {pdq['rps'] / floor['rps']:.2f}; upload with the robustness "
        f"variants on (the defaults) / as plain PDQ: {jpeg['rps'] / turned['rps']:.2f}. Resident "
        "memory of the server "
        f"processes: {rss_warm / 1024:.0f} MiB after warm-up, {rss_after_pdq / 1024:.0f} MiB "
        f"after the {pdq['requests']:,.0f} hash lookups; {rss_upload_warm / 1024:.0f} MiB after "
        f"{upload_warm['requests']:,.0f} warm-up uploads, {rss_end / 1024:.0f} MiB after "
        f"{jpeg['requests'] + turned['requests']:,.0f} more ({total:,.0f} lookups in all).",
    ]
    body = "\n".join(lines)
    print(body)
    if not args.no_write:
        write_section(
            "service_lookup",
            "## Service: lookups under load\n\n" + body,
            f".venv/bin/python bench/service_lookup.py --bank-size {args.bank_size} "
            f"--duration {args.duration} --workers {args.workers} --connections {args.connections} "
            f"--upload-connections {args.upload_connections}",
        )


if __name__ == "__main__":
    main()
