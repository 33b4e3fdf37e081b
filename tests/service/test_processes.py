"""Several processes on one database: matcher replicas follow the signal log, roles refuse
what they do not serve, and SIGTERM lets an in-flight request finish.

No test here asserts how fast anything happens (a loaded machine must not fail them): each waits
for the outcome with a generous limit. How quickly replicas catch up is for a benchmark."""

from __future__ import annotations

import os
import signal
import threading
import time
from collections.abc import Callable, Iterator
from functools import partial
from pathlib import Path

import httpx
import pytest
from sqlalchemy import select

from service_helpers import ServiceProcess, spawn_service
from shieldwall.media import synthetic
from shieldwall.people.keys import create_key
from shieldwall.store import Database
from shieldwall.store.models import RequestAudit

PDQ = "f8f8f0cee0f4a84f06370a22038f63f0b36e2ed596621e1d33e6b39c4e9c9b22"


@pytest.fixture
def processes() -> Iterator[list[ServiceProcess]]:
    started: list[ServiceProcess] = []
    yield started
    for p in started:
        p.stop()


def _matched(url: str, token: str) -> bool:
    r = httpx.post(
        url + "/v1/lookup/signals",
        json={"signals": [{"type": "pdq", "value": PDQ}]},
        headers={"Authorization": f"Bearer {token}"},
        timeout=TIMEOUT,
    )
    assert r.status_code == 200, r.text
    return bool(r.json()["matched"])


#: How long a replica may take to see a change before the test gives up: far longer than it
#: should ever take (follow_interval_seconds is 0.2 s), so that only a replica that never
#: follows fails, not a slow machine.
PATIENCE = 120.0
#: Time limit of one request: only a hung service should reach it.
TIMEOUT = 60.0


def _unmatched(url: str, token: str) -> bool:
    return not _matched(url, token)


def _until(predicate: Callable[[], bool]) -> bool:
    """Whether ``predicate`` became true within :data:`PATIENCE`."""
    deadline = time.monotonic() + PATIENCE
    while not predicate():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.02)
    return True


@pytest.mark.slow
def test_two_matchers_follow_changes_made_through_the_api(
    db: Database, database_url: str, tmp_path: Path, processes: list[ServiceProcess]
) -> None:
    _, token = create_key(db, "replica-test", "admin")
    auth = {"Authorization": f"Bearer {token}"}
    api = spawn_service(database_url, tmp_path / "api", role="api")
    matchers = [spawn_service(database_url, tmp_path / f"m{i}", role="matcher") for i in (1, 2)]
    processes.extend([api, *matchers])
    for p in processes:
        p.wait_ready()

    # Each role refuses what it does not serve.
    api_client = httpx.Client(base_url=api.url, headers=auth, timeout=TIMEOUT)
    r = api_client.post("/v1/lookup/signals", json={"signals": []})
    assert r.status_code in (422, 503)
    r = api_client.post("/v1/lookup/signals", json={"signals": [{"type": "pdq", "value": PDQ}]})
    assert (r.status_code, r.json()["error"]) == (503, "not_served")
    r = httpx.get(matchers[0].url + "/v1/banks", headers=auth, timeout=TIMEOUT)
    assert (r.status_code, r.json()["error"]) == (503, "not_served")

    assert not any(_matched(m.url, token) for m in matchers)
    r = api_client.post("/v1/banks", json={"name": "ncii", "kind": "block"})
    assert r.status_code == 201
    r = api_client.post(
        "/v1/banks/ncii/entries",
        json={"signals": [{"type": "pdq", "value": PDQ}], "external_ids": ["case-9"]},
    )
    assert r.status_code == 201
    for m in matchers:
        assert _until(partial(_matched, m.url, token)), f"{m.url} never saw the new hash"

    r = api_client.post("/v1/withdrawals", json={"external_ids": ["case-9"]})
    assert r.status_code == 200
    for m in matchers:
        assert _until(partial(_unmatched, m.url, token)), f"{m.url} never saw the withdrawal"

    def caught_up(url: str) -> bool:
        ready = httpx.get(url + "/readyz", timeout=TIMEOUT).json()
        return bool(ready["index_seq"] == ready["log_seq"] == 2)  # the add and its tombstone

    for m in matchers:
        assert _until(partial(caught_up, m.url)), f"{m.url} never caught up"
    api_client.close()


def _slow_multipart(
    boundary: str, payload: bytes, pause: float, sending: threading.Event
) -> Iterator[bytes]:
    """A multipart body sent in parts, ``pause`` seconds apart; ``sending`` is set once the
    first third of the file has gone out (the request is then being received)."""
    yield (
        f"--{boundary}\r\nContent-Disposition: form-data; name=file; filename=p.jpg\r\n"
        "Content-Type: image/jpeg\r\n\r\n"
    ).encode()
    third = len(payload) // 3
    for i in range(3):
        if i == 1:
            sending.set()
        time.sleep(pause)
        yield payload[i * third : (i + 1) * third if i < 2 else len(payload)]
    yield f"\r\n--{boundary}--\r\n".encode()


@pytest.mark.slow
def test_sigterm_finishes_the_request_in_flight(
    db: Database, database_url: str, tmp_path: Path, processes: list[ServiceProcess]
) -> None:
    _, token = create_key(db, "shutdown-test", "hash")
    live = spawn_service(database_url, tmp_path / "all")
    processes.append(live)
    live.wait_ready()
    photo = synthetic.encode(synthetic.scene(seed=5))
    boundary = "shieldwall-test-boundary"
    answer: dict[str, httpx.Response] = {}
    sending = threading.Event()

    def send() -> None:
        answer["r"] = httpx.post(
            live.url + "/v1/hash",
            content=_slow_multipart(boundary, photo, 0.5, sending),
            headers={
                "Authorization": f"Bearer {token}",
                "Content-Type": f"multipart/form-data; boundary={boundary}",
            },
            timeout=TIMEOUT,
        )

    thread = threading.Thread(target=send)
    thread.start()
    assert sending.wait(TIMEOUT)  # the request has started and is still sending its body
    assert live.process.poll() is None
    code = live.stop()
    thread.join(timeout=TIMEOUT)
    assert answer["r"].status_code == 200, answer["r"].text
    assert {s["type"] for s in answer["r"].json()["signals"]} >= {"pdq", "md5"}
    assert code in (0, -signal.SIGTERM)  # uvicorn re-raises SIGTERM once it has shut down
    with pytest.raises(httpx.TransportError):
        httpx.get(live.url + "/healthz", timeout=2)
    # The request's audit row was written on the way out.
    with db.session() as session:
        routes = list(session.scalars(select(RequestAudit.route)))
    assert "/v1/hash" in routes
    # The index snapshot was saved on the way out.
    assert list((tmp_path / "all" / "index").glob("signals-*.snapshot"))


@pytest.mark.slow
def test_workers_share_the_port_and_stop_together(
    db: Database, database_url: str, tmp_path: Path, processes: list[ServiceProcess]
) -> None:
    live = spawn_service(database_url, tmp_path / "w", extra_args=["--workers", "2"])
    processes.append(live)
    live.wait_ready()
    pids: set[int] = set()
    deadline = time.monotonic() + PATIENCE  # the second worker may still be starting
    while len(pids) < 2 and time.monotonic() < deadline:
        # a new connection each time: the kernel spreads them over both
        pids.add(httpx.get(live.url + "/healthz", timeout=TIMEOUT).json()["pid"])
        time.sleep(0.01)
    assert len(pids) == 2
    assert live.stop() in (0, -signal.SIGTERM)
    for pid in pids:
        with pytest.raises(ProcessLookupError):
            os.kill(pid, 0)
