"""Detector scores: a platform's own classifiers' scores per content id, as evidence.

Platforms run classifiers of their own (synthetic-media / deepfake detectors, nudity and
intimate-content classifiers) and report their scores by content id (``POST /v1/scores``). A
score at or above ``cases_detector_threshold`` is *detector evidence*: weaker than an exact or
a PDQ match, stronger than none (:func:`~shieldwall.cases.queues.evidence_strength`). A notice
that arrives after the scores gets the evidence when its case opens; scores that arrive after a
case opened raise the evidence of the undecided cases holding the content id (never lower it),
in the scores' transaction, so the queue order changes at once.

Reporting ``(content_id, detector, label)`` again replaces its score. Every item is checked
before anything is written: one invalid item is an
:class:`~shieldwall.errors.InvalidScores` naming each invalid item and field, and nothing is
saved.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from shieldwall.config import Settings
from shieldwall.errors import InvalidScores
from shieldwall.store import Database
from shieldwall.store.models import CaseItem, ContentScore, utcnow

__all__ = [
    "LABELS",
    "MAX_ITEMS",
    "ScoreView",
    "record_scores",
    "scores_for",
    "scores_in",
    "validate_scores",
]

#: What a detector scores: ``synthetic`` (AI-generated, a deepfake) or ``intimate`` (nudity,
#: sexual content).
LABELS = ("synthetic", "intimate")
#: The most scores one call records.
MAX_ITEMS = 10_000
_LIMITS = {"content_id": 512, "detector": 64, "model_version": 64}
#: Rows per INSERT statement (well under SQLite's and PostgreSQL's parameter limits).
_CHUNK = 1000
#: The evidence strength of a detector score (``EVIDENCE[1]``).
_DETECTOR_EVIDENCE = 1


@dataclass(frozen=True, slots=True)
class ScoreView:
    """One detector score of one content id."""

    content_id: str
    #: The classifier's name, as the platform calls it.
    detector: str
    #: ``synthetic`` or ``intimate``.
    label: str
    #: 0..1.
    score: float
    model_version: str | None
    reported_at: datetime


def _text(
    item: Mapping[str, Any],
    name: str,
    where: str,
    errors: list[dict[str, str]],
    *,
    required: bool,
) -> str | None:
    value = item.get(name)
    if value is None or (isinstance(value, str) and not value.strip()):
        if required:
            errors.append({"field": f"{where}.{name}", "message": "this field is required"})
        return None
    if not isinstance(value, str):
        errors.append({"field": f"{where}.{name}", "message": "must be text"})
        return None
    value = value.strip()
    if len(value) > _LIMITS[name]:
        errors.append(
            {"field": f"{where}.{name}", "message": f"at most {_LIMITS[name]} characters"}
        )
        return None
    return value


def _score(value: Any, where: str, errors: list[dict[str, str]]) -> float | None:
    if value is None:
        errors.append({"field": f"{where}.score", "message": "this field is required"})
        return None
    if (
        isinstance(value, bool)
        or not isinstance(value, int | float)
        or not math.isfinite(value)
        or not 0 <= value <= 1
    ):
        errors.append({"field": f"{where}.score", "message": "must be a number from 0 to 1"})
        return None
    return float(value)


def validate_scores(
    items: Sequence[Any],
) -> tuple[list[dict[str, Any]], list[dict[str, str]]]:
    """Check every item; returns the clean items and the errors (``{"field", "message"}``, the
    field named ``items.<index>.<name>``, one per invalid field of each item)."""
    errors: list[dict[str, str]] = []
    clean: list[dict[str, Any]] = []
    if len(items) > MAX_ITEMS:
        errors.append({"field": "items", "message": f"at most {MAX_ITEMS} items at once"})
        return [], errors
    for index, item in enumerate(items):
        where = f"items.{index}"
        if not isinstance(item, Mapping):
            errors.append({"field": where, "message": "must be an object"})
            continue
        before = len(errors)
        content_id = _text(item, "content_id", where, errors, required=True)
        detector = _text(item, "detector", where, errors, required=True)
        label = item.get("label")
        if label not in LABELS:
            errors.append(
                {"field": f"{where}.label", "message": f"must be one of {', '.join(LABELS)}"}
            )
        score = _score(item.get("score"), where, errors)
        version = _text(item, "model_version", where, errors, required=False)
        if len(errors) == before:
            clean.append(
                {
                    "content_id": content_id,
                    "detector": detector,
                    "label": label,
                    "score": score,
                    "model_version": version,
                }
            )
    return clean, errors


def _upsert(session: Session, rows: list[dict[str, Any]]) -> None:
    """Insert ``rows``, replacing the score of an existing ``(content_id, detector, label)``."""
    dialect = session.get_bind().dialect.name
    for start in range(0, len(rows), _CHUNK):
        chunk = rows[start : start + _CHUNK]
        if dialect in ("postgresql", "sqlite"):
            insert = pg_insert if dialect == "postgresql" else sqlite_insert
            stmt = insert(ContentScore).values(chunk)
            session.execute(
                stmt.on_conflict_do_update(
                    index_elements=["content_id", "detector", "label"],
                    set_={
                        "score": stmt.excluded.score,
                        "model_version": stmt.excluded.model_version,
                        "reported_at": stmt.excluded.reported_at,
                    },
                )
            )
            continue
        for row in chunk:  # pragma: no cover - only SQLite and PostgreSQL are supported
            existing = session.scalar(
                select(ContentScore).where(
                    ContentScore.content_id == row["content_id"],
                    ContentScore.detector == row["detector"],
                    ContentScore.label == row["label"],
                )
            )
            if existing is None:
                session.add(ContentScore(**row))
            else:
                existing.score = row["score"]
                existing.model_version = row["model_version"]
                existing.reported_at = row["reported_at"]
        session.flush()


def _raise_evidence(session: Session, content_ids: set[str]) -> list[int]:
    """Give detector evidence to the undecided cases holding any of ``content_ids`` that have
    less; returns their ids."""
    if not content_ids:
        return []
    candidates = session.execute(
        select(CaseItem.id, CaseItem.content_ids).where(
            CaseItem.state.in_(("open", "claimed")), CaseItem.evidence < _DETECTOR_EVIDENCE
        )
    )
    ids = [case_id for case_id, held in candidates if content_ids.intersection(held or [])]
    if ids:
        session.execute(
            update(CaseItem)
            .where(CaseItem.id.in_(ids), CaseItem.evidence < _DETECTOR_EVIDENCE)
            .values(evidence=_DETECTOR_EVIDENCE)
            .execution_options(synchronize_session=False)
        )
    return ids


def record_scores(db: Database, settings: Settings, items: Sequence[Any]) -> int:
    """Record detector scores (``{"content_id", "detector", "label", "score",
    "model_version"?}`` each); returns how many were recorded. A score at or above
    ``cases_detector_threshold`` raises the evidence of the open and claimed cases holding its
    content id to a detector score (never lowers it), in the same transaction. Raises
    :class:`~shieldwall.errors.InvalidScores` naming each invalid item and field; nothing is
    saved then."""
    clean, errors = validate_scores(items)
    if errors:
        names = ", ".join(dict.fromkeys(e["field"] for e in errors))
        raise InvalidScores(f"invalid detector scores: {names}", errors)
    if not clean:
        return 0
    now = utcnow()
    latest: dict[tuple[str, str, str], dict[str, Any]] = {}
    for item in clean:  # the last of one (content, detector, label) in the call wins
        latest[(item["content_id"], item["detector"], item["label"])] = {
            **item,
            "reported_at": now,
        }
    rows = list(latest.values())
    strong = {
        row["content_id"] for row in rows if row["score"] >= settings.cases_detector_threshold
    }
    with db.transaction() as session:
        _upsert(session, rows)
        _raise_evidence(session, strong)
    return len(clean)


def scores_in(session: Session, content_ids: Sequence[str]) -> dict[str, list[ScoreView]]:
    """:func:`scores_for` within ``session``."""
    out: dict[str, list[ScoreView]] = {}
    if not content_ids:
        return out
    rows = session.scalars(
        select(ContentScore)
        .where(ContentScore.content_id.in_(list(content_ids)))
        .order_by(ContentScore.content_id, ContentScore.label, ContentScore.detector)
    )
    for r in rows:
        out.setdefault(r.content_id, []).append(
            ScoreView(r.content_id, r.detector, r.label, r.score, r.model_version, r.reported_at)
        )
    return out


def scores_for(db: Database, content_ids: Sequence[str]) -> dict[str, list[ScoreView]]:
    """The detector scores of ``content_ids``: content id -> its scores (by label, then
    detector); a content id without scores is absent."""
    with db.session() as session:
        return scores_in(session, content_ids)
