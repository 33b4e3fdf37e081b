"""Two ``shieldwall serve`` replicas on one database and one Redis share what a guesser would
otherwise get twice: a key's rate limit is one allowance across both, a PIN guesser spreading
tries over both is throttled as one, and a key revoked through one is refused by the other
(its key cache trusts what it read for 600 s here: only the announcement can make it forget).

Each run has a Redis key prefix of its own (``redis_prefix``), so that parallel runs do not
collide. No assertion is on time: waits are generous and check outcomes."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from case_helpers import valid_notice
from redis_helpers import REDIS_URL, redis_prefix
from service_helpers import ServiceProcess, spawn_service
from shieldwall.cases import submit_notice
from shieldwall.config import Settings
from shieldwall.people.keys import create_key
from shieldwall.store import Database

__all__ = ["redis_prefix"]  # the fixture, imported for its use here

TIMEOUT = 60.0
PATIENCE = 120.0


@pytest.fixture
def replicas(
    database_url: str, db: Database, tmp_path: Path, redis_prefix: str
) -> Iterator[tuple[ServiceProcess, ServiceProcess]]:
    started = [
        spawn_service(
            database_url,
            tmp_path / name,
            SHIELDWALL_REDIS_URL=REDIS_URL,
            SHIELDWALL_REDIS_KEY_PREFIX=redis_prefix,
            SHIELDWALL_API_KEY_CACHE_SECONDS="600",
            SHIELDWALL_RATE_LIMIT_WINDOW_SECONDS="600",
            SHIELDWALL_NOTICE_RATE_LIMIT="1000",  # the per-address limit stays out of the way
        )
        for name in ("a", "b")
    ]
    try:
        for process in started:
            process.wait_ready()
        yield started[0], started[1]
    finally:
        for process in started:
            process.stop()


def _get(url: str, path: str, token: str) -> httpx.Response:
    return httpx.get(url + path, headers={"Authorization": f"Bearer {token}"}, timeout=TIMEOUT)


@pytest.mark.slow
def test_two_replicas_share_limits_throttles_and_revocations(
    db: Database, replicas: tuple[ServiceProcess, ServiceProcess]
) -> None:
    a, b = replicas

    # A key's rate limit: 0.01/s over a 600 s window is 6 requests, across both replicas.
    _, limited = create_key(db, "limited", "admin", rate_limit=0.01)
    answers = [_get(r.url, "/v1/banks", limited).status_code for r in (a, b) * 7]
    assert answers.count(200) == 6, answers
    assert answers[:6] == [200] * 6 and set(answers[6:]) == {429}
    refused = _get(b.url, "/v1/banks", limited)
    assert refused.json()["error"] == "rate_limited" and int(refused.headers["Retry-After"]) > 1

    # The wrong-PIN throttle: 5 wrong PINs per tracking number, wherever they are tried.
    receipt = submit_notice(db, Settings(), valid_notice())
    path = f"/v1/notices/{receipt.tracking_number}"
    wrong = "000000" if receipt.pin != "000000" else "111111"
    tries = [
        httpx.get(r.url + path, headers={"X-Notice-PIN": wrong}, timeout=TIMEOUT).status_code
        for r in (a, b, a, b, a, b)
    ]
    assert tries == [404] * 5 + [429], tries
    for r in (a, b):  # now even the right PIN waits, on either replica
        right = httpx.get(r.url + path, headers={"X-Notice-PIN": receipt.pin}, timeout=TIMEOUT)
        assert right.status_code == 429

    # A revocation through A reaches B's cache.
    _, admin = create_key(db, "admin", "admin")
    victim_info, victim = create_key(db, "victim", "admin")
    assert _get(b.url, "/v1/banks", victim).status_code == 200  # B has cached it
    revoked = httpx.delete(
        f"{a.url}/v1/keys/{victim_info.id}",
        headers={"Authorization": f"Bearer {admin}"},
        timeout=TIMEOUT,
    )
    assert revoked.status_code == 200 and revoked.json()["revoked_at"]
    assert _get(a.url, "/v1/banks", victim).status_code == 401
    deadline = time.monotonic() + PATIENCE
    while _get(b.url, "/v1/banks", victim).status_code != 401:
        assert time.monotonic() < deadline, "replica B never heard of the revocation"
        time.sleep(0.05)
    assert _get(b.url, "/v1/banks", admin).status_code == 200  # other keys go on
