"""The reviewer console's queue and case pages over plain HTTP: previews (blurred until
revealed, fetched from the platform, never stored, reveals audited), matches beside their bank
entries, the decision form and its errors, roles."""

from __future__ import annotations

import io
import re
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from case_helpers import REPORTER, valid_notice
from service_helpers import LiveService
from shieldwall.audit import list_events, verify
from shieldwall.cases import CaseView, get_case, list_queue, record_scores, submit_notice
from shieldwall.hashing import hash_bytes
from shieldwall.matching import add_to_ledger
from shieldwall.people import Actor, Role
from shieldwall.people.accounts import create_person, get_person, set_preferences

from .platform_helpers import MARKER, Platform, image_bytes
from .web_helpers import PASSWORD, csrf_of, signed_in


@pytest.fixture
def platform() -> Iterator[Platform]:
    with Platform() as running:
        yield running


@pytest.fixture
def live(make_service: Callable[..., LiveService], platform: Platform) -> LiveService:
    """A service whose previews come from ``platform``, with the contents of two uploads."""
    platform.contents["content-1"] = image_bytes(1)
    platform.contents["copy-1"] = image_bytes(1, variant="brighter")
    platform.contents["broken"] = b"\xff\xd8\xff this is not a JPEG at all"
    return make_service(
        preview_url_template=platform.template,
        outbound_allowed_networks=["127.0.0.0/8"],
        cases_block_bank="removed",
        worker_poll_seconds=0.05,
    )


def _notice(live: LiveService, content_id: str = "content-1", **extra: object) -> int:
    receipt = submit_notice(live.db, live.settings, valid_notice(content_ids=[content_id], **extra))
    cases = [c for c in _cases(live) if c.tracking_number == receipt.tracking_number]
    return cases[0].id


def _cases(live: LiveService) -> list[CaseView]:
    actor = Actor("user:x", frozenset({Role.ADMIN, Role.CHILD_SAFETY_REVIEWER}))
    return [*list_queue(live.db, actor, "adult"), *list_queue(live.db, actor, "restricted")]


def _high_frequency(img: Image.Image) -> float:
    grey = np.asarray(img.convert("L"), dtype=np.float32)
    return float(np.abs(np.diff(grey, axis=1)).mean())


def test_queue_page_lists_cases_with_deadlines_and_buckets(live: LiveService) -> None:
    first = _notice(live)
    trusted = submit_notice(
        live.db,
        live.settings.model_copy(update={"trusted_flaggers": {"Helpline": "t" * 24}}),
        valid_notice(source="trusted_flagger", trusted_flagger_token="t" * 24),
    )
    restricted = submit_notice(live.db, live.settings, valid_notice(possible_minor=True))
    client = signed_in(live, "alice")
    page = client.get("/console/queue")
    assert page.status_code == 200
    html = page.text
    # priority: the trusted flagger's case before the person's
    assert html.index(trusted.tracking_number) < html.index(f"/console/cases/{first}")
    assert restricted.tracking_number not in html  # never mixed with adult cases
    assert re.search(r'id="bucket-under-24h">2<', html)
    assert re.search(r'id="bucket-overdue">0<', html)
    assert "due in 47 h" in html
    assert 'id="claim-next"' in html
    # the restricted queue is for child-safety reviewers only
    assert client.get("/console/queue?queue=restricted").status_code == 403
    unknown = client.get("/console/queue?queue=bogus")  # an unknown queue: the adult one
    assert unknown.status_code == 200 and "<h1>Queue: adult</h1>" in unknown.text
    create_person(live.db, "carol", PASSWORD, "child_safety_reviewer", settings=live.settings)
    carol = signed_in(live, "carol")
    page = carol.get("/console/queue?queue=restricted")
    assert page.status_code == 200 and restricted.tracking_number in page.text
    # auditors read the queue but cannot claim
    audrey = signed_in(live, "audrey").get("/console/queue")
    assert audrey.status_code == 200 and 'id="claim-next"' not in audrey.text


def test_claim_next_opens_the_case_and_an_empty_queue_says_so(live: LiveService) -> None:
    case_id = _notice(live)
    client = signed_in(live, "alice")
    token = csrf_of(client.get("/console/queue").text)
    answer = client.post("/console/queue/claim", data={"csrf_token": token, "queue": "adult"})
    assert answer.status_code == 303
    assert answer.headers["location"] == f"/console/cases/{case_id}"
    viewer = Actor("user:v", frozenset({Role.REVIEWER}))
    assert get_case(live.db, viewer, case_id).state == "claimed"
    page = client.get(f"/console/cases/{case_id}")
    assert 'id="decision-form"' in page.text
    # a second reviewer sees it claimed, without the form
    root = signed_in(live, "root")
    other = root.get(f"/console/cases/{case_id}").text
    assert 'id="claimed-elsewhere"' in other and 'id="decision-form"' not in other
    again = client.post("/console/queue/claim", data={"csrf_token": token, "queue": "adult"})
    assert again.headers["location"] == "/console/queue?queue=adult&message=empty"
    assert "No open case is waiting" in client.get(again.headers["location"]).text
    # without the CSRF token nothing is claimed
    _notice(live, "content-2")
    refused = client.post("/console/queue/claim", data={"queue": "adult"})
    assert refused.status_code == 403
    assert [c for c in _cases(live) if c.state == "open"]


def test_case_page_shows_the_notice_but_never_the_reporter(live: LiveService) -> None:
    case_id = _notice(live)
    page = signed_in(live, "alice").get(f"/console/cases/{case_id}")
    assert page.status_code == 200
    assert "intimate photo of me shared without my consent" in page.text
    assert "https://platform.example/p/123" in page.text
    for value in REPORTER.values():
        assert value not in page.text
    assert page.headers["cache-control"] == "no-store"
    assert "view=blurred" in page.text and "view=full" not in page.text


def test_case_page_says_a_match_was_an_altered_copy(live: LiveService) -> None:
    from shieldwall.store.models import MatchRecord

    with live.db.transaction() as session:
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
    receipt = submit_notice(live.db, live.settings, valid_notice(content_ids=["meme-7"]))
    page = " ".join(signed_in(live, "alice").get(f"/console/cases/{receipt.case_id}").text.split())
    assert "An altered copy: matched as <strong>caption-top</strong>" in page
    assert "without a caption bar above" in page
    assert "against the banked photo's <strong>crop-bottom-10</strong>" in page
    assert "never removed automatically" in page


def test_case_page_explains_a_match_by_local_features(live: LiveService) -> None:
    from shieldwall.store.models import MatchRecord

    with live.db.transaction() as session:
        session.add(
            MatchRecord(
                content_id="collage-3",
                bank_name="ncii",
                signal_type="orb",
                distance=58,  # 100 - inliers: 42 keypoints agreed
                source="upload",
            )
        )
    receipt = submit_notice(live.db, live.settings, valid_notice(content_ids=["collage-3"]))
    page = " ".join(signed_in(live, "alice").get(f"/console/cases/{receipt.case_id}").text.split())
    assert "Matched by local features: 42 points of this content line up" in page
    assert "never removed automatically" in page
    assert "An altered copy" not in page


def test_case_page_shows_the_detector_scores(live: LiveService) -> None:
    record_scores(
        live.db,
        live.settings,
        [
            {"content_id": "deep-1", "detector": "deepfake-x", "label": "synthetic",
             "score": 0.93, "model_version": "v2"},
            {"content_id": "nude-2", "detector": "nudity-net", "label": "intimate",
             "score": 0.5},
        ],
    )  # fmt: skip
    receipt = submit_notice(
        live.db, live.settings, valid_notice(content_ids=["deep-1", "nude-2", "plain-3"])
    )
    page = signed_in(live, "alice").get(f"/console/cases/{receipt.case_id}").text
    lists = dict(re.findall(r'<ul class="scores" id="scores-(\d+)"[^>]*>(.*?)</ul>', page, re.S))
    assert set(lists) == {"0", "1"}  # plain-3 has no score
    first = " ".join(lists["0"].split())
    assert "synthetic 0.93 (detector deepfake-x v2)" in first
    assert "detector evidence (≥ 0.80)" in first
    second = " ".join(lists["1"].split())
    assert "intimate 0.50 (detector nudity-net)" in second
    assert "detector evidence" not in second  # under the threshold
    assert "evidence: detector score" in page


def test_previews_are_blurred_until_revealed_and_each_reveal_is_audited(
    live: LiveService, platform: Platform
) -> None:
    # a sharp pattern: blurring it leaves little detail
    rng = np.random.default_rng(5)
    blocks = rng.integers(0, 256, (60, 80, 3), dtype=np.uint8).repeat(8, 0).repeat(8, 1)
    buffer = io.BytesIO()
    Image.fromarray(blocks).save(buffer, "JPEG", quality=92, comment=MARKER)
    platform.contents["content-1"] = buffer.getvalue()
    case_id = _notice(live)
    client = signed_in(live, "alice")
    original = Image.open(io.BytesIO(platform.contents["content-1"]))
    blurred_answer = client.get(f"/console/cases/{case_id}/preview/0?view=blurred")
    assert blurred_answer.status_code == 200
    assert blurred_answer.headers["content-type"] == "image/jpeg"
    assert "no-store" in blurred_answer.headers["cache-control"]
    blurred = Image.open(io.BytesIO(blurred_answer.content))
    assert blurred.mode == "L" and max(blurred.size) <= 360
    # far less detail than the original at the same size (a blur, not just a resize)
    small = original.convert("L").resize(blurred.size)
    assert _high_frequency(blurred) < _high_frequency(small) / 10
    assert MARKER not in blurred_answer.content  # re-encoded: the file's comment is gone
    assert not [e for e in list_events(live.db) if e.action == "preview.revealed"]

    page = client.get(f"/console/cases/{case_id}?reveal=1")
    assert "view=full" in page.text and 'id="hide-previews"' in page.text
    full_answer = client.get(f"/console/cases/{case_id}/preview/0?view=full")
    assert full_answer.status_code == 200
    full = Image.open(io.BytesIO(full_answer.content))
    assert full.mode == "RGB" and full.size == original.size
    assert MARKER not in full_answer.content
    reveals = [e for e in list_events(live.db) if e.action == "preview.revealed"]
    assert len(reveals) == 1
    assert reveals[0].actor.startswith("user:") and reveals[0].subject.startswith("case:SW-")
    assert reveals[0].details["by_preference"] is False
    assert verify(live.db) is None
    # every fetch went to the platform: nothing cached
    assert len(platform.preview_requests) == 2
    assert all(r.path == "/review/content-1" for r in platform.preview_requests)


def test_the_reveal_preference_shows_previews_revealed(live: LiveService) -> None:
    case_id = _notice(live)
    client = signed_in(live, "alice")
    set_preferences(live.db, get_person(live.db, "alice").id, reveal_previews=True)
    page = client.get(f"/console/cases/{case_id}")
    assert "view=full" in page.text and "Your preference shows previews revealed" in page.text
    client.get(f"/console/cases/{case_id}/preview/0?view=full")
    reveals = [e for e in list_events(live.db) if e.action == "preview.revealed"]
    assert reveals[-1].details["by_preference"] is True


def test_an_auditor_sees_previews_blurred_only(live: LiveService, platform: Platform) -> None:
    """Issue 19: an auditor (read-only) got the unblurred image with ``view=full``."""
    case_id = _notice(live)
    client = signed_in(live, "audrey")
    set_preferences(live.db, get_person(live.db, "audrey").id, reveal_previews=True)
    blurred = client.get(f"/console/cases/{case_id}/preview/0?view=blurred")
    assert blurred.status_code == 200
    assert Image.open(io.BytesIO(blurred.content)).mode == "L"
    fetched = len(platform.preview_requests)
    full = client.get(f"/console/cases/{case_id}/preview/0?view=full")
    assert full.status_code == 403
    assert full.headers["content-type"].startswith("image/svg+xml")
    assert b"reviewer role" in full.content
    assert len(platform.preview_requests) == fetched  # not even fetched
    assert not [e for e in list_events(live.db) if e.action == "preview.revealed"]
    # the page neither reveals (preference or ?reveal=1) nor offers to
    for url in (f"/console/cases/{case_id}", f"/console/cases/{case_id}?reveal=1"):
        page = client.get(url).text
        assert "view=full" not in page and 'id="reveal-previews"' not in page
        assert 'id="blurred-only"' in page
    # and deciding is refused before anything else
    answer = client.post(
        f"/console/cases/{case_id}/decide", data={"csrf_token": csrf_of(page), "action": "remove"}
    )
    assert answer.status_code == 403


def test_previews_are_never_written_to_disk_or_the_database(
    live: LiveService, platform: Platform
) -> None:
    case_id = _notice(live)
    client = signed_in(live, "alice")
    for view in ("blurred", "full"):
        assert client.get(f"/console/cases/{case_id}/preview/0?view={view}").status_code == 200
    data_dir = Path(live.settings.data_dir)
    stored = [p for p in data_dir.rglob("*") if p.is_file()]
    url = live.db.url
    if url.get_backend_name() == "sqlite" and url.database:
        stored.append(Path(url.database))
    head = platform.contents["content-1"][200:264]
    for path in stored:
        content = path.read_bytes()
        assert MARKER not in content and head not in content, path


def test_preview_failures_are_a_placeholder_not_an_error_page(live: LiveService) -> None:
    client = signed_in(live, "alice")
    for content_id in ("broken", "missing-on-platform"):
        case_id = _notice(live, content_id)
        answer = client.get(f"/console/cases/{case_id}/preview/0")
        assert answer.status_code == 502
        assert answer.headers["content-type"].startswith("image/svg+xml")
        assert "Preview unavailable" in answer.text
    case_id = _notice(live, "content-1")
    assert client.get(f"/console/cases/{case_id}/preview/5").status_code == 404
    assert client.get(f"/console/cases/{case_id}/preview/0?view=raw").status_code == 422
    restricted = submit_notice(
        live.db, live.settings, valid_notice(possible_minor=True, content_ids=["content-1"])
    )
    hidden = [c for c in _cases(live) if c.tracking_number == restricted.tracking_number]
    assert client.get(f"/console/cases/{hidden[0].id}/preview/0").status_code == 404
    assert client.get(f"/console/cases/{hidden[0].id}").status_code == 404


def test_without_a_preview_address_the_page_says_so(
    make_service: Callable[..., LiveService],
) -> None:
    bare = make_service()
    case_id = _notice(bare)
    page = signed_in(bare, "alice").get(f"/console/cases/{case_id}")
    assert "SHIELDWALL_PREVIEW_URL_TEMPLATE" in page.text and "<img" not in page.text


def test_decision_form_errors_are_shown_next_to_fields_and_nothing_is_decided(
    live: LiveService,
) -> None:
    case_id = _notice(live)
    client = signed_in(live, "alice")
    token = csrf_of(client.get(f"/console/cases/{case_id}").text)
    answer = client.post(
        f"/console/cases/{case_id}/decide", data={"csrf_token": token, "reason": "  "}
    )
    assert answer.status_code == 422
    for field in ("action", "ground", "reason"):
        assert f'id="error-{field}"' in answer.text
    answer = client.post(
        f"/console/cases/{case_id}/decide",
        data={"csrf_token": token, "action": "remove", "ground": "law", "reason": "NCII."},
    )
    assert answer.status_code == 422
    assert 'id="error-legal_ground"' in answer.text and 'id="error-reason"' not in answer.text
    assert 'value="remove" id="action-remove" checked' in answer.text  # values kept
    assert "NCII." in answer.text
    viewer = Actor("user:v", frozenset({Role.REVIEWER}))
    assert get_case(live.db, viewer, case_id).state == "open"
    # no CSRF token: refused
    refused = client.post(
        f"/console/cases/{case_id}/decide",
        data={"action": "no_action", "ground": "terms", "reason": "x"},
    )
    assert refused.status_code == 403
    assert get_case(live.db, viewer, case_id).state == "open"


def test_auditors_read_cases_but_cannot_decide(live: LiveService) -> None:
    case_id = _notice(live)
    client = signed_in(live, "audrey")
    page = client.get(f"/console/cases/{case_id}")
    assert page.status_code == 200 and 'id="read-only"' in page.text
    assert 'id="decision-form"' not in page.text
    answer = client.post(
        f"/console/cases/{case_id}/decide",
        data={
            "csrf_token": csrf_of(page.text),
            "action": "no_action",
            "ground": "terms",
            "reason": "Not intimate.",
        },
    )
    assert answer.status_code == 403
    viewer = Actor("user:v", frozenset({Role.REVIEWER}))
    assert get_case(live.db, viewer, case_id).state == "open"


def test_removal_finds_a_hosted_copy_shown_beside_the_bank_entry(
    live: LiveService, platform: Platform
) -> None:
    original = hash_bytes(platform.contents["content-1"], signals=["pdq", "sha256"])
    altered = hash_bytes(platform.contents["copy-1"], signals=["pdq", "sha256"])
    assert original.signals["sha256"].value != altered.signals["sha256"].value
    add_to_ledger(
        live.db,
        [
            ("content-1", list(original.signals.values())),
            ("copy-1", list(altered.signals.values())),
        ],
    )
    case_id = _notice(live)
    client = signed_in(live, "alice")
    token = csrf_of(client.get(f"/console/cases/{case_id}").text)
    answer = client.post(
        f"/console/cases/{case_id}/decide",
        data={
            "csrf_token": token,
            "action": "remove",
            "ground": "law",
            "legal_ground": "TAKE IT DOWN Act, 47 U.S.C. 223a",
            "reason": "An intimate image published without consent.",
        },
    )
    assert answer.status_code == 303
    assert answer.headers["location"] == f"/console/cases/{case_id}?decided=1"
    page = client.get(answer.headers["location"]).text
    assert "Decision recorded." in page and 'id="statement-link"' in page
    # the worker sweeps the ledger and opens a copy task for the altered re-upload
    deadline = time.monotonic() + 120
    copies: list[CaseView] = []
    while time.monotonic() < deadline and not copies:
        copies = [c for c in _cases(live) if c.content_ids == ["copy-1"]]
        time.sleep(0.1)
    assert copies, "no copy task was opened"
    copy_id = copies[0].id
    page = client.get(f"/console/cases/{case_id}").text
    assert f'href="/console/cases/{copy_id}" class="copy-link"' in page
    copy_page = client.get(f"/console/cases/{copy_id}").text
    assert 'id="match-0-0"' in copy_page
    assert "near match" in copy_page and "by pdq" in copy_page and "removed" in copy_page
    assert f'href="/console/cases/{case_id}" class="origin-link"' in copy_page
    assert f"/console/cases/{case_id}/preview/0?view=blurred" in copy_page  # the bank side
    assert f"/console/cases/{copy_id}/preview/0?view=blurred" in copy_page  # the copy side
    # no distance is shown
    assert "distance" not in copy_page.lower()
    statement = client.get(f"/console/cases/{case_id}/statement")
    assert statement.status_code == 200
    assert "TAKE IT DOWN Act" in statement.text
    assert "DECISION_GROUND_ILLEGAL_CONTENT" in statement.text
    for value in REPORTER.values():
        assert value not in statement.text


def test_static_shortcuts_script_is_served(live: LiveService) -> None:
    answer = live.client().get("/static/console.js")
    assert answer.status_code == 200
    assert "javascript" in answer.headers["content-type"]
    assert "keydown" in answer.text


def test_a_claim_is_given_back_by_its_holder_or_an_admin(live: LiveService) -> None:
    viewer = Actor("user:v", frozenset({Role.REVIEWER}))
    case_id = _notice(live)
    create_person(live.db, "bob", PASSWORD, "reviewer", settings=live.settings)
    alice = signed_in(live, "alice")
    token = csrf_of(alice.get("/console/queue").text)
    alice.post("/console/queue/claim", data={"csrf_token": token, "queue": "adult"})
    page = alice.get(f"/console/cases/{case_id}").text
    assert 'id="release"' in page and "held for 30 minutes" in page
    # another reviewer may not give alice's claim back; the form is not even shown
    bob = signed_in(live, "bob")
    bob_page = bob.get(f"/console/cases/{case_id}").text
    assert 'id="release"' not in bob_page and 'id="claimed-elsewhere"' in bob_page
    refused = bob.post(f"/console/cases/{case_id}/release", data={"csrf_token": csrf_of(bob_page)})
    assert refused.status_code == 403
    assert get_case(live.db, viewer, case_id).state == "claimed"
    # the holder gives it back
    answer = alice.post(f"/console/cases/{case_id}/release", data={"csrf_token": token})
    assert answer.status_code == 303
    assert answer.headers["location"] == "/console/queue?queue=adult&message=released"
    assert get_case(live.db, viewer, case_id).state == "open"
    # releasing what is not claimed is a conflict, shown on the page
    again = alice.post(f"/console/cases/{case_id}/release", data={"csrf_token": token})
    assert again.status_code == 409 and "not claimed" in again.text
    # an admin may release anyone's claim
    alice.post("/console/queue/claim", data={"csrf_token": token, "queue": "adult"})
    root = signed_in(live, "root")
    root_page = root.get(f"/console/cases/{case_id}").text
    assert 'id="release"' in root_page
    answer = root.post(f"/console/cases/{case_id}/release", data={"csrf_token": csrf_of(root_page)})
    assert answer.status_code == 303
    assert get_case(live.db, viewer, case_id).state == "open"
    events = [e.action for e in list_events(live.db, limit=1000)]
    assert events.count("case.released") == 2


def test_a_lapsed_claim_lets_another_reviewer_decide(
    make_service: Callable[..., LiveService],
) -> None:
    live = make_service(case_claim_minutes=0.005)  # 0.3 s
    case_id = _notice(live)
    alice = signed_in(live, "alice")
    token = csrf_of(alice.get("/console/queue").text)
    alice.post("/console/queue/claim", data={"csrf_token": token, "queue": "adult"})
    time.sleep(0.5)
    root = signed_in(live, "root")
    page = root.get(f"/console/cases/{case_id}").text
    assert 'id="decision-form"' in page and "anyone may now decide" in page
    answer = root.post(
        f"/console/cases/{case_id}/decide",
        data={
            "csrf_token": csrf_of(page),
            "action": "no_action",
            "ground": "terms",
            "reason": "Not an intimate image.",
        },
    )
    assert answer.status_code == 303
    viewer = Actor("user:v", frozenset({Role.REVIEWER}))
    decided = get_case(live.db, viewer, case_id)
    assert decided.state == "decided"
    assert decided.decided_by == f"user:{get_person(live.db, 'root').id}"  # not alice


def test_the_console_home_shows_what_waits(live: LiveService) -> None:
    _notice(live)
    _notice(live, "content-2")
    submit_notice(live.db, live.settings, valid_notice(possible_minor=True))
    home = signed_in(live, "alice").get("/console").text
    assert re.search(r'id="waiting-adult-under-24h">2<', home)
    assert "waiting-restricted" not in home  # not a child-safety reviewer
    assert re.search(r'id="open-appeals">0<', home)
    create_person(live.db, "carol", PASSWORD, "child_safety_reviewer", settings=live.settings)
    carol = signed_in(live, "carol").get("/console").text
    assert re.search(r'id="waiting-restricted-under-24h">1<', carol)
    assert 'id="open-appeals"' not in carol  # she does not decide appeals


def test_bad_addresses_are_pages_and_the_api_stays_json(live: LiveService) -> None:
    client = signed_in(live, "alice")
    for path, status, heading in (
        ("/console/cases/abc", 422, "Check the address"),
        ("/console/appeals/abc", 422, "Check the address"),
        ("/console/no-such-page", 404, "Not found"),
        ("/console/cases/999999", 404, "Not found"),
    ):
        answer = client.get(path)
        assert answer.status_code == status, path
        assert answer.headers["content-type"].startswith("text/html"), path
        assert f"<h1>{heading}</h1>" in answer.text, path
    machine = live.client(live.key("admin"))
    api = machine.get("/v1/no-such-route")
    assert api.status_code == 404 and api.headers["content-type"] == "application/json"
    bad = machine.get("/v1/cases/abc")
    assert bad.status_code == 422 and bad.json()["error"] == "validation_error"
