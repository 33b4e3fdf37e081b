"""The console over plain HTTP (no browser): cookies, redirects, CSRF, roles, the schema."""

from __future__ import annotations

from collections.abc import Callable

import httpx

from service_helpers import LiveService
from shieldwall.audit import list_events, verify
from shieldwall.people.accounts import get_person

from .web_helpers import PASSWORD, csrf_of, signed_in


def test_cookie_flags_and_login_redirects(service: LiveService) -> None:
    client = service.client()
    assert client.get("/console").status_code == 303
    assert client.get("/console").headers["location"] == "/login?next=/console"
    form = client.get("/login")
    answer = client.post(
        "/login",
        data={"username": "alice", "password": PASSWORD, "csrf_token": csrf_of(form.text)},
    )
    cookie = answer.headers["set-cookie"]
    assert "shieldwall_session=" in cookie
    assert "HttpOnly" in cookie and "SameSite=strict" in cookie and "Secure" not in cookie
    page = client.get("/console")
    assert page.status_code == 200
    assert "Alice Reviewer" in page.text and "senior_reviewer" in page.text
    assert page.headers["x-frame-options"] == "DENY"


def test_secure_cookie_setting(make_service: Callable[..., LiveService]) -> None:
    service = make_service(session_cookie_secure=True)
    client = service.client()
    form = client.get("/login")
    assert "Secure" in form.headers["set-cookie"]


def test_login_without_csrf_is_refused(service: LiveService) -> None:
    client = service.client()
    client.get("/login")
    answer = client.post("/login", data={"username": "alice", "password": PASSWORD})
    assert answer.status_code == 403
    assert "security token" in answer.text
    assert "shieldwall_session" not in answer.headers.get("set-cookie", "")


def test_posts_without_or_with_a_wrong_csrf_token_change_nothing(service: LiveService) -> None:
    client = signed_in(service, "alice")
    for data in ({"reveal_previews": "1"}, {"reveal_previews": "1", "csrf_token": "x" * 64}):
        answer = client.post("/console/preferences", data=data)
        assert answer.status_code == 403
        assert "security token" in answer.text
    assert not get_person(service.db, "alice").reveal_previews
    assert client.post("/logout", data={}).status_code == 403
    assert client.get("/console").status_code == 200  # still signed in
    token = csrf_of(client.get("/console").text)
    assert client.post("/console/preferences", data={"csrf_token": token, "reveal_previews": "1"})
    assert get_person(service.db, "alice").reveal_previews
    assert client.post("/logout", data={"csrf_token": token}).status_code == 303
    assert client.get("/console").status_code == 303


def test_a_role_without_access_gets_the_403_page(service: LiveService) -> None:
    reviewer = signed_in(service, "alice")
    answer = reviewer.get("/console/people")
    assert answer.status_code == 403
    assert "needs the role admin" in answer.text
    assert answer.headers["content-type"].startswith("text/html")
    admin = signed_in(service, "root")
    people = admin.get("/console/people")
    assert people.status_code == 200 and "Audrey Auditor" in people.text


def test_console_is_not_in_the_api_and_keys_are_not_sessions(service: LiveService) -> None:
    # making the schema takes seconds on a loaded machine: more than httpx's default 5 s
    paths = httpx.get(service.url + "/openapi.json", timeout=120).json()["paths"]
    assert not [p for p in paths if p.startswith(("/login", "/logout", "/console"))]
    # an API key does not open the console, and a session cookie does not open /v1
    keyed = service.client(service.key("admin"))
    assert keyed.get("/console").status_code == 303
    session_client = signed_in(service, "root")
    assert session_client.get("/v1/banks").status_code == 401


def test_logins_are_audited(service: LiveService) -> None:
    client = service.client()
    form = client.get("/login")
    client.post(
        "/login", data={"username": "alice", "password": "nope", "csrf_token": csrf_of(form.text)}
    )
    signed_in(service, "alice")
    actions = [e.action for e in list_events(service.db, limit=1000)]
    assert actions[-2:] == ["login.failure", "login.success"]
    assert verify(service.db) is None
