"""The console on a phone (issue 16 point 5): at 390x844 every console page fits the screen's
width (``document.documentElement.scrollWidth <= innerWidth``: wide tables scroll inside their
box, the header wraps) and no table header has a word split over two lines (a table squeezed
to the screen instead of scrolling), with long content in it (a long URL, long external ids);
a full-page screenshot of each page is kept as an artefact."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from case_helpers import valid_notice
from service_helpers import LiveService
from shieldwall import banks, webhooks
from shieldwall.cases import decide_case, file_appeal, submit_notice
from shieldwall.people import Actor, Role
from shieldwall.people.keys import create_key

from .console_helpers import PHONE, broken_words, overflow, sign_in
from .report_data import TRUSTED_FLAGGERS, seed
from .web_helpers import BROWSER_WAIT_MS

if TYPE_CHECKING:
    from playwright.sync_api import Browser, Page

Snap = Callable[["Page", str], Path]
_REVIEWER = Actor("user:other", frozenset({Role.REVIEWER}))
_LONG_URL = "https://platform.example/users/someone-with-a-long-name/posts/" + "x" * 120


@pytest.fixture
def phone(browser: Browser) -> Iterator[Page]:
    """A fresh browser context the size of a phone, with touch."""
    context = browser.new_context(viewport=PHONE, device_scale_factor=2, has_touch=True)
    context.set_default_timeout(BROWSER_WAIT_MS)
    try:
        yield context.new_page()
    finally:
        context.close()


def _populate(service: LiveService) -> dict[str, int]:
    """Data on every page: cases (open, decided, appealed), a bank with entries, a key, a
    webhook with a delivery; the ids of the case and webhook pages."""
    db, settings = service.db, service.settings
    seed(db, settings)
    open_case = submit_notice(
        db, settings, valid_notice(urls=[_LONG_URL], content_ids=["content-" + "9" * 60])
    )
    appealed = submit_notice(db, settings, valid_notice(content_ids=["content-appealed"]))
    decision = decide_case(
        db, settings, _REVIEWER, appealed.case_id, action="remove", ground="terms", reason="NCII."
    )
    file_appeal(db, reason="That photo is not of the person.", appeal_token=decision.appeal_token)
    banks.create_bank(db, "ncii", "block", description="Removed intimate images")
    for n in range(3):
        value = f"{n:02x}" * 32
        banks.add_entry(
            db,
            "ncii",
            [banks.prepare_signal("pdq", value)],
            external_ids=[f"stopncii-case-{n}-" + "7" * 40],
        )
    create_key(db, "the platform's upload service", "match,hash,curate")
    # a loopback receiver the address policy refuses: its delivery fails without the network
    receiver = "http://127.0.0.1:9/hooks/" + "y" * 150
    hook, _ = webhooks.create_webhook(db, receiver, ["*"], description="Upload service")
    with db.transaction() as session:
        webhooks.queue_event(session, webhooks.match_event("c-1", []), settings)
    return {"case": open_case.case_id, "decided": appealed.case_id, "webhook": hook.id}


def test_every_console_page_fits_a_phone(
    phone: Page, make_service: Callable[..., LiveService], snap: Snap
) -> None:
    service = make_service(trusted_flaggers=TRUSTED_FLAGGERS)
    ids = _populate(service)
    phone.goto(service.url + "/login")
    assert overflow(phone) == 0
    snap(phone, "login")
    sign_in(phone, service, "root")
    pages = {
        "console": "/console",
        "queue": "/console/queue",
        "case": f"/console/cases/{ids['case']}",
        "decided-case": f"/console/cases/{ids['decided']}",
        "statement": f"/console/cases/{ids['decided']}/statement",
        "appeals": "/console/appeals",
        "report": "/console/report",
        "admin": "/console/admin",
        "banks": "/console/banks",
        "bank": "/console/banks/ncii",
        "people": "/console/people",
        "keys": "/console/keys",
        "webhooks": "/console/webhooks",
        "webhook": f"/console/webhooks/{ids['webhook']}",
        "exchanges": "/console/exchanges",
        "search": "/console/search?q=content-appealed",
    }
    wide: dict[str, int] = {}
    squeezed: dict[str, list[str]] = {}
    for name, path in pages.items():
        answer = phone.goto(service.url + path)
        assert answer is not None and answer.status == 200, (name, answer and answer.status)
        snap(phone, name)
        if overflow(phone):
            wide[name] = overflow(phone)
        if broken_words(phone):
            squeezed[name] = broken_words(phone)
    # the appeal page, opened from the list
    phone.goto(service.url + "/console/appeals")
    phone.click("#appeals a")
    phone.wait_for_load_state("load")
    snap(phone, "appeal")
    if overflow(phone):
        wide["appeal"] = overflow(phone)
    assert wide == {}, f"wider than the phone (CSS px): {wide}"
    # tables too wide for the phone scroll in their box rather than squeeze words apart
    assert squeezed == {}, f"table headers with words split over lines: {squeezed}"
    # the header keeps every link reachable on the phone
    for link in ("#nav-queue", "#nav-appeals", "#nav-report", "#nav-search", "#nav-admin"):
        box = phone.locator(link).bounding_box()
        assert box is not None and box["x"] >= 0 and box["x"] + box["width"] <= PHONE["width"]
