"""The case page says what a removal banked (issue 16 point 1), in headless Chromium: the
reported post is not in the ledger, so its hashes come from the platform's preview; the sweep
finds the altered re-upload the ledger does know, and the page shows the copy."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from case_helpers import valid_notice
from service_helpers import LiveService
from shieldwall.cases import submit_notice
from shieldwall.hashing import hash_bytes
from shieldwall.matching import add_to_ledger

from .platform_helpers import Platform, image_bytes
from .web_helpers import PASSWORD

if TYPE_CHECKING:
    from playwright.sync_api import Page

Shoot = Callable[[str], Path]


@pytest.fixture
def platform() -> Iterator[Platform]:
    with Platform() as running:
        yield running


def test_the_case_page_shows_what_was_banked_and_the_copy_the_sweep_found(
    page: Page, make_service: Callable[..., LiveService], platform: Platform, shoot: Shoot
) -> None:
    platform.contents["post-5"] = image_bytes(5)
    service = make_service(
        preview_url_template=platform.template,
        outbound_allowed_networks=["127.0.0.0/8"],
        cases_block_bank="removed",
        worker_poll_seconds=0.05,
    )
    copy = hash_bytes(image_bytes(5, variant="recompressed"), signals=["pdq", "sha256"])
    add_to_ledger(service.db, [("repost-5", list(copy.signals.values()))])
    receipt = submit_notice(service.db, service.settings, valid_notice(content_ids=["post-5"]))
    page.goto(service.url + f"/login?next=/console/cases/{receipt.case_id}")
    page.fill("#username", "alice")
    page.fill("#password", PASSWORD)
    page.click("#sign-in")
    page.wait_for_url(f"**/console/cases/{receipt.case_id}")
    assert page.is_visible("#content-upload")
    page.check("#action-remove")
    page.check("#ground-law")
    page.fill("#legal_ground", "Online Safety Act 2023, s. 66B")
    page.fill("#reason", "An intimate image shared without consent.")
    page.click("#decide")
    page.wait_for_url("**decided=1")
    types = (page.text_content("#banked-types") or "").split(", ")
    assert {"pdq", "md5", "sha256"} <= set(types)
    assert page.text_content("#banked-bank") == "removed"
    sources = " ".join((page.text_content("#banked-sources") or "").split())
    assert "post-5: hashed from the platform's preview, fetched at decision time" in sources
    assert page.is_visible("#sweep-job")
    shoot("removal-banked")
    # the worker sweeps; reload until the page says the sweep is done and shows the copy
    for _ in range(1200):
        if page.is_visible("#copies") and page.text_content("#sweep-state") == "done":
            break
        page.wait_for_timeout(100)
        page.reload()
    assert page.text_content("#sweep-state") == "done"
    assert "1 copy found" in " ".join((page.text_content("#banking-sweep") or "").split())
    assert "repost-5" in (page.text_content("#copies") or "")
    shoot("removal-swept")
