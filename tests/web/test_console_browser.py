"""The console in headless Chromium (Playwright, Debian's /usr/bin/chromium): log in, wrong
password, lock-out, logout, CSRF refusal, the preference; a screenshot of each page."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

from service_helpers import LiveService
from shieldwall.people.accounts import LOGIN_FAILED_MESSAGE, get_person

from .web_helpers import PASSWORD

if TYPE_CHECKING:
    from playwright.sync_api import Page

Shoot = Callable[[str], Path]


def _sign_in(page: Page, service: LiveService, username: str, password: str = PASSWORD) -> None:
    page.goto(service.url + "/login")
    page.fill("#username", username)
    page.fill("#password", password)
    page.click("#sign-in")


def test_login_console_and_logout(page: Page, service: LiveService, shoot: Shoot) -> None:
    page.goto(service.url + "/console")
    assert page.url.startswith(service.url + "/login")
    shoot("login")
    _sign_in(page, service, "alice")
    assert page.url == service.url + "/console"
    assert page.text_content("#display-name") == "Alice Reviewer"
    roles = page.text_content("#roles") or ""
    assert "reviewer" in roles and "senior_reviewer" in roles
    assert "Queue" in (page.text_content("#queue") or "")
    assert page.is_checked("#reveal-previews") is False
    shoot("console")
    cookie = next(c for c in page.context.cookies() if c["name"] == "shieldwall_session")
    assert cookie["httpOnly"] and cookie["sameSite"] == "Strict"
    page.click("#logout")
    assert page.url.startswith(service.url + "/login")
    page.goto(service.url + "/console")
    assert page.url.startswith(service.url + "/login")  # the session is gone


def test_wrong_password_shows_the_generic_error(
    page: Page, service: LiveService, shoot: Shoot
) -> None:
    _sign_in(page, service, "alice", "not my password")
    assert page.text_content("#login-error") == LOGIN_FAILED_MESSAGE
    shoot("wrong-password")
    _sign_in(page, service, "nobody-here", "not my password")
    assert page.text_content("#login-error") == LOGIN_FAILED_MESSAGE


def test_lockout_after_three_failures(page: Page, service: LiveService, shoot: Shoot) -> None:
    for _ in range(2):
        _sign_in(page, service, "audrey", "guess guess guess")
        assert page.text_content("#login-error") == LOGIN_FAILED_MESSAGE
    _sign_in(page, service, "audrey", "guess guess guess")
    assert "locked" in (page.text_content("#login-error") or "")
    _sign_in(page, service, "audrey")  # the right password, while locked
    assert "locked" in (page.text_content("#login-error") or "")
    assert page.url.startswith(service.url + "/login")
    shoot("locked")


def test_preference_is_saved_and_a_post_without_csrf_is_refused(
    page: Page, service: LiveService, shoot: Shoot
) -> None:
    _sign_in(page, service, "alice")
    page.check("#reveal-previews")
    page.click("#save-preferences")
    assert page.text_content("#saved") == "Preferences saved."
    assert page.is_checked("#reveal-previews")
    shoot("preferences-saved")
    assert get_person(service.db, "alice").reveal_previews
    # the same form with its CSRF token removed: refused, nothing changes
    page.uncheck("#reveal-previews")
    page.eval_on_selector("#preferences input[name=csrf_token]", "element => element.remove()")
    page.click("#save-preferences")
    assert "security token" in (page.text_content("#forbidden") or "")
    shoot("csrf-refused")
    assert get_person(service.db, "alice").reveal_previews
    page.goto(service.url + "/console/people")  # a reviewer is not an admin
    assert "needs the role admin" in (page.text_content("#forbidden") or "")
    shoot("forbidden")
