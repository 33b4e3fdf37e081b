"""Keys beyond the authorization matrix (tests/service/test_access_matrix.py): the rate limit
per key and a revocation seen by a caching process."""

from __future__ import annotations

from typing import Any

from service_helpers import LiveService
from shieldwall.people.keys import revoke_key


def test_rate_limit_answers_429_with_retry_after(service: LiveService) -> None:
    client = service.client(service.key("review", rate_limit=1.0))
    statuses = [client.get("/v1/matches").status_code for _ in range(4)]
    assert statuses[:2] == [200, 200]  # a burst of twice the rate
    assert 429 in statuses[2:]
    r = client.get("/v1/matches")
    assert r.status_code == 429
    assert r.json()["error"] == "rate_limited"
    assert int(r.headers["retry-after"]) >= 1
    other = service.client(service.key("review", rate_limit=1.0))
    assert other.get("/v1/matches").status_code == 200  # limits are per key


def test_revocation_reaches_a_caching_process(make_service: Any) -> None:
    live = make_service(api_key_cache_seconds=0.3)
    token = live.key("review")
    client = live.client(token)
    assert client.get("/v1/matches").status_code == 200
    revoke_key(live.db, token.split("_")[1])  # as another process would, straight in the DB
    import time

    time.sleep(0.4)
    assert client.get("/v1/matches").status_code == 401


def test_a_redis_that_does_not_answer_leaves_the_limits_per_process(
    make_service: Any,
) -> None:
    # Nothing listens on port 1: the service answers, limiting in its own memory, and counts it.
    live = make_service(redis_url="redis://127.0.0.1:1/0", redis_key_prefix="sw-test-down")
    client = live.client(live.key("review", rate_limit=1.0))
    statuses = [client.get("/v1/matches").status_code for _ in range(4)]
    assert statuses[:2] == [200, 200] and 429 in statuses[2:]
    metrics = client.get("/metrics").text
    fallbacks = [line for line in metrics.splitlines() if line.startswith("shieldwall_redis_")]
    assert fallbacks and float(fallbacks[0].split()[-1]) >= 4, fallbacks
