"""The console's case search (issue 16 point 2): ``/console/search?q=`` finds cases by tracking
number, content id or a URL of their notice (:func:`shieldwall.cases.search_cases`), for every
case role; restricted cases only for child-safety reviewers, as in the queue."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import HTMLResponse

from shieldwall import cases
from shieldwall.cases.search import MAX_QUERY
from shieldwall.errors import UsageError
from shieldwall.people.roles import Actor, Role
from shieldwall.web.admin import sentence
from shieldwall.web.console import render, require_role, service_state
from shieldwall.web.routes.console_cases import time_left

__all__ = ["router"]

router = APIRouter(include_in_schema=False)

_VIEWER = Depends(
    require_role(
        Role.REVIEWER, Role.SENIOR_REVIEWER, Role.CHILD_SAFETY_REVIEWER, Role.ADMIN, Role.AUDITOR
    )
)


@router.get("/console/search", response_class=HTMLResponse)
def search_page(
    request: Request,
    q: Annotated[str, Query(max_length=MAX_QUERY)] = "",
    actor: Actor = _VIEWER,
) -> HTMLResponse:
    """The search form and, with ``q``, the cases found (newest first, at most 50)."""
    rows: list[tuple[cases.CaseView, str, str]] = []
    error = ""
    status = 200
    if q.strip():
        try:
            found = cases.search_cases(service_state(request).db, actor, q)
        except UsageError as exc:
            error, status = sentence(exc), 422
        else:
            now = datetime.now(UTC)
            for c in found:
                left, cls = time_left(c.deadline, now) if c.state != "decided" else ("", "")
                rows.append((c, left, cls))
    context: dict[str, Any] = {"q": q.strip(), "rows": rows, "error": error}
    return render(request, "search.html", context, status_code=status)
