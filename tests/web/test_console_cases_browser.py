"""The queue and case pages in headless Chromium: keyboard shortcuts, the in-place reveal, the
decision form; a screenshot of each page."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from case_helpers import valid_notice
from service_helpers import LiveService
from shieldwall.audit import list_events
from shieldwall.cases import get_case, submit_notice
from shieldwall.people import Actor, Role

from .platform_helpers import Platform, image_bytes
from .web_helpers import PASSWORD

if TYPE_CHECKING:
    from playwright.sync_api import Page

Shoot = Callable[[str], Path]
VIEWER = Actor("user:viewer", frozenset({Role.REVIEWER}))


@pytest.fixture
def platform() -> Iterator[Platform]:
    with Platform() as running:
        yield running


def _sign_in(page: Page, service: LiveService, username: str) -> None:
    page.goto(service.url + "/login?next=/console/queue")
    page.fill("#username", username)
    page.fill("#password", PASSWORD)
    page.click("#sign-in")
    page.wait_for_load_state("load")  # the shortcuts script has run


def _until(page: Page, check: Callable[[], bool], timeout: float = 120.0) -> None:
    """Poll ``check`` from Python (``wait_for_function`` evaluates a string, which the
    console's CSP forbids)."""
    deadline = time.monotonic() + timeout
    while not check():
        assert time.monotonic() < deadline, "timed out"
        page.wait_for_timeout(50)


def _natural_width(page: Page, selector: str) -> int:
    width = page.eval_on_selector(selector, "img => img.complete ? img.naturalWidth : -1")
    assert isinstance(width, int)
    return width


def test_work_a_case_with_the_keyboard(
    page: Page, make_service: Callable[..., LiveService], platform: Platform, shoot: Shoot
) -> None:
    platform.contents["content-7"] = image_bytes(7)
    service = make_service(
        preview_url_template=platform.template, outbound_allowed_networks=["127.0.0.0/8"]
    )
    first = submit_notice(service.db, service.settings, valid_notice(content_ids=["content-7"]))
    submit_notice(service.db, service.settings, valid_notice(content_ids=["content-8"]))
    _sign_in(page, service, "alice")
    assert page.url == service.url + "/console/queue"
    assert page.text_content("#bucket-under-24h") == "2"
    page.keyboard.press("j")
    assert page.get_attribute("#queue-table tbody tr.selected", "data-href")
    shoot("queue")
    page.keyboard.press("c")  # claim the next case: the first in priority order
    page.wait_for_url("**/console/cases/*", wait_until="load")
    assert page.text_content("#case-tracking") == first.tracking_number
    img = "img[data-preview]"
    _until(page, lambda: _natural_width(page, img) > 0)
    assert "view=blurred" in (page.get_attribute(img, "src") or "")
    assert _natural_width(page, img) <= 360  # the blurred rendering
    shoot("case-blurred")
    assert not [e for e in list_events(service.db) if e.action == "preview.revealed"]
    page.keyboard.press("v")  # reveal in place
    _until(
        page,
        lambda: (
            "view=full" in (page.get_attribute(img, "src") or "")
            and _natural_width(page, img) > 360
        ),
    )
    assert page.text_content("#reveal-previews") == "Blur previews again"
    shoot("case-revealed")
    reveals = [e for e in list_events(service.db) if e.action == "preview.revealed"]
    assert len(reveals) == 1 and reveals[0].subject == f"case:{first.tracking_number}"
    # the decision by keyboard: r (remove), t (ground terms), e (reason), Ctrl+Enter
    page.keyboard.press("r")
    page.keyboard.press("t")
    page.keyboard.press("e")
    page.keyboard.type("An intimate image shared without consent; against our terms.")
    assert page.is_checked("#action-remove") and page.is_checked("#ground-terms")
    page.keyboard.press("Control+Enter")
    page.wait_for_url("**decided=1")
    assert page.text_content("#decision-action") == "remove"
    assert page.text_content("#decision-ground") == "terms"
    shoot("case-decided")
    case_id = int(page.url.split("/console/cases/")[1].split("?")[0])
    decided = get_case(service.db, VIEWER, case_id)
    assert decided.state == "decided" and decided.action == "remove"
    assert decided.decided_by is not None and decided.decided_by.startswith("user:")


def test_decision_errors_in_the_browser(
    page: Page, make_service: Callable[..., LiveService], shoot: Shoot
) -> None:
    service = make_service()
    receipt = submit_notice(service.db, service.settings, valid_notice())
    _sign_in(page, service, "alice")
    page.click(f"text={receipt.tracking_number}")
    page.check("#action-remove")
    page.check("#ground-law")
    page.click("#decide")
    assert page.is_visible("#error-legal_ground") and page.is_visible("#error-reason")
    assert page.is_checked("#action-remove")  # kept
    shoot("decision-errors")
    assert get_case(service.db, VIEWER, 1).state in ("open", "claimed")


def test_an_altered_copy_on_the_case_page(
    page: Page, make_service: Callable[..., LiveService], shoot: Shoot
) -> None:
    from shieldwall.store.models import MatchRecord

    service = make_service()
    with service.db.transaction() as session:
        session.add(
            MatchRecord(
                content_id="meme-7",
                bank_name="ncii",
                signal_type="pdq",
                distance=9,
                source="upload",
                variant="caption-top",
                bank_variant="crop-bottom-10",
            )
        )
    receipt = submit_notice(service.db, service.settings, valid_notice(content_ids=["meme-7"]))
    _sign_in(page, service, "alice")
    page.goto(f"{service.url}/console/cases/{receipt.case_id}")
    assert "matched as caption-top" in " ".join((page.text_content("p.variant") or "").split())
    shoot("case-altered-copy")
    page.set_viewport_size({"width": 390, "height": 844})
    assert page.is_visible("p.variant")
    # On a phone nothing is wider than the screen: the pair of boxes stacks, the header wraps.
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    shoot("case-altered-copy-390")
