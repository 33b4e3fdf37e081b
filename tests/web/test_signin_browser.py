"""Sign-in in headless Chromium: single sign-on through a fake OpenID Connect provider on
loopback, two-factor enrolment and sign-in with a code, the enrolment an admin requires, sign
out everywhere, and an expired session; a screenshot of each page."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import timedelta
from pathlib import Path
from typing import TYPE_CHECKING

import pyotp
import pytest
from sqlalchemy import update

from fake_oidc import FakeProvider
from service_helpers import LiveService
from shieldwall.people import accounts as acc
from shieldwall.people import twofactor as tf
from shieldwall.store.models import LoginSession, utcnow

from .test_signin_http import sso_settings
from .web_helpers import PASSWORD

if TYPE_CHECKING:
    from playwright.sync_api import Browser, Page

Shoot = Callable[[str], Path]


@pytest.fixture
def provider() -> Iterator[FakeProvider]:
    with FakeProvider() as fake:
        yield fake


def _sign_in(page: Page, service: LiveService, username: str) -> None:
    page.goto(service.url + "/login")
    page.fill("#username", username)
    page.fill("#password", PASSWORD)
    page.click("#sign-in")


def test_single_sign_on(
    page: Page,
    make_service: Callable[..., LiveService],
    provider: FakeProvider,
    shoot: Shoot,
) -> None:
    service = make_service(**sso_settings(provider))
    page.goto(service.url + "/console/queue")
    shoot("login-with-sso")
    page.click("#sign-in-sso")
    page.wait_for_url(service.url + "/console/queue")
    assert "Jane Lead" in (page.text_content("header") or "")
    shoot("signed-in")
    assert acc.get_person(service.db, "jane@example.org").sso
    page.goto(service.url + "/console/account")
    assert "single sign-on" in (page.text_content("#two-factor-state") or "")
    # a person the settings do not let in
    page.click("#logout")
    provider.person = {"sub": "9", "email": "eve@elsewhere.example", "email_verified": True}
    page.click("#sign-in-sso")
    page.wait_for_selector("#login-error")
    assert "not allowed" in (page.text_content("#login-error") or "")
    shoot("refused")


def test_two_factor_enrolment_and_sign_in(page: Page, service: LiveService, shoot: Shoot) -> None:
    _sign_in(page, service, "alice")
    page.wait_for_url(service.url + "/console")
    page.click("#open-account")
    assert (page.text_content("#two-factor-state") or "").startswith("Off")
    page.click("#start-totp")
    secret = (page.text_content("#totp-secret") or "").strip()
    assert (page.get_attribute("#totp-uri", "href") or "").startswith("otpauth://totp/")
    shoot("enrolment")
    page.fill("#code", "000000" if pyotp.TOTP(secret).now() != "000000" else "111111")
    page.click("#confirm-totp")
    assert "wrong code" in (page.text_content("#enrol-error") or "")
    secret = (page.text_content("#totp-secret") or "").strip()  # a new one after a wrong code
    page.fill("#code", pyotp.TOTP(secret).now())
    page.click("#confirm-totp")
    assert len(page.query_selector_all("#recovery-codes li")) == tf.RECOVERY_CODES
    shoot("recovery-codes")
    page.click("#continue")
    assert (page.text_content("#two-factor-state") or "").startswith("On")
    page.click("#logout")
    _sign_in(page, service, "alice")
    page.wait_for_url(service.url + "/login/code**")
    shoot("code")
    page.goto(service.url + "/console")  # the password alone opens no console page
    assert page.url.startswith(service.url + "/login")
    page.go_back()
    page.fill("#code", pyotp.TOTP(secret).at(utcnow(), counter_offset=1))
    page.click("#submit-code")
    page.wait_for_url(service.url + "/console")
    assert page.text_content("#display-name") == "Alice Reviewer"


def test_required_two_factor_is_set_up_before_the_console(
    page: Page, service: LiveService, shoot: Shoot
) -> None:
    tf.require_two_factor(service.db, "root", by="cli")
    _sign_in(page, service, "root")
    page.wait_for_url(service.url + "/login/enrol**")
    assert page.is_visible("#enrol-required")
    shoot("enrol-required")
    secret = (page.text_content("#totp-secret") or "").strip()
    page.fill("#code", pyotp.TOTP(secret).now())
    page.click("#confirm-totp")
    assert len(page.query_selector_all("#recovery-codes li")) == tf.RECOVERY_CODES
    page.click("#continue")
    page.wait_for_url(service.url + "/console")
    assert page.text_content("#display-name") == "Ada Admin"


def test_sign_out_everywhere_and_expiry(
    browser: Browser, page: Page, service: LiveService, shoot: Shoot
) -> None:
    other = browser.new_context()
    try:
        elsewhere = other.new_page()
        _sign_in(elsewhere, service, "alice")
        elsewhere.wait_for_url(service.url + "/console")
        _sign_in(page, service, "alice")
        page.wait_for_url(service.url + "/console")
        page.goto(service.url + "/console/account")
        assert page.text_content("#session-expires")
        shoot("account")
        page.click("#sign-out-everywhere")
        page.wait_for_selector("#signed-out")
        assert "2 sessions ended" in (page.text_content("#signed-out") or "")
        shoot("signed-out-everywhere")
        elsewhere.goto(service.url + "/console")
        assert elsewhere.url.startswith(service.url + "/login")
    finally:
        other.close()
    # a session past its absolute end (signed in 13 hours ago, used a minute ago) is over
    _sign_in(page, service, "alice")
    page.wait_for_url(service.url + "/console")
    with service.db.transaction() as session:
        session.execute(
            update(LoginSession).values(
                created_at=utcnow() - timedelta(hours=13),
                last_seen=utcnow() - timedelta(minutes=1),
            )
        )
    page.goto(service.url + "/console/queue")
    assert page.url.startswith(service.url + "/login?next=/console/queue")
