"""A case's evidence: the stored matches of its content ids (docs/cases.md).

For each content id of the case, the matches the ``match`` table holds: which bank, by which
signal type, when, found on upload or by a sweep. Never a distance or a hash value (they help
evasion and reviewers decide on the content, not the score), never the reporter's identity.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select

from shieldwall.cases.queues import CaseView
from shieldwall.errors import NotFound, NotPermitted
from shieldwall.people import Actor
from shieldwall.store import Database
from shieldwall.store.models import CaseItem, MatchRecord

__all__ = ["CaseDetail", "ContentEvidence", "EvidenceMatch", "case_detail", "case_matches"]


@dataclass(frozen=True, slots=True)
class EvidenceMatch:
    """One stored match of a content id (no distance, no hash)."""

    bank: str
    signal_type: str
    matched_at: datetime
    #: ``upload`` (matched when checked) or ``sweep`` (found in the ledger afterwards).
    source: str


@dataclass(frozen=True, slots=True)
class ContentEvidence:
    """A content id of the case and its stored matches, oldest first (empty: none)."""

    content_id: str
    matches: list[EvidenceMatch]


@dataclass(frozen=True, slots=True)
class CaseDetail(CaseView):
    """A case with its evidence (``GET /v1/cases/{id}``): ``evidence`` is the strength (as in
    :class:`CaseView`), ``matches`` the stored matches of each content id."""

    matches: list[ContentEvidence]


def _load(db: Database, actor: Actor, case_id: int) -> tuple[CaseView, list[ContentEvidence]]:
    if not actor.roles:
        raise NotPermitted("this actor has no case role")
    with db.session() as session:
        case = session.get(CaseItem, case_id)
        if case is None or (case.queue == "restricted" and not actor.sees_restricted):
            raise NotFound(f"no case {case_id}")
        content_ids = list(case.content_ids)
        found: dict[str, list[EvidenceMatch]] = {cid: [] for cid in content_ids}
        if content_ids:
            rows = session.execute(
                select(
                    MatchRecord.content_id,
                    MatchRecord.bank_name,
                    MatchRecord.signal_type,
                    MatchRecord.at,
                    MatchRecord.source,
                )
                .where(MatchRecord.content_id.in_(content_ids))
                .order_by(MatchRecord.at, MatchRecord.id)
            )
            for cid, bank, signal_type, at, source in rows:
                found[cid].append(EvidenceMatch(bank, signal_type, at, source))
        return CaseView.of(case), [ContentEvidence(cid, found[cid]) for cid in content_ids]


def case_matches(db: Database, actor: Actor, case_id: int) -> list[ContentEvidence]:
    """For each content id of the case (in the case's order), its stored matches: bank name,
    signal type, when, how found; no distance. Any case role may read it; a restricted case is
    :class:`NotFound` for actors who may not see it."""
    return _load(db, actor, case_id)[1]


def case_detail(db: Database, actor: Actor, case_id: int) -> CaseDetail:
    """The case (as :func:`~shieldwall.cases.get_case`) with its evidence
    (:func:`case_matches`)."""
    view, evidence = _load(db, actor, case_id)
    fields = {name: getattr(view, name) for name in CaseView.__dataclass_fields__}
    return CaseDetail(**fields, matches=evidence)
