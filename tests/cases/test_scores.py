"""Detector scores: validation of every field (nothing written on error), replacing a score on
re-report, detector evidence at intake and raised later (never lowered), and the queue order
exact > PDQ > detector > none behind urgency and trusted flaggers."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select

from case_helpers import valid_notice
from shieldwall.cases import (
    claim_next,
    get_case,
    list_queue,
    record_scores,
    scores_for,
    submit_notice,
)
from shieldwall.cases.detail import case_file
from shieldwall.cases.queues import evidence_strength
from shieldwall.config import Settings
from shieldwall.errors import InvalidScores
from shieldwall.people import Actor, Role
from shieldwall.store import Database
from shieldwall.store.models import CaseItem, ContentScore, MatchRecord

REVIEWER = Actor("user:rev", frozenset({Role.REVIEWER}))


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return Settings(data_dir=tmp_path, trusted_flaggers={"Helpline": "tf"})


def _score(content_id: str, score: float = 0.93, **extra: Any) -> dict[str, Any]:
    item: dict[str, Any] = {
        "content_id": content_id,
        "detector": "deepfake-x",
        "label": "synthetic",
        "score": score,
        "model_version": "v2",
    }
    item.update(extra)
    return item


def _match(db: Database, content_id: str, signal_type: str) -> None:
    with db.transaction() as session:
        session.add(
            MatchRecord(
                content_id=content_id,
                bank_name="ncii",
                signal_type=signal_type,
                distance=0,
                source="sweep",
            )
        )


def _rows(db: Database) -> int:
    with db.session() as session:
        return int(session.scalar(select(func.count()).select_from(ContentScore)) or 0)


def _evidence(db: Database, case_id: int) -> str:
    return get_case(db, REVIEWER, case_id).evidence


def test_record_and_read_scores(db: Database, settings: Settings) -> None:
    count = record_scores(
        db,
        settings,
        [
            _score("c-1"),
            _score("c-1", 0.4, detector="nudity-net", label="intimate", model_version=None),
            _score("c-2", 0.1),
        ],
    )
    assert count == 3
    found = scores_for(db, ["c-1", "c-2", "c-none"])
    assert set(found) == {"c-1", "c-2"}
    assert [(s.label, s.detector, s.score, s.model_version) for s in found["c-1"]] == [
        ("intimate", "nudity-net", 0.4, None),
        ("synthetic", "deepfake-x", 0.93, "v2"),
    ]
    assert found["c-2"][0].content_id == "c-2"
    assert found["c-2"][0].reported_at.tzinfo is not None
    assert scores_for(db, []) == {}
    assert record_scores(db, settings, []) == 0


def test_reporting_again_replaces_the_score(db: Database, settings: Settings) -> None:
    record_scores(db, settings, [_score("c-1", 0.2, model_version="v1")])
    record_scores(db, settings, [_score("c-1", 0.95, model_version="v3")])
    # In one call, the last of one (content, detector, label) wins.
    record_scores(db, settings, [_score("c-2", 0.3), _score("c-2", 0.6)])
    assert _rows(db) == 2
    found = scores_for(db, ["c-1", "c-2"])
    assert [(s.score, s.model_version) for s in found["c-1"]] == [(0.95, "v3")]
    assert [s.score for s in found["c-2"]] == [0.6]


@pytest.mark.parametrize(
    ("change", "field", "message"),
    [
        ({"content_id": None}, "content_id", "required"),
        ({"content_id": "   "}, "content_id", "required"),
        ({"content_id": 12}, "content_id", "must be text"),
        ({"content_id": "x" * 513}, "content_id", "at most 512"),
        ({"detector": ""}, "detector", "required"),
        ({"detector": "d" * 65}, "detector", "at most 64"),
        ({"label": "nsfw"}, "label", "synthetic, intimate"),
        ({"label": None}, "label", "synthetic, intimate"),
        ({"score": None}, "score", "required"),
        ({"score": 1.01}, "score", "from 0 to 1"),
        ({"score": -0.1}, "score", "from 0 to 1"),
        ({"score": float("nan")}, "score", "from 0 to 1"),
        ({"score": float("inf")}, "score", "from 0 to 1"),
        ({"score": "0.9"}, "score", "from 0 to 1"),
        ({"score": True}, "score", "from 0 to 1"),
        ({"model_version": "v" * 65}, "model_version", "at most 64"),
        ({"model_version": 2}, "model_version", "must be text"),
    ],
)
def test_each_invalid_field_is_named_and_nothing_is_written(
    db: Database, settings: Settings, change: dict[str, Any], field: str, message: str
) -> None:
    with pytest.raises(InvalidScores) as caught:
        record_scores(db, settings, [_score("good-1"), {**_score("bad"), **change}])
    assert caught.value.http_status == 422
    assert [f["field"] for f in caught.value.fields] == [f"items.1.{field}"]
    assert message in caught.value.fields[0]["message"]
    assert _rows(db) == 0


def test_every_invalid_item_and_field_is_named_at_once(db: Database, settings: Settings) -> None:
    with pytest.raises(InvalidScores) as caught:
        record_scores(
            db,
            settings,
            [
                _score("ok"),
                {"content_id": "", "detector": "d", "label": "x", "score": 2},
                "not an object",
                _score("ok-2", 1.0, model_version=""),  # an empty version is no version
            ],
        )
    assert [f["field"] for f in caught.value.fields] == [
        "items.1.content_id",
        "items.1.label",
        "items.1.score",
        "items.2",
    ]
    assert "items.1.content_id" in caught.value.message
    assert _rows(db) == 0
    with pytest.raises(InvalidScores) as too_many:
        record_scores(db, settings, [_score(f"c-{i}") for i in range(10_001)])
    assert [f["field"] for f in too_many.value.fields] == ["items"]


def test_scores_and_their_bounds_are_kept(db: Database, settings: Settings) -> None:
    assert record_scores(db, settings, [_score(" c-1 ", 0), _score("c-2", 1)]) == 2
    found = scores_for(db, ["c-1", "c-2"])
    assert found["c-1"][0].score == 0.0 and found["c-2"][0].score == 1.0  # ids stripped


def test_a_notice_after_a_score_gets_detector_evidence(db: Database, settings: Settings) -> None:
    record_scores(db, settings, [_score("deep-1", 0.8), _score("low-1", 0.79)])
    strong = submit_notice(db, settings, valid_notice(content_ids=["other", "deep-1"]))
    weak = submit_notice(db, settings, valid_notice(content_ids=["low-1"]))
    assert _evidence(db, strong.case_id) == "detector_score"  # at the threshold counts
    assert _evidence(db, weak.case_id) == "none"


def test_the_threshold_is_a_setting(db: Database, tmp_path: Path) -> None:
    strict = Settings(data_dir=tmp_path, cases_detector_threshold=0.95)
    record_scores(db, strict, [_score("deep-1", 0.9)])
    with db.session() as session:
        assert evidence_strength(session, ["deep-1"], strict) == 0
        lax = Settings(data_dir=tmp_path, cases_detector_threshold=0.5)
        assert evidence_strength(session, ["deep-1"], lax) == 1
    _match(db, "odd-1", "tmk")  # another match type is no evidence on its own
    with db.session() as session:
        assert evidence_strength(session, ["odd-1"], strict) == 0


def test_a_stored_video_md5_match_is_exact_evidence(db: Database, settings: Settings) -> None:
    _match(db, "video-1", "video_md5")
    _match(db, "video-2", "vpdq")
    with db.session() as session:
        assert evidence_strength(session, ["video-1"], settings) == 3
        assert evidence_strength(session, ["video-2"], settings) == 2


def test_scores_after_the_notice_raise_the_evidence(db: Database, settings: Settings) -> None:
    claimed = submit_notice(db, settings, valid_notice(content_ids=["late-1"]))
    taken = claim_next(db, REVIEWER)
    assert taken is not None and taken.id == claimed.case_id
    opened = submit_notice(db, settings, valid_notice(content_ids=["x", "late-2"]))
    exact = submit_notice(db, settings, valid_notice(content_ids=["late-3"]))
    with db.transaction() as session:  # an exact match found meanwhile (a sweep, say)
        case = session.get(CaseItem, exact.case_id)
        assert case is not None
        case.evidence = 3
    record_scores(db, settings, [_score("late-2"), _score("late-3")])
    assert _evidence(db, opened.case_id) == "detector_score"
    assert _evidence(db, claimed.case_id) == "none"
    assert _evidence(db, exact.case_id) == "exact_match"  # never lowered
    record_scores(db, settings, [_score("late-1", 0.99)])
    assert _evidence(db, claimed.case_id) == "detector_score"  # a claimed case too
    assert get_case(db, REVIEWER, claimed.case_id).state == "claimed"  # still the reviewer's
    # A lower score reported later does not take the evidence away.
    record_scores(db, settings, [_score("late-1", 0.1)])
    assert _evidence(db, claimed.case_id) == "detector_score"


def test_a_low_score_raises_nothing_and_decided_cases_stay(
    db: Database, settings: Settings
) -> None:
    low = submit_notice(db, settings, valid_notice(content_ids=["c-low"]))
    decided = submit_notice(db, settings, valid_notice(content_ids=["c-done"]))
    with db.transaction() as session:
        case = session.get(CaseItem, decided.case_id)
        assert case is not None
        case.state = "decided"
    record_scores(db, settings, [_score("c-low", 0.5), _score("c-done", 0.99)])
    assert _evidence(db, low.case_id) == "none"
    with db.session() as session:
        case = session.get(CaseItem, decided.case_id)
        assert case is not None and case.evidence == 0


def test_queue_order_exact_pdq_detector_none(db: Database, settings: Settings) -> None:
    _match(db, "exact-1", "sha256")
    _match(db, "pdq-1", "pdq")
    record_scores(db, settings, [_score("early-deep")])
    plain = submit_notice(db, settings, valid_notice(content_ids=["nothing-1"]))
    late_deep = submit_notice(db, settings, valid_notice(content_ids=["late-deep"]))
    early_deep = submit_notice(db, settings, valid_notice(content_ids=["early-deep"]))
    pdq = submit_notice(db, settings, valid_notice(content_ids=["pdq-1"]))
    exact = submit_notice(db, settings, valid_notice(content_ids=["exact-1"]))
    trusted = submit_notice(
        db,
        settings,
        valid_notice(content_ids=["t"], source="trusted_flagger", trusted_flagger_token="tf"),
    )
    urgent = submit_notice(db, settings, valid_notice(content_ids=["u"]))
    with db.transaction() as session:  # the urgent notice came in 40 hours ago
        case = session.get(CaseItem, urgent.case_id)
        assert case is not None
        case.received_at -= timedelta(hours=40)
        case.deadline -= timedelta(hours=40)

    def order() -> list[str]:
        return [c.tracking_number for c in list_queue(db, REVIEWER, "adult")]

    assert order() == [
        urgent.tracking_number,
        trusted.tracking_number,
        exact.tracking_number,
        pdq.tracking_number,
        early_deep.tracking_number,
        plain.tracking_number,
        late_deep.tracking_number,
    ]
    # The score of late-deep arrives: its case moves ahead of the case without evidence, and
    # of early-deep (same evidence, an earlier deadline).
    record_scores(db, settings, [_score("late-deep", 0.85, label="intimate")])
    assert order()[4:] == [
        late_deep.tracking_number,
        early_deep.tracking_number,
        plain.tracking_number,
    ]
    claimed = claim_next(db, REVIEWER)
    assert claimed is not None and claimed.tracking_number == urgent.tracking_number


def test_the_case_file_carries_the_scores(db: Database, settings: Settings) -> None:
    record_scores(db, settings, [_score("c-1"), _score("elsewhere", 0.5)])
    receipt = submit_notice(db, settings, valid_notice(content_ids=["c-1", "c-2"]))
    detail = case_file(db, REVIEWER, receipt.case_id)
    assert set(detail.scores) == {"c-1"}
    assert [(s.label, s.score, s.detector) for s in detail.scores["c-1"]] == [
        ("synthetic", 0.93, "deepfake-x")
    ]
