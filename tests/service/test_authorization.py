"""The authorization matrix: every route x every scope (and no key, a malformed key, a wrong
secret and a revoked key) gets the right status. The routes come from the OpenAPI schema, so a
new route without a declared scope fails here."""

from __future__ import annotations

import re
from typing import Any

import httpx

from service_helpers import LiveService
from shieldwall.api.deps import SCOPE_EXTENSION
from shieldwall.people.keys import revoke_key
from shieldwall.people.scopes import Scope

PUBLIC = {("GET", "/healthz"), ("GET", "/readyz"), ("GET", "/metrics")}
#: Issue 5's notice intake: no key needed, rate-limited per client address.
PUBLIC_V1 = {
    ("POST", "/v1/notices"),
    ("GET", "/v1/notices/{tracking_number}"),
    ("POST", "/v1/appeals/file"),
}


def _operations(service: LiveService) -> list[tuple[str, str, dict[str, Any]]]:
    spec = httpx.get(service.url + "/openapi.json").json()
    return [
        (method.upper(), path, op)
        for path, ops in spec["paths"].items()
        for method, op in ops.items()
    ]


def _request(client: httpx.Client, method: str, path: str, op: dict[str, Any]) -> httpx.Response:
    # Ids that name nothing: an admin key must not revoke the other keys of the matrix.
    url = re.sub(r"\{[^}]+\}", "999999", path)
    content = op.get("requestBody", {}).get("content", {})
    if "multipart/form-data" in content:
        return client.request(method, url, files={"file": ("a.jpg", b"\xff\xd8\xff", "image/jpeg")})
    if "application/json" in content:
        return client.request(method, url, json={})
    return client.request(method, url)


def test_every_route_declares_a_scope(service: LiveService) -> None:
    for method, path, op in _operations(service):
        if (method, path) in PUBLIC | PUBLIC_V1:
            assert SCOPE_EXTENSION not in op
            continue
        assert path.startswith("/v1/"), path
        assert Scope(op[SCOPE_EXTENSION]), (method, path)


def test_authorization_matrix(service: LiveService) -> None:
    keys = {scope: service.key(scope.value) for scope in Scope}
    revoked = service.key("admin")
    revoke_key(service.db, revoked.split("_")[1])
    valid = keys[Scope.ADMIN]
    wrong_secret = valid[: valid.rindex("_") + 1] + "x" * 43
    anonymous = {
        "no key": service.client(),
        "not a key": service.client("hello"),
        "wrong secret": service.client(wrong_secret),
        "revoked": service.client(revoked),
    }
    clients = {scope: service.client(token) for scope, token in keys.items()}
    checked = 0
    for method, path, op in _operations(service):
        if (method, path) in PUBLIC:
            assert service.client().request(method, path).status_code in (200, 503)
            continue
        if (method, path) in PUBLIC_V1:
            r = _request(service.client(), method, path, op)
            assert r.status_code not in (401, 403), (method, path, r.text)
            continue
        needed = Scope(op[SCOPE_EXTENSION])
        for name, client in anonymous.items():
            r = _request(client, method, path, op)
            assert r.status_code == 401, (method, path, name, r.text)
            assert r.json()["error"] == "unauthenticated"
            assert r.headers["www-authenticate"] == "Bearer"
        for scope, client in clients.items():
            r = _request(client, method, path, op)
            allowed = scope is needed or scope is Scope.ADMIN
            if allowed:
                assert r.status_code not in (401, 403), (method, path, scope, r.text)
            else:
                assert r.status_code == 403, (method, path, scope, r.text)
                assert r.json()["error"] == "forbidden"
            checked += 1
    assert checked >= 20 * len(Scope)


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
