"""A case file: what a reviewer's case page shows of one case: the notice's substance (never
the reporter's identity), the stored matches of its content with the bank entries they hit and
the case each entry came from, the platform's detector scores, the decision, what a removal
banked (or why nothing) and the sweep it started, the copies it found and the appeals.

The reporter's name, email address and signature stay on the notice row: :class:`NoticeFacts`
has no field for them. Match distances are not included (reviewers see the kind of match:
exact or near).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from shieldwall.cases.appeals import AppealView, appeal_view
from shieldwall.cases.queues import CaseView
from shieldwall.cases.removal import Banking
from shieldwall.cases.scores import ScoreView, scores_in
from shieldwall.errors import NotFound
from shieldwall.people import Actor
from shieldwall.signals import Comparison, find_signal_type, is_exact_evidence
from shieldwall.store import Database
from shieldwall.store.models import (
    Appeal,
    Bank,
    BankEntry,
    BankSignal,
    CaseItem,
    EntryExternalId,
    JobRecord,
    MatchRecord,
    Notice,
)

__all__ = ["CaseFile", "CaseLink", "MatchView", "NoticeFacts", "case_file"]


@dataclass(frozen=True, slots=True)
class NoticeFacts:
    """The substance of the notice behind a case, for judging it (no reporter identity)."""

    source: str
    trusted_flagger: str | None
    explanation: str
    urls: list[str]
    content_kind: str
    possible_minor: bool
    authorised_agent: bool
    authority_explanation: str | None
    declarations: dict[str, bool]
    status: str


@dataclass(frozen=True, slots=True)
class CaseLink:
    """Another case, as a link: its id, tracking number, content ids, state and action."""

    id: int
    tracking_number: str
    content_ids: list[str]
    state: str
    action: str | None


@dataclass(frozen=True, slots=True)
class MatchView:
    """A stored match of one of the case's contents and the bank entry it hit."""

    content_id: str
    bank_name: str
    bank_kind: str | None
    signal_type: str
    #: ``exact`` (a cryptographic hash) or ``near`` (a perceptual hash within the threshold).
    strength: str
    #: ``upload`` (matched when checked) or ``sweep`` (found in the ledger later).
    source: str
    at: datetime
    entry_id: int | None
    entry_status: str | None
    entry_note: str
    external_ids: list[str]
    #: The case whose removal banked the entry, if a case did.
    origin: CaseLink | None
    #: The query-side variant that matched (``original``: the content as it was uploaded;
    #: ``trim``, ``caption-top``, ``screenshot``, ``rotate+3``, ... otherwise).
    variant: str = "original"
    #: The bank-side variant it hit (a crop of the banked photo), or ``None``.
    bank_variant: str | None = None
    #: For a match by local features (``orb``): how many keypoints of the content lined up
    #: with the banked photo's under one turn and scale (``None`` for other matches).
    agreeing_points: int | None = None


@dataclass(frozen=True, slots=True)
class CaseFile:
    """One case as its page shows it."""

    case: CaseView
    kind: str
    parent: CaseLink | None
    notice: NoticeFacts | None
    legal_ground: str | None
    reason: str | None
    matches: list[MatchView]
    copies: list[CaseLink]
    appeals: list[AppealView]
    #: The platform's detector scores of the case's content: content id -> scores (a content
    #: id without scores is absent).
    scores: dict[str, list[ScoreView]] = field(default_factory=dict)
    #: For a removal: what it banked and which sweep it started, or why nothing was banked
    #: (``None`` for other decisions and undecided cases).
    banking: Banking | None = None
    #: The state of the removal's sweep job (``queued``, ``running``, ``done``, ...), if any.
    sweep_state: str | None = None


def _agreeing_points(signal_type: str, distance: int) -> int | None:
    """Keypoints that agreed in a local-feature match (its distance is ``100 - inliers``,
    at least 0, so a distance of 0 means 100 or more)."""
    found = find_signal_type(signal_type)
    if found is None or found.comparison is not Comparison.LOCAL_FEATURES:
        return None
    return 100 - max(0, distance)


def _banking(session: Session, c: CaseItem) -> tuple[Banking | None, str | None]:
    """A decided removal's banking (:class:`Banking`) and its sweep job's state."""
    if c.state != "decided" or c.action != "remove" or c.automated:
        return None, None
    bank = None
    types: list[str] = []
    if c.block_entry_id is not None:
        bank = session.scalar(
            select(Bank.name)
            .join(BankEntry, BankEntry.bank_id == Bank.id)
            .where(BankEntry.id == c.block_entry_id)
        )
        if c.banking is None:
            types = list(
                session.scalars(
                    select(BankSignal.type).where(
                        BankSignal.entry_id == c.block_entry_id, BankSignal.variant.is_(None)
                    )
                )
            )
    banking = Banking.from_row(
        c.banking,
        bank=bank,
        entry_id=c.block_entry_id,
        sweep_job_id=c.sweep_job_id,
        content_ids=c.content_ids,
        signal_types=types,
    )
    job = session.get(JobRecord, c.sweep_job_id) if c.sweep_job_id is not None else None
    return banking, job.state if job is not None else None


def _link(c: CaseItem) -> CaseLink:
    return CaseLink(c.id, c.tracking_number, list(c.content_ids), c.state, c.action)


def case_file(db: Database, actor: Actor, case_id: int) -> CaseFile:
    """The case page's content (richer than the API's
    :func:`~shieldwall.cases.evidence.case_detail`: bank entries and the cases they came from);
    a restricted case is :class:`NotFound` for actors who may not see it (as in
    :func:`~shieldwall.cases.get_case`)."""
    with db.session() as session:
        c = session.get(CaseItem, case_id)
        if c is None or (c.queue == "restricted" and not actor.sees_restricted) or not actor.roles:
            raise NotFound(f"no case {case_id}")
        parent = session.get(CaseItem, c.parent_id) if c.parent_id else None
        facts = None
        notice_id = c.notice_id if c.notice_id else (parent.notice_id if parent else None)
        notice = session.get(Notice, notice_id) if notice_id else None
        if notice is not None:
            facts = NoticeFacts(
                notice.source,
                notice.trusted_flagger,
                notice.explanation,
                list(notice.urls),
                notice.content_kind,
                notice.possible_minor,
                notice.authorised_agent,
                notice.authority_explanation,
                {k: bool(v) for k, v in (notice.declarations or {}).items()},
                notice.status,
            )
        matches: list[MatchView] = []
        if c.content_ids:
            rows = session.execute(
                select(MatchRecord, BankEntry, Bank.kind)
                .outerjoin(BankEntry, BankEntry.id == MatchRecord.entry_id)
                .outerjoin(Bank, Bank.id == MatchRecord.bank_id)
                .where(MatchRecord.content_id.in_(list(c.content_ids)))
                .order_by(MatchRecord.at, MatchRecord.id)
            ).all()
            for record, entry, bank_kind in rows:
                external: list[str] = []
                origin = None
                if entry is not None:
                    external = list(
                        session.scalars(
                            select(EntryExternalId.external_id)
                            .where(EntryExternalId.entry_id == entry.id)
                            .order_by(EntryExternalId.id)
                        )
                    )
                    source_case = session.scalars(
                        select(CaseItem)
                        .where(CaseItem.block_entry_id == entry.id)
                        .order_by(CaseItem.id)
                        .limit(1)
                    ).first()
                    visible = source_case is not None and (
                        source_case.queue != "restricted" or actor.sees_restricted
                    )
                    if source_case is not None and visible and source_case.id != c.id:
                        origin = _link(source_case)
                matches.append(
                    MatchView(
                        record.content_id,
                        record.bank_name,
                        bank_kind,
                        record.signal_type,
                        "exact" if is_exact_evidence(record.signal_type) else "near",
                        record.source,
                        record.at,
                        record.entry_id,
                        entry.status if entry is not None else None,
                        entry.note if entry is not None else "",
                        external,
                        origin,
                        record.variant,
                        record.bank_variant,
                        _agreeing_points(record.signal_type, record.distance),
                    )
                )
        copies = [
            _link(x)
            for x in session.scalars(
                select(CaseItem).where(CaseItem.parent_id == c.id).order_by(CaseItem.id)
            )
        ]
        appeals = [
            appeal_view(a, c)
            for a in session.scalars(
                select(Appeal).where(Appeal.case_id == c.id).order_by(Appeal.id)
            )
        ]
        banking, sweep_state = _banking(session, c)
        return CaseFile(
            CaseView.of(c),
            c.kind,
            _link(parent) if parent is not None else None,
            facts,
            c.legal_ground,
            c.reason,
            matches,
            copies,
            appeals,
            scores=scores_in(session, list(c.content_ids)),
            banking=banking,
            sweep_state=sweep_state,
        )
