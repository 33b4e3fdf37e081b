"""A case's evidence: the stored matches of its content ids, without distances."""

from __future__ import annotations

from pathlib import Path

import pytest

from case_helpers import valid_notice
from shieldwall.cases import (
    ContentEvidence,
    EvidenceMatch,
    case_detail,
    case_matches,
    get_case,
    submit_notice,
)
from shieldwall.config import Settings
from shieldwall.errors import NotFound, NotPermitted
from shieldwall.people import Actor, Role
from shieldwall.store import Database
from shieldwall.store.models import MatchRecord

REVIEWER = Actor("user:rev", frozenset({Role.REVIEWER}))
AUDITOR = Actor("user:aud", frozenset({Role.AUDITOR}))
CHILD_SAFETY = Actor("user:cs", frozenset({Role.CHILD_SAFETY_REVIEWER}))
NOBODY = Actor("user:none", frozenset())


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return Settings(data_dir=tmp_path)


def _match(db: Database, content_id: str, bank: str, signal_type: str, distance: int) -> None:
    with db.transaction() as session:
        session.add(
            MatchRecord(
                content_id=content_id,
                bank_name=bank,
                signal_type=signal_type,
                distance=distance,
                source="sweep",
            )
        )


def test_each_content_id_with_its_matches(db: Database, settings: Settings) -> None:
    _match(db, "content-1", "ncii", "pdq", 17)
    _match(db, "content-1", "stopncii", "md5", 0)
    _match(db, "elsewhere", "ncii", "pdq", 3)
    receipt = submit_notice(db, settings, valid_notice(content_ids=["content-1", "content-2"]))
    found = case_matches(db, AUDITOR, receipt.case_id)
    assert [e.content_id for e in found] == ["content-1", "content-2"]
    assert [(m.bank, m.signal_type, m.source) for m in found[0].matches] == [
        ("ncii", "pdq", "sweep"),
        ("stopncii", "md5", "sweep"),
    ]
    assert all(m.matched_at is not None for m in found[0].matches)
    assert found[1] == ContentEvidence("content-2", [])
    # never a distance
    assert set(EvidenceMatch.__dataclass_fields__) == {
        "bank",
        "signal_type",
        "matched_at",
        "source",
    }
    detail = case_detail(db, REVIEWER, receipt.case_id)
    assert detail.matches == found
    view = get_case(db, REVIEWER, receipt.case_id)
    assert detail.evidence == view.evidence == "exact_match"  # the strength, as in CaseView
    assert detail.id == view.id and detail.tracking_number == view.tracking_number


def test_who_may_read_it(db: Database, settings: Settings) -> None:
    receipt = submit_notice(db, settings, valid_notice(possible_minor=True))
    with pytest.raises(NotFound):
        case_matches(db, REVIEWER, receipt.case_id)  # restricted
    assert len(case_matches(db, CHILD_SAFETY, receipt.case_id)) == 1
    with pytest.raises(NotPermitted):
        case_matches(db, NOBODY, receipt.case_id)
    with pytest.raises(NotFound):
        case_matches(db, REVIEWER, 999)


def test_the_case_file_names_the_variants_of_an_altered_copy(
    db: Database, settings: Settings
) -> None:
    from shieldwall.cases.detail import case_file

    with db.transaction() as session:
        session.add(
            MatchRecord(
                content_id="meme-1",
                bank_name="ncii",
                signal_type="pdq",
                distance=12,
                source="upload",
                variant="caption-top",
                bank_variant="crop-bottom-10",
            )
        )
    _match(db, "meme-1", "ncii", "pdq", 3)  # and one of the content as it was uploaded
    receipt = submit_notice(db, settings, valid_notice(content_ids=["meme-1"]))
    found = case_file(db, REVIEWER, receipt.case_id).matches
    assert sorted((m.variant, m.bank_variant, m.strength) for m in found) == [
        ("caption-top", "crop-bottom-10", "near"),
        ("original", None, "near"),
    ]
