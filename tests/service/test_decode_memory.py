"""16 concurrent worst-case uploads to a live ``shieldwall serve`` stay under the documented
memory limit (docs/security.md, "Bounded cost per request"): the process's peak resident size
grows by no more than its decode budget plus a fixed allowance, measured from /proc.

The worst case is a flat RGBA PNG just under the per-decode limit: a few KB that decode to
about 60 MiB each, so 16 at once would take about 1 GB without the budget."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import pytest

from service_helpers import ServiceProcess, spawn_service
from shieldwall.media import synthetic
from shieldwall.media.budget import image_decode_cost
from shieldwall.people.keys import create_key
from shieldwall.store import Database

pytestmark = pytest.mark.skipif(sys.platform != "linux", reason="reads /proc")

MiB = 1024 * 1024
MAX_DECODE = 64 * MiB
BUDGET = 128 * MiB
#: What the service may hold besides the decodes (docs/security.md): request buffers, the
#: hashes' working arrays, allocator slack of the request threads.
ALLOWANCE = 96 * MiB
TIMEOUT = 120.0


@pytest.fixture
def serve(database_url: str, db: Database, tmp_path: Path) -> Iterator[ServiceProcess]:
    process = spawn_service(
        database_url,
        tmp_path / "data",
        SHIELDWALL_MAX_DECODE_BYTES=str(MAX_DECODE),
        SHIELDWALL_DECODE_MEMORY_BUDGET=str(BUDGET),
        SHIELDWALL_DECODE_WAIT_SECONDS="120",
    )
    try:
        process.wait_ready()
        yield process
    finally:
        process.stop()


def _status(pid: int) -> dict[str, int]:
    """VmRSS and VmHWM of ``pid``, in bytes."""
    values: dict[str, int] = {}
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        key, _, rest = line.partition(":")
        if key in {"VmRSS", "VmHWM"}:
            values[key] = int(rest.split()[0]) * 1024
    return values


def test_sixteen_worst_case_uploads_stay_under_the_limit(
    serve: ServiceProcess, db: Database
) -> None:
    _, token = create_key(db, "budget-test", "admin")
    auth = {"Authorization": f"Bearer {token}"}
    side = 2800
    assert image_decode_cost(side, side, "RGBA", reduced=True, image_format="PNG") < MAX_DECODE
    worst = synthetic.flat_png(side, side, "RGBA")
    small = synthetic.encode(synthetic.scene(1, 320, 240), "PNG")

    def upload(data: bytes) -> httpx.Response:
        return httpx.post(
            serve.url + "/v1/hash",
            files={"file": ("up.png", data, "image/png")},
            headers=auth,
            timeout=TIMEOUT,
        )

    # Warm up (imports, first request), then take the resting size and restart the peak.
    assert upload(small).status_code == 200
    pid = serve.process.pid
    Path(f"/proc/{pid}/clear_refs").write_text("5")  # resets VmHWM to the current VmRSS
    resting = _status(pid)["VmRSS"]

    with ThreadPoolExecutor(16) as pool:
        answers = list(pool.map(upload, [worst] * 16))
    assert [a.status_code for a in answers] == [200] * 16, answers[0].text
    peak = _status(pid)["VmHWM"]
    limit = resting + BUDGET + ALLOWANCE

    assert peak < limit, f"peak {peak / MiB:.0f} MiB over {limit / MiB:.0f} MiB"

    # Over the per-decode limit: refused from the header, naming our setting.
    r = upload(synthetic.flat_png(4000, 4000, "RGBA"))
    assert r.status_code == 413
    assert r.json()["error"] == "media_too_large"
    assert "SHIELDWALL_MAX_DECODE_BYTES" in r.json()["message"]
