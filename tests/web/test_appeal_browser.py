"""The appeal pages in headless Chromium: the uploader files an appeal with the code from the
statement of reasons (first without a reason: the error next to the field), a senior reviewer
who did not make the decision upholds it in the console; a screenshot of each page."""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

from case_helpers import valid_notice
from service_helpers import LiveService
from shieldwall.banks import get_entry, prepare_signal
from shieldwall.cases import decide_case, submit_notice
from shieldwall.matching import add_to_ledger
from shieldwall.people import Actor
from shieldwall.people.accounts import get_person

from .web_helpers import PASSWORD

if TYPE_CHECKING:
    from playwright.sync_api import Page

Shoot = Callable[[str], Path]


def test_file_an_appeal_by_code_and_uphold_it(
    page: Page, make_service: Callable[..., LiveService], shoot: Shoot
) -> None:
    service = make_service(notice_rate_limit=1000)
    sha = hashlib.sha256(b"content-browser").hexdigest()
    add_to_ledger(service.db, [("content-browser", [prepare_signal("sha256", sha)])])
    receipt = submit_notice(
        service.db, service.settings, valid_notice(content_ids=["content-browser"])
    )
    root = get_person(service.db, "root")
    decision = decide_case(
        service.db,
        service.settings,
        Actor(f"user:{root.id}", root.roles),
        receipt.case_id,
        action="remove",
        ground="law",
        legal_ground="TAKE IT DOWN Act",
        reason="Non-consensual intimate image.",
    )
    assert decision.entry_id is not None

    # the uploader follows the link of the statement of reasons
    page.goto(f"{service.url}/appeal?code={decision.appeal_token}")
    assert page.input_value("#code") == decision.appeal_token
    assert page.is_checked("#way-code")
    shoot("form")
    page.click("#send-appeal")
    assert page.is_visible("#form-error")
    assert "Say why" in (page.text_content("#error-reason") or "")
    assert page.input_value("#code") == decision.appeal_token
    shoot("form-errors")
    page.fill("#reason", "This photo is of a landscape, not a person.")
    page.click("#send-appeal")
    number = (page.text_content("#appeal-number") or "").strip()
    assert number.isdigit()
    assert "did not make the first decision" in " ".join(
        (page.text_content("#next-steps") or "").split()
    )
    shoot("acknowledgement")

    # alice, a senior reviewer who did not make the decision, upholds it
    page.goto(service.url + "/login")
    page.fill("#username", "alice")
    page.fill("#password", PASSWORD)
    page.click("#sign-in")
    page.click("#nav-appeals")
    assert page.url == service.url + "/console/appeals"
    shoot("console-list")
    page.click(f"#appeal-row-{number} a")
    assert page.text_content("#case-tracking-number") == receipt.tracking_number
    assert page.text_content("#decision-decided-by") == "Ada Admin"
    shoot("console-appeal")
    page.click("#appeal-submit")  # no outcome and no reason yet
    assert page.is_visible("#error-outcome") and page.is_visible("#error-reason")
    page.check("#appeal-uphold")
    page.fill("#appeal-reason", "The content is not intimate imagery.")
    page.click("#appeal-submit")
    assert page.url == f"{service.url}/console/appeals/{number}?decided=1"
    assert page.text_content("#appeal-state") == "upheld"
    assert page.text_content("#case-state") == "reversed"
    shoot("console-decided")
    entry = get_entry(service.db, decision.entry_id)
    assert entry.external_ids == {receipt.tracking_number: "withdrawn"}
