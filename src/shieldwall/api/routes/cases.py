"""Case handling (issue 5): the public notice intake and the reviewers' case routes.

``/v1/notices`` needs no key (rate-limited per client address by the middleware); the case
routes need ``review`` (or ``admin``), and the library enforces the roles of the key's
:class:`~shieldwall.people.Actor` (see :func:`~shieldwall.people.keys.actor_for_key`)."""

from __future__ import annotations

import hmac
from datetime import UTC, datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, File, Form, Header, Path, Query, Request, UploadFile
from fastapi.responses import JSONResponse, Response
from pydantic import BaseModel, ConfigDict, Field

from shieldwall import cases as lib
from shieldwall.api.deps import current_actor, get_state, scoped
from shieldwall.api.schemas import SAYS_SOMETHING, WS, IdPath
from shieldwall.api.uploads import save_upload
from shieldwall.errors import Forbidden, NotFound
from shieldwall.people import Actor
from shieldwall.people.scopes import Scope
from shieldwall.service.access import public
from shieldwall.service.params import IsoDateTime
from shieldwall.service.state import ServiceState

router = APIRouter(prefix="/v1", tags=["notices and cases"])

_STATE = Depends(get_state)
_ACTOR = Depends(current_actor)
_TRACKING = Path(min_length=1, max_length=32)
#: An item of ``urls``: blank (ignored), or an exact http(s) URL (blanks around it stripped).
_NOTICE_URL = f"^[{WS}]*$|^[{WS}]*[hH][tT][tT][pP][sS]?://[^{WS}/?#]+[^{WS}]*[{WS}]*$"
_NoticeUrl = Annotated[str, Field(max_length=2048, json_schema_extra={"pattern": _NOTICE_URL})]
_SAYS: dict[str, Any] = {"pattern": SAYS_SOMETHING}
#: An email address (blanks around it stripped).
_EMAIL = f"^[{WS}]*[^@{WS}]{{1,64}}@[^@{WS}]+[.][^@{WS}]+[{WS}]*$"
#: At least 10 characters once stripped.
_EXPLANATION = f"^[{WS}]*[^{WS}][\\s\\S]{{8,}}[^{WS}][{WS}]*$"


#: The library's views are the API answers as they are (FastAPI takes dataclasses as models).
CaseOut = lib.CaseView
CaseDetailOut = lib.CaseDetail
AppealOut = lib.AppealView


_TRUE = {"const": True}


def _not_null(schema: dict[str, Any]) -> dict[str, Any]:
    """``schema`` (``anyOf: [X, null]``, as pydantic writes ``X | None``) without ``null``."""
    options = [o for o in schema.get("anyOf", []) if o.get("type") != "null"]
    if len(options) != 1:
        return schema
    rest = {k: v for k, v in schema.items() if k not in ("anyOf", "default")}
    return {**rest, **options[0]}


def _decision_rules(schema: dict[str, Any]) -> None:
    """Ground ``law`` names the law broken (``legal_ground``)."""
    schema["if"] = {"properties": {"ground": {"const": "law"}}}
    schema["then"] = {
        "required": ["legal_ground"],
        "properties": {"legal_ground": {"type": "string", "pattern": SAYS_SOMETHING}},
    }


def _notice_rules(schema: dict[str, Any]) -> None:
    """What :func:`~shieldwall.cases.validate_notice` requires, in the schema: the fields every
    notice needs, the reporter's name unless the person may be a minor, a statement of
    authority from an agent, and a URL or a content id. (The model itself keeps them optional,
    so that one 422 names every missing field, as the library finds them.)"""
    required = ["reporter_email", "signature", "explanation", *lib.DECLARATIONS]
    schema["required"] = required
    properties = schema["properties"]
    for name in required:  # a required field is not null either
        properties[name] = _not_null(properties[name])
    for name in lib.DECLARATIONS:
        properties[name] = {**properties[name], **_TRUE}
    nonblank = {"type": "string", "pattern": SAYS_SOMETHING}
    schema["allOf"] = [
        {
            "if": {"properties": {"possible_minor": _TRUE}, "required": ["possible_minor"]},
            "else": {"required": ["reporter_name"], "properties": {"reporter_name": nonblank}},
        },
        {
            "if": {"properties": {"authorised_agent": _TRUE}, "required": ["authorised_agent"]},
            "then": {
                "required": ["authority_explanation"],
                "properties": {"authority_explanation": nonblank},
            },
        },
        {
            "anyOf": [
                {
                    "required": [field],
                    "properties": {field: {"type": "array", "contains": nonblank}},
                }
                for field in ("urls", "content_ids")
            ]
        },
    ]


class NoticeIn(BaseModel):
    """A notice (docs/cases.md names the law behind each field). Every field is checked at
    once: a 422 names each missing or invalid one in ``fields``. The schema marks what is
    required: the reporter's email, signature and explanation, the five declarations (each
    ``true``), the reporter's name unless ``possible_minor``, ``authority_explanation`` when
    ``authorised_agent``, and at least one URL or content id."""

    # Patterns are the schema's only (json_schema_extra): validate_notice checks the same and
    # names every field at once, in its own words.
    model_config = ConfigDict(extra="forbid", json_schema_extra=_notice_rules)

    source: Literal["person", "trusted_flagger"] | None = Field(
        default="person",
        description="person, or trusted_flagger (with its configured token; a wrong token is 403)",
    )
    trusted_flagger_token: str | None = Field(
        default=None, max_length=500, description="A trusted flagger's configured token."
    )
    reporter_name: str | None = Field(
        default=None, max_length=200, json_schema_extra={"pattern": SAYS_SOMETHING}
    )
    reporter_email: str | None = Field(
        default=None, max_length=320, json_schema_extra={"pattern": _EMAIL}
    )
    signature: str | None = Field(
        default=None,
        max_length=200,
        json_schema_extra={"pattern": SAYS_SOMETHING},
        description="Physical or electronic signature.",
    )
    explanation: str | None = Field(
        default=None,
        max_length=10_000,
        json_schema_extra={"pattern": _EXPLANATION},
        description="Why the content is unlawful (10 characters or more).",
    )
    urls: (
        list[Annotated[str, Field(max_length=2048, json_schema_extra={"pattern": _NOTICE_URL})]]
        | None
    ) = Field(default=None, max_length=100, description="Exact http(s) URL(s) of the image.")
    content_ids: list[Annotated[str, Field(max_length=512)]] | None = Field(
        default=None, max_length=100, description="Platform content ids."
    )
    content_kind: Literal["real", "synthetic", "unknown"] | None = Field(
        default="unknown", description="real, synthetic, unknown"
    )
    authorised_agent: bool = Field(default=False, strict=True)
    authority_explanation: str | None = Field(default=None, max_length=5000)
    possible_minor: bool = Field(
        default=False,
        strict=True,
        description="The person depicted may be under 18 (restricted queue).",
    )
    declares_good_faith_non_consent: bool | None = Field(default=None, strict=True)
    declares_accurate_and_complete: bool | None = Field(default=None, strict=True)
    declares_intimate_image: bool | None = Field(default=None, strict=True)
    declares_depicted_or_acting_for_them: bool | None = Field(default=None, strict=True)
    declares_good_faith_and_true: bool | None = Field(default=None, strict=True)


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
    """A decision: the action, its ground and, for ground ``law``, the law broken."""

    model_config = ConfigDict(extra="forbid", json_schema_extra=_decision_rules)

    action: Literal["remove", "restrict", "label", "no_action"]
    ground: Literal["law", "terms"]
    legal_ground: str | None = Field(
        default=None, max_length=2000, description="The law broken (required for ground law)."
    )
    reason: str = Field(
        max_length=5000,
        pattern=SAYS_SOMETHING,
        description="The explanation given to the uploader.",
    )


class BankingOut(BaseModel):
    """What a removal banked and which sweep started, or why nothing could be banked. Hash
    values are never given: only their types."""

    banked: bool = Field(description="Whether a block-bank entry holds the content's hashes.")
    bank: str | None = Field(description="The block bank (cases_block_bank); null if unbanked.")
    entry_id: int | None = Field(description="The bank entry; null if nothing was banked.")
    sweep_job_id: int | None = Field(
        description="The sweep of the ledger for copies; null if nothing was banked."
    )
    sources: dict[str, str] = Field(
        description="Content id -> where its hashes came from: ledger, upload or preview (the "
        "platform's preview, fetched and hashed at decision time)."
    )
    signal_types: list[str] = Field(description="The signal types banked (md5, pdq, ...).")
    variants: int = Field(description="Bank-side variants (crops) banked beside them.")
    missing: dict[str, str] = Field(
        description="Content id -> why none of its hashes could be banked ('' when the "
        "notice names no content id)."
    )
    summary: str = Field(description="The outcome in words, as the case page says it.")

    @classmethod
    def of(cls, banking: lib.Banking) -> BankingOut:
        """The answer form of a :class:`~shieldwall.cases.Banking`."""
        return cls(
            banked=banking.banked,
            bank=banking.bank,
            entry_id=banking.entry_id,
            sweep_job_id=banking.sweep_job_id,
            sources=banking.sources,
            signal_types=banking.signal_types,
            variants=banking.variants,
            missing=banking.missing,
            summary=banking.summary(),
        )


class DecisionOut(BaseModel):
    case: CaseOut
    appeal_token: str = Field(description="Shown once: goes to the uploader with the statement.")
    appeal_url: str = Field(
        description="The uploader's appeal link, <cases_appeal_url>?code=<appeal_token>."
    )
    entry_id: int | None = Field(
        description="The block-bank entry a removal added (in the decision's transaction); "
        "null for other actions and for content that could not be hashed (see banking)."
    )
    sweep_job_id: int | None = Field(description="The sweep job a removal queued; null likewise.")
    banking: BankingOut | None = Field(
        default=None,
        description="For a removal: what was banked (hashed from the ledger, else the "
        "platform's preview) and which sweep started, or why nothing could be; null for "
        "other actions.",
    )
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

    model_config = ConfigDict(extra="forbid")

    reason: str = Field(
        max_length=10_000, pattern=SAYS_SOMETHING, description="Why the decision is wrong."
    )
    appeal_token: str | None = Field(default=None, max_length=200)
    tracking_number: str | None = Field(default=None, max_length=32)
    pin: str | None = Field(default=None, max_length=64)


class AppealPage(BaseModel):
    appeals: list[AppealOut]


class AppealDecisionIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    uphold: bool = Field(strict=True, description="true reverses the decision")
    reason: str = Field(max_length=5000, pattern=SAYS_SOMETHING)


class AgeingOut(BaseModel):
    under_24h: int
    under_48h: int
    overdue: int


def _utc(moment: datetime) -> datetime:
    """A period bound without a zone is UTC."""
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


def _client(request: Request) -> str:
    return f"ip:{request.client.host if request.client else 'unknown'}"


@router.post("/notices", status_code=201, response_model=NoticeCreated, **public())
def submit_notice(body: NoticeIn, state: ServiceState = _STATE) -> NoticeCreated:
    """File a notice (no key needed). ``201`` with the tracking number and the PIN (shown
    once), or ``422`` naming each missing or invalid field; nothing is saved on error. A
    ``trusted_flagger`` notice without its configured token is ``403``: a credential, which
    no schema can describe."""
    token = (body.trusted_flagger_token or "").encode()
    if body.source == "trusted_flagger" and not any(
        hmac.compare_digest(token, expected.encode())
        for expected in state.settings.trusted_flaggers.values()
    ):
        raise Forbidden("a trusted flagger must present its configured token")
    data: dict[str, Any] = body.model_dump()
    receipt = lib.submit_notice(state.db, state.settings, data)
    return NoticeCreated(
        tracking_number=receipt.tracking_number,
        pin=receipt.pin,
        received_at=receipt.received_at,
        deadline=receipt.deadline,
    )


@router.get("/notices/{tracking_number}", response_model=NoticeStatusOut, **public())
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
    """Decide a case: ``remove`` (banks the content's signals, from the ledger or else hashed
    from the platform's preview; sweeps for copies, opens copy tasks; ``banking`` says what was
    banked or why nothing could be), ``restrict``, ``label`` or ``no_action``, on ground ``law``
    or ``terms``."""
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
    return _decision_out(decision)


def _decision_out(decision: lib.Decision) -> DecisionOut:
    return DecisionOut(
        case=decision.case,
        appeal_token=decision.appeal_token,
        appeal_url=decision.appeal_url,
        entry_id=decision.entry_id,
        sweep_job_id=decision.sweep_job_id,
        banking=BankingOut.of(decision.banking) if decision.banking is not None else None,
        statement=decision.statement,
    )


@router.post("/cases/{case_id}/decision/upload", response_model=DecisionOut, **scoped(Scope.REVIEW))
def decide_with_upload(  # noqa: PLR0917 - a FastAPI signature
    case_id: IdPath,
    file: Annotated[UploadFile, File(description="The removed content, hashed for the bank.")],
    action: Annotated[Literal["remove", "restrict", "label", "no_action"], Form()],
    ground: Annotated[Literal["law", "terms"], Form()],
    reason: Annotated[str, Form(max_length=5000, pattern=SAYS_SOMETHING)],
    legal_ground: Annotated[str | None, Form(max_length=2000)] = None,
    state: ServiceState = _STATE,
    actor: Actor = _ACTOR,
) -> DecisionOut:
    """Decide a case as ``POST /v1/cases/{id}/decision`` does, with the reviewer's copy of the
    content (multipart): for a ``remove``, it is hashed for the bank when the ledger has no
    hashes of the content (instead of the platform's preview) and not kept. A file that cannot
    be hashed is refused (422, 413) and nothing is decided."""
    with save_upload(file.file, file.filename, state.settings) as saved:
        data = saved.path.read_bytes()
    decision = lib.decide_case(
        state.db,
        state.settings,
        actor,
        case_id,
        action=action,
        ground=ground,
        reason=reason,
        legal_ground=legal_ground,
        upload=data,
        upload_name=saved.filename,
    )
    return _decision_out(decision)


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
    start: Annotated[IsoDateTime, Query(alias="from")],
    end: Annotated[IsoDateTime, Query(alias="to")],
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


@router.post("/appeals/file", status_code=201, response_model=AppealOut, **public())
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
    start: Annotated[IsoDateTime, Query(alias="from")],
    end: Annotated[IsoDateTime, Query(alias="to")],
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
