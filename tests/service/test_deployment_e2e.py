"""The deployment of docs/deployment.md, end to end on loopback: one api, two matchers and one
worker (each a ``shieldwall serve --role ...`` process) on one PostgreSQL database and one
Redis. A hash banked through the api is found by both matchers, a sweep queued through the api
is run by the worker (and only it works jobs), a key revoked through the api is refused by the
matchers, and ``shieldwall check`` finds nothing wrong with the fleet's configuration.

PostgreSQL only (SHIELDWALL_TEST_DATABASE_URL; skipped without it), Redis on 127.0.0.1:6379
(skipped without it). Waits are generous and assert outcomes, never times."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from functools import partial
from pathlib import Path

import httpx
import pytest

from redis_helpers import REDIS_URL, redis_prefix
from service_helpers import ServiceProcess, spawn_service
from shieldwall.people.keys import create_key
from shieldwall.store import Database

__all__ = ["redis_prefix"]  # the fixture, imported for its use here

PDQ = "f8f8f0cee0f4a84f06370a22038f63f0b36e2ed596621e1d33e6b39c4e9c9b22"
PATIENCE = 120.0
TIMEOUT = 60.0

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(
        not os.environ.get("SHIELDWALL_TEST_DATABASE_URL"),
        reason="PostgreSQL is not configured (SHIELDWALL_TEST_DATABASE_URL)",
    ),
    pytest.mark.parametrize("database_url", ["postgresql"], indirect=True),
]


def _until(predicate: Callable[[], bool]) -> bool:
    deadline = time.monotonic() + PATIENCE
    while not predicate():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.05)
    return True


@pytest.fixture
def fleet(
    database_url: str, db: Database, tmp_path: Path, redis_prefix: str
) -> Iterator[dict[str, ServiceProcess]]:
    roles = {"api": "api", "matcher-1": "matcher", "matcher-2": "matcher", "worker": "worker"}
    started = {
        name: spawn_service(
            database_url,
            tmp_path / name,
            role=role,
            SHIELDWALL_REDIS_URL=REDIS_URL,
            SHIELDWALL_REDIS_KEY_PREFIX=redis_prefix,
            SHIELDWALL_API_KEY_CACHE_SECONDS="600",  # only Redis can spread a revocation
            SHIELDWALL_WORKER_POLL_SECONDS="0.2",
        )
        for name, role in roles.items()
    }
    try:
        for process in started.values():
            process.wait_ready()
        yield started
    finally:
        for process in started.values():
            process.stop()


def test_an_api_two_matchers_and_a_worker_on_postgresql_and_redis(
    db: Database,
    database_url: str,
    tmp_path: Path,
    redis_prefix: str,
    fleet: dict[str, ServiceProcess],
) -> None:
    assert db.dialect == "postgresql"
    _, token = create_key(db, "platform", "admin")
    api = httpx.Client(
        base_url=fleet["api"].url, headers={"Authorization": f"Bearer {token}"}, timeout=TIMEOUT
    )
    matchers = [fleet["matcher-1"].url, fleet["matcher-2"].url]

    def matched(url: str, key: str = token) -> bool:
        r = httpx.post(
            url + "/v1/lookup/signals",
            json={"signals": [{"type": "pdq", "value": PDQ}]},
            headers={"Authorization": f"Bearer {key}"},
            timeout=TIMEOUT,
        )
        assert r.status_code == 200, r.text
        return bool(r.json()["matched"])

    # Hosted content in the ledger, then its hash banked through the api.
    r = api.post(
        "/v1/ledger",
        json={"items": [{"content_id": "hosted-1", "signals": [{"type": "pdq", "value": PDQ}]}]},
    )
    assert r.status_code == 200, r.text
    assert not any(matched(url) for url in matchers)
    assert api.post("/v1/banks", json={"name": "ncii", "kind": "block"}).status_code == 201
    r = api.post(
        "/v1/banks/ncii/entries",
        json={"signals": [{"type": "pdq", "value": PDQ}], "external_ids": ["case-1"]},
    )
    assert r.status_code == 201, r.text
    for url in matchers:
        assert _until(partial(matched, url)), f"{url} never found the banked hash"

    # A sweep queued through the api is run by the worker: the hosted copy becomes a match.
    r = api.post("/v1/sweeps", json={"full": True})
    assert r.status_code == 202, r.text
    job = r.json()["id"]
    assert _until(lambda: api.get(f"/v1/jobs/{job}").json()["state"] in ("done", "dead"))
    assert api.get(f"/v1/jobs/{job}").json()["state"] == "done"
    swept = api.get("/v1/matches", params={"content_id": "hosted-1", "source": "sweep"}).json()
    assert [m["bank"] for m in swept["matches"]] == ["ncii"]

    # A key revoked through the api is refused by both matchers (their caches trust 600 s).
    victim_info, victim = create_key(db, "leaked", "match")
    assert all(matched(url, victim) for url in matchers)  # cached by each
    assert api.delete(f"/v1/keys/{victim_info.id}").status_code == 200

    def refused(url: str) -> bool:
        r = httpx.post(
            url + "/v1/lookup/signals",
            json={"signals": [{"type": "pdq", "value": PDQ}]},
            headers={"Authorization": f"Bearer {victim}"},
            timeout=TIMEOUT,
        )
        return r.status_code == 401

    for url in matchers:
        assert _until(partial(refused, url)), f"{url} still takes the revoked key"
    api.close()

    # The fleet's own configuration passes shieldwall check (4 replicas: PostgreSQL, Redis).
    env = {
        **{k: v for k, v in os.environ.items() if k != "SHIELDWALL_TEST_DATABASE_URL"},
        "SHIELDWALL_DATABASE_URL": database_url,
        "SHIELDWALL_DATA_DIR": str(tmp_path / "check"),
        "SHIELDWALL_REDIS_URL": REDIS_URL,
        "SHIELDWALL_REDIS_KEY_PREFIX": redis_prefix,
    }
    checked = subprocess.run(
        [sys.executable, "-m", "shieldwall", "check", "--replicas", "4", "--json"],
        capture_output=True,
        text=True,
        env=env,
        timeout=TIMEOUT,
        check=False,
    )
    codes = {p["code"] for p in json.loads(checked.stdout)["problems"]}
    # The test's settings keep the placeholder URLs; nothing about the fleet is wrong.
    assert codes <= {"placeholder_url"}, checked.stdout
