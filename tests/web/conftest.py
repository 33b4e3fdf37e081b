"""Fixtures of the console tests: a live service on loopback with console users, and a
headless Chromium (Debian's /usr/bin/chromium, driven by Playwright) for the browser tests."""

from __future__ import annotations

import os
import shutil
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

from service_helpers import LiveService, service_settings, start_service
from shieldwall.people.accounts import create_person
from shieldwall.store import Database

from .web_helpers import BROWSER_WAIT_MS, PASSWORD

if TYPE_CHECKING:
    from playwright.sync_api import Browser, Page

#: The browser the tests drive: Debian's package (CI installs it; `playwright install` is never
#: used).
CHROMIUM = Path("/usr/bin/chromium")
#: Set to a true value to also copy each screenshot to tests/web/screenshots/.
KEEP_SCREENSHOTS = "SHIELDWALL_KEEP_SCREENSHOTS"


@pytest.fixture
def make_service(db: Database, tmp_path: Path) -> Iterator[Callable[..., LiveService]]:
    """Start a service (``role``: ``all`` unless given) with settings overrides; stopped after
    the test."""
    started: list[LiveService] = []

    def make(role: str = "all", **overrides: Any) -> LiveService:
        overrides.setdefault("login_max_failures", 3)
        live = start_service(db, service_settings(tmp_path, db, **overrides), role=role)
        for username, roles, name in (
            ("alice", "reviewer,senior_reviewer", "Alice Reviewer"),
            ("root", "admin", "Ada Admin"),
            ("audrey", "auditor", "Audrey Auditor"),
        ):
            create_person(db, username, PASSWORD, roles, display_name=name, settings=live.settings)
        started.append(live)
        return live

    yield make
    for live in started:
        live.stop()


@pytest.fixture
def service(make_service: Callable[..., LiveService]) -> LiveService:
    """A service with three console users: alice (reviewer, senior reviewer), root (admin) and
    audrey (auditor), all with :data:`PASSWORD`; 3 wrong passwords lock an account."""
    return make_service()


@pytest.fixture(scope="session")
def browser() -> Iterator[Browser]:
    """Headless Debian Chromium; the test is skipped where it is not installed."""
    if not CHROMIUM.exists():
        pytest.skip(
            f"browser tests need Debian's Chromium at {CHROMIUM} (apt-get install chromium)"
        )
    sync_api = pytest.importorskip("playwright.sync_api", reason="the playwright package")
    with sync_api.sync_playwright() as pw:
        browser = pw.chromium.launch(
            executable_path=str(CHROMIUM), headless=True, args=["--no-sandbox"]
        )
        try:
            yield browser
        finally:
            browser.close()


@pytest.fixture
def page(browser: Browser) -> Iterator[Page]:
    """A fresh browser context (no cookies) and page."""
    context = browser.new_context(viewport={"width": 1100, "height": 800})
    context.set_default_timeout(BROWSER_WAIT_MS)
    try:
        yield context.new_page()
    finally:
        context.close()


@pytest.fixture
def snap(tmp_path: Path, request: pytest.FixtureRequest) -> Callable[[Page, str], Path]:
    """Save a full-page screenshot of a page as a test artefact (under the test's tmp dir; also
    copied to tests/web/screenshots/ when SHIELDWALL_KEEP_SCREENSHOTS is set)."""

    def take(target: Page, name: str) -> Path:
        path = tmp_path / "screenshots" / f"{request.node.name}-{name}.png"
        path.parent.mkdir(parents=True, exist_ok=True)
        target.screenshot(path=str(path), full_page=True)
        if os.environ.get(KEEP_SCREENSHOTS):
            keep = Path(__file__).parent / "screenshots"
            keep.mkdir(exist_ok=True)
            shutil.copy(path, keep / path.name)
        return path

    return take


@pytest.fixture
def shoot(page: Page, snap: Callable[[Page, str], Path]) -> Callable[[str], Path]:
    """A screenshot of the test's ``page`` (see :func:`snap`)."""

    def take(name: str) -> Path:
        return snap(page, name)

    return take
