"""Case handling (issue 5): the public notice intake and the reviewers' case routes.

``/v1/notices`` needs no key (rate-limited per client address by the middleware); the case
routes need ``review`` (or ``admin``), and the library enforces the roles of the key's
:class:`~shieldwall.people.Actor` (see :func:`~shieldwall.people.keys.actor_for_key`)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Header, Path, Query, Request
from fastapi.responses import JSONResponse, Response
from pydantic import BaseModel, Field

from shieldwall import cases as lib
from shieldwall.api.deps import current_actor, get_state, scoped
from shieldwall.api.schemas import IdPath
from shieldwall.errors import NotFound
from shieldwall.people import Actor
from shieldwall.people.scopes import Scope
from shieldwall.service.state import ServiceState

router = APIRouter(prefix="/v1", tags=["notices and cases"])

_STATE = Depends(get_state)
_ACTOR = Depends(current_actor)
_TRACKING = Path(min_length=1, max_length=32)


#: The library's views are the API answers as they are (FastAPI takes dataclasses as models).
CaseOut = lib.CaseView
CaseDetailOut = lib.CaseDetail
AppealOut = lib.AppealView


class NoticeIn(BaseModel):
    """A notice (docs/cases.md names the law behind each field). Every field is checked at
    once: a 422 names each missing or invalid one in ``fields``."""

    source: str | None = Field(default="person", description="person or trusted_flagger")
    trusted_flagger_token: str | None = Field(
        default=None, max_length=500, description="A trusted flagger's configured token."
    )
    reporter_name: str | None = Field(default=None, max_length=1000)
    reporter_email: str | None = Field(default=None, max_length=1000)
    signature: str | None = Field(
        default=None, max_length=1000, description="Physical or electronic signature."
    )
    explanation: str | None = Field(
        default=None, max_length=20_000, description="Why the content is unlawful."
    )
    urls: list[str] | None = Field(default=None, description="Exact URL(s) of the image.")
    content_ids: list[str] | None = Field(default=None, description="Platform content ids.")
    content_kind: str | None = Field(default="unknown", description="real, synthetic, unknown")
    authorised_agent: bool | None = False
    authority_explanation: str | None = Field(default=None, max_length=10_000)
    possible_minor: bool | None = Field(
        default=False, description="The person depicted may be under 18 (restricted queue)."
    )
    declares_good_faith_non_consent: bool | None = None
    declares_accurate_and_complete: bool | None = None
    declares_intimate_image: bool | None = None
    declares_depicted_or_acting_for_them: bool | None = None
    declares_good_faith_and_true: bool | None = None


class NoticeCreated(BaseModel):
    tracking_number: str
    pin: str = Field(description="Shown once; needed with the tracking number for the status.")
    received_at: datetime
    deadline: datetime


class NoticeHistoryItem(BaseModel):
    at: datetime
    status: str
    note: str


class NoticeStatusOut(BaseModel):
    tracking_number: str
    status: str
    received_at: datetime
    history: list[NoticeHistoryItem]
    outcome: lib.NoticeOutcome | None = Field(
        default=None,
        description="Once decided: the action in force, when, and the copies found and removed.",
    )


class CasePage(BaseModel):
    cases: list[CaseOut]


class ClaimOut(BaseModel):
    case: CaseOut | None = Field(description="The case now assigned to the caller; null if none.")


class DecisionIn(BaseModel):
    action: str = Field(description="remove, restrict, label or no_action", max_length=32)
    ground: str = Field(description="law or terms", max_length=32)
    legal_ground: str | None = Field(
        default=None, max_length=2000, description="The law broken (required for ground law)."
    )
    reason: str = Field(max_length=5000, description="The explanation given to the uploader.")


class DecisionOut(BaseModel):
    case: CaseOut
    appeal_token: str = Field(description="Shown once: goes to the uploader with the statement.")
    appeal_url: str = Field(
        description="The uploader's appeal link, <cases_appeal_url>?code=<appeal_token>."
    )
    entry_id: int | None = Field(
        description="The block-bank entry a removal added (in the decision's transaction); "
        "null for other actions and for content the ledger does not know."
    )
    sweep_job_id: int | None = Field(description="The sweep job a removal queued; null likewise.")
    statement: dict[str, Any] | None = Field(
        description="The DSA Art. 17 statement of reasons for the uploader (with the token)."
    )


class StatementOut(BaseModel):
    statement_of_reasons: dict[str, Any]
    transparency_database: dict[str, Any] = Field(
        description="The EU Transparency Database statement (POST /api/v1/statement)."
    )


class ExportOut(BaseModel):
    statements: list[dict[str, Any]] = Field(description="At most 100 (one TDB batch).")
    next_after_id: int | None


class AppealIn(BaseModel):
    """The uploader gives ``appeal_token``; the notifier ``tracking_number`` and ``pin``."""

    reason: str = Field(max_length=10_000, description="Why the decision is wrong.")
    appeal_token: str | None = Field(default=None, max_length=200)
    tracking_number: str | None = Field(default=None, max_length=32)
    pin: str | None = Field(default=None, max_length=64)


class AppealPage(BaseModel):
    appeals: list[AppealOut]


class AppealDecisionIn(BaseModel):
    uphold: bool = Field(description="true reverses the decision")
    reason: str = Field(max_length=5000)


class AgeingOut(BaseModel):
    under_24h: int
    under_48h: int
    overdue: int


def _utc(moment: datetime) -> datetime:
    """A period bound without a zone is UTC."""
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


def _client(request: Request) -> str:
    return f"ip:{request.client.host if request.client else 'unknown'}"


@router.post("/notices", status_code=201, response_model=NoticeCreated)
def submit_notice(body: NoticeIn, state: ServiceState = _STATE) -> NoticeCreated:
    """File a notice (no key needed). ``201`` with the tracking number and the PIN (shown
    once), or ``422`` naming each missing or invalid field; nothing is saved on error."""
    data: dict[str, Any] = body.model_dump()
    receipt = lib.submit_notice(state.db, state.settings, data)
    return NoticeCreated(
        tracking_number=receipt.tracking_number,
        pin=receipt.pin,
        received_at=receipt.received_at,
        deadline=receipt.deadline,
    )


@router.get("/notices/{tracking_number}", response_model=NoticeStatusOut)
def notice_status(
    request: Request,
    tracking_number: Annotated[str, _TRACKING],
    x_notice_pin: Annotated[str, Header(min_length=1, max_length=64)],
    state: ServiceState = _STATE,
) -> NoticeStatusOut:
    """A notice's status and history, with its PIN (``X-Notice-PIN``). An unknown number and
    a wrong PIN get the same ``404``; repeated wrong PINs get ``429``."""
    guard = state.pin_guard
    keys = (f"tn:{tracking_number}", _client(request))
    if guard is not None:
        guard.check(*keys)
    try:
        status = lib.notice_status(state.db, tracking_number, x_notice_pin, settings=state.settings)
    except NotFound:
        if guard is not None:
            guard.failed(*keys)
        raise
    return NoticeStatusOut(
        tracking_number=status.tracking_number,
        status=status.status,
        received_at=status.received_at,
        history=[NoticeHistoryItem(at=a, status=s, note=n) for a, s, n in status.history],
        outcome=status.outcome,
    )


_QUEUE = Query(pattern="^(adult|restricted)$")


@router.get("/cases", response_model=CasePage, **scoped(Scope.REVIEW))
def list_cases(
    queue: Annotated[str, _QUEUE] = "adult",
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
    state: ServiceState = _STATE,
    actor: Actor = _ACTOR,
) -> CasePage:
    """The queue's undecided cases in priority order (``restricted``: child-safety
    reviewers only)."""
    return CasePage(cases=lib.list_queue(state.db, actor, queue, limit=limit))


@router.get("/cases/ageing", response_model=AgeingOut, **scoped(Scope.REVIEW))
def case_ageing(
    queue: Annotated[str, _QUEUE] = "adult",
    state: ServiceState = _STATE,
    actor: Actor = _ACTOR,
) -> AgeingOut:
    """Undecided cases by age: under 24 h, under 48 h, overdue."""
    return AgeingOut(**lib.ageing(state.db, actor, queue))


@router.post("/cases/claim", response_model=ClaimOut, **scoped(Scope.REVIEW))
def claim_case(
    queue: Annotated[str, _QUEUE] = "adult",
    state: ServiceState = _STATE,
    actor: Actor = _ACTOR,
) -> ClaimOut:
    """Assign the queue's next case to the caller (never to two callers): an open one, or one
    whose claim is older than ``case_claim_minutes``."""
    claimed = lib.claim_next(state.db, actor, queue, settings=state.settings)
    return ClaimOut(case=claimed)


@router.post("/cases/{case_id}/release", response_model=CaseOut, **scoped(Scope.REVIEW))
def release_case(
    case_id: IdPath,
    state: ServiceState = _STATE,
    actor: Actor = _ACTOR,
) -> CaseOut:
    """Give up the claim on a case (the claimer, or an admin key): it is open again. ``409``
    when it is not claimed; audited."""
    return lib.release_claim(state.db, actor, case_id)


@router.get("/cases/{case_id}", response_model=CaseDetailOut, **scoped(Scope.REVIEW))
def get_case(
    case_id: IdPath,
    state: ServiceState = _STATE,
    actor: Actor = _ACTOR,
) -> CaseDetailOut:
    """One case (no reporter identity) with its evidence: for each content id, its stored
    matches (bank, signal type, when, how found; never a distance or a hash)."""
    return lib.case_detail(state.db, actor, case_id)


@router.post("/cases/{case_id}/decision", response_model=DecisionOut, **scoped(Scope.REVIEW))
def decide(
    case_id: IdPath,
    body: DecisionIn,
    state: ServiceState = _STATE,
    actor: Actor = _ACTOR,
) -> DecisionOut:
    """Decide a case: ``remove`` (banks the content's signals, sweeps for copies, opens copy
    tasks), ``restrict``, ``label`` or ``no_action``, on ground ``law`` or ``terms``."""
    decision = lib.decide_case(
        state.db,
        state.settings,
        actor,
        case_id,
        action=body.action,
        ground=body.ground,
        reason=body.reason,
        legal_ground=body.legal_ground,
    )
    return DecisionOut(
        case=decision.case,
        appeal_token=decision.appeal_token,
        appeal_url=decision.appeal_url,
        entry_id=decision.entry_id,
        sweep_job_id=decision.sweep_job_id,
        statement=decision.statement,
    )


@router.get("/cases/{case_id}/statement", response_model=StatementOut, **scoped(Scope.REVIEW))
def statement(
    case_id: IdPath,
    state: ServiceState = _STATE,
    actor: Actor = _ACTOR,
) -> StatementOut:
    """The statement of reasons of a decided case (without the appeal token, which the
    decision answer carries once) and its Transparency Database form; audited."""
    sor, tdb = lib.case_statement(state.db, state.settings, actor, case_id)
    return StatementOut(statement_of_reasons=sor, transparency_database=tdb)


@router.get("/exports/transparency-database", response_model=ExportOut, **scoped(Scope.REVIEW))
def transparency_database(
    start: Annotated[datetime, Query(alias="from")],
    end: Annotated[datetime, Query(alias="to")],
    after_id: Annotated[int, Query(ge=0, le=2**63 - 1)] = 0,
    state: ServiceState = _STATE,
    actor: Actor = _ACTOR,
) -> ExportOut:
    """Transparency Database statements of the cases decided in ``[from, to)``, 100 at most
    per batch (page with ``after_id``); audited."""
    start, end = _utc(start), _utc(end)
    found, next_after = lib.transparency_export(
        state.db, state.settings, actor, start=start, end=end, after_id=after_id
    )
    return ExportOut(statements=found, next_after_id=next_after)


@router.post("/appeals/file", status_code=201, response_model=AppealOut)
def file_appeal(request: Request, body: AppealIn, state: ServiceState = _STATE) -> AppealOut:
    """Appeal a decision (no key): the uploader with the appeal token of the statement of
    reasons, the notifier with tracking number and PIN; within 6 months of the decision
    (later: ``409``). Unknown credentials get ``404``; wrong ones are throttled like PINs."""
    guard = state.pin_guard
    keys = (_client(request),)
    if guard is not None:
        guard.check(*keys)
    try:
        view = lib.file_appeal(
            state.db,
            reason=body.reason,
            appeal_token=body.appeal_token,
            tracking_number=body.tracking_number,
            pin=body.pin,
        )
    except NotFound:
        if guard is not None:
            guard.failed(*keys)
        raise
    return view


@router.get("/appeals", response_model=AppealPage, **scoped(Scope.REVIEW))
def list_appeals(
    appeal_state: Annotated[str, Query(alias="state", pattern="^(open|upheld|rejected)$")] = "open",
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
    state: ServiceState = _STATE,
    actor: Actor = _ACTOR,
) -> AppealPage:
    """Appeals in a state (open by default), oldest first."""
    found = lib.list_appeals(state.db, actor, state=appeal_state, limit=limit)
    return AppealPage(appeals=found)


@router.post("/appeals/{appeal_id}/decision", response_model=AppealOut, **scoped(Scope.REVIEW))
def decide_appeal(
    appeal_id: IdPath,
    body: AppealDecisionIn,
    state: ServiceState = _STATE,
    actor: Actor = _ACTOR,
) -> AppealOut:
    """Decide an appeal (senior reviewers and admins; never the first decider). Upheld
    reverses the decision."""
    return lib.decide_appeal(
        state.db, state.settings, actor, appeal_id, uphold=body.uphold, reason=body.reason
    )


@router.get(
    "/reports/transparency",
    response_model=None,
    responses={
        200: {
            "description": "The report (JSON object, or CSV rows metric,value)",
            "content": {
                "application/json": {"schema": {"type": "object"}},
                "text/csv": {"schema": {"type": "string"}},
            },
        }
    },
    **scoped(Scope.REVIEW),
)
def transparency_report(
    start: Annotated[datetime, Query(alias="from")],
    end: Annotated[datetime, Query(alias="to")],
    report_format: Annotated[str, Query(alias="format", pattern="^(json|csv)$")] = "json",
    state: ServiceState = _STATE,
    actor: Actor = _ACTOR,
) -> Response:
    """The transparency report of ``[from, to)``: notices by source and category, actions by
    ground, automated vs human decisions, median time to action, share removed within 48 h,
    appeals and reversal rate; audited."""
    start, end = _utc(start), _utc(end)
    report = lib.transparency_report(state.db, actor, start=start, end=end)
    if report_format == "csv":
        return Response(lib.report_csv(report), media_type="text/csv")
    return JSONResponse(report)
