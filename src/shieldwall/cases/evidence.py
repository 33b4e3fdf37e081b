"""A case's evidence: the stored matches of its content ids (docs/cases.md).

For each content id of the case, the matches the ``match`` table holds: which bank, by which
signal type, when, found on upload or by a sweep. Never a distance or a hash value (they help
evasion and reviewers decide on the content, not the score), never the reporter's identity.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from shieldwall.cases.detail import case_file
from shieldwall.cases.queues import CaseView
from shieldwall.cases.removal import Banking
from shieldwall.errors import NotPermitted
from shieldwall.people import Actor
from shieldwall.store import Database

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
    :class:`CaseView`), ``matches`` the stored matches of each content id; for a decided
    removal, ``banking`` says what it banked (signal types, never values) or why nothing."""

    matches: list[ContentEvidence]
    banking: Banking | None = None


def _load(
    db: Database, actor: Actor, case_id: int
) -> tuple[CaseView, list[ContentEvidence], Banking | None]:
    if not actor.roles:
        raise NotPermitted("this actor has no case role")
    found = case_file(db, actor, case_id)
    by_content: dict[str, list[EvidenceMatch]] = {cid: [] for cid in found.case.content_ids}
    for m in found.matches:
        by_content[m.content_id].append(EvidenceMatch(m.bank_name, m.signal_type, m.at, m.source))
    evidence = [ContentEvidence(cid, matches) for cid, matches in by_content.items()]
    return found.case, evidence, found.banking


def case_matches(db: Database, actor: Actor, case_id: int) -> list[ContentEvidence]:
    """For each content id of the case (in the case's order), its stored matches: bank name,
    signal type, when, how found; no distance. Any case role may read it; a restricted case is
    :class:`NotFound` for actors who may not see it."""
    return _load(db, actor, case_id)[1]


def case_detail(db: Database, actor: Actor, case_id: int) -> CaseDetail:
    """The case (as :func:`~shieldwall.cases.get_case`) with its evidence
    (:func:`case_matches`): the API's view of the case file
    (:func:`~shieldwall.cases.detail.case_file`)."""
    view, evidence, banking = _load(db, actor, case_id)
    fields = {name: getattr(view, name) for name in CaseView.__dataclass_fields__}
    return CaseDetail(**fields, matches=evidence, banking=banking)
