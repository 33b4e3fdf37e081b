"""Notice intake as a library: every required field of the three laws, the PIN, the status."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select

from case_helpers import REPORTER, REQUIRED, valid_notice
from shieldwall.audit import list_events
from shieldwall.cases import notice_status, submit_notice
from shieldwall.config import Settings
from shieldwall.errors import InvalidNotice, NotFound
from shieldwall.store import Database
from shieldwall.store.models import CaseItem, Notice


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return Settings(data_dir=tmp_path, trusted_flaggers={"Helpline": "tf-secret-token"})


def _count(db: Database, model: Any) -> int:
    with db.session() as session:
        return int(session.scalar(select(func.count()).select_from(model)) or 0)


def _invalid(db: Database, settings: Settings, data: dict[str, Any]) -> set[str]:
    with pytest.raises(InvalidNotice) as caught:
        submit_notice(db, settings, data)
    assert _count(db, Notice) == 0 and _count(db, CaseItem) == 0  # nothing saved
    return {f["field"] for f in caught.value.fields}


def test_a_valid_notice_opens_a_case_due_in_48_hours(db: Database, settings: Settings) -> None:
    receipt = submit_notice(db, settings, valid_notice())
    assert receipt.tracking_number.startswith("SW-") and len(receipt.tracking_number) == 22
    assert receipt.pin.isdigit() and len(receipt.pin) == 10
    assert receipt.deadline - receipt.received_at == timedelta(hours=48)
    assert receipt.queue == "adult"
    with db.session() as session:
        notice = session.scalars(select(Notice)).one()
        case = session.scalars(select(CaseItem)).one()
    assert notice.pin_hash.startswith("$argon2") and receipt.pin not in notice.pin_hash
    assert case.tracking_number == receipt.tracking_number and case.state == "open"
    assert case.deadline == notice.received_at + timedelta(hours=48)
    events = list_events(db)
    assert [e.action for e in events] == ["notice.received"]
    text = repr(events)
    assert all(v not in text for v in REPORTER.values())  # no identity in the audit log


def test_tracking_numbers_and_pins_are_random(db: Database, settings: Settings) -> None:
    receipts = [submit_notice(db, settings, valid_notice()) for _ in range(3)]
    assert len({r.tracking_number for r in receipts}) == 3
    assert len({r.pin for r in receipts}) == 3


@pytest.mark.parametrize("field", REQUIRED)
def test_each_required_field_is_named_when_missing(
    db: Database, settings: Settings, field: str
) -> None:
    data = valid_notice()
    data.pop(field)
    if field == "urls":
        data.pop("content_ids")  # the image is located by URL or by content id
    assert _invalid(db, settings, data) == {field}


@pytest.mark.parametrize(
    "field", [f for f in REQUIRED if f.startswith("declares_")] + ["signature", "explanation"]
)
def test_false_or_blank_is_as_good_as_missing(db: Database, settings: Settings, field: str) -> None:
    value = False if field.startswith("declares_") else "   "
    assert _invalid(db, settings, valid_notice(**{field: value})) == {field}


def test_an_empty_notice_names_every_field_at_once(db: Database, settings: Settings) -> None:
    assert _invalid(db, settings, {}) == set(REQUIRED)


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"reporter_email": "not-an-email"}, "reporter_email"),
        ({"urls": ["javascript:alert(1)"]}, "urls"),
        ({"urls": "https://a.example/x"}, "urls"),
        ({"explanation": "short"}, "explanation"),
        ({"source": "police"}, "source"),
        ({"content_kind": "cartoon"}, "content_kind"),
        ({"possible_minor": "yes"}, "possible_minor"),
        ({"authorised_agent": True}, "authority_explanation"),
        ({"source": "trusted_flagger"}, "trusted_flagger_token"),
        ({"source": "trusted_flagger", "trusted_flagger_token": "guess"}, "trusted_flagger_token"),
    ],
)
def test_invalid_fields_are_named(
    db: Database, settings: Settings, overrides: dict[str, Any], field: str
) -> None:
    assert _invalid(db, settings, valid_notice(**overrides)) == {field}


def test_an_authorised_agent_explains_the_authority(db: Database, settings: Settings) -> None:
    data = valid_notice(authorised_agent=True, authority_explanation="I am her lawyer.")
    submit_notice(db, settings, data)
    with db.session() as session:
        notice = session.scalars(select(Notice)).one()
    assert notice.authorised_agent and notice.authority_explanation == "I am her lawyer."


def test_a_trusted_flagger_presents_its_token(db: Database, settings: Settings) -> None:
    data = valid_notice(source="trusted_flagger", trusted_flagger_token="tf-secret-token")
    receipt = submit_notice(db, settings, data)
    with db.session() as session:
        notice = session.scalars(select(Notice)).one()
        case = session.get(CaseItem, receipt.case_id)
    assert notice.trusted_flagger == "Helpline"
    assert case is not None and case.trusted


def test_a_possible_minor_goes_to_the_restricted_queue(db: Database, settings: Settings) -> None:
    data = valid_notice(possible_minor=True)
    data.pop("reporter_name")  # DSA Art. 16(2)(c): no name needed for CSAM
    receipt = submit_notice(db, settings, data)
    assert receipt.queue == "restricted"


def test_status_needs_the_right_pin(db: Database, settings: Settings) -> None:
    receipt = submit_notice(db, settings, valid_notice())
    status = notice_status(db, receipt.tracking_number, receipt.pin)
    assert status.status == "received"
    assert [h[1] for h in status.history] == ["received"]
    with pytest.raises(NotFound) as wrong:
        notice_status(db, receipt.tracking_number, "0000000000")
    with pytest.raises(NotFound) as unknown:
        notice_status(db, "SW-AAAA-AAAA-AAAA-AAAA", receipt.pin)
    assert wrong.value.message == unknown.value.message
