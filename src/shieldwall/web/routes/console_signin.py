"""The console's sign-in beyond the password: the TOTP code step and the enrolment required by
an admin (``/login/code``, ``/login/enrol``), single sign-on (``/login/sso``, its callback),
and the person's own security page (``/console/account``: two-factor enrolment, sign out
everywhere). Not under ``/v1``; not in the OpenAPI schema."""

from __future__ import annotations

from typing import Annotated
from urllib.parse import quote

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from shieldwall.errors import AccountLocked, LoginFailed, SignInRefused, UsageError
from shieldwall.people import sso, twofactor
from shieldwall.people.accounts import SessionInfo, get_pending, sign_out_everywhere
from shieldwall.service.access import public
from shieldwall.web.console import (
    PENDING_COOKIE,
    SESSION_COOKIE,
    SIGNED_IN,
    SSO_COOKIE,
    check_form_csrf,
    current_session,
    render,
    service_state,
    set_cookie,
)
from shieldwall.web.routes.console import login_page, safe_next

router = APIRouter(include_in_schema=False)

_SESSION = Depends(current_session)
FormText = Annotated[str, Form()]


def _signed_in(request: Request, response: Response, token: str) -> Response:
    max_age = int(service_state(request).settings.session_idle_minutes * 60)
    set_cookie(request, response, SESSION_COOKIE, token, max_age=max_age)
    response.delete_cookie(PENDING_COOKIE, path="/")
    return response


def _pending(request: Request, kind: str) -> SessionInfo | None:
    state = service_state(request)
    token = request.cookies.get(PENDING_COOKIE, "")
    found = get_pending(state.db, token, settings=state.settings) if token else None
    return found if found is not None and found.pending == kind else None


def _expired(request: Request, next_url: str) -> Response:
    response = login_page(
        request,
        next_url=next_url,
        error="the sign-in has expired: enter your username and password again",
        status=401,
    )
    response.delete_cookie(PENDING_COOKIE, path="/")
    return response


@router.get("/login/code", response_class=HTMLResponse, **public())
def code_form(request: Request, next: str = "/console") -> Response:
    """The second step of a sign-in with two-factor: the code from the authenticator app."""
    pending = _pending(request, "totp")
    if pending is None:
        return _expired(request, next)
    return render(
        request,
        "login_code.html",
        {"pending_csrf": pending.csrf_token, "next_url": safe_next(next), "error": ""},
    )


@router.post("/login/code", **public())
def code_submit(
    request: Request, code: FormText = "", csrf_token: FormText = "", next: FormText = "/console"
) -> Response:
    """Check the code: signed in, or the form again (a wrong code counts towards the lock-out
    like a wrong password)."""
    pending = _pending(request, "totp")
    if pending is None:
        return _expired(request, next)
    check_form_csrf(pending, csrf_token)
    state = service_state(request)
    token = request.cookies.get(PENDING_COOKIE, "")
    try:
        twofactor.verify_code(state.db, token, code, settings=state.settings)
    except AccountLocked as exc:
        response = login_page(request, next_url=next, error=exc.message, status=401)
        response.delete_cookie(PENDING_COOKIE, path="/")
        return response
    except LoginFailed as exc:
        context = {"pending_csrf": pending.csrf_token, "next_url": safe_next(next)}
        return render(
            request, "login_code.html", {**context, "error": exc.message}, status_code=401
        )
    # the pending session's token is now the signed-in session's
    return _signed_in(request, RedirectResponse(safe_next(next), status_code=303), token)


@router.get("/login/enrol", response_class=HTMLResponse, **public())
def enrol_form(request: Request, next: str = "/console") -> Response:
    """Two-factor is required and not set up yet: a new secret (shown this once) and the
    code that confirms it."""
    pending = _pending(request, "enrol")
    if pending is None:
        return _expired(request, next)
    state = service_state(request)
    enrolment = twofactor.start_enrolment(state.db, pending.person.id, settings=state.settings)
    return render(
        request,
        "two_factor.html",
        {
            "enrolment": enrolment,
            "form_csrf": pending.csrf_token,
            "action": "/login/enrol",
            "next_url": safe_next(next),
            "required": True,
            "error": "",
        },
    )


@router.post("/login/enrol", **public())
def enrol_submit(
    request: Request, code: FormText = "", csrf_token: FormText = "", next: FormText = "/console"
) -> Response:
    """Confirm the enrolment with a code: signed in, and the recovery codes shown once."""
    pending = _pending(request, "enrol")
    if pending is None:
        return _expired(request, next)
    check_form_csrf(pending, csrf_token)
    state = service_state(request)
    token = request.cookies.get(PENDING_COOKIE, "")
    try:
        _info, codes = twofactor.finish_enrolment(state.db, token, code, settings=state.settings)
    except UsageError as exc:
        # a new secret: the one shown is never shown again
        enrolment = twofactor.start_enrolment(state.db, pending.person.id, settings=state.settings)
        context = {
            "enrolment": enrolment,
            "form_csrf": pending.csrf_token,
            "action": "/login/enrol",
            "next_url": safe_next(next),
            "required": True,
            "error": exc.message + " (a new secret is shown: add it to your app again)",
        }
        return render(request, "two_factor.html", context, status_code=422)
    page = render(request, "recovery_codes.html", {"codes": codes, "next_url": safe_next(next)})
    return _signed_in(request, page, token)


def _redirect_uri(request: Request) -> str:
    configured = service_state(request).settings.oidc_redirect_url
    return configured or str(request.base_url).rstrip("/") + "/login/sso/callback"


@router.get("/login/sso", **public())
def sso_start(request: Request, next: str = "/console") -> Response:
    """Single sign-on: off to the provider (the flow bound to this browser by a cookie)."""
    state = service_state(request)
    try:
        url, binding = sso.begin(
            state.db,
            state.settings,
            redirect_uri=_redirect_uri(request),
            next_url=safe_next(next),
        )
    except (SignInRefused, UsageError) as exc:
        return login_page(request, next_url=next, error=exc.message, status=401)
    response = RedirectResponse(url, status_code=303)
    max_age = int(sso.FLOW_MINUTES * 60)
    set_cookie(request, response, SSO_COOKIE, binding, max_age=max_age, samesite="lax")
    return response


@router.get("/login/sso/callback", **public())
def sso_callback(
    request: Request,
    code: str = "",
    state: str = "",
    error: str = "",
    error_description: str = "",
) -> Response:
    """The provider's answer: signed in (through a page of our own, so that the strict
    session cookie goes with the next request), or the login form with the reason."""
    service = service_state(request)
    binding = request.cookies.get(SSO_COOKIE, "")
    try:
        if error:
            raise SignInRefused(f"the sign-on provider refused: {error_description or error}")
        _info, token, next_url = sso.complete(
            service.db,
            service.settings,
            binding=binding,
            state=state,
            code=code,
            redirect_uri=_redirect_uri(request),
        )
    except (SignInRefused, UsageError) as exc:
        response = login_page(request, next_url="/console", error=exc.message, status=401)
        response.delete_cookie(SSO_COOKIE, path="/")
        return response
    page = render(request, "sso_done.html", {"next_url": safe_next(next_url)})
    page.delete_cookie(SSO_COOKIE, path="/")
    return _signed_in(request, page, token)


@router.get("/console/account", response_class=HTMLResponse, dependencies=[SIGNED_IN])
def account_page(request: Request, session: SessionInfo = _SESSION) -> HTMLResponse:
    """The person's sign-in security: two-factor, when the session ends, sign out
    everywhere."""
    return render(
        request,
        "account.html",
        {
            "person": session.person,
            "expires_at": session.expires_at,
            "required": service_state(request).settings.totp_required
            or session.person.totp_required,
        },
    )


@router.post("/console/account/two-factor", response_class=HTMLResponse, dependencies=[SIGNED_IN])
def account_enrol(
    request: Request, csrf_token: FormText = "", session: SessionInfo = _SESSION
) -> HTMLResponse:
    """Start two-factor enrolment: a new secret, shown this once."""
    check_form_csrf(session, csrf_token)
    state = service_state(request)
    enrolment = twofactor.start_enrolment(state.db, session.person.id, settings=state.settings)
    return render(
        request,
        "two_factor.html",
        {
            "enrolment": enrolment,
            "form_csrf": session.csrf_token,
            "action": "/console/account/two-factor/confirm",
            "next_url": "/console/account",
            "required": False,
            "error": "",
        },
    )


@router.post(
    "/console/account/two-factor/confirm", response_class=HTMLResponse, dependencies=[SIGNED_IN]
)
def account_confirm(
    request: Request,
    code: FormText = "",
    csrf_token: FormText = "",
    session: SessionInfo = _SESSION,
) -> HTMLResponse:
    """Confirm the enrolment: two-factor is on, and the recovery codes are shown once."""
    check_form_csrf(session, csrf_token)
    state = service_state(request)
    try:
        codes = twofactor.confirm_enrolment(state.db, session.person.id, code)
    except UsageError as exc:
        enrolment = twofactor.start_enrolment(state.db, session.person.id, settings=state.settings)
        context = {
            "enrolment": enrolment,
            "form_csrf": session.csrf_token,
            "action": "/console/account/two-factor/confirm",
            "next_url": "/console/account",
            "required": False,
            "error": exc.message + " (a new secret is shown: add it to your app again)",
        }
        return render(request, "two_factor.html", context, status_code=422)
    return render(request, "recovery_codes.html", {"codes": codes, "next_url": "/console/account"})


@router.post("/console/account/sign-out-everywhere", dependencies=[SIGNED_IN])
def account_sign_out_everywhere(
    request: Request, csrf_token: FormText = "", session: SessionInfo = _SESSION
) -> Response:
    """End every session of the person, this one included."""
    check_form_csrf(session, csrf_token)
    ended = sign_out_everywhere(service_state(request).db, session.person.id)
    response = RedirectResponse(f"/login?signed_out={quote(str(ended))}", status_code=303)
    response.delete_cookie(SESSION_COOKIE, path="/")
    return response
