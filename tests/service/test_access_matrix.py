"""The authorization matrix (issue 19 point 1): every route of the app, read from ``app.routes``
with the rule its guard declares (:mod:`shieldwall.service.access`), is called with every
credential (no credential, three bad keys, a key of each scope, a console session of each role),
and each answer must be what the rule says: allowed, unauthenticated (401; a console page: the
redirect to ``/login``) or forbidden (403). A route without a rule fails here."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

import httpx
from fastapi import APIRouter, Depends, FastAPI

from service_helpers import LiveService
from shieldwall.api.deps import SCOPE_EXTENSION, scoped
from shieldwall.people.accounts import create_person
from shieldwall.people.keys import revoke_key
from shieldwall.people.roles import Role
from shieldwall.people.scopes import Scope
from shieldwall.server.middleware import PUBLIC_PREFIXES
from shieldwall.service.access import (
    FRAMEWORK_PUBLIC,
    Credential,
    Decision,
    Rule,
    framework_paths,
    public,
    route_rules,
)
from shieldwall.service.state import KEYED_PREFIXES
from shieldwall.web.console import current_session, require_role
from shieldwall.web.routes.console_cases import REVEAL_ROLES

PASSWORD = "correct horse battery"
#: Checks of one route beyond its rule: the query that needs more and the rule it needs.
VARIANTS: dict[tuple[str, str], tuple[str, Rule]] = {
    ("GET", "/console/cases/{case_id}/preview/{index}"): (
        "view=full",
        Rule("role", roles=REVEAL_ROLES),
    ),
}

#: Routes that end the caller's session.
ENDS_SESSION = {("POST", "/logout"), ("POST", "/console/account/sign-out-everywhere")}


@dataclass
class Caller:
    """One credential of the matrix: what it is and a client that presents it."""

    name: str
    credential: Credential
    client: httpx.Client
    csrf: str = ""
    username: str = ""


def test_every_route_declares_exactly_one_rule(service: LiveService) -> None:
    routes = route_rules(service.app)
    assert len(routes) >= 132
    missing = [f"{r.method} {r.path}" for r in routes if len(r.rules) != 1]
    assert not missing, f"routes without exactly one access rule: {missing}"
    assert set(framework_paths(service.app)) <= FRAMEWORK_PUBLIC
    schema = service.client().get("/openapi.json").json()["paths"]
    for r in routes:
        (rule,) = r.rules
        keyed = r.path.startswith(KEYED_PREFIXES)
        if rule.kind == "scope":
            assert keyed, (r.method, r.path)
            assert rule.scope is not None
            assert schema[r.path][r.method.lower()][SCOPE_EXTENSION] == rule.scope.value
        elif rule.kind == "role":
            assert not keyed, (r.method, r.path)  # the key middleware would refuse it first
        elif keyed:
            assert r.path.startswith(PUBLIC_PREFIXES), (r.method, r.path)


def test_a_route_without_a_rule_is_found() -> None:
    router = APIRouter()

    @router.get("/v1/forgotten")
    def forgotten() -> dict[str, str]:
        return {}

    @router.get("/v1/minded", **scoped(Scope.CURATE))
    def minded() -> dict[str, str]:
        return {}

    @router.get("/open", **public())
    def open_page() -> dict[str, str]:
        return {}

    @router.get("/console/x")
    def page(actor: Any = Depends(require_role(Role.ADMIN))) -> dict[str, str]:  # noqa: B008
        return {}

    @router.get("/console/y")
    def signed_in_only(session: Any = Depends(current_session)) -> dict[str, str]:  # noqa: B008
        return {}

    app = FastAPI()
    app.include_router(router)
    found = {r.path: r.rules for r in route_rules(app)}
    assert found["/v1/forgotten"] == ()
    assert found["/v1/minded"] == (Rule("scope", scope=Scope.CURATE),)
    assert found["/open"] == (Rule("public"),)
    assert found["/console/x"] == (Rule("role", roles=frozenset({Role.ADMIN})),)
    # Asking for a session is not a rule: a page must say which roles (or SIGNED_IN).
    assert found["/console/y"] == ()


def _callers(service: LiveService) -> list[Caller]:
    valid = service.key("admin")  # first: the last admin key cannot be revoked
    revoked = service.key("admin")
    revoke_key(service.db, revoked.split("_")[1])
    wrong_secret = valid[: valid.rindex("_") + 1] + "x" * 43
    callers = [
        Caller("no credential", Credential(), service.client()),
        Caller("not a key", Credential(), service.client("hello")),
        Caller("wrong secret", Credential(), service.client(wrong_secret)),
        Caller("revoked key", Credential(), service.client(revoked)),
    ]
    for scope in Scope:
        token = service.key(scope.value)
        callers.append(
            Caller(
                f"key {scope.value}", Credential(scopes=frozenset({scope})), service.client(token)
            )
        )
    for role in Role:
        username = f"matrix-{role.value.replace('_', '-')}"
        create_person(service.db, username, PASSWORD, role.value, settings=service.settings)
        client, csrf = _sign_in(service, username)
        callers.append(
            Caller(
                f"session {role.value}",
                Credential(roles=frozenset({role})),
                client,
                csrf,
                username,
            )
        )
    return callers


def _sign_in(service: LiveService, username: str) -> tuple[httpx.Client, str]:
    """A client with a fresh console session of ``username``, and the session's CSRF token."""
    client = service.client()
    form = client.get("/login")
    login_csrf = re.search(r'name="csrf_token" value="([^"]+)"', form.text)
    assert login_csrf
    answer = client.post(
        "/login",
        data={"username": username, "password": PASSWORD, "csrf_token": login_csrf.group(1)},
    )
    assert answer.status_code == 303, answer.text
    home = client.get("/console")
    csrf = re.search(r'name="csrf_token" value="([^"]+)"', home.text)
    assert csrf, home.text
    return client, csrf.group(1)


def _call(
    caller: Caller, method: str, path: str, op: dict[str, Any] | None, query: str = ""
) -> httpx.Response:
    # Ids that name nothing: an admin key must not revoke the matrix's keys.
    url = re.sub(r"\{[^}]+\}", "999", path) + (f"?{query}" if query else "")
    if method in ("GET", "DELETE"):
        return caller.client.request(method, url, follow_redirects=False)
    content = (op or {}).get("requestBody", {}).get("content", {})
    if "multipart/form-data" in content:
        files = {"file": ("a.jpg", b"\xff\xd8\xff", "image/jpeg")}
        return caller.client.request(method, url, files=files, follow_redirects=False)
    if "application/json" in content:
        return caller.client.request(method, url, json={}, follow_redirects=False)
    return caller.client.request(
        method, url, data={"csrf_token": caller.csrf}, follow_redirects=False
    )


def _outcome(answer: httpx.Response, console: bool) -> Decision:
    if (
        console
        and answer.status_code == 303
        and answer.headers["location"].startswith("/login?next=")
    ):
        return Decision.UNAUTHENTICATED
    if answer.status_code == 401:
        if not console:
            assert answer.json()["error"] == "unauthenticated"
            assert answer.headers["www-authenticate"] == "Bearer"
        return Decision.UNAUTHENTICATED
    if answer.status_code == 403:
        if not console:
            assert answer.json()["error"] == "forbidden"
        return Decision.FORBIDDEN
    return Decision.ALLOWED


def test_authorization_matrix(service: LiveService) -> None:
    """Every route x every credential; the count is in docs/security.md."""
    callers = _callers(service)
    schema = service.client().get("/openapi.json").json()["paths"]
    routes = route_rules(service.app)
    # Signing out ends the session (everywhere: every session of the person): last, each
    # with fresh sessions.
    routes.sort(key=lambda r: (r.method, r.path) in ENDS_SESSION)
    checked = 0
    wrong: list[str] = []
    for r in routes:
        (rule,) = r.rules
        op = schema.get(r.path, {}).get(r.method.lower())
        console = not r.path.startswith(KEYED_PREFIXES)
        checks = [("", rule)]
        if (r.method, r.path) in VARIANTS:
            checks.append(VARIANTS[(r.method, r.path)])
        if (r.method, r.path) in ENDS_SESSION:
            for caller in callers:
                if caller.username:
                    caller.client, caller.csrf = _sign_in(service, caller.username)
        for query, wanted in checks:
            baseline: int | None = None
            for caller in callers:
                answer = _call(caller, r.method, r.path, op, query)
                checked += 1
                if wanted.kind == "public":
                    # A public route answers the same whoever calls (a throttle aside).
                    baseline = answer.status_code if baseline is None else baseline
                    if answer.status_code not in (baseline, 429):
                        wrong.append(
                            f"{r.method} {r.path}?{query} {caller.name}: "
                            f"{answer.status_code} != {baseline}"
                        )
                    continue
                expected = wanted.decide(caller.credential)
                got = _outcome(answer, console)
                if got is not expected:
                    wrong.append(
                        f"{r.method} {r.path}?{query} {caller.name}: {got.value} "
                        f"({answer.status_code}), the rule says {expected.value}"
                    )
    assert not wrong, "\n".join(wrong)
    assert checked >= 132 * len(callers)
    print(
        f"authorization matrix: {len(routes)} routes x {len(callers)} credentials "
        f"+ {len(VARIANTS)} variant x {len(callers)} = {checked} calls"
    )
