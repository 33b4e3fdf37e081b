"""Issue 5's acceptance, end to end in headless Chromium against a live service and a stand-in
platform on loopback (previews, the ledger, webhooks):

a reporter files a notice and sees the tracking page → a reviewer signs in, reveals the
preview, removes → a copy already in the ledger is found and removed → the reporter's status
page shows the outcome → the uploader appeals → a senior reviewer decides → the report page
shows the figures. A screenshot of each page is kept (tests/web/screenshots/ with
SHIELDWALL_KEEP_SCREENSHOTS=1).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

from service_helpers import LiveService
from shieldwall.audit import list_events, verify
from shieldwall.cases import list_queue
from shieldwall.cases.notices import DECLARATIONS
from shieldwall.people import Actor, Role
from shieldwall.people.accounts import create_person

from .platform_helpers import Platform, image_bytes
from .web_helpers import PASSWORD

if TYPE_CHECKING:
    from playwright.sync_api import Browser, Page

Shoot = Callable[["Page", str], Path]
ADMIN = Actor("user:test", frozenset({Role.ADMIN}))
LAW = "TAKE IT DOWN Act, 47 U.S.C. § 223(h); Online Safety Act 2023, s. 66B"


@pytest.fixture
def platform() -> Iterator[Platform]:
    with Platform() as running:
        yield running


def _until(check: Callable[[], Any], what: str, timeout: float = 120.0) -> Any:
    deadline = time.monotonic() + timeout
    while True:
        found = check()
        if found:
            return found
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.1)


def _sign_in(page: Page, service: LiveService, username: str, target: str) -> None:
    page.goto(f"{service.url}/login?next={target}")
    page.fill("#username", username)
    page.fill("#password", PASSWORD)
    page.click("#sign-in")
    page.wait_for_load_state("load")


def _appeal_code(events: list[dict[str, Any]], content_id: str) -> str:
    """The appeal code of the statement of reasons the platform received for ``content_id``
    (the platform forwards the statement to its uploader)."""
    for event in events:
        data = event.get("data", {})
        if event.get("type") == "content.action" and data.get("content_id") == content_id:
            complaint = data["statement_of_reasons"]["redress"]["internal_complaint"]
            code = complaint["token"]
            assert isinstance(code, str) and complaint["link"].endswith(f"?code={code}")
            return code
    raise AssertionError(f"no statement for {content_id}")


def _register_hosted(service: LiveService, key: str, content_id: str, data: bytes) -> None:
    """The platform hashes an upload through the API and records it in the ledger."""
    client = service.client(key)
    hashed = client.post("/v1/hash", files={"file": (f"{content_id}.jpg", data, "image/jpeg")})
    assert hashed.status_code == 200, hashed.text
    signals = [{k: v for k, v in s.items() if v is not None} for s in hashed.json()["signals"]]
    added = client.post(
        "/v1/ledger", json={"items": [{"content_id": content_id, "signals": signals}]}
    )
    assert added.status_code == 200, added.text


def test_notice_to_transparency_report(
    browser: Browser,
    make_service: Callable[..., LiveService],
    platform: Platform,
    snap: Shoot,
) -> None:
    # -- the platform: two hosted posts, the second an altered re-upload of the first ----------
    platform.contents["post-1"] = image_bytes(11)
    platform.contents["post-2"] = image_bytes(11, variant="brighter")
    service = make_service(
        preview_url_template=platform.template,
        outbound_allowed_networks=["127.0.0.0/8"],
        cases_block_bank="ncii-removed",
        worker_poll_seconds=0.05,
        notice_rate_limit=1000,
    )
    create_person(
        service.db,
        "sam",
        PASSWORD,
        "senior_reviewer",
        display_name="Sam Senior",
        settings=service.settings,
    )
    key = service.key("admin")
    for content_id in ("post-1", "post-2"):
        _register_hosted(service, key, content_id, platform.contents[content_id])
    hook = service.client(key).post(
        "/v1/webhooks",
        json={"url": platform.hook, "events": ["content.action"], "secret": "s" * 32},
    )
    assert hook.status_code == 201, hook.text

    reporter = browser.new_context(viewport={"width": 1100, "height": 800}).new_page()
    reviewer = browser.new_context(viewport={"width": 1100, "height": 800}).new_page()

    # -- 1. the reporter files a notice and sees the tracking page --------------------------
    reporter.goto(service.url + "/report")
    reporter.fill("#urls", "https://platform.example/posts/post-1")
    reporter.fill("#content_ids", "post-1")
    reporter.select_option("#content_kind", "synthetic")
    reporter.fill(
        "#explanation",
        "A fake nude image of me, made with a face-swap app and posted without my consent.",
    )
    reporter.fill("#reporter_name", "Jane Doe-Testperson")
    reporter.fill("#reporter_email", "jane.testperson@example.org")
    reporter.fill("#signature", "Jane Doe-Testperson")
    for name in DECLARATIONS:
        reporter.check(f"#{name}")
    snap(reporter, "1-report-form")
    reporter.click("#send-report")
    tracking = (reporter.text_content("#tracking-number") or "").strip()
    pin = (reporter.text_content("#pin") or "").strip()
    assert tracking.startswith("SW-") and pin.isdigit()
    snap(reporter, "2-acknowledgement")
    reporter.click("#status-link")
    reporter.fill("#pin", pin)
    reporter.click("#show-status")
    assert reporter.text_content("#current-status") == "Received, waiting for review"
    snap(reporter, "3-status-received")

    # -- 2. a reviewer signs in, reveals the preview, removes --------------------------------
    _sign_in(reviewer, service, "alice", "/console/queue")
    assert reviewer.text_content("#bucket-under-24h") == "1"
    snap(reviewer, "4-queue")
    reviewer.click("#claim-next")
    reviewer.wait_for_url("**/console/cases/*", wait_until="load")
    assert reviewer.text_content("#case-tracking") == tracking
    case_url = reviewer.url
    assert "view=blurred" in (reviewer.get_attribute("img[data-preview]", "src") or "")
    snap(reviewer, "5-case-blurred")
    reviewer.click("#reveal-previews")
    _until(
        lambda: (
            "view=full" in (reviewer.get_attribute("img[data-preview]", "src") or "")
            and reviewer.eval_on_selector("img[data-preview]", "i => i.complete && i.naturalWidth")
            > 360
        ),
        "the revealed preview",
    )
    snap(reviewer, "6-case-revealed")
    reviewer.check("#action-remove")
    reviewer.check("#ground-law")
    reviewer.fill("#legal_ground", LAW)
    reviewer.fill("#reason", "A sexual deepfake of the person depicted, shared without consent.")
    reviewer.click("#decide")
    reviewer.wait_for_url("**decided=1")
    assert reviewer.text_content("#decision-action") == "remove"
    snap(reviewer, "7-case-removed")

    # -- 3. the copy already in the ledger is found, and removed -----------------------------
    def copy_case() -> int | None:
        for c in list_queue(service.db, ADMIN, "adult"):
            if c.content_ids == ["post-2"]:
                return c.id
        return None

    copy_id = _until(copy_case, "the copy task")
    reviewer.goto(case_url)
    assert reviewer.is_visible(f"#copies a[href='/console/cases/{copy_id}']")
    reviewer.click(f"#copies a[href='/console/cases/{copy_id}']")
    reviewer.wait_for_load_state("load")
    assert reviewer.is_visible("#match-0-0")
    assert "near match" in (reviewer.text_content("#match-0-0") or "")
    assert reviewer.get_attribute("#match-0-0 .origin-link", "href") == case_url.removeprefix(
        service.url
    )
    snap(reviewer, "8-copy-side-by-side")
    reviewer.check("#action-remove")
    reviewer.check("#ground-law")
    reviewer.fill("#legal_ground", LAW)
    reviewer.fill("#reason", "An altered re-upload of content removed in case " + tracking + ".")
    reviewer.click("#decide")
    reviewer.wait_for_url("**decided=1")
    snap(reviewer, "9-copy-removed")
    removed = _until(
        lambda: (
            {
                e["data"]["content_id"]
                for e in platform.events
                if e.get("type") == "content.action" and e["data"]["action"] == "remove"
            }
            >= {"post-1", "post-2"}
            and platform.events
        ),
        "the platform's action webhooks",
    )
    assert removed
    for event in platform.events:
        assert "Testperson" not in str(event) and "testperson@" not in str(event)

    # -- 4. the reporter's status page shows the outcome -------------------------------------
    reporter.goto(service.url + "/status")
    reporter.fill("#tracking_number", tracking)
    reporter.fill("#pin", pin)
    reporter.click("#show-status")
    assert reporter.text_content("#current-status") == "Decided"
    assert "decision: remove" in (reporter.text_content("#history") or "")
    assert "The image was removed" in (reporter.text_content("#outcome") or "")
    copies_text = " ".join((reporter.text_content("#outcome-copies") or "").split())
    assert "1 found, 1 removed so far" in copies_text
    snap(reporter, "10-status-decided")

    # -- 5. the uploader appeals, with the code the platform forwarded with the statement --------
    code = _appeal_code(platform.events, "post-1")
    uploader = browser.new_context(viewport={"width": 1100, "height": 800}).new_page()
    uploader.goto(f"{service.url}/appeal?code={code}")
    assert uploader.input_value("#code") == code
    uploader.fill("#reason", "This is my own photo and I consented to posting it.")
    snap(uploader, "11-appeal-form")
    uploader.click("#send-appeal")
    appeal_number = (uploader.text_content("#appeal-number") or "").strip()
    assert appeal_number
    snap(uploader, "12-appeal-filed")

    # -- 6. a senior reviewer decides it (not alice, who made the decision) ---------------------
    reviewer.goto(service.url + "/console/appeals")
    reviewer.click("#appeal-row-" + appeal_number.lstrip("#") + " a")
    reviewer.wait_for_load_state("load")
    assert reviewer.is_visible("#appeal-own-decision")  # alice decided the case
    assert not reviewer.is_visible("#appeal-submit")
    senior = browser.new_context(viewport={"width": 1100, "height": 800}).new_page()
    _sign_in(senior, service, "sam", "/console/appeals")
    snap(senior, "13-appeals-queue")
    senior.click("#appeal-row-" + appeal_number.lstrip("#") + " a")
    senior.wait_for_load_state("load")
    assert senior.text_content("#decision-action") == "remove"
    senior.check("#appeal-reject")
    senior.fill(
        "#appeal-reason",
        "The notice was made by the person depicted; no consent to publication was shown.",
    )
    snap(senior, "14-appeal-decision")
    senior.click("#appeal-submit")
    senior.wait_for_url("**decided=1")
    assert (senior.text_content("#appeal-outcome-state") or "").startswith("rejected")
    snap(senior, "15-appeal-decided")

    # -- 7. the report page shows the figures -------------------------------------------------
    auditor = browser.new_context(viewport={"width": 1100, "height": 800}).new_page()
    _sign_in(auditor, service, "audrey", "/console/report")
    figures = {
        "#notices-total": "1",
        "#notices-synthetic": "1",
        "#removals": "2",
        "#decisions-law-remove": "2",
        "#human-decisions": "2",
        "#automated-decisions": "0",
        "#automated-detection": "1",
        "#removed-within-48h-count": "2",
        "#appeals-filed": "1",
        "#appeals-rejected": "1",
        "#appeals-upheld": "0",
    }
    for selector, expected in figures.items():
        assert auditor.get_attribute(selector, "data-value") == expected, selector
    assert float(auditor.get_attribute("#removed-within-48h", "data-value") or 0) == 1.0
    assert float(auditor.get_attribute("#appeals-reversal-rate", "data-value") or 1) == 0.0
    assert auditor.is_visible("#chart-decisions-by-ground")
    snap(auditor, "16-transparency-report")

    assert verify(service.db) is None
    assert any(e.action == "preview.revealed" for e in list_events(service.db))
