"""The public notice pages over plain HTTP (no browser, no JavaScript): the form, each
missing field's error next to it with nothing saved, the acknowledgement with the tracking
number and the PIN, the status page, the generic "not found", CSRF and the rate limits."""

from __future__ import annotations

import html
import re
from collections.abc import Callable
from typing import Any

import httpx
import pytest
from sqlalchemy import func, select

from service_helpers import LiveService
from shieldwall.cases.notices import DECLARATIONS
from shieldwall.store import Database
from shieldwall.store.models import CaseItem, Notice
from shieldwall.web.routes.report import NOT_FOUND_MESSAGE

from .web_helpers import csrf_of

#: A complete notice as the form posts it (checkboxes: present means ticked).
VALID: dict[str, str] = {
    "urls": "https://example.org/post/1\nhttps://example.org/post/2",
    "content_ids": "",
    "content_kind": "real",
    "explanation": "This is a private photo of me, shared without my consent.",
    "reporter_name": "Jane Doe",
    "reporter_email": "jane@example.org",
    "signature": "Jane Doe",
    "trusted_flagger_token": "",
    "authority_explanation": "",
    **dict.fromkeys(DECLARATIONS, "yes"),
}
#: Each field the form requires of a person reporting for themselves.
REQUIRED = ("urls", "explanation", "reporter_name", "reporter_email", "signature", *DECLARATIONS)


def _count(db: Database) -> tuple[int, int]:
    with db.session() as session:
        notices = session.scalar(select(func.count()).select_from(Notice)) or 0
        cases = session.scalar(select(func.count()).select_from(CaseItem)) or 0
    return int(notices), int(cases)


def _post_report(client: httpx.Client, **changes: Any) -> httpx.Response:
    form = client.get("/report")
    assert form.status_code == 200
    data: dict[str, str] = {**VALID, "csrf_token": csrf_of(form.text)}
    for name, value in changes.items():
        if value is None:
            data.pop(name, None)
        else:
            data[name] = value
    return client.post("/report", data=data)


def _error_next_to(page: str, field: str) -> str:
    """The error shown inside ``field``'s own block (just before its input)."""
    block = re.search(
        rf'<div class="field invalid">\s*(?:<label for="{field}">.*?</label>\s*)?'
        rf'(?:<p class="hint"[^>]*>.*?</p>\s*)?'
        rf'<p class="field-error" id="error-{field}">([^<]+)</p>',
        page,
        re.DOTALL,
    )
    assert block, f"no error next to {field}"
    return html.unescape(block.group(1))


@pytest.fixture
def report_service(make_service: Callable[..., LiveService]) -> LiveService:
    return make_service(notice_rate_limit=1000, notice_pin_max_failures=3)


def test_home_links_the_report_page(report_service: LiveService) -> None:
    home = report_service.client().get("/")
    assert 'href="/report"' in home.text


def test_the_form_has_every_field_and_the_process_notice(report_service: LiveService) -> None:
    page = report_service.client().get("/report")
    assert page.status_code == 200
    assert page.headers["cache-control"] == "no-store"
    assert 'id="process-notice"' in page.text and "48 hours" in page.text
    for name in (*VALID, "possible_minor", "authorised_agent"):
        assert f'name="{name}"' in page.text, name
    assert "shieldwall_public_csrf=" in page.headers["set-cookie"]
    paths = report_service.client().get("/openapi.json").json()["paths"]
    assert "/report" not in paths and "/status" not in paths


def test_a_valid_notice_gets_a_tracking_number_pin_and_status_page(
    report_service: LiveService, db: Database
) -> None:
    client = report_service.client()
    answer = _post_report(client)
    assert answer.status_code == 200, answer.text
    tracking = re.search(r'id="tracking-number">([^<]+)<', answer.text)
    pin = re.search(r'id="pin">(\d+)<', answer.text)
    assert tracking and pin
    words = re.sub(r"\s+", " ", answer.text)
    assert "shown only once" in words and "cannot be recovered" in words
    assert f'href="/status?tracking_number={tracking.group(1)}"' in answer.text
    assert answer.headers["cache-control"] == "no-store"
    assert _count(db) == (1, 1)

    form = client.get(f"/status?tracking_number={tracking.group(1)}")
    assert f'value="{tracking.group(1)}"' in form.text
    status = client.post(
        "/status",
        data={
            "tracking_number": tracking.group(1).lower(),  # typed in lower case: still found
            "pin": pin.group(1),
            "csrf_token": csrf_of(form.text),
        },
    )
    assert status.status_code == 200, status.text
    assert re.search(r'id="current-status">Received, waiting for review<', status.text)
    assert '<table id="history">' in status.text
    assert "<td>Received, waiting for review</td>" in status.text
    assert "Jane Doe" not in status.text and "jane@example.org" not in status.text


@pytest.mark.parametrize("field", REQUIRED)
def test_each_missing_field_is_named_next_to_it_and_nothing_is_saved(
    report_service: LiveService, db: Database, field: str
) -> None:
    client = report_service.client()
    answer = _post_report(client, **{field: None})
    assert answer.status_code == 422
    assert 'id="form-error"' in answer.text
    message = _error_next_to(answer.text, field)
    if field in DECLARATIONS:
        assert "Tick this box" in message and DECLARATIONS[field] in message
    elif field == "urls":
        assert "exact URL" in message
    else:
        assert message == "This field is required."
    assert answer.text.count('class="field-error"') == 1  # only the missing field
    # the values entered are kept
    if field != "reporter_email":
        assert 'value="jane@example.org"' in answer.text
    if field != "explanation":
        assert "shared without my consent." in answer.text
    if field not in DECLARATIONS:
        assert answer.text.count(" checked") == len(DECLARATIONS)
    assert _count(db) == (0, 0)


def test_invalid_values_and_the_agent_and_minor_flags(
    report_service: LiveService, db: Database
) -> None:
    client = report_service.client()
    answer = _post_report(
        client,
        urls="not a url",
        reporter_email="jane-at-example",
        explanation="short",
        authorised_agent="yes",
        trusted_flagger_token="wrong",
    )
    assert answer.status_code == 422
    assert _error_next_to(answer.text, "urls").startswith("Not an exact http(s) URL")
    assert _error_next_to(answer.text, "reporter_email") == "Not an email address."
    assert "10+ chars" in _error_next_to(answer.text, "explanation")
    assert _error_next_to(answer.text, "authority_explanation") == "This field is required."
    assert "trusted flagger" in _error_next_to(answer.text, "trusted_flagger_token")
    assert 'value="jane-at-example"' in answer.text and "not a url" in answer.text
    assert _count(db) == (0, 0)
    # a possibly minor person depicted: no name needed, and the case goes to the restricted queue
    answer = _post_report(client, reporter_name="", possible_minor="yes")
    assert answer.status_code == 200, answer.text
    with db.session() as session:
        assert session.scalars(select(CaseItem.queue)).all() == ["restricted"]


def test_wrong_pin_and_unknown_number_get_the_same_message_then_throttled(
    report_service: LiveService,
) -> None:
    client = report_service.client()
    answer = _post_report(client)
    tracking = re.search(r'id="tracking-number">([^<]+)<', answer.text)
    assert tracking
    form = client.get("/status")
    token = csrf_of(form.text)
    answers = [
        client.post(
            "/status", data={"tracking_number": number, "pin": "2345678923", "csrf_token": token}
        )
        for number in (tracking.group(1), "SW-AAAA-BBBB-CCCC-DDDD")
    ]
    for wrong in answers:
        assert wrong.status_code == 404
        assert html.unescape(re.sub(r"\s+", " ", wrong.text)).count(NOT_FOUND_MESSAGE) == 1
    assert answers[0].text.replace(tracking.group(1), "X") == answers[1].text.replace(
        "SW-AAAA-BBBB-CCCC-DDDD", "X"
    )
    third = client.post(
        "/status", data={"tracking_number": "SW-X", "pin": "1", "csrf_token": token}
    )
    assert third.status_code == 404
    throttled = client.post(
        "/status", data={"tracking_number": "SW-X", "pin": "1", "csrf_token": token}
    )
    assert throttled.status_code == 429 and "Retry-After" in throttled.headers


def test_posts_without_csrf_are_refused(report_service: LiveService, db: Database) -> None:
    client = report_service.client()
    client.get("/report")  # the cookie is set, but the form's token is missing
    answer = client.post("/report", data=VALID)
    assert answer.status_code == 403 and 'id="forbidden"' in answer.text
    assert 'href="/"' in answer.text and 'href="/console"' not in answer.text
    wrong = client.post("/report", data={**VALID, "csrf_token": "forged"})
    assert wrong.status_code == 403
    fresh = report_service.client()  # no cookie at all
    assert fresh.post("/report", data={**VALID, "csrf_token": "x"}).status_code == 403
    assert fresh.post("/status", data={"tracking_number": "SW-X", "pin": "1"}).status_code == 403
    assert _count(db) == (0, 0)


def test_the_report_page_is_rate_limited_per_address(
    make_service: Callable[..., LiveService], db: Database
) -> None:
    service = make_service(notice_rate_limit=0.01)
    client = service.client()
    assert _post_report(client).status_code == 200
    again = _post_report(client)
    assert again.status_code == 429 and "Retry-After" in again.headers
    assert 'value="jane@example.org"' in again.text  # the values are kept
    assert _count(db) == (1, 1)


def test_a_form_sent_back_with_errors_uses_no_allowance(
    make_service: Callable[..., LiveService], db: Database
) -> None:
    """Only a valid notice takes one of the address's rate-limit tokens (issue 15)."""
    service = make_service(notice_rate_limit=0.001)  # one request, then a long wait
    client = service.client()
    for _ in range(3):
        assert _post_report(client, signature=None).status_code == 422
    assert _post_report(client).status_code == 200
    assert _post_report(client).status_code == 429
    assert _count(db) == (1, 1)
    appeal = client.get("/appeal")
    assert (
        client.post("/appeal", data={"csrf_token": csrf_of(appeal.text), "way": "code"}).status_code
        == 422
    )  # missing fields: answered, not throttled
