"""The public report pages in headless Chromium: fill the notice form, see the errors next to
the fields, send it, read the tracking number and PIN, open the status page; a screenshot of
each page."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

from service_helpers import LiveService
from shieldwall.cases.notices import DECLARATIONS

if TYPE_CHECKING:
    from playwright.sync_api import Page

Shoot = Callable[[str], Path]


def test_file_a_notice_and_follow_it(
    page: Page, make_service: Callable[..., LiveService], shoot: Shoot
) -> None:
    service = make_service(notice_rate_limit=1000)
    page.goto(service.url + "/")
    page.click("#report-link")
    assert page.url == service.url + "/report"
    assert "How this works" in (page.text_content("#process-notice") or "")
    shoot("form")
    # first without the declarations: the errors are shown next to the boxes, values kept
    page.fill("#urls", "https://example.org/post/1")
    page.select_option("#content_kind", "synthetic")
    page.fill("#explanation", "A fake nude image of me, made and posted without my consent.")
    page.fill("#reporter_name", "Jane Doe")
    page.fill("#reporter_email", "jane@example.org")
    page.fill("#signature", "Jane Doe")
    page.click("#send-report")
    assert page.url == service.url + "/report"
    assert page.is_visible("#form-error")
    for name in DECLARATIONS:
        assert "Tick this box" in (page.text_content(f"#error-{name}") or "")
    assert page.input_value("#reporter_email") == "jane@example.org"
    assert page.input_value("#content_kind") == "synthetic"
    shoot("form-errors")
    for name in DECLARATIONS:
        page.check(f"#{name}")
    page.click("#send-report")
    tracking = (page.text_content("#tracking-number") or "").strip()
    pin = (page.text_content("#pin") or "").strip()
    assert tracking.startswith("SW-") and pin.isdigit()
    assert "shown only once" in " ".join((page.text_content("#pin-warning") or "").split())
    shoot("acknowledgement")
    page.click("#status-link")
    assert page.input_value("#tracking_number") == tracking
    page.fill("#pin", pin)
    page.click("#show-status")
    assert page.text_content("#current-status") == "Received, waiting for review"
    shoot("status")
    page.fill("#pin", "2222222222")
    page.click("#show-status")
    assert "No notice was found" in (page.text_content("#status-error") or "")
    assert not page.is_visible("#status-result")
