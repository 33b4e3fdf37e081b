"""Every public page for people in distress, in every state, in English and Spanish, on a phone
(390 x 844) and a desktop: axe-core finds no serious or critical violation, nothing is wider
than the screen, and the portal works by keyboard alone. Screenshots of each state (kept with
SHIELDWALL_KEEP_SCREENSHOTS=1).

axe-core comes from the npm registry (``make test`` fetches it into .cache/ and sets
SHIELDWALL_AXE_JS and SHIELDWALL_REQUIRE_AXE); run by hand without it, the axe checks skip."""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest
from PIL import Image

from service_helpers import LiveService
from shieldwall.media import synthetic

from .web_helpers import BROWSER_WAIT_MS, csrf_of

if TYPE_CHECKING:
    from playwright.sync_api import Browser, Page, ViewportSize

Snap = Callable[["Page", str], Path]
PHONE: ViewportSize = {"width": 390, "height": 844}
DESKTOP: ViewportSize = {"width": 1100, "height": 800}


def _axe_source() -> str | None:
    configured = os.environ.get("SHIELDWALL_AXE_JS")
    candidates = [Path(configured)] if configured else []
    root = Path(__file__).resolve().parents[2] / ".cache"
    candidates += sorted(root.glob("axe-core-*/axe.min.js"), reverse=True)
    for path in candidates:
        if path.is_file():
            return path.read_text()
    if os.environ.get("SHIELDWALL_REQUIRE_AXE"):
        pytest.fail("axe-core is missing: make test fetches it (npm pack axe-core)")
    return None


AXE = _axe_source()


def axe_problems(page: Page) -> list[str]:
    """Serious and critical violations of the page as it is now (WCAG 2.x A and AA)."""
    if AXE is None:
        return []
    if not page.evaluate("() => typeof window.axe !== 'undefined'"):
        page.evaluate(AXE)  # through the debugger: the page's own policy allows no inline script
    result = page.evaluate(
        """async () => (await axe.run(document, {runOnly: {type: "tag",
               values: ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "best-practice"]}}))
               .violations.filter((v) => v.impact === "serious" || v.impact === "critical")
               .map((v) => v.id + ": " + v.nodes.map((n) => n.target.join(" ")).join(", "))"""
    )
    return list(result)


def overflow(page: Page) -> list[str]:
    """Elements wider than the screen (nothing may make the page scroll sideways)."""
    return list(
        page.evaluate(
            """() => { const w = document.documentElement.clientWidth;
                 const out = [];
                 if (document.documentElement.scrollWidth > w) out.push("document");
                 for (const el of document.querySelectorAll("body *")) {
                   const r = el.getBoundingClientRect();
                   if (r.width && r.right > w + 1) out.push(el.tagName + "#" + el.id);
                 }
                 return out.slice(0, 10); }"""
        )
    )


@pytest.fixture
def phone(browser: Browser) -> Iterator[Callable[[str], Page]]:
    contexts: list[Any] = []

    def make(lang: str, size: ViewportSize = PHONE) -> Page:
        context = browser.new_context(
            viewport=size,
            locale="es-ES" if lang == "es" else "en-GB",
            extra_http_headers={"Accept-Language": "es-ES,es;q=0.9" if lang == "es" else "en"},
            device_scale_factor=1,
        )
        context.set_default_timeout(BROWSER_WAIT_MS)
        contexts.append(context)
        return context.new_page()

    yield make
    for context in contexts:
        context.close()


class Checker:
    def __init__(self, snap: Snap, lang: str, size: str) -> None:
        self.snap, self.lang, self.size = snap, lang, size
        self.problems: list[str] = []

    def __call__(self, page: Page, state: str) -> None:
        for problem in axe_problems(page):
            self.problems.append(f"{state}: {problem}")
        for element in overflow(page):
            self.problems.append(f"{state}: wider than the screen: {element}")
        self.snap(page, f"{self.lang}-{self.size}-{state}")


def _photo(tmp_path: Path) -> Path:
    path = tmp_path / "holiday.jpg"
    Image.fromarray(synthetic.scene(11, 400, 300)).save(path, "JPEG")
    return path


def _wait_for_focus(page: Page, element_id: str) -> None:
    """Wait until the focus is on ``element_id`` (a form posted to the server answers a new
    page, which moves the focus once loaded: a click returns before that); fails on timeout."""
    page.wait_for_function(
        "id => document.activeElement !== null && document.activeElement.id === id",
        arg=element_id,
    )


@pytest.mark.parametrize("lang", ["en", "es"])
@pytest.mark.parametrize("size", ["phone", "desktop"])
def test_every_state_of_every_public_page(
    phone: Callable[..., Page],
    make_service: Callable[..., LiveService],
    snap: Snap,
    tmp_path: Path,
    lang: str,
    size: str,
) -> None:
    service = make_service(notice_rate_limit=1000)
    page = phone(lang, PHONE if size == "phone" else DESKTOP)
    check = Checker(snap, lang, size)
    url = service.url
    # /protect: empty, with errors, with a file read, protected
    page.goto(url + "/protect")
    assert page.get_attribute("html", "lang") == lang
    check(page, "protect")
    page.click("#protect-submit")
    check(page, "protect-errors")
    broken = tmp_path / "broken-file-with-a-rather-long-name-from-a-phone-camera-20261203.jpg"
    broken.write_bytes(b"not a photo at all")
    page.set_input_files("#files", [str(_photo(tmp_path)), str(broken)])
    page.wait_for_function(
        "() => document.querySelectorAll('#file-list .state.bad').length === 1 && "
        "document.querySelectorAll('#file-list .state').length === 2 && "
        "!/…/.test(document.querySelector('#file-list .state').textContent)"
    )
    check(page, "protect-files")
    page.check("#depicted")
    page.check("#adult")
    page.check("#consent-platform")
    page.click("#protect-submit")
    page.wait_for_selector("#result:not([hidden])")
    check(page, "protect-done")
    number, pin = page.text_content("#case-number") or "", page.text_content("#case-pin") or ""
    # /protect/status: the form's errors, the case, withdrawn
    page.goto(url + "/protect/status")
    page.click("#show-status")
    _wait_for_focus(page, "error-summary")
    check(page, "protect-status-errors")
    page.fill("#case_number", number)
    page.fill("#pin", pin)
    page.click("#show-status")
    check(page, "protect-status")
    page.click("#withdraw-all")
    check(page, "protect-withdrawn")
    # /report: the form, its errors, received
    page.goto(url + "/report")
    check(page, "report")
    page.click("#send-report")
    _wait_for_focus(page, "error-summary")
    check(page, "report-errors")
    # /status: the form and a wrong PIN
    page.goto(url + "/status")
    check(page, "status")
    page.fill("#tracking_number", "SW-AAAA-BBBB-CCCC-DDDD")
    page.fill("#pin", "1234")
    page.click("#show-status")
    check(page, "status-not-found")
    # /appeal: the form and its errors
    page.goto(url + "/appeal")
    check(page, "appeal")
    page.click("#send-appeal")
    check(page, "appeal-errors")
    assert check.problems == []


def test_the_portal_by_keyboard_alone(
    phone: Callable[..., Page], make_service: Callable[..., LiveService], tmp_path: Path
) -> None:
    service = make_service(notice_rate_limit=1000)
    page = phone("en")
    page.goto(service.url + "/protect")

    def tab_to(element_id: str, limit: int = 60) -> None:
        for _ in range(limit):
            page.keyboard.press("Tab")
            if page.evaluate("document.activeElement.id") == element_id:
                return
        raise AssertionError(f"Tab never reaches #{element_id}")

    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.className") == "skip"
    tab_to("protect-submit")
    page.keyboard.press("Enter")
    assert page.evaluate("document.activeElement.id") == "error-summary"
    page.keyboard.press("Tab")  # the first link of the summary
    assert page.evaluate("document.activeElement.hash") == "#depicted"
    page.keyboard.press("Enter")
    assert page.evaluate("document.activeElement.id") == "depicted"
    page.keyboard.press("Space")
    tab_to("adult")
    page.keyboard.press("Space")
    tab_to("consent-platform")
    page.keyboard.press("Space")
    assert page.is_checked("#depicted") and page.is_checked("#adult")
    assert page.is_checked("#consent-platform")
    tab_to("files")
    # the file chooser is the operating system's: Playwright answers it for the keyboard
    with page.expect_file_chooser() as chooser:
        page.keyboard.press("Space")
    chooser.value.set_files(str(_photo(tmp_path)))
    page.wait_for_selector("#file-list .state:text('Ready: photo fingerprint made')")
    tab_to("protect-submit")
    page.keyboard.press("Enter")
    page.wait_for_selector("#result:not([hidden])")
    assert page.evaluate("document.activeElement.id") == "result-title"
    assert re.match(r"PR-\w{4}-", page.text_content("#case-number") or "")


def test_a_form_page_without_javascript_still_explains(
    browser: Browser, service: LiveService
) -> None:
    context = browser.new_context(java_script_enabled=False)
    try:
        page = context.new_page()
        page.goto(service.url + "/protect")
        assert "needs JavaScript" in (page.text_content("noscript") or "")
        with service.client() as client:
            form = client.get("/status")
            assert csrf_of(form.text)  # the other pages need no script at all
    finally:
        context.close()
