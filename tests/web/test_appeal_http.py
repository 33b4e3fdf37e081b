"""The appeal pages over plain HTTP (no browser, no JavaScript): the public ``/appeal`` form
(both ways to appeal, each error next to its field, the one generic message for wrong
credentials, the throttle, the closed window, an appeal already open, CSRF, the code kept out
of the logs) and the console's ``/console/appeals`` (who may read, who may decide, what an
upheld appeal undoes)."""

from __future__ import annotations

import hashlib
import html
import logging
import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import httpx
import pytest
from sqlalchemy import func, select

from case_helpers import valid_notice
from service_helpers import LiveService
from shieldwall.audit.requests import read_audit
from shieldwall.banks import get_entry, prepare_signal
from shieldwall.cases import decide_case, submit_notice
from shieldwall.matching import add_to_ledger
from shieldwall.people import Actor
from shieldwall.people.accounts import create_person, get_person
from shieldwall.store import Database
from shieldwall.store.models import Appeal, CaseItem, utcnow
from shieldwall.web.routes.appeal import NOT_FOUND_MESSAGE
from shieldwall.web.routes.console_appeals import OWN_DECISION_MESSAGE, age

from .web_helpers import PASSWORD, csrf_of, signed_in


@dataclass(frozen=True)
class Decided:
    """A decided case: what the notifier and the uploader hold."""

    case_id: int
    tracking_number: str
    pin: str
    code: str
    entry_id: int | None


def _words(page: str) -> str:
    return html.unescape(re.sub(r"\s+", " ", page))


def _actor(db: Database, username: str) -> Actor:
    person = get_person(db, username)
    return Actor(f"user:{person.id}", person.roles)


def _decided(
    service: LiveService, content_id: str, *, decider: str = "alice", action: str = "remove"
) -> Decided:
    """A notice about ``content_id`` (known to the ledger), decided by ``decider``."""
    sha = hashlib.sha256(content_id.encode()).hexdigest()
    add_to_ledger(service.db, [(content_id, [prepare_signal("sha256", sha)])])
    receipt = submit_notice(service.db, service.settings, valid_notice(content_ids=[content_id]))
    decision = decide_case(
        service.db,
        service.settings,
        _actor(service.db, decider),
        receipt.case_id,
        action=action,
        ground="law",
        legal_ground="TAKE IT DOWN Act",
        reason="Non-consensual intimate image.",
    )
    return Decided(
        receipt.case_id,
        receipt.tracking_number,
        receipt.pin,
        decision.appeal_token,
        decision.entry_id,
    )


def _appeals(db: Database) -> list[tuple[int, str, str]]:
    with db.session() as session:
        rows = session.execute(select(Appeal.case_id, Appeal.appellant, Appeal.state))
        return [(int(a), str(b), str(c)) for a, b, c in rows]


def _post_appeal(client: httpx.Client, **fields: str) -> httpx.Response:
    form = client.get("/appeal")
    assert form.status_code == 200
    return client.post("/appeal", data={"csrf_token": csrf_of(form.text), **fields})


def _file(service: LiveService, decided: Decided, reason: str = "This is not me.") -> int:
    answer = _post_appeal(service.client(), way="code", code=decided.code, reason=reason)
    assert answer.status_code == 200, answer.text
    number = re.search(r'id="appeal-number">(\d+)<', answer.text)
    assert number
    return int(number.group(1))


@pytest.fixture
def appeal_service(make_service: Callable[..., LiveService]) -> LiveService:
    return make_service(notice_rate_limit=1000, notice_pin_max_failures=3)


# -- the public page --------------------------------------------------------------------------


def test_the_form_is_filled_from_the_link_and_the_code_is_not_logged(
    appeal_service: LiveService, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="shieldwall.access")
    client = appeal_service.client()
    secret = "Secret-Appeal-Code-1234567890"
    page = client.get(f"/appeal?code={secret}")
    assert page.status_code == 200
    assert page.headers["cache-control"] == "no-store"
    assert page.headers["referrer-policy"] == "no-referrer"  # the code never leaves as Referer
    assert f'id="code" name="code" value="{secret}"' in page.text
    assert re.search(r'id="way-code" name="way" value="code" checked', page.text)
    assert "shieldwall_public_csrf=" in page.headers["set-cookie"]
    by_number = client.get("/appeal?tracking_number=sw-aaaa-bbbb-cccc-dddd")
    assert 'value="SW-AAAA-BBBB-CCCC-DDDD"' in by_number.text
    assert re.search(r'id="way-tracking" name="way" value="tracking" checked', by_number.text)
    assert not re.search(r'id="way-code" name="way" value="code" checked', by_number.text)
    # the access log names the route, never the query string; the request audit neither
    logged = [r for r in caplog.records if r.name == "shieldwall.access"]
    assert any(getattr(r, "fields", {}).get("route") == "/appeal" for r in logged)
    for record in logged:
        assert secret not in record.getMessage() + repr(getattr(record, "fields", None))
    assert appeal_service.state.audit is not None
    appeal_service.state.audit.flush()
    assert secret not in repr(read_audit(appeal_service.db, limit=1000))
    paths = appeal_service.client().get("/openapi.json").json()["paths"]
    assert "/appeal" not in paths and "/console/appeals" not in paths


def test_the_uploader_appeals_with_the_code(appeal_service: LiveService, db: Database) -> None:
    decided = _decided(appeal_service, "content-up")
    client = appeal_service.client()
    answer = _post_appeal(client, way="code", code=decided.code, reason="This is not me.")
    assert answer.status_code == 200, answer.text
    number = re.search(r'id="appeal-number">(\d+)<', answer.text)
    assert number
    with db.session() as session:
        appeal = session.get(Appeal, int(number.group(1)))
        assert appeal is not None
        assert (appeal.case_id, appeal.appellant, appeal.reason) == (
            decided.case_id,
            "uploader",
            "This is not me.",
        )
    words = _words(answer.text)
    assert "senior reviewer who did not make the first decision" in words
    assert 'id="status-link" href="/status"' in answer.text
    assert decided.code not in answer.text


def test_the_notifier_appeals_from_the_status_page(
    appeal_service: LiveService, db: Database
) -> None:
    decided = _decided(appeal_service, "content-notifier")
    client = appeal_service.client()
    form = client.get("/status")
    status = client.post(
        "/status",
        data={
            "tracking_number": decided.tracking_number,
            "pin": decided.pin,
            "csrf_token": csrf_of(form.text),
        },
    )
    link = f'id="appeal-link" href="/appeal?tracking_number={decided.tracking_number}"'
    assert link in status.text
    page = client.get(f"/appeal?tracking_number={decided.tracking_number}")
    answer = client.post(
        "/appeal",
        data={
            "way": "tracking",
            "tracking_number": decided.tracking_number.lower(),
            "pin": decided.pin,
            "reason": "The image is still there: remove the copies too.",
            "csrf_token": csrf_of(page.text),
        },
    )
    assert answer.status_code == 200, answer.text
    assert "on the status page, with your tracking number and PIN" in _words(answer.text)
    assert f'href="/status?tracking_number={decided.tracking_number}"' in answer.text
    assert decided.pin not in answer.text
    assert _appeals(db) == [(decided.case_id, "notifier", "open")]
    again = client.post(
        "/status",
        data={
            "tracking_number": decided.tracking_number,
            "pin": decided.pin,
            "csrf_token": csrf_of(form.text),
        },
    )
    assert "<td>Appealed: being reviewed again</td>" in again.text
    assert "an appeal was filed" in again.text
    assert 'id="appeal-link"' not in again.text  # the notice is appealed, no longer "decided"


def test_an_undecided_notice_has_no_appeal_link(appeal_service: LiveService) -> None:
    receipt = submit_notice(appeal_service.db, appeal_service.settings, valid_notice())
    client = appeal_service.client()
    form = client.get("/status")
    status = client.post(
        "/status",
        data={
            "tracking_number": receipt.tracking_number,
            "pin": receipt.pin,
            "csrf_token": csrf_of(form.text),
        },
    )
    assert status.status_code == 200 and 'id="appeal-link"' not in status.text
    answer = _post_appeal(
        client,
        way="tracking",
        tracking_number=receipt.tracking_number,
        pin=receipt.pin,
        reason="Why so slow?",
    )
    assert answer.status_code == 409
    assert "has not been decided" in _words(answer.text)


@pytest.mark.parametrize(
    ("fields", "missing"),
    [
        ({"way": "code", "code": "some-code", "reason": ""}, ["reason"]),
        ({"way": "code", "code": "", "reason": "It is wrong."}, ["code"]),
        (
            {"way": "tracking", "tracking_number": "", "pin": "", "reason": "It is wrong."},
            ["tracking_number", "pin"],
        ),
        (
            {"way": "tracking", "tracking_number": "SW-AAAA", "pin": "123", "reason": " "},
            ["reason"],
        ),
        ({"way": "tracking", "tracking_number": "SW-AAAA", "pin": "", "reason": "x"}, ["pin"]),
    ],
)
def test_each_missing_field_is_named_next_to_it(
    appeal_service: LiveService, db: Database, fields: dict[str, str], missing: list[str]
) -> None:
    answer = _post_appeal(appeal_service.client(), **fields)
    assert answer.status_code == 422
    assert 'id="form-error"' in answer.text
    assert answer.text.count('class="field-error"') == len(missing)
    for name in missing:
        block = re.search(
            rf'<p class="field-error" id="error-{name}">[^<]+</p>\s*<(input|textarea)[^>]*'
            rf'id="{name}"[^>]*aria-invalid="true"',
            answer.text,
        )
        assert block, f"no error next to {name}"
    if fields.get("reason", "").strip():
        assert fields["reason"] in answer.text  # the values are kept
    if fields.get("tracking_number"):
        assert f'value="{fields["tracking_number"]}"' in answer.text
    if fields.get("pin"):
        assert f'value="{fields["pin"]}"' not in answer.text  # never the PIN
    assert _appeals(db) == []


def test_wrong_credentials_get_one_message_then_throttled(
    appeal_service: LiveService, db: Database
) -> None:
    decided = _decided(appeal_service, "content-wrong")
    client = appeal_service.client()
    wrong = [
        {"way": "code", "code": "not-the-code"},
        {"way": "tracking", "tracking_number": decided.tracking_number, "pin": "2345678923"},
        {"way": "tracking", "tracking_number": "SW-AAAA-BBBB-CCCC-DDDD", "pin": decided.pin},
    ]
    for fields in wrong:
        answer = _post_appeal(client, reason="It is wrong.", **fields)
        assert answer.status_code == 404
        assert _words(answer.text).count(NOT_FOUND_MESSAGE) == 1
        assert 'value="not-the-code"' not in answer.text
        assert "It is wrong." in answer.text
    throttled = _post_appeal(client, way="code", code=decided.code, reason="It is wrong.")
    assert throttled.status_code == 429 and "Retry-After" in throttled.headers
    assert "Too many wrong attempts" in throttled.text
    assert _appeals(db) == []  # the right code is not tried while throttled


def test_a_closed_window_and_an_open_appeal_are_explained(
    appeal_service: LiveService, db: Database
) -> None:
    decided = _decided(appeal_service, "content-late")
    with db.transaction() as session:
        case = session.get(CaseItem, decided.case_id)
        assert case is not None
        case.decided_at = utcnow() - timedelta(days=200)
    late = _post_appeal(appeal_service.client(), way="code", code=decided.code, reason="Late.")
    assert late.status_code == 409
    assert "appeal window has closed" in _words(late.text)
    assert _appeals(db) == []

    other = _decided(appeal_service, "content-twice")
    _file(appeal_service, other)
    twice = _post_appeal(
        appeal_service.client(),
        way="tracking",
        tracking_number=other.tracking_number,
        pin=other.pin,
        reason="Me too.",
    )
    assert twice.status_code == 409
    assert "An appeal against this decision is already open" in _words(twice.text)
    assert len(_appeals(db)) == 1


def test_posts_without_csrf_are_refused_and_the_page_is_rate_limited(
    make_service: Callable[..., LiveService], db: Database
) -> None:
    service = make_service(notice_rate_limit=0.01)
    decided = _decided(service, "content-csrf")
    client = service.client()
    client.get("/appeal")
    data = {"way": "code", "code": decided.code, "reason": "Wrong."}
    assert client.post("/appeal", data=data).status_code == 403
    assert client.post("/appeal", data={**data, "csrf_token": "forged"}).status_code == 403
    assert _appeals(db) == []
    assert _post_appeal(client, **data).status_code == 200
    again = _post_appeal(client, **data)
    assert again.status_code == 429 and "Retry-After" in again.headers
    assert "Wrong." in again.text  # the values are kept
    assert len(_appeals(db)) == 1


# -- the console ------------------------------------------------------------------------------


def test_who_sees_the_appeals_pages(appeal_service: LiveService) -> None:
    create_person(appeal_service.db, "rob", PASSWORD, "reviewer", settings=appeal_service.settings)
    anonymous = appeal_service.client().get("/console/appeals")
    assert anonymous.status_code == 303 and anonymous.headers["location"].startswith("/login")
    rob = signed_in(appeal_service, "rob")
    assert rob.get("/console/appeals").status_code == 403
    assert 'id="forbidden"' in rob.get("/console/appeals").text
    assert 'id="nav-appeals"' not in rob.get("/console").text
    for username in ("alice", "root", "audrey"):
        client = signed_in(appeal_service, username)
        assert client.get("/console/appeals").status_code == 200, username
        assert '<a href="/console/appeals" id="nav-appeals">Appeals</a>' in (
            client.get("/console").text
        )


def test_the_list_shows_open_appeals_oldest_first_and_filters(
    appeal_service: LiveService,
) -> None:
    first = _decided(appeal_service, "content-l1")
    second = _decided(appeal_service, "content-l2")
    one = _file(appeal_service, first)
    two = _file(appeal_service, second)
    client = signed_in(appeal_service, "audrey")
    page = client.get("/console/appeals")
    rows = re.findall(r'id="appeal-row-(\d+)"', page.text)
    assert rows == [str(one), str(two)]
    assert first.tracking_number in page.text and "uploader" in page.text
    assert len(re.findall(r"<td>(?:under 1 h|\d+ h|\d+ d \d+ h)</td>", page.text)) == 2
    root = signed_in(appeal_service, "root")
    detail = root.get(f"/console/appeals/{one}")
    answer = root.post(
        f"/console/appeals/{one}",
        data={"csrf_token": csrf_of(detail.text), "outcome": "reject", "reason": "It stands."},
    )
    assert answer.status_code == 303
    assert re.findall(r'id="appeal-row-(\d+)"', client.get("/console/appeals").text) == [str(two)]
    rejected = client.get("/console/appeals?state=rejected")
    assert re.findall(r'id="appeal-row-(\d+)"', rejected.text) == [str(one)]
    assert (
        re.findall(r'id="appeal-row-(\d+)"', client.get("/console/appeals?state=upheld").text) == []
    )
    bad = client.get("/console/appeals?state=lost")
    assert bad.status_code == 422 and "choose open, upheld or rejected" in bad.text


def test_the_age_of_an_appeal_is_in_days_and_hours() -> None:
    filed = datetime(2026, 1, 1, 8, 0, tzinfo=UTC)
    assert age(filed, filed + timedelta(minutes=59)) == "under 1 h"
    assert age(filed, filed + timedelta(hours=5, minutes=30)) == "5 h"
    assert age(filed, filed + timedelta(days=2, hours=3)) == "2 d 3 h"
    assert age(filed, filed - timedelta(hours=1)) == "under 1 h"  # a clock step back


def test_the_decider_cannot_decide_the_appeal_of_their_own_decision(
    appeal_service: LiveService, db: Database
) -> None:
    decided = _decided(appeal_service, "content-own", decider="alice")
    number = _file(appeal_service, decided)
    alice = signed_in(appeal_service, "alice")
    page = alice.get(f"/console/appeals/{number}")
    assert page.status_code == 200
    assert OWN_DECISION_MESSAGE in _words(page.text)
    assert 'id="appeal-submit"' not in page.text and 'id="appeal-uphold"' not in page.text
    assert 'id="decision-decided-by">Alice Reviewer<' in page.text
    assert 'id="decision-legal-ground">TAKE IT DOWN Act<' in page.text
    assert 'id="decision-reason">Non-consensual intimate image.<' in page.text
    assert 'id="appeal-appellant-reason">This is not me.<' in page.text
    forged = alice.post(
        f"/console/appeals/{number}",
        data={"csrf_token": csrf_of(page.text), "outcome": "uphold", "reason": "Mine was wrong."},
    )
    assert forged.status_code == 403 and 'id="forbidden"' in forged.text
    assert _appeals(db) == [(decided.case_id, "uploader", "open")]


def test_an_auditor_reads_but_cannot_decide(appeal_service: LiveService, db: Database) -> None:
    decided = _decided(appeal_service, "content-aud")
    number = _file(appeal_service, decided)
    audrey = signed_in(appeal_service, "audrey")
    page = audrey.get(f"/console/appeals/{number}")
    assert page.status_code == 200 and 'id="appeal-read-only"' in page.text
    assert 'id="appeal-submit"' not in page.text
    answer = audrey.post(
        f"/console/appeals/{number}",
        data={"csrf_token": csrf_of(page.text), "outcome": "uphold", "reason": "Wrong."},
    )
    assert answer.status_code == 403 and 'id="forbidden"' in answer.text
    assert _appeals(db) == [(decided.case_id, "uploader", "open")]
    assert audrey.get("/console/appeals/999999").status_code == 404


def test_a_decision_needs_an_outcome_a_reason_and_the_csrf_token(
    appeal_service: LiveService, db: Database
) -> None:
    decided = _decided(appeal_service, "content-form")
    number = _file(appeal_service, decided)
    root = signed_in(appeal_service, "root")
    page = root.get(f"/console/appeals/{number}")
    for field in ("appeal-uphold", "appeal-reject", "appeal-reason", "appeal-submit"):
        assert f'id="{field}"' in page.text
    token = csrf_of(page.text)
    answer = root.post(
        f"/console/appeals/{number}", data={"csrf_token": token, "outcome": "uphold"}
    )
    assert answer.status_code == 422
    assert re.search(r'id="error-reason">[^<]+</p>\s*<textarea id="appeal-reason"', answer.text)
    assert re.search(r'id="appeal-uphold" name="outcome" value="uphold" checked', answer.text)
    answer = root.post(f"/console/appeals/{number}", data={"csrf_token": token, "reason": "Hm."})
    assert answer.status_code == 422 and 'id="error-outcome"' in answer.text
    assert ">Hm.</textarea>" in answer.text
    forged = root.post(f"/console/appeals/{number}", data={"outcome": "uphold", "reason": "Wrong."})
    assert forged.status_code == 403
    assert _appeals(db) == [(decided.case_id, "uploader", "open")]


def test_an_upheld_appeal_reverses_the_removal(appeal_service: LiveService, db: Database) -> None:
    decided = _decided(appeal_service, "content-upheld", decider="alice")
    assert decided.entry_id is not None
    client = appeal_service.client()
    page = client.get(f"/appeal?tracking_number={decided.tracking_number}")
    answer = client.post(
        "/appeal",
        data={
            "way": "tracking",
            "tracking_number": decided.tracking_number,
            "pin": decided.pin,
            "reason": "Wrong image.",
            "csrf_token": csrf_of(page.text),
        },
    )
    number = re.search(r'id="appeal-number">(\d+)<', answer.text)
    assert number
    root = signed_in(appeal_service, "root")
    form = root.get(f"/console/appeals/{number.group(1)}")
    decided_answer = root.post(
        f"/console/appeals/{number.group(1)}",
        data={"csrf_token": csrf_of(form.text), "outcome": "uphold", "reason": "Not NCII."},
    )
    assert decided_answer.status_code == 303
    assert decided_answer.headers["location"] == f"/console/appeals/{number.group(1)}?decided=1"
    shown = root.get(decided_answer.headers["location"])
    assert 'id="decided"' in shown.text and 'id="appeal-state">upheld<' in shown.text
    assert 'id="case-state">reversed<' in shown.text
    assert 'id="appeal-outcome-reason">Not NCII.<' in shown.text and "Ada Admin" in shown.text
    assert 'id="appeal-submit"' not in shown.text
    entry = get_entry(db, decided.entry_id)
    assert entry.external_ids == {decided.tracking_number: "withdrawn"}
    status_form = client.get("/status")
    status = client.post(
        "/status",
        data={
            "tracking_number": decided.tracking_number,
            "pin": decided.pin,
            "csrf_token": csrf_of(status_form.text),
        },
    )
    assert "appeal upheld: decision reversed" in status.text
    assert "The decision to remove the image was reversed on appeal" in status.text
    again = root.post(
        f"/console/appeals/{number.group(1)}",
        data={"csrf_token": csrf_of(form.text), "outcome": "reject", "reason": "Again."},
    )
    assert again.status_code == 409 and "decided already" in again.text


def test_a_rejected_appeal_leaves_the_removal(appeal_service: LiveService, db: Database) -> None:
    decided = _decided(appeal_service, "content-rejected", decider="root")
    number = _file(appeal_service, decided)
    alice = signed_in(appeal_service, "alice")  # a senior reviewer, not the decider
    form = alice.get(f"/console/appeals/{number}")
    answer = alice.post(
        f"/console/appeals/{number}",
        data={"csrf_token": csrf_of(form.text), "outcome": "reject", "reason": "Correct."},
    )
    assert answer.status_code == 303
    assert decided.entry_id is not None
    assert get_entry(db, decided.entry_id).external_ids == {decided.tracking_number: "active"}
    with db.session() as session:
        assert session.scalar(select(func.count()).select_from(Appeal)) == 1
        case = session.get(CaseItem, decided.case_id)
        assert case is not None and case.state == "decided"
