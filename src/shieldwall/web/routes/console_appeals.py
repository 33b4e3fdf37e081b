"""The console's appeal pages (issue 5, DSA Art. 20): ``/console/appeals`` (open appeals oldest
first; upheld or rejected ones by filter) and ``/console/appeals/{id}`` (the decision appealed
against, the appeal, and the form that decides it).

Senior reviewers and admins decide; auditors read and decide nothing (their POST is the 403
page); the person who made the decision sees why they may not decide instead of the form, and
a POST of theirs is the 403 page. Appeals on restricted cases exist only for child-safety
reviewers (as in the library).
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from shieldwall.cases import appeals as lib
from shieldwall.errors import Conflict, Forbidden, InvalidDecision, NotFound, NotPermitted
from shieldwall.people.accounts import SessionInfo, list_people
from shieldwall.people.roles import Actor, Role
from shieldwall.service.params import IdPath
from shieldwall.web.console import check_form_csrf, current_session, render, require_role
from shieldwall.web.public import service_state

__all__ = ["APPEAL_STATES", "OWN_DECISION_MESSAGE", "router"]

router = APIRouter(include_in_schema=False)

#: The list's filters.
APPEAL_STATES = ("open", "upheld", "rejected")
#: Shown to the person who made the decision instead of the form.
OWN_DECISION_MESSAGE = (
    "You made the decision this appeal is against, so you may not decide the appeal: "
    "another senior reviewer or an admin decides it."
)
_READERS = Depends(require_role(Role.SENIOR_REVIEWER, Role.ADMIN, Role.AUDITOR))
_DECIDERS = Depends(require_role(Role.SENIOR_REVIEWER, Role.ADMIN))
_SESSION = Depends(current_session)
FormText = Annotated[str, Form()]


def age(since: datetime, now: datetime) -> str:
    """How long ago ``since`` was, in whole days and hours (``"2 d 3 h"``, ``"5 h"``,
    ``"under 1 h"``)."""
    hours = int(max(now - since, timedelta(0)).total_seconds() // 3600)
    days, hours = divmod(hours, 24)
    if days:
        return f"{days} d {hours} h"
    return f"{hours} h" if hours else "under 1 h"


def _names(request: Request) -> dict[str, str]:
    """Console users' display names by actor id (``user:<id>``)."""
    return {f"user:{p.id}": p.display_name for p in list_people(service_state(request).db)}


@router.get("/console/appeals", response_class=HTMLResponse)
def appeals_list(request: Request, state: str = "open", actor: Actor = _READERS) -> HTMLResponse:
    """Appeals in ``state`` (``open`` by default), oldest first."""
    error, status = "", 200
    if state not in APPEAL_STATES:
        error = f"Unknown filter {state[:20]!r}: choose open, upheld or rejected."
        state, status = "open", 422
    found = lib.list_appeals(service_state(request).db, actor, state=state, limit=500)
    now = datetime.now(UTC)
    rows = [(a, age(a.filed_at, now)) for a in found]
    context = {"rows": rows, "state": state, "states": APPEAL_STATES, "error": error}
    return render(request, "console_appeals.html", context, status_code=status)


def _detail_page(
    request: Request,
    actor: Actor,
    appeal_id: int,
    *,
    values: dict[str, str] | None = None,
    errors: dict[str, str] | None = None,
    error: str = "",
    status: int = 200,
) -> HTMLResponse:
    try:
        detail = lib.get_appeal(service_state(request).db, actor, appeal_id)
    except NotFound:
        context: dict[str, Any] = {"detail": None, "appeal_id": appeal_id}
        return render(request, "console_appeal.html", context, status_code=404)
    own = detail.decided_by == actor.id
    context = {
        "detail": detail,
        "appeal": detail.appeal,
        "names": _names(request),
        "own_decision": own,
        "own_message": OWN_DECISION_MESSAGE,
        "can_decide": actor.may_decide_appeals and not own and detail.appeal.state == "open",
        "values": values or {"outcome": "", "reason": ""},
        "errors": errors or {},
        "error": error,
        "decided": request.query_params.get("decided") == "1",
    }
    return render(request, "console_appeal.html", context, status_code=status)


@router.get("/console/appeals/{appeal_id}", response_class=HTMLResponse)
def appeal_page(request: Request, appeal_id: IdPath, actor: Actor = _READERS) -> HTMLResponse:
    """One appeal: the decision appealed against, the appeal, and (for a senior reviewer or
    admin who did not make the decision) the form that decides it."""
    return _detail_page(request, actor, appeal_id)


@router.post("/console/appeals/{appeal_id}", response_class=HTMLResponse)
def appeal_decide(
    request: Request,
    appeal_id: IdPath,
    *,
    csrf_token: FormText = "",
    outcome: FormText = "",
    reason: FormText = "",
    actor: Actor = _DECIDERS,
    session: SessionInfo = _SESSION,
) -> Response:
    """Decide the appeal (uphold: the decision is reversed; reject: it stands) with a reason;
    then a redirect to the appeal's page showing the outcome."""
    check_form_csrf(session, csrf_token)
    state = service_state(request)
    try:
        detail = lib.get_appeal(state.db, actor, appeal_id)
    except NotFound:
        return _detail_page(request, actor, appeal_id)
    if detail.decided_by == actor.id:
        raise Forbidden(OWN_DECISION_MESSAGE)
    values = {"outcome": outcome if outcome in ("uphold", "reject") else "", "reason": reason}
    errors: dict[str, str] = {}
    if not values["outcome"]:
        errors["outcome"] = "Choose: uphold the appeal (reverse the decision) or reject it."
    if not reason.strip():
        errors["reason"] = "Give the reason for this outcome (it is kept with the appeal)."
    elif len(reason) > 5000:
        errors["reason"] = "The reason may be at most 5,000 characters long."
    if errors:
        message = "The appeal was not decided: please correct the fields marked below."
        return _detail_page(
            request, actor, appeal_id, values=values, errors=errors, error=message, status=422
        )
    try:
        lib.decide_appeal(
            state.db,
            state.settings,
            actor,
            appeal_id,
            uphold=values["outcome"] == "uphold",
            reason=reason,
        )
    except NotPermitted as exc:
        raise Forbidden(exc.message) from exc
    except InvalidDecision:
        errors = {"reason": "Give the reason for this outcome (it is kept with the appeal)."}
        return _detail_page(request, actor, appeal_id, values=values, errors=errors, status=422)
    except Conflict as exc:  # decided meanwhile by someone else
        message = exc.message[:1].upper() + exc.message[1:] + "."
        return _detail_page(request, actor, appeal_id, error=message, status=409)
    return RedirectResponse(f"/console/appeals/{appeal_id}?decided=1", status_code=303)
