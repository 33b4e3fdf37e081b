"""The console's administration pages in headless Chromium (issue 16 point 2): banks, people,
API keys, webhooks and the case search, each worked by the role it is for and refused (the 403
page, and no link in the header) to the others; the audit events name the person."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from case_helpers import valid_notice
from service_helpers import LiveService
from shieldwall import banks, webhooks
from shieldwall.audit import list_events
from shieldwall.cases import submit_notice
from shieldwall.people.accounts import get_person

from .console_helpers import refused, sign_in, sign_out
from .platform_helpers import Platform

if TYPE_CHECKING:
    from playwright.sync_api import Page

Shoot = Callable[[str], Path]


@pytest.fixture
def platform() -> Iterator[Platform]:
    with Platform() as running:
        yield running


def _events(service: LiveService, prefix: str) -> list[tuple[str, str, str]]:
    return [
        (e.actor, e.action, e.subject)
        for e in list_events(service.db, limit=1000)
        if e.action.startswith(prefix) and e.actor != "system"  # not the fixture's people
    ]


def _root(service: LiveService) -> str:
    return f"user:{get_person(service.db, 'root').id}"


def test_banks_for_admins(page: Page, service: LiveService, shoot: Shoot) -> None:
    sign_in(page, service, "root")
    page.click("#nav-admin")
    page.click("#open-banks")
    assert page.text_content("#no-banks") == "No bank yet."
    page.fill("#bank-name", "ncii")
    page.select_option("#bank-kind", "block")
    page.fill("#bank-description", "Removed intimate images")
    page.click("#create-bank-submit")
    page.wait_for_url("**/console/banks/ncii?done=created")
    assert page.text_content("#done") == "Bank created."
    assert banks.get_bank(service.db, "ncii").kind.value == "block"
    # a name taken: the form again with the reason, nothing changes
    page.goto(service.url + "/console/banks")
    page.fill("#bank-name", "ncii")
    page.click("#create-bank-submit")
    assert "already exists" in (page.text_content("#error") or "")
    assert len(banks.list_banks(service.db)) == 1
    # threshold, disable, enable
    page.goto(service.url + "/console/banks/ncii")
    assert "(default)" in (page.text_content("#threshold-pdq") or "")
    page.select_option("#threshold-type", "pdq")
    page.fill("#threshold-value", "20")
    page.click("#save-threshold")
    assert page.text_content("#threshold-pdq") == "20"
    assert banks.get_bank(service.db, "ncii").thresholds == {"pdq": 20}
    page.select_option("#threshold-type", "pdq")
    page.fill("#threshold-value", "300")
    page.click("#save-threshold")
    assert "0..256" in (page.text_content("#error") or "")
    assert banks.get_bank(service.db, "ncii").thresholds == {"pdq": 20}
    page.goto(service.url + "/console/banks/ncii")
    page.click("#disable-bank")
    assert page.text_content("#bank-state") == "disabled"
    assert not banks.get_bank(service.db, "ncii").enabled
    page.click("#enable-bank")
    assert page.text_content("#bank-state") == "enabled"
    # entries: search by external id, withdraw a case, withdraw an entry
    first = banks.add_entry(
        service.db, "ncii", [banks.prepare_signal("pdq", "a1" * 32)], external_ids=["case-1"]
    )
    second = banks.add_entry(
        service.db, "ncii", [banks.prepare_signal("pdq", "b2" * 32)], external_ids=["case-2"]
    )
    page.goto(service.url + "/console/banks/ncii")
    assert page.locator("#entry-table tbody tr").count() == 2
    page.fill("#entry-external-id", "case-1")
    page.click("#search-entries")
    assert page.locator("#entry-table tbody tr").count() == 1
    assert page.locator(f"#entry-{first.id}").count() == 1
    assert "pdq" in (page.text_content(f"#entry-{first.id}") or "")
    assert "a1a1" not in page.content()  # never a hash value
    shoot("bank")
    page.fill("#withdraw-external-id", "case-1")
    page.click("#withdraw-case")
    assert "1 entries stop matching" in (page.text_content("#done") or "")
    assert page.text_content(f"#entry-{first.id} .status") == "withdrawn"
    assert banks.get_entry(service.db, first.id).status.value == "withdrawn"
    page.fill("#withdraw-external-id", "no-such-case")
    page.click("#withdraw-case")
    assert page.text_content("#error")
    page.goto(service.url + "/console/banks/ncii")
    page.click(f"#withdraw-entry-{second.id}")
    assert page.text_content("#done") == "Entry withdrawn: its signals no longer match."
    assert banks.get_entry(service.db, second.id).status.value == "withdrawn"
    root = _root(service)
    # each change once, recorded by the bank functions with the person as the actor (a refused
    # withdrawal of an unknown case records nothing)
    assert _events(service, "bank.") == [
        (root, "bank.create", "bank:ncii"),
        (root, "bank.threshold", "bank:ncii"),
        (root, "bank.disable", "bank:ncii"),
        (root, "bank.enable", "bank:ncii"),
        (root, "bank.withdraw", "case:case-1"),
        (root, "bank.entry_withdraw", f"entry:{second.id}"),
    ]
    # a reviewer: no Admin link, the 403 page, and a POST is refused too
    sign_out(page)
    sign_in(page, service, "alice")
    assert page.locator("#nav-admin").count() == 0
    assert "needs the role admin" in refused(page, service, "/console/banks")
    assert "needs the role admin" in refused(page, service, "/console/banks/ncii")
    shoot("banks-refused")
    answer = page.request.post(
        service.url + "/console/banks/ncii/enabled", form={"enabled": "0", "csrf_token": "x"}
    )
    assert answer.status == 403
    assert banks.get_bank(service.db, "ncii").enabled


def test_people_for_admins(page: Page, service: LiveService, shoot: Shoot) -> None:
    sign_in(page, service, "root", "/console/people")
    page.fill("#new-username", "bob")
    page.fill("#new-display-name", "Bob Builder")
    page.fill("#new-password", "short")
    page.check("#new-role-reviewer")
    page.click("#create-person-submit")
    assert "at least 12" in (page.text_content("#error") or "")
    assert page.input_value("#new-username") == "bob"  # kept; the password is not
    assert page.input_value("#new-password") == ""
    page.fill("#new-password", "a long enough passphrase")
    page.click("#create-person-submit")
    page.wait_for_url("**done=created")
    assert "reviewer" in (page.text_content("#person-bob .roles") or "")
    bob = get_person(service.db, "bob")
    assert {r.value for r in bob.roles} == {"reviewer"}
    page.click("#edit-bob summary")
    page.uncheck("#role-bob-reviewer")
    page.check("#role-bob-auditor")
    page.click("#save-roles-bob")
    assert page.text_content("#done") == "Roles saved."
    assert {r.value for r in get_person(service.db, "bob").roles} == {"auditor"}
    # an admin cannot take their own admin role away, nor disable themselves
    page.click("#edit-root summary")
    page.uncheck("#role-root-admin")
    page.click("#save-roles-root")
    assert "own admin role" in (page.text_content("#error") or "")
    assert page.locator("#disable-root").count() == 0
    page.click("#edit-bob summary")
    page.click("#disable-bob")
    assert page.text_content("#person-bob .state") == "disabled"
    assert get_person(service.db, "bob").disabled
    shoot("people")
    root = _root(service)
    assert _events(service, "person.") == [
        (root, "person.create", f"user:{bob.id}"),
        (root, "person.roles", f"user:{bob.id}"),
        (root, "person.disable", f"user:{bob.id}"),
    ]
    sign_out(page)
    sign_in(page, service, "audrey")
    assert "needs the role admin" in refused(page, service, "/console/people")


def test_api_keys_for_admins(page: Page, service: LiveService, shoot: Shoot) -> None:
    sign_in(page, service, "root", "/console/keys")
    assert page.text_content("#no-keys") == "No key yet."
    page.fill("#key-name", "upload service")
    page.click("#create-key-submit")
    assert "at least one scope" in (page.text_content("#error") or "")
    page.check("#scope-curate")
    page.check("#scope-match")
    page.click("#create-key-submit")
    secret = page.text_content("#new-key") or ""
    assert secret.startswith("sw_")
    shoot("key-created")
    api = service.client(secret)
    assert api.get("/v1/banks").status_code == 200  # the key works, with its scopes
    assert api.get("/v1/keys").status_code == 403  # and only those
    page.goto(service.url + "/console/keys")
    assert secret not in page.content()  # shown once, never again
    prefix = secret.split("_")[1]
    assert "curate" in (page.text_content(f"#key-{prefix}") or "")
    page.click(f"#revoke-{prefix}")
    assert page.text_content(f"#key-{prefix} .state") == "revoked"
    assert api.get("/v1/banks").status_code == 401  # this process forgot it at once
    root = _root(service)
    assert _events(service, "key.") == [
        (root, "key.create", f"key:{prefix}"),
        (root, "key.revoke", f"key:{prefix}"),
    ]
    sign_out(page)
    sign_in(page, service, "alice")
    assert "needs the role admin" in refused(page, service, "/console/keys")


def test_webhooks_for_admins(
    page: Page, make_service: Callable[..., LiveService], platform: Platform, shoot: Shoot
) -> None:
    service = make_service(outbound_allowed_networks=["127.0.0.0/8"])
    sign_in(page, service, "root", "/console/webhooks")
    page.fill("#webhook-url", "ftp://nowhere")
    page.click("#add-webhook-submit")
    assert "http(s) URL" in (page.text_content("#error") or "")
    page.fill("#webhook-url", platform.hook)
    page.fill("#webhook-description", "Our upload service")
    page.click("#add-webhook-submit")
    secret = page.text_content("#new-secret") or ""
    assert secret.startswith("whsec_")
    page.click("#open-created")
    page.click("#test-webhook")
    assert "answered with success" in (page.text_content("#test-result") or "")
    (received,) = [r for r in platform.server.received if r.path == "/hook"]
    assert received.headers.get("Shieldwall-Event") == webhooks.TEST_EVENT
    webhooks.verify_signature(secret, received.headers, received.body)  # signed with it
    # recent deliveries: the jobs of this webhook
    (hook,) = webhooks.list_webhooks(service.db)
    with service.db.transaction() as session:
        webhooks.queue_event(session, webhooks.match_event("c-1", []), service.settings)
    deadline = time.monotonic() + 120  # the service's worker delivers it
    while len(platform.events) < 2:
        assert time.monotonic() < deadline, "the match event was not delivered"
        time.sleep(0.05)
    assert platform.events[1]["type"] == webhooks.MATCH_CREATED
    deadline = time.monotonic() + 120
    while webhooks.recent_deliveries(service.db, hook.id)[0].state.value != "done":
        assert time.monotonic() < deadline, "the delivery job did not finish"
        time.sleep(0.05)
    page.goto(f"{service.url}/console/webhooks/{hook.id}")
    rows = page.locator("#delivery-table tbody tr")
    assert rows.count() == 1 and "match.created" in (rows.first.text_content() or "")
    assert page.text_content("#delivery-table .state") == "done"
    shoot("webhook")
    # a receiver that fails: the page says what it answered
    bad, _ = webhooks.create_webhook(service.db, platform.server.url("/nowhere"), ["*"])
    page.goto(f"{service.url}/console/webhooks/{bad.id}")
    page.click("#test-webhook")
    assert "answered 404" in (page.text_content("#test-result") or "")
    page.click("#toggle-webhook")
    assert page.text_content("#webhook-state") == "disabled"
    assert page.is_disabled("#test-webhook")
    root = _root(service)
    assert [(a, x) for a, x, _ in _events(service, "webhook.")] == [
        (root, "webhook.create"),
        (root, "webhook.test"),
        (root, "webhook.test"),
        (root, "webhook.disable"),
    ]
    tests = [e for e in list_events(service.db, limit=1000) if e.action == "webhook.test"]
    assert [e.details["ok"] for e in tests] == [True, False]
    sign_out(page)
    sign_in(page, service, "audrey")
    assert "needs the role admin" in refused(page, service, "/console/webhooks")
    assert "needs the role admin" in refused(page, service, f"/console/webhooks/{hook.id}")


def test_case_search_for_case_roles(page: Page, service: LiveService, shoot: Shoot) -> None:
    adult = submit_notice(
        service.db,
        service.settings,
        valid_notice(content_ids=["content-77"], urls=["https://platform.example/p/777"]),
    )
    submit_notice(service.db, service.settings, valid_notice(content_ids=["content-78"]))
    minor = submit_notice(
        service.db,
        service.settings,
        valid_notice(content_ids=["content-77"], possible_minor=True),
    )
    sign_in(page, service, "alice")
    page.click("#nav-search")
    for text in (adult.tracking_number, adult.tracking_number.lower(), "content-77", "p/777"):
        page.fill("#search-q", text)
        page.click("#search-submit")
        links = page.locator("#results-table .case-link")
        assert links.count() == 1, text  # the restricted case is not found by a reviewer
        assert links.first.text_content() == adult.tracking_number
    shoot("search")
    page.fill("#search-q", "content-7")  # content ids match exactly
    page.click("#search-submit")
    assert page.text_content("#no-results") == "No case found."
    page.fill("#search-q", minor.tracking_number)
    page.click("#search-submit")
    assert page.text_content("#no-results") == "No case found."
    page.fill("#search-q", adult.tracking_number)
    page.click("#search-submit")
    page.click("#results-table .case-link")
    assert page.text_content("#case-tracking") == adult.tracking_number
    # a person with no case role: refused
    sign_out(page)
    from shieldwall.people.accounts import create_person

    from .web_helpers import PASSWORD

    create_person(service.db, "nobody", PASSWORD, [], settings=service.settings)
    sign_in(page, service, "nobody")
    assert page.locator("#nav-search").count() == 0
    assert "needs the role" in refused(page, service, "/console/search?q=content-77")
