"""The reviewer console's queue and case pages (issue 5 point 3).

- ``/console/queue``: a queue's undecided cases in priority order with their ageing buckets,
  the decided ones, and "claim next";
- ``/console/cases/{id}``: the notice's substance (never the reporter's identity), the content
  previews, each stored match beside the bank entry it hit, and the decision form;
- ``/console/cases/{id}/preview/{n}``: the n-th content's preview, fetched from the platform
  for this answer only (:mod:`shieldwall.web.preview`): blurred and grey unless
  ``view=full``, and every full view is an audited reveal (``preview.revealed``);
- ``/console/cases/{id}/statement``: the statement of reasons and its Transparency Database
  form.

Server-rendered and usable without JavaScript; ``/static/console.js`` adds keyboard shortcuts
and in-place reveal. Auditors see everything read-only.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, File, Form, Path, Query, Request, UploadFile
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from markupsafe import escape
from starlette.concurrency import run_in_threadpool

from shieldwall import cases as lib
from shieldwall.audit import record_read
from shieldwall.cases.detail import CaseFile, case_file
from shieldwall.cases.removal import SOURCES
from shieldwall.errors import (
    Conflict,
    FetchError,
    InvalidDecision,
    MediaError,
    NotFound,
    NotPermitted,
    UsageError,
)
from shieldwall.exchange import transparency_state
from shieldwall.media.image import ImageLimits
from shieldwall.people.accounts import SessionInfo, list_people
from shieldwall.people.roles import Actor, Role
from shieldwall.service.params import IdPath
from shieldwall.web.console import (
    check_form_csrf,
    current_session,
    render,
    require_role,
    service_state,
)
from shieldwall.web.preview import fetch_preview, render_preview

router = APIRouter(include_in_schema=False)

FormText = Annotated[str, Form()]
_CASE_ROLES = (
    Role.REVIEWER,
    Role.SENIOR_REVIEWER,
    Role.CHILD_SAFETY_REVIEWER,
    Role.ADMIN,
    Role.AUDITOR,
)
#: Who may reveal a preview (see it unblurred) and decide: the reviewers and admins, never an
#: auditor (read-only: blurred previews only).
REVEAL_ROLES = frozenset(
    {Role.REVIEWER, Role.SENIOR_REVIEWER, Role.CHILD_SAFETY_REVIEWER, Role.ADMIN}
)
_VIEWER = Depends(require_role(*_CASE_ROLES))
_DECIDER = Depends(require_role(*sorted(REVEAL_ROLES)))
_SESSION = Depends(current_session)

ACTION_LABELS = {
    "remove": "Remove",
    "restrict": "Restrict (age-gate or hide)",
    "label": "Label",
    "no_action": "No action",
}
GROUND_LABELS = {
    "law": "Illegal content (a law)",
    "terms": "Against the terms of service",
}
_IMAGE_HEADERS = {
    "Cache-Control": "no-store, private",
    "X-Content-Type-Options": "nosniff",
    "Content-Security-Policy": "default-src 'none'",
    "Referrer-Policy": "no-referrer",
}


def may_reveal(actor: Actor) -> bool:
    """Whether ``actor`` may see a preview unblurred (holds one of :data:`REVEAL_ROLES`)."""
    return bool(actor.roles & REVEAL_ROLES)


def time_left(deadline: datetime, now: datetime | None = None) -> tuple[str, str]:
    """``("due in 31 h 20 min", "ok")``, ``("due in 5 h", "urgent")`` (under 12 h) or
    ``("overdue by 2 h 5 min", "overdue")``."""
    now = now or datetime.now(UTC)
    seconds = (deadline - now).total_seconds()
    minutes = int(abs(seconds) // 60)
    hours, mins = divmod(minutes, 60)
    text = f"{hours} h {mins} min" if hours else f"{mins} min"
    if seconds < 0:
        return f"overdue by {text}", "overdue"
    return f"due in {text}", "urgent" if seconds < lib.queues.URGENT_HOURS * 3600 else "ok"


def _who(request: Request) -> Callable[[str | None], str]:
    """A template helper: an actor id as people read it (``user:3`` -> ``Alice Reviewer
    (alice)``; API keys and ``system`` as they are)."""
    names = {
        f"user:{p.id}": f"{p.display_name} ({p.username})"
        for p in list_people(service_state(request).db)
    }

    def who(actor_id: str | None) -> str:
        return names.get(actor_id, actor_id) if actor_id else ""

    return who


@router.get("/console/queue", response_class=HTMLResponse)
def queue_page(
    request: Request,
    queue: Annotated[str, Query(max_length=32)] = "adult",
    message: Annotated[str, Query(max_length=64)] = "",
    actor: Actor = _VIEWER,
) -> HTMLResponse:
    """A queue in priority order, its ageing buckets and the recently decided cases."""
    state = service_state(request)
    try:
        lib.queues.check_queue(actor, queue)
    except NotPermitted as exc:
        return _problem(request, exc.message, 403)
    except UsageError:  # an unknown queue: the adult one
        queue = "adult"
    open_cases = lib.list_queue(state.db, actor, queue, limit=200)
    decided = lib.list_queue(state.db, actor, queue, state="decided", limit=50)
    now = datetime.now(UTC)
    rows = [(c, *time_left(c.deadline, now)) for c in open_cases]
    messages = {
        "empty": "No open case is waiting in this queue.",
        "released": "The case is back in the queue for anyone to claim.",
    }
    return render(
        request,
        "queue.html",
        {
            "queue": queue,
            "queues": lib.queues.visible_queues(actor),
            "rows": rows,
            "decided": decided,
            "ageing": lib.ageing(state.db, actor, queue, now=now),
            "may_decide": actor.may_decide,
            "me": actor.id,
            "who": _who(request),
            "message": messages.get(message, ""),
        },
    )


@router.post("/console/queue/claim")
def claim_next_case(
    request: Request,
    queue: FormText = "adult",
    csrf_token: FormText = "",
    session: SessionInfo = _SESSION,
    actor: Actor = _DECIDER,
) -> Response:
    """Claim the queue's next case and open it (none open: back to the queue, with a note)."""
    check_form_csrf(session, csrf_token)
    if queue not in lib.QUEUES:
        queue = "adult"
    try:
        state = service_state(request)
        claimed = lib.claim_next(state.db, actor, queue, settings=state.settings)
    except NotPermitted as exc:
        return _problem(request, exc.message, 403)
    if claimed is None:
        return RedirectResponse(f"/console/queue?queue={queue}&message=empty", status_code=303)
    return RedirectResponse(f"/console/cases/{claimed.id}", status_code=303)


def _problem(request: Request, message: str, status: int) -> HTMLResponse:
    """The error page: 403 "Not allowed", 404 "Not found"."""
    heading = "Not found" if status == 404 else "Not allowed"
    return render(
        request, "forbidden.html", {"message": message, "heading": heading}, status_code=status
    )


def _detail_or_404(request: Request, actor: Actor, case_id: int) -> CaseFile | HTMLResponse:
    try:
        return case_file(service_state(request).db, actor, case_id)
    except NotFound as exc:
        return _problem(request, exc.message, 404)


def _case_page(
    request: Request,
    actor: Actor,
    session: SessionInfo,
    detail: CaseFile,
    *,
    reveal: bool,
    form: dict[str, str] | None = None,
    errors: dict[str, str] | None = None,
    error: str = "",
    notice: str = "",
    status: int = 200,
) -> HTMLResponse:
    case = detail.case
    deadline_text, deadline_class = time_left(case.deadline)
    settings = service_state(request).settings
    claim_lapsed = lib.queues.claim_expired(case, lib.queues.claim_window(settings))
    can_decide = actor.may_decide and (
        case.state == "open"
        or (case.state == "claimed" and (case.assigned_to == actor.id or claim_lapsed))
    )
    can_release = case.state == "claimed" and (
        case.assigned_to == actor.id or actor.has(Role.ADMIN)
    )
    by_content: dict[str, list[Any]] = {}
    for match in detail.matches:
        by_content.setdefault(match.content_id, []).append(match)
    reveal = may_reveal(actor) and (reveal or session.person.reveal_previews)
    return render(
        request,
        "case.html",
        {
            "detail": detail,
            "case": case,
            "deadline_text": deadline_text,
            "deadline_class": deadline_class,
            "reveal": reveal,
            "may_reveal": may_reveal(actor),
            "by_preference": session.person.reveal_previews and may_reveal(actor),
            "previews": bool(settings.preview_url_template),
            "can_decide": can_decide,
            "read_only": not actor.may_decide,
            "claimed_by_other": case.state == "claimed" and case.assigned_to != actor.id,
            "claim_lapsed": claim_lapsed,
            "can_release": can_release,
            "claim_minutes": settings.case_claim_minutes,
            "by_content": by_content,
            "actions": ACTION_LABELS,
            "grounds": GROUND_LABELS,
            "form": form or {"action": "", "ground": "", "legal_ground": "", "reason": ""},
            "errors": errors or {},
            "error": error,
            "notice": notice,
            "terms_ground": settings.cases_terms_ground,
            "detector_threshold": settings.cases_detector_threshold,
            "who": _who(request),
            "sources": SOURCES,
        },
        status_code=status,
    )


@router.get("/console/cases/{case_id}", response_class=HTMLResponse)
def case_page(
    request: Request,
    *,
    case_id: IdPath,
    reveal: bool = False,
    decided: bool = False,
    session: SessionInfo = _SESSION,
    actor: Actor = _VIEWER,
) -> HTMLResponse:
    """One case: its notice, previews (blurred until revealed), matches beside their bank
    entries, and the decision form."""
    detail = _detail_or_404(request, actor, case_id)
    if isinstance(detail, HTMLResponse):
        return detail
    notice = "Decision recorded." if decided else ""
    return _case_page(request, actor, session, detail, reveal=reveal, notice=notice)


@router.post("/console/cases/{case_id}/release")
def release_case(
    request: Request,
    case_id: IdPath,
    csrf_token: FormText = "",
    session: SessionInfo = _SESSION,
    actor: Actor = _DECIDER,
) -> Response:
    """Give the claimed case back to its queue (the claimer, or an admin)."""
    check_form_csrf(session, csrf_token)
    try:
        released = lib.release_claim(service_state(request).db, actor, case_id)
    except NotPermitted as exc:
        return _problem(request, exc.message, 403)
    except NotFound as exc:
        return _problem(request, exc.message, 404)
    except Conflict as exc:
        detail = _detail_or_404(request, actor, case_id)
        if isinstance(detail, HTMLResponse):
            return detail
        return _case_page(
            request, actor, session, detail, reveal=False, error=exc.message, status=409
        )
    return RedirectResponse(
        f"/console/queue?queue={released.queue}&message=released", status_code=303
    )


@router.post("/console/cases/{case_id}/decide", response_class=HTMLResponse)
def decide_case(
    request: Request,
    *,
    case_id: IdPath,
    csrf_token: FormText = "",
    action: FormText = "",
    ground: FormText = "",
    legal_ground: FormText = "",
    reason: FormText = "",
    reveal: FormText = "",
    content: Annotated[UploadFile | None, File()] = None,
    session: SessionInfo = _SESSION,
    actor: Actor = _DECIDER,
) -> Response:
    """Decide the case; the form again with each error next to its field (422), or a
    conflict (409: decided or claimed by someone else meanwhile). ``content`` (optional) is
    the reviewer's copy of the content, hashed for the bank when the ledger has none."""
    check_form_csrf(session, csrf_token)
    state = service_state(request)
    form = {"action": action, "ground": ground, "legal_ground": legal_ground, "reason": reason}
    upload = None
    if content is not None and content.filename:
        # one byte over the limit is enough to refuse it (hash_content names the limit)
        upload = content.file.read(state.settings.max_video_bytes + 1) or None
    try:
        lib.decide_case(
            state.db,
            state.settings,
            actor,
            case_id,
            action=action,
            ground=ground,
            reason=reason,
            legal_ground=legal_ground or None,
            upload=upload,
            upload_name=(content.filename if content is not None else None) or "upload",
        )
    except NotPermitted as exc:
        return _problem(request, exc.message, 403)
    except (InvalidDecision, Conflict, MediaError) as exc:
        detail = _detail_or_404(request, actor, case_id)
        if isinstance(detail, HTMLResponse):
            return detail
        if isinstance(exc, MediaError):
            return _case_page(
                request,
                actor,
                session,
                detail,
                reveal=bool(reveal),
                form=form,
                errors={"content": exc.message},
                error="The decision was not recorded: the uploaded file cannot be hashed.",
                status=422,
            )
        if isinstance(exc, InvalidDecision):
            errors = {f["field"]: f["message"] for f in exc.fields}
            return _case_page(
                request,
                actor,
                session,
                detail,
                reveal=bool(reveal),
                form=form,
                errors=errors,
                error="The decision was not recorded: correct the fields marked below.",
                status=422,
            )
        return _case_page(
            request, actor, session, detail, reveal=bool(reveal), error=exc.message, status=409
        )
    except NotFound as exc:
        return _problem(request, exc.message, 404)
    return RedirectResponse(f"/console/cases/{case_id}?decided=1", status_code=303)


def _placeholder(message: str, status: int) -> Response:
    text = escape(message[:120])
    svg = (
        '<svg xmlns="http://www.w3.org/2000/svg" width="360" height="240" viewBox="0 0 360 240">'
        '<rect width="360" height="240" fill="#dcdcde"/>'
        '<text x="180" y="112" font-family="sans-serif" font-size="15" text-anchor="middle" '
        'fill="#1d2327">Preview unavailable</text>'
        f'<text x="180" y="138" font-family="sans-serif" font-size="10" text-anchor="middle" '
        f'fill="#50575e">{text}</text></svg>'
    )
    return Response(
        svg,
        status_code=status,
        media_type="image/svg+xml",
        headers={**_IMAGE_HEADERS, "X-Preview-Error": "1"},
    )


@router.get("/console/cases/{case_id}/preview/{index}")
async def case_preview(
    request: Request,
    *,
    case_id: IdPath,
    index: Annotated[int, Path(ge=0, le=999)],
    view: Annotated[str, Query(pattern="^(blurred|full)$")] = "blurred",
    session: SessionInfo = _SESSION,
    actor: Actor = _VIEWER,
) -> Response:
    """The case's ``index``-th content as a JPEG: blurred and grey, or (``view=full``, the
    reviewers' and admins' right only: :data:`REVEAL_ROLES`) as it is, which records a
    ``preview.revealed`` audit event first. Fetched from the platform for this answer only;
    nothing is written to disk or the database."""
    reveal = view == "full"
    if reveal and not may_reveal(actor):
        return _placeholder("revealing a preview needs a reviewer role", 403)
    state = service_state(request)
    try:
        case = await run_in_threadpool(lib.get_case, state.db, actor, case_id)
    except NotFound:
        return _placeholder("no such case", 404)
    content_ids = case.content_ids
    if index >= len(content_ids):
        return _placeholder("no such content in this case", 404)
    content_id = content_ids[index]
    settings = state.settings
    try:
        data = await run_in_threadpool(fetch_preview, settings, content_id)
        limits = ImageLimits(
            settings.preview_max_bytes, settings.max_image_pixels, settings.max_image_dimension
        )
        image = await run_in_threadpool(render_preview, data, reveal=reveal, limits=limits)
    except (FetchError, MediaError) as exc:
        return _placeholder(exc.message, 502)
    if reveal:
        details = {
            "case_id": case_id,
            "content_index": index,
            "by_preference": session.person.reveal_previews,
        }
        await run_in_threadpool(
            record_read,
            state.db,
            actor.id,
            "preview.revealed",
            f"case:{case.tracking_number}",
            details,
        )
    return Response(image, media_type="image/jpeg", headers=_IMAGE_HEADERS)


@router.get("/console/cases/{case_id}/statement", response_class=HTMLResponse)
def case_statement_page(
    request: Request,
    case_id: IdPath,
    actor: Actor = _VIEWER,
) -> HTMLResponse:
    """The decided case's statement of reasons (as sent to the uploader, without the appeal
    code) and its Transparency Database statement; audited."""
    state = service_state(request)
    try:
        sor, tdb = lib.case_statement(state.db, state.settings, actor, case_id)
    except (NotFound, Conflict, InvalidDecision) as exc:
        return _problem(request, exc.message, 404)
    return render(
        request,
        "statement.html",
        {
            "case_id": case_id,
            "sor": sor,
            "tdb_json": json.dumps(tdb, indent=2, ensure_ascii=False),
            "tdb_state": transparency_state(state.db, case_id),
            "tdb_enabled": bool(state.settings.tdb_url),
        },
    )
