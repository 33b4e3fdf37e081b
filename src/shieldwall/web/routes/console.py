"""The console's own pages: login, logout, the console home with the person's preferences (the
people page is :mod:`shieldwall.web.routes.console_people`). Not under ``/v1``; not in the
OpenAPI schema."""

from __future__ import annotations

import secrets
from typing import Annotated
from urllib.parse import quote

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from shieldwall import cases
from shieldwall.errors import AccountLocked, Forbidden, LoginFailed
from shieldwall.people.accounts import (
    PENDING_MINUTES,
    SessionInfo,
    actor_for,
    authenticate,
    logout,
    set_preferences,
)
from shieldwall.people.roles import Role
from shieldwall.service.access import public
from shieldwall.web.console import (
    LOGIN_CSRF_COOKIE,
    PENDING_COOKIE,
    SESSION_COOKIE,
    SIGNED_IN,
    check_form_csrf,
    current_session,
    render,
    service_state,
    set_cookie,
)

router = APIRouter(include_in_schema=False)

_SESSION = Depends(current_session)
FormText = Annotated[str, Form()]


def safe_next(target: str) -> str:
    """Only a path of this console: never another site (``//host``) or a scheme."""
    if target.startswith("/console") and not target.startswith("//") and "\\" not in target:
        return target
    return "/console"


def login_page(
    request: Request,
    *,
    next_url: str,
    error: str = "",
    username: str = "",
    status: int = 200,
    signed_out: str = "",
) -> HTMLResponse:
    """The login form (with ``error``, and a single sign-on button when it is configured)."""
    token = request.cookies.get(LOGIN_CSRF_COOKIE) or secrets.token_urlsafe(32)
    settings = service_state(request).settings
    response = render(
        request,
        "login.html",
        {
            "login_csrf": token,
            "error": error,
            "username": username,
            "next_url": safe_next(next_url),
            "sso_label": settings.oidc_label if settings.oidc_issuer else "",
            "signed_out": signed_out if signed_out.isdigit() else "",
        },
        status_code=status,
    )
    set_cookie(request, response, LOGIN_CSRF_COOKIE, token, max_age=3600)
    return response


@router.get("/login", response_class=HTMLResponse, **public())
def login_form(request: Request, next: str = "/console", signed_out: str = "") -> HTMLResponse:
    """The login form (``signed_out``: how many sessions "sign out everywhere" ended)."""
    return login_page(request, next_url=next, signed_out=signed_out[:6])


@router.post("/login", **public())
def login_submit(
    request: Request,
    username: FormText = "",
    password: FormText = "",
    csrf_token: FormText = "",
    next: FormText = "/console",
) -> Response:
    """Sign in: a session cookie and a redirect to the console, or the form again with the one
    generic error (or the lock-out message)."""
    expected = request.cookies.get(LOGIN_CSRF_COOKIE, "")
    if not expected or not secrets.compare_digest(expected.encode(), csrf_token.encode()):
        raise Forbidden("the form's security token is missing or wrong; reload the page")
    state = service_state(request)
    try:
        session, token = authenticate(state.db, username, password, settings=state.settings)
    except (LoginFailed, AccountLocked) as exc:
        return login_page(request, next_url=next, error=exc.message, username=username, status=401)
    if session.pending is not None:  # the password was right: the second factor is next
        step = "/login/code" if session.pending == "totp" else "/login/enrol"
        response = RedirectResponse(f"{step}?next={quote(safe_next(next))}", status_code=303)
        set_cookie(request, response, PENDING_COOKIE, token, max_age=int(PENDING_MINUTES * 60))
    else:
        response = RedirectResponse(safe_next(next), status_code=303)
        max_age = int(state.settings.session_idle_minutes * 60)
        set_cookie(request, response, SESSION_COOKIE, token, max_age=max_age)
    response.delete_cookie(LOGIN_CSRF_COOKIE, path="/")
    return response


@router.post("/logout", dependencies=[SIGNED_IN])
def logout_submit(
    request: Request, csrf_token: FormText = "", session: SessionInfo = _SESSION
) -> Response:
    """Sign out (the session ends in the database, the cookie is cleared)."""
    check_form_csrf(session, csrf_token)
    logout(service_state(request).db, request.cookies.get(SESSION_COOKIE, ""))
    response = RedirectResponse("/login", status_code=303)
    response.delete_cookie(SESSION_COOKIE, path="/")
    return response


@router.get("/console", response_class=HTMLResponse, dependencies=[SIGNED_IN])
def console_home(
    request: Request, saved: bool = False, session: SessionInfo = _SESSION
) -> HTMLResponse:
    """The console's home: who is signed in, what waits in the queues (and the open appeals
    for those who decide them), the person's preferences."""
    db = service_state(request).db
    actor = actor_for(session)
    waiting: dict[str, dict[str, int]] = {}
    if actor.roles:
        for queue in cases.queues.visible_queues(actor):
            waiting[queue] = cases.ageing(db, actor, queue)
    open_appeals = None
    if actor.may_decide_appeals or actor.has(Role.AUDITOR):
        open_appeals = len(cases.list_appeals(db, actor, state="open", limit=1000))
    return render(
        request,
        "console.html",
        {
            "person": session.person,
            "saved": saved,
            "waiting": waiting,
            "open_appeals": open_appeals,
        },
    )


@router.post("/console/preferences", dependencies=[SIGNED_IN])
def console_preferences(
    request: Request,
    csrf_token: FormText = "",
    reveal_previews: FormText = "",
    session: SessionInfo = _SESSION,
) -> Response:
    """Save the person's preferences (a checkbox absent from the form means off)."""
    check_form_csrf(session, csrf_token)
    set_preferences(
        service_state(request).db, session.person.id, reveal_previews=bool(reveal_previews)
    )
    return RedirectResponse("/console?saved=1", status_code=303)
