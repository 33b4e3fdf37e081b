"""Finding cases by tracking number, content id or URL (``shieldwall.cases.search_cases``):
exact ids, URL parts, LIKE wildcards taken literally, restricted cases only for child-safety
reviewers, bad input refused."""

from __future__ import annotations

from pathlib import Path

import pytest

from case_helpers import valid_notice
from shieldwall.cases import CaseView, search_cases, submit_notice
from shieldwall.config import Settings
from shieldwall.errors import UsageError
from shieldwall.people import Actor, Role
from shieldwall.store import Database

REVIEWER = Actor("user:rev", frozenset({Role.REVIEWER}))
CHILD_SAFETY = Actor("user:cs", frozenset({Role.CHILD_SAFETY_REVIEWER}))


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return Settings(data_dir=tmp_path)


def _numbers(found: list[CaseView]) -> set[str]:
    return {c.tracking_number for c in found}


def test_search_by_tracking_number_content_id_and_url(db: Database, settings: Settings) -> None:
    a = submit_notice(
        db,
        settings,
        valid_notice(content_ids=["img_1", "img-2"], urls=["https://ex.example/p/100%25"]),
    )
    b = submit_notice(
        db, settings, valid_notice(content_ids=["imgX1"], urls=["https://ex.example/q/7"])
    )
    assert _numbers(search_cases(db, REVIEWER, a.tracking_number)) == {a.tracking_number}
    assert _numbers(search_cases(db, REVIEWER, f"  {b.tracking_number.lower()} ")) == {
        b.tracking_number
    }
    assert _numbers(search_cases(db, REVIEWER, "img-2")) == {a.tracking_number}
    assert _numbers(search_cases(db, REVIEWER, "img_1")) == {a.tracking_number}  # not imgX1
    assert search_cases(db, REVIEWER, "img") == []  # content ids match exactly
    assert _numbers(search_cases(db, REVIEWER, "ex.example")) == {
        a.tracking_number,
        b.tracking_number,
    }
    assert _numbers(search_cases(db, REVIEWER, "/p/100%25")) == {a.tracking_number}
    # a LIKE wildcard is a character, not "anything": only the URL with a "%" in it
    assert _numbers(search_cases(db, REVIEWER, "%")) == {a.tracking_number}
    assert search_cases(db, REVIEWER, "_") == []
    found = search_cases(db, REVIEWER, "ex.example")
    assert [c.id for c in found] == sorted((c.id for c in found), reverse=True)  # newest first


def test_restricted_cases_only_for_child_safety_reviewers(db: Database, settings: Settings) -> None:
    minor = submit_notice(db, settings, valid_notice(content_ids=["m-1"], possible_minor=True))
    assert search_cases(db, REVIEWER, "m-1") == []
    assert search_cases(db, REVIEWER, minor.tracking_number) == []
    assert _numbers(search_cases(db, CHILD_SAFETY, "m-1")) == {minor.tracking_number}


def test_search_limit_and_bad_input(db: Database, settings: Settings) -> None:
    for _ in range(3):
        submit_notice(db, settings, valid_notice(content_ids=["same"]))
    assert len(search_cases(db, REVIEWER, "same", limit=2)) == 2
    with pytest.raises(UsageError, match="tracking number"):
        search_cases(db, REVIEWER, "   ")
    with pytest.raises(UsageError, match="at most 2048"):
        search_cases(db, REVIEWER, "x" * 2049)
