"""The console's people page (admins; issue 16 point 2): every console user with their roles
and state; create a person, replace their roles, set a new password (which also unlocks the
account and ends their sessions), disable them.

The forms call :mod:`shieldwall.people.accounts` as ``shieldwall user ...`` does, with the
admin as the actor of the audit events (``person.create``, ``person.roles``,
``person.password``, ``person.disable``). An admin may not take their own admin role away nor
disable themselves (the console would lose the person who can undo it).
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Form, Path, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from shieldwall.errors import ShieldwallError
from shieldwall.people.accounts import (
    SessionInfo,
    create_person,
    disable,
    list_people,
    set_password,
    set_roles,
)
from shieldwall.people.roles import Actor, Role
from shieldwall.web.admin import ADMIN, sentence
from shieldwall.web.console import check_form_csrf, current_session, render, service_state

__all__ = ["people_page", "router"]

router = APIRouter(include_in_schema=False)

_SESSION = Depends(current_session)
FormText = Annotated[str, Form()]
FormList = Annotated[list[str], Form()]
Username = Annotated[str, Path(max_length=64)]
_DONE = {
    "created": "Person created.",
    "roles": "Roles saved.",
    "password": "Password set: the account is unlocked and its sessions ended.",
    "disabled": "Person disabled: no more sign-ins, and their sessions ended.",
}
_OWN_ADMIN = "You may not take your own admin role away: another admin can."
_OWN_DISABLE = "You may not disable yourself: another admin can."


def people_page(
    request: Request,
    actor: Actor,
    *,
    error: str = "",
    values: dict[str, Any] | None = None,
    status: int = 200,
) -> HTMLResponse:
    """The people page (with ``error`` above the forms when a change was refused)."""
    context: dict[str, Any] = {
        "people": list_people(service_state(request).db),
        "all_roles": [r.value for r in Role],
        "me": actor.id,
        "error": error,
        "notice": _DONE.get(request.query_params.get("done", ""), ""),
        "values": values or {"username": "", "display_name": "", "roles": []},
    }
    return render(request, "people.html", context, status_code=status)


@router.get("/console/people", response_class=HTMLResponse)
def console_people(request: Request, actor: Actor = ADMIN) -> HTMLResponse:
    """The console's users, their roles and state, and the forms that change them."""
    return people_page(request, actor)


@router.post("/console/people", response_class=HTMLResponse)
def create(
    request: Request,
    *,
    csrf_token: FormText = "",
    username: FormText = "",
    display_name: FormText = "",
    password: FormText = "",
    roles: FormList | None = None,
    actor: Actor = ADMIN,
    session: SessionInfo = _SESSION,
) -> Response:
    """Create a console user with a first password (they should change it) and roles."""
    check_form_csrf(session, csrf_token)
    state = service_state(request)
    chosen = roles or []
    values = {"username": username, "display_name": display_name, "roles": chosen}
    try:
        create_person(
            state.db,
            username.strip(),
            password,
            chosen,
            display_name=display_name.strip() or None,
            by=actor.id,
            settings=state.settings,
        )
    except ShieldwallError as exc:
        return people_page(
            request, actor, error=sentence(exc), values=values, status=exc.http_status
        )
    return RedirectResponse("/console/people?done=created", status_code=303)


def _is_me(request: Request, actor: Actor, username: str) -> bool:
    return any(
        f"user:{p.id}" == actor.id and p.username == username
        for p in list_people(service_state(request).db)
    )


@router.post("/console/people/{username}/roles", response_class=HTMLResponse)
def change_roles(
    request: Request,
    username: Username,
    *,
    csrf_token: FormText = "",
    roles: FormList | None = None,
    actor: Actor = ADMIN,
    session: SessionInfo = _SESSION,
) -> Response:
    """Replace the person's roles with those ticked (none: they see no cases)."""
    check_form_csrf(session, csrf_token)
    chosen = roles or []
    if Role.ADMIN.value not in chosen and _is_me(request, actor, username):
        return people_page(request, actor, error=_OWN_ADMIN, status=409)
    try:
        set_roles(service_state(request).db, username, chosen, by=actor.id)
    except ShieldwallError as exc:
        return people_page(request, actor, error=sentence(exc), status=exc.http_status)
    return RedirectResponse("/console/people?done=roles", status_code=303)


@router.post("/console/people/{username}/password", response_class=HTMLResponse)
def change_password(
    request: Request,
    username: Username,
    *,
    csrf_token: FormText = "",
    password: FormText = "",
    actor: Actor = ADMIN,
    session: SessionInfo = _SESSION,
) -> Response:
    """Set a new password: the account is unlocked and its sessions end."""
    check_form_csrf(session, csrf_token)
    state = service_state(request)
    try:
        set_password(state.db, username, password, by=actor.id, settings=state.settings)
    except ShieldwallError as exc:
        return people_page(request, actor, error=sentence(exc), status=exc.http_status)
    if _is_me(request, actor, username):  # their own sessions ended too: sign in again
        return RedirectResponse("/login", status_code=303)
    return RedirectResponse("/console/people?done=password", status_code=303)


@router.post("/console/people/{username}/disable", response_class=HTMLResponse)
def disable_person(
    request: Request,
    username: Username,
    *,
    csrf_token: FormText = "",
    actor: Actor = ADMIN,
    session: SessionInfo = _SESSION,
) -> Response:
    """Disable the person: no more sign-ins; their sessions end now."""
    check_form_csrf(session, csrf_token)
    if _is_me(request, actor, username):
        return people_page(request, actor, error=_OWN_DISABLE, status=409)
    try:
        disable(service_state(request).db, username, by=actor.id)
    except ShieldwallError as exc:
        return people_page(request, actor, error=sentence(exc), status=exc.http_status)
    return RedirectResponse("/console/people?done=disabled", status_code=303)
