"""A removal always says what it banked (issue 16 point 1), over the API and the console form:
hashes from the platform's preview when the ledger has none, from the reviewer's upload, or,
plainly, nothing and why; the statement of reasons says only what is true."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from case_helpers import valid_notice
from service_helpers import LiveService
from shieldwall.audit import list_events
from shieldwall.banks import create_bank, get_entry
from shieldwall.cases import CaseView, list_queue
from shieldwall.hashing import hash_bytes
from shieldwall.matching import add_to_ledger
from shieldwall.people import Actor, Role

from .platform_helpers import Platform, image_bytes
from .web_helpers import csrf_of, signed_in

ADMIN = Actor("user:x", frozenset({Role.ADMIN}))
REMOVE = {
    "action": "remove",
    "ground": "law",
    "legal_ground": "TAKE IT DOWN Act, 47 U.S.C. 223a",
    "reason": "An intimate image published without consent.",
}


@pytest.fixture
def platform() -> Iterator[Platform]:
    with Platform() as running:
        yield running


def _service(make: Callable[..., LiveService], platform: Platform | None) -> LiveService:
    extra: dict[str, Any] = {}
    if platform is not None:
        extra = {
            "preview_url_template": platform.template,
            "outbound_allowed_networks": ["127.0.0.0/8"],
        }
    return make(
        notice_rate_limit=1000, cases_block_bank="removed", worker_poll_seconds=0.05, **extra
    )


def _decide_by_api(live: LiveService, content_id: str) -> dict[str, Any]:
    live.client().post("/v1/notices", json=valid_notice(content_ids=[content_id]))
    reviewer = live.client(live.key("review"))
    case_id = reviewer.post("/v1/cases/claim").json()["case"]["id"]
    answer = reviewer.post(f"/v1/cases/{case_id}/decision", json=REMOVE)
    assert answer.status_code == 200, answer.text
    body: dict[str, Any] = answer.json()
    return body


def _copies(live: LiveService, content_id: str, timeout: float = 120.0) -> list[CaseView]:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = [c for c in list_queue(live.db, ADMIN) if c.content_ids == [content_id]]
        if found:
            return found
        time.sleep(0.1)
    return []


def test_content_missing_from_the_ledger_is_hashed_from_the_preview_and_swept(
    make_service: Callable[..., LiveService], platform: Platform
) -> None:
    platform.contents["post-1"] = image_bytes(1)
    live = _service(make_service, platform)
    # the platform's ledger knows an altered re-upload, not the reported post
    altered = hash_bytes(image_bytes(1, variant="recompressed"), signals=["pdq", "sha256"])
    add_to_ledger(live.db, [("copy-1", list(altered.signals.values()))])
    body = _decide_by_api(live, "post-1")
    banking = body["banking"]
    assert banking["banked"] is True and banking["bank"] == "removed"
    assert banking["sources"] == {"post-1": "preview"}
    assert {"pdq", "md5", "sha256"} <= set(banking["signal_types"])
    assert banking["missing"] == {}
    assert banking["entry_id"] == body["entry_id"] is not None
    assert banking["sweep_job_id"] == body["sweep_job_id"] is not None
    assert "from the platform's preview" in banking["summary"]
    assert f"Sweep job #{body['sweep_job_id']}" in banking["summary"]
    assert [r.path for r in platform.preview_requests] == ["/review/post-1"]
    entry = get_entry(live.db, body["entry_id"])
    pdq = next(s.value for s in entry.signals if s.type == "pdq")
    assert pdq not in str(body)  # hash values are never in the answer
    detail = live.client(live.key("review")).get(f"/v1/cases/{body['case']['id']}")
    assert detail.json()["banking"]["sources"] == {"post-1": "preview"}
    assert pdq not in detail.text
    scope = body["statement"]["decision"]["scope"]
    assert "copies of it" in scope and "blocked" in scope
    # the sweep finds the altered copy and a copy task opens for it
    assert _copies(live, "copy-1"), "no copy task was opened"
    banked = [e for e in list_events(live.db) if e.action == "case.banked"]
    assert banked[0].details["sources"] == {"post-1": "preview"}


def test_without_ledger_or_preview_nothing_is_banked_and_it_says_why(
    make_service: Callable[..., LiveService],
) -> None:
    live = _service(make_service, None)
    body = _decide_by_api(live, "post-9")
    assert body["case"]["state"] == "decided"  # a removal never waits for its hashes
    banking = body["banking"]
    assert banking["banked"] is False and banking["entry_id"] is None
    assert body["entry_id"] is None and body["sweep_job_id"] is None
    assert "no preview source is configured" in banking["missing"]["post-9"]
    assert banking["summary"].startswith("Nothing was banked")
    scope = body["statement"]["decision"]["scope"]
    assert scope.startswith("only the content") and "not blocked" in scope
    assert "same hashes" not in str(body["statement"])
    assert [e.action for e in list_events(live.db) if e.action.startswith("case.")] == [
        "case.claimed",
        "case.decided",
        "case.not_banked",
    ]
    # the stored statement says the same
    reviewer = live.client(live.key("review"))
    stored = reviewer.get(f"/v1/cases/{body['case']['id']}/statement").json()
    assert stored["statement_of_reasons"]["decision"]["scope"] == scope
    # and the case itself says what was (not) banked
    detail = reviewer.get(f"/v1/cases/{body['case']['id']}").json()
    assert detail["banking"]["entry_id"] is None
    assert "no preview source" in detail["banking"]["missing"]["post-9"]


@pytest.mark.parametrize(
    ("content", "why"),
    [(None, "could not be fetched"), (b"\xff\xd8\xff not a JPEG", "could not be hashed")],
)
def test_a_preview_that_fails_is_named(
    make_service: Callable[..., LiveService],
    platform: Platform,
    content: bytes | None,
    why: str,
) -> None:
    if content is not None:
        platform.contents["post-2"] = content  # else the platform answers 404
    live = _service(make_service, platform)
    banking = _decide_by_api(live, "post-2")["banking"]
    assert banking["banked"] is False
    assert why in banking["missing"]["post-2"]


def test_other_actions_carry_no_banking(make_service: Callable[..., LiveService]) -> None:
    live = _service(make_service, None)
    live.client().post("/v1/notices", json=valid_notice())
    reviewer = live.client(live.key("review"))
    case_id = reviewer.post("/v1/cases/claim").json()["case"]["id"]
    body = reviewer.post(
        f"/v1/cases/{case_id}/decision",
        json={"action": "label", "ground": "terms", "reason": "Synthetic intimate image."},
    ).json()
    assert body["banking"] is None
    assert body["statement"]["decision"]["scope"].startswith("only the content")


def test_the_console_banks_the_reviewers_upload_and_the_page_says_so(
    make_service: Callable[..., LiveService],
) -> None:
    live = _service(make_service, None)  # no ledger entry, no preview source
    live.client().post("/v1/notices", json=valid_notice(content_ids=["post-3"]))
    case_id = list_queue(live.db, ADMIN)[0].id
    client = signed_in(live, "alice")
    page = client.get(f"/console/cases/{case_id}").text
    assert 'enctype="multipart/form-data"' in page and 'id="content-upload"' in page
    answer = client.post(
        f"/console/cases/{case_id}/decide",
        data={"csrf_token": csrf_of(page), **REMOVE},
        files={"content": ("post-3.jpg", image_bytes(3), "image/jpeg")},
    )
    assert answer.status_code == 303, answer.text
    page = client.get(answer.headers["location"]).text
    assert 'id="banking"' in page and 'id="banked-types"' in page
    assert "hashed from the reviewer&#39;s upload" in page
    assert 'id="sweep-job"' in page
    # a case decided without any copy: the page says plainly that nothing was banked
    live.client().post("/v1/notices", json=valid_notice(content_ids=["post-4"]))
    other = next(c.id for c in list_queue(live.db, ADMIN) if c.content_ids == ["post-4"])
    page = client.get(f"/console/cases/{other}").text
    client.post(f"/console/cases/{other}/decide", data={"csrf_token": csrf_of(page), **REMOVE})
    page = client.get(f"/console/cases/{other}").text
    assert "<strong>Nothing was banked</strong>" in page
    assert "no preview source is configured" in page and 'id="banked-types"' not in page


def test_the_api_takes_the_reviewers_upload_and_refuses_a_bad_one(
    make_service: Callable[..., LiveService],
) -> None:
    live = _service(make_service, None)
    live.client().post("/v1/notices", json=valid_notice(content_ids=["post-6"]))
    reviewer = live.client(live.key("review"))
    case_id = reviewer.post("/v1/cases/claim").json()["case"]["id"]
    url = f"/v1/cases/{case_id}/decision/upload"
    for data, status in ((b"\xff\xd8\xff not a JPEG", 415), (b"", 422)):
        bad = reviewer.post(url, data=REMOVE, files={"file": ("post-6.jpg", data, "image/jpeg")})
        assert bad.status_code == status, bad.text
        assert reviewer.get(f"/v1/cases/{case_id}").json()["state"] == "claimed"  # not decided
    answer = reviewer.post(
        url, data=REMOVE, files={"file": ("post-6.jpg", image_bytes(6), "image/jpeg")}
    )
    assert answer.status_code == 200, answer.text
    banking = answer.json()["banking"]
    assert banking["banked"] is True and banking["sources"] == {"post-6": "upload"}
    assert "pdq" in banking["signal_types"]


def test_the_console_refuses_an_upload_it_cannot_hash(
    make_service: Callable[..., LiveService],
) -> None:
    live = _service(make_service, None)
    live.client().post("/v1/notices", json=valid_notice(content_ids=["post-7"]))
    case_id = list_queue(live.db, ADMIN)[0].id
    client = signed_in(live, "alice")
    page = client.get(f"/console/cases/{case_id}").text
    answer = client.post(
        f"/console/cases/{case_id}/decide",
        data={"csrf_token": csrf_of(page), **REMOVE},
        files={"content": ("post-7.jpg", b"not an image at all", "image/jpeg")},
    )
    assert answer.status_code == 422
    assert 'id="error-content"' in answer.text and "cannot be hashed" in answer.text
    assert list_queue(live.db, ADMIN)[0].state != "decided"


def test_a_block_bank_with_local_features_gets_them_from_the_preview(
    make_service: Callable[..., LiveService], platform: Platform
) -> None:
    platform.contents["post-8"] = image_bytes(8)
    live = _service(make_service, platform)
    create_bank(live.db, "removed", "block", local_features=True)
    banking = _decide_by_api(live, "post-8")["banking"]
    assert banking["sources"] == {"post-8": "preview"}
    assert "orb" in banking["signal_types"]
