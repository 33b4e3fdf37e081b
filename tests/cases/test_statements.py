"""Statements of reasons and the EU Transparency Database export: validated by the JSON
Schema in tests/data, and free of personal data."""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from jsonschema import Draft202012Validator
from referencing import Registry, Resource

from case_helpers import REPORTER, valid_notice
from shieldwall.audit import list_events
from shieldwall.banks import prepare_signal
from shieldwall.cases import (
    case_statement,
    decide_case,
    open_copy_tasks,
    submit_notice,
    transparency_export,
)
from shieldwall.config import Settings
from shieldwall.errors import Conflict, NotFound
from shieldwall.matching import add_to_ledger, sweep
from shieldwall.people import Actor, Role
from shieldwall.store import Database
from shieldwall.store.models import utcnow

DATA = Path(__file__).parent.parent / "data"
STATEMENT = json.loads((DATA / "tdb_statement.schema.json").read_text())
BATCH = json.loads((DATA / "tdb_batch.schema.json").read_text())
REGISTRY = Registry().with_resource(STATEMENT["$id"], Resource.from_contents(STATEMENT))
REVIEWER = Actor("user:rev", frozenset({Role.REVIEWER}))
CHILD_SAFETY = Actor("user:cs", frozenset({Role.CHILD_SAFETY_REVIEWER, Role.REVIEWER}))
PERSONAL = [*REPORTER.values(), "127.0.0.1"]


def _valid(instance: Any, schema: dict[str, Any] = STATEMENT) -> None:
    Draft202012Validator.check_schema(schema)
    errors = list(Draft202012Validator(schema, registry=REGISTRY).iter_errors(instance))
    assert not errors, [e.message for e in errors]


def _no_personal_data(obj: Any) -> None:
    text = json.dumps(obj)
    for value in PERSONAL:
        assert value not in text, value
    for part in REPORTER["reporter_email"].split("@"):
        assert part not in text


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return Settings(data_dir=tmp_path, trusted_flaggers={"Helpline": "tf"})


@pytest.mark.parametrize(
    ("action", "ground", "notice", "visibility", "source", "category"),
    [
        (
            "remove",
            "law",
            {},
            "DECISION_VISIBILITY_CONTENT_REMOVED",
            "SOURCE_ARTICLE_16",
            "STATEMENT_CATEGORY_CYBER_VIOLENCE",
        ),
        (
            "restrict",
            "terms",
            {"source": "trusted_flagger", "trusted_flagger_token": "tf"},
            "DECISION_VISIBILITY_CONTENT_DISABLED",
            "SOURCE_TRUSTED_FLAGGER",
            "STATEMENT_CATEGORY_CYBER_VIOLENCE",
        ),
        (
            "label",
            "terms",
            {"content_kind": "synthetic"},
            "DECISION_VISIBILITY_CONTENT_LABELLED",
            "SOURCE_ARTICLE_16",
            "STATEMENT_CATEGORY_CYBER_VIOLENCE",
        ),
        (
            "remove",
            "law",
            {"possible_minor": True, "content_kind": "synthetic"},
            "DECISION_VISIBILITY_CONTENT_REMOVED",
            "SOURCE_ARTICLE_16",
            "STATEMENT_CATEGORY_PROTECTION_OF_MINORS",
        ),
    ],
)
def test_statements_validate_and_carry_no_personal_data(
    db: Database,
    settings: Settings,
    action: str,
    ground: str,
    notice: dict[str, Any],
    visibility: str,
    source: str,
    category: str,
) -> None:
    receipt = submit_notice(db, settings, valid_notice(**notice))
    decision = decide_case(
        db,
        settings,
        CHILD_SAFETY,
        receipt.case_id,
        action=action,
        ground=ground,
        legal_ground="Sexual Offences Act 2003 s.66B" if ground == "law" else None,
        reason="An intimate image shared without consent.",
    )
    assert decision.statement is not None
    assert decision.statement["redress"]["internal_complaint"]["token"] == decision.appeal_token
    sor, tdb = case_statement(db, settings, CHILD_SAFETY, receipt.case_id)
    _valid(tdb)
    assert tdb["decision_visibility"] == [visibility]
    assert tdb["source_type"] == source and tdb["category"] == category
    assert tdb["automated_detection"] == "No"
    assert tdb["automated_decision"] == "AUTOMATED_DECISION_NOT_AUTOMATED"
    if ground == "law":
        assert tdb["decision_ground"] == "DECISION_GROUND_ILLEGAL_CONTENT"
        assert tdb["illegal_content_legal_ground"] == "Sexual Offences Act 2003 s.66B"
    else:
        assert tdb["decision_ground"] == "DECISION_GROUND_INCOMPATIBLE_CONTENT"
        assert tdb["incompatible_content_ground"] == settings.cases_terms_ground
    assert sor["decision"]["action"] == action and sor["source"] == "notice"
    assert sor["ground"]["type"] == ground
    assert "token" not in sor["redress"]["internal_complaint"]  # given once, with the decision
    assert set(sor["redress"]) == {"internal_complaint", "out_of_court_settlement", "courts"}
    _no_personal_data([sor, tdb, decision.statement])
    assert "statement.read" in [e.action for e in list_events(db)]


def test_a_copy_found_by_hashing_is_voluntary_and_automatically_detected(
    db: Database, settings: Settings
) -> None:
    sha = prepare_signal("sha256", "ab" * 32)
    add_to_ledger(db, [("content-123", [sha]), ("copy-1", [sha])])
    receipt = submit_notice(db, settings, valid_notice())
    decide_case(
        db,
        settings,
        REVIEWER,
        receipt.case_id,
        action="remove",
        ground="law",
        legal_ground="TAKE IT DOWN Act",
        reason="Non-consensual intimate image.",
    )
    sweep(db, settings=settings)
    by_hand = settings.model_copy(update={"cases_auto_remove_exact_copies": False})
    (copy_id,) = open_copy_tasks(db, receipt.case_id, settings=by_hand)
    decide_case(
        db,
        settings,
        REVIEWER,
        copy_id,
        action="remove",
        ground="law",
        legal_ground="TAKE IT DOWN Act",
        reason="A copy of removed content.",
    )
    sor, tdb = case_statement(db, settings, REVIEWER, copy_id)
    _valid(tdb)
    assert tdb["source_type"] == "SOURCE_VOLUNTARY" and tdb["automated_detection"] == "Yes"
    assert sor["source"] == "own_initiative" and sor["automated_detection"] is True
    assert tdb["automated_decision"] == "AUTOMATED_DECISION_NOT_AUTOMATED"  # a person decided
    assert sor["automated_decision"] is False


def test_no_action_has_no_statement(db: Database, settings: Settings) -> None:
    receipt = submit_notice(db, settings, valid_notice())
    with pytest.raises(Conflict):
        case_statement(db, settings, REVIEWER, receipt.case_id)  # undecided
    decide_case(
        db, settings, REVIEWER, receipt.case_id, action="no_action", ground="terms", reason="OK."
    )
    with pytest.raises(Conflict):
        case_statement(db, settings, REVIEWER, receipt.case_id)


def test_batch_export_pages_by_100_and_hides_restricted_cases(
    db: Database, settings: Settings
) -> None:
    ids = []
    for minor in (False, False, False, True):
        receipt = submit_notice(db, settings, valid_notice(possible_minor=minor))
        decide_case(
            db,
            settings,
            CHILD_SAFETY,
            receipt.case_id,
            action="remove",
            ground="terms",
            reason="NCII.",
        )
        ids.append(receipt.case_id)
    now = utcnow()
    start, end = now - timedelta(hours=1), now + timedelta(hours=1)
    statements, after = transparency_export(db, settings, REVIEWER, start=start, end=end)
    assert len(statements) == 3 and after is None  # the restricted case is not the reviewer's
    _valid({"statements": statements}, BATCH)
    _no_personal_data(statements)
    first, after = transparency_export(db, settings, CHILD_SAFETY, start=start, end=end, limit=2)
    rest, last = transparency_export(
        db, settings, CHILD_SAFETY, start=start, end=end, after_id=after or 0
    )
    assert len(first) == 2 and len(rest) == 2 and last is None
    assert len({s["puid"] for s in first + rest}) == 4
    empty, _ = transparency_export(
        db, settings, REVIEWER, start=now + timedelta(hours=1), end=now + timedelta(hours=2)
    )
    assert empty == []
    assert [e.action for e in list_events(db)].count("export.transparency_database") == 4


def test_restricted_statements_are_hidden_from_others(db: Database, settings: Settings) -> None:
    receipt = submit_notice(db, settings, valid_notice(possible_minor=True))
    decide_case(
        db, settings, CHILD_SAFETY, receipt.case_id, action="remove", ground="terms", reason="x."
    )
    with pytest.raises(NotFound):
        case_statement(db, settings, REVIEWER, receipt.case_id)
