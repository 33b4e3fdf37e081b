"""Single sign-on against a fake OpenID Connect provider on loopback (the real authorization code
flow with PKCE, state and nonce), and the two-factor steps of the login form, over HTTP."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import httpx
import pyotp
import pytest
from sqlalchemy import func, select

from fake_oidc import CLIENT_ID, CLIENT_SECRET, FakeProvider
from service_helpers import LiveService
from shieldwall.audit import list_events
from shieldwall.people import Role
from shieldwall.people import accounts as acc
from shieldwall.people import twofactor as tf
from shieldwall.store.models import Person, SignInFlow, utcnow

from .web_helpers import PASSWORD, csrf_of


@pytest.fixture
def provider() -> Iterator[FakeProvider]:
    with FakeProvider() as fake:
        yield fake


def sso_settings(provider: FakeProvider, **more: Any) -> dict[str, Any]:
    """Settings of a console that signs in through ``provider``."""
    return {
        "oidc_issuer": provider.issuer,
        "oidc_client_id": CLIENT_ID,
        "oidc_client_secret": CLIENT_SECRET,
        "outbound_allowed_networks": ["127.0.0.0/8"],
        "oidc_allowed_email_domains": ["example.org"],
        "oidc_domain_roles": ["reviewer"],
        **more,
    }


def sso_sign_in(client: httpx.Client) -> httpx.Response:
    """Follow the flow as a browser would: to the provider and back to the callback."""
    start = client.get("/login/sso")
    assert start.status_code == 303, start.text
    at_provider = httpx.get(start.headers["location"])
    assert at_provider.status_code == 302, at_provider.text
    return client.get(at_provider.headers["location"])


def _people(service: LiveService) -> int:
    with service.db.session() as session:
        return int(session.scalar(select(func.count()).select_from(Person)) or 0)


def test_sso_signs_in_a_person_of_an_allowed_domain(
    make_service: Callable[..., LiveService], provider: FakeProvider
) -> None:
    service = make_service(**sso_settings(provider))
    client = service.client()
    assert "Sign in with single sign-on" in client.get("/login").text
    done = sso_sign_in(client)
    assert done.status_code == 200 and 'id="continue"' in done.text
    home = client.get("/console")
    assert home.status_code == 200 and "Jane Lead" in home.text
    person = acc.get_person(service.db, "jane@example.org")
    assert person.sso and person.roles == {Role.REVIEWER}
    # the provider saw a PKCE verifier and our redirect URI; the flow was used up
    (token_request,) = provider.token_requests
    assert len(token_request["code_verifier"]) >= 43
    assert token_request["redirect_uri"] == service.url + "/login/sso/callback"
    with service.db.session() as session:
        assert session.scalar(select(func.count()).select_from(SignInFlow)) == 0
    # a second sign-in finds the same account
    other = service.client()
    sso_sign_in(other)
    assert other.get("/console").status_code == 200
    assert _people(service) == 4
    # no password sign-in for the account
    assert _login(service.client(), "jane@example.org", "!sso").status_code == 401
    actions = [e.action for e in list_events(service.db, limit=200)]
    assert actions.count("login.success") == 2 and "person.create" in actions


def test_group_roles_follow_the_provider(
    make_service: Callable[..., LiveService], provider: FakeProvider
) -> None:
    service = make_service(
        **sso_settings(
            provider,
            oidc_allowed_email_domains=[],
            oidc_group_roles={"tns-leads": ["senior_reviewer", "reviewer"], "tns": ["reviewer"]},
        )
    )
    sso_sign_in(service.client())
    assert acc.get_person(service.db, "jane@example.org").roles == {
        Role.SENIOR_REVIEWER,
        Role.REVIEWER,
    }
    provider.person = {**provider.person, "groups": ["tns"]}
    client = service.client()
    sso_sign_in(client)
    assert acc.get_person(service.db, "jane@example.org").roles == {Role.REVIEWER}
    provider.person = {**provider.person, "groups": ["marketing"]}
    refused = sso_sign_in(service.client())
    assert refused.status_code == 401 and "not allowed" in refused.text


@pytest.mark.parametrize(
    "person",
    [
        {"sub": "1", "email": "eve@elsewhere.example", "email_verified": True},
        {"sub": "2", "email": "eve@example.org", "email_verified": False},
        {"sub": "3"},
    ],
    ids=["other-domain", "unverified-email", "no-email"],
)
def test_unknown_people_are_refused_and_nothing_is_created(
    make_service: Callable[..., LiveService], provider: FakeProvider, person: dict[str, Any]
) -> None:
    service = make_service(**sso_settings(provider))
    provider.person = person
    client = service.client()
    refused = sso_sign_in(client)
    assert refused.status_code == 401 and "not allowed in this console" in refused.text
    assert _people(service) == 3
    assert client.get("/console", follow_redirects=False).status_code == 303
    assert "login.sso_refused" in [e.action for e in list_events(service.db, limit=200)]


def _tamper(claims: dict[str, Any], **changes: Any) -> None:
    claims.update(changes)


@pytest.mark.parametrize(
    "misbehave",
    [
        lambda p: setattr(p, "tamper", lambda c: _tamper(c, nonce="another")),
        lambda p: setattr(p, "tamper", lambda c: _tamper(c, aud="someone-else")),
        lambda p: setattr(p, "tamper", lambda c: _tamper(c, iss="https://evil.example")),
        lambda p: setattr(p, "tamper", lambda c: _tamper(c, exp=int(utcnow().timestamp()) - 600)),
        lambda p: setattr(p, "sign_with_other_key", True),
    ],
    ids=["nonce", "audience", "issuer", "expired", "signature"],
)
def test_a_bad_id_token_is_refused(
    make_service: Callable[..., LiveService],
    provider: FakeProvider,
    misbehave: Callable[[FakeProvider], None],
) -> None:
    service = make_service(**sso_settings(provider))
    misbehave(provider)
    client = service.client()
    refused = sso_sign_in(client)
    assert refused.status_code == 401 and "the id token failed a check" in refused.text
    assert _people(service) == 3
    assert client.get("/console", follow_redirects=False).status_code == 303


def test_state_and_browser_binding_are_checked(
    make_service: Callable[..., LiveService], provider: FakeProvider
) -> None:
    service = make_service(**sso_settings(provider))
    client = service.client()
    start = client.get("/login/sso")
    callback = httpx.get(start.headers["location"]).headers["location"]
    # another browser (no binding cookie) cannot use the answer
    stranger = service.client()
    assert stranger.get(callback).status_code == 401
    # a changed state is refused (and the flow is used up by the try)
    start = client.get("/login/sso")
    callback = httpx.get(start.headers["location"]).headers["location"]
    forged = callback.replace("state=", "state=x")
    assert "state does not match" in client.get(forged).text
    assert "not started in this browser" in client.get(callback).text
    # the provider's own refusal is shown
    start = client.get("/login/sso")
    back = service.url + "/login/sso/callback?error=access_denied&error_description=Denied"
    assert "Denied" in client.get(back).text
    assert _people(service) == 3


def test_sso_off_and_provider_away(make_service: Callable[..., LiveService]) -> None:
    service = make_service()
    client = service.client()
    assert "single sign-on" not in client.get("/login").text
    assert "not configured" in client.get("/login/sso").text


def test_a_provider_that_cannot_be_reached(make_service: Callable[..., LiveService]) -> None:
    away = make_service(
        oidc_issuer="http://127.0.0.1:9",
        oidc_client_id=CLIENT_ID,
        outbound_allowed_networks=["127.0.0.0/8"],
    )
    answer = away.client().get("/login/sso")
    assert answer.status_code == 401 and "could not be reached" in answer.text


def _login(client: httpx.Client, username: str, password: str = PASSWORD) -> httpx.Response:
    form = client.get("/login")
    return client.post(
        "/login",
        data={"username": username, "password": password, "csrf_token": csrf_of(form.text)},
    )


def test_login_form_asks_for_the_code(service: LiveService) -> None:
    alice = acc.get_person(service.db, "alice")
    enrolment = tf.start_enrolment(service.db, alice.id, settings=service.settings)
    totp = pyotp.TOTP(enrolment.secret)
    tf.confirm_enrolment(service.db, alice.id, totp.now())
    client = service.client()
    answer = _login(client, "alice")
    assert answer.status_code == 303 and answer.headers["location"].startswith("/login/code")
    assert client.get("/console", follow_redirects=False).status_code == 303  # not yet
    page = client.get(answer.headers["location"])
    wrong = client.post("/login/code", data={"code": "000x00", "csrf_token": csrf_of(page.text)})
    assert wrong.status_code == 401 and tf.WRONG_CODE_MESSAGE in wrong.text
    missing_csrf = client.post("/login/code", data={"code": totp.now()})
    assert missing_csrf.status_code == 403
    right = client.post(
        "/login/code",
        data={"code": totp.at(utcnow(), counter_offset=1), "csrf_token": csrf_of(page.text)},
    )
    assert right.status_code == 303 and right.headers["location"] == "/console"
    assert client.get("/console").status_code == 200
    # 3 wrong codes in a row lock the account (the fixture's login_max_failures; the right
    # code reset the count)
    other = service.client()
    for _ in range(3):
        page = other.get(_login(other, "alice").headers["location"])
        last = other.post("/login/code", data={"code": "999x99", "csrf_token": csrf_of(page.text)})
    assert last.status_code == 401 and "locked" in last.text


def test_a_disabled_sso_account_is_refused_and_totp_is_the_providers(
    make_service: Callable[..., LiveService], provider: FakeProvider
) -> None:
    # every local account must use TOTP; a single sign-on account is left to the provider
    service = make_service(**sso_settings(provider, totp_required=True))
    client = service.client()
    assert sso_sign_in(client).status_code == 200
    assert client.get("/console").status_code == 200
    acc.disable(service.db, "jane@example.org", by="cli")
    assert client.get("/console", follow_redirects=False).status_code == 303  # sessions ended
    refused = sso_sign_in(service.client())
    assert refused.status_code == 401 and "not allowed" in refused.text
