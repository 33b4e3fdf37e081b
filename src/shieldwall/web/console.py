"""The review console's foundation: sessions from a cookie, the actor of a request, role checks,
CSRF checks and server-rendered pages (Jinja2 templates in ``web/templates``, scripts in
``web/static``).

Console pages live outside ``/v1`` (``/login``, ``/logout``, ``/console...``): the API-key
middleware leaves them alone, and they are left out of the OpenAPI schema. A console route
takes the actor with ``actor: Actor = Depends(current_actor)`` (no session: a redirect to
``/login``) or ``Depends(require_role(Role.SENIOR_REVIEWER, Role.ADMIN))`` (a person with none
of the roles: the 403 page); every POST form carries ``csrf_token`` and the route calls
:func:`check_form_csrf` before it changes anything.
"""

from __future__ import annotations

from collections.abc import Awaitable, Mapping
from pathlib import Path
from typing import Any, Literal
from urllib.parse import quote

from fastapi import Depends, FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from jinja2 import Environment, PackageLoader, select_autoescape
from starlette.exceptions import HTTPException as StarletteHTTPException

from shieldwall import __version__
from shieldwall.errors import Forbidden, LoginRequired, ShieldwallError
from shieldwall.people.accounts import SessionInfo, actor_for, check_csrf, get_session
from shieldwall.people.roles import Actor, Role
from shieldwall.service.access import Guard, Rule
from shieldwall.service.state import KEYED_PREFIXES, ServiceState

__all__ = [
    "LOGIN_CSRF_COOKIE",
    "PENDING_COOKIE",
    "SESSION_COOKIE",
    "SIGNED_IN",
    "SSO_COOKIE",
    "STATIC_DIR",
    "RoleGuard",
    "check_form_csrf",
    "current_actor",
    "current_session",
    "install_console",
    "render",
    "require_role",
    "service_state",
    "set_cookie",
]

#: The session cookie (HttpOnly, SameSite=Strict, Secure over https or when configured).
SESSION_COOKIE = "shieldwall_session"
#: The login form's CSRF cookie (double submit: the form carries the same value).
LOGIN_CSRF_COOKIE = "shieldwall_login_csrf"
#: A sign-in whose second factor is still to come (a pending session: no console page).
PENDING_COOKIE = "shieldwall_pending"
#: Binds a single sign-on in progress to this browser.
SSO_COOKIE = "shieldwall_sso"

#: The console's scripts, served under ``/static``.
STATIC_DIR = Path(__file__).parent / "static"

_templates = Environment(
    loader=PackageLoader("shieldwall.web", "templates"),
    autoescape=select_autoescape(default=True, default_for_string=True),
    trim_blocks=True,
    lstrip_blocks=True,
)
_HEADERS = {
    "Cache-Control": "no-store",
    "Content-Security-Policy": "default-src 'self'; style-src 'self' 'unsafe-inline'; "
    "img-src 'self' data:; frame-ancestors 'none'; form-action 'self'; base-uri 'none'",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "no-referrer",
    "X-Content-Type-Options": "nosniff",
}


def service_state(request: Request) -> ServiceState:
    """The service's state (for pages and their dependencies)."""
    state = request.app.state.shieldwall
    assert isinstance(state, ServiceState)
    return state


def render(
    request: Request,
    template: str,
    context: Mapping[str, Any] | None = None,
    *,
    status_code: int = 200,
) -> HTMLResponse:
    """A console page from ``template`` (``session`` and ``csrf_token`` are in the context when
    a person is signed in)."""
    session = request.scope.get("state", {}).get("console_session")
    values: dict[str, Any] = {
        "version": __version__,
        "session": session,
        "csrf_token": session.csrf_token if isinstance(session, SessionInfo) else "",
        **(context or {}),
    }
    html = _templates.get_template(template).render(values)
    return HTMLResponse(html, status_code=status_code, headers=_HEADERS)


def set_cookie(
    request: Request,
    response: Response,
    name: str,
    value: str,
    max_age: int,
    *,
    samesite: Literal["strict", "lax"] = "strict",
) -> None:
    """Set a console cookie: HttpOnly, SameSite=Strict (Lax for the single sign-on flow's,
    which comes back from the provider's site), Secure over https or when the
    ``session_cookie_secure`` setting says so."""
    secure = service_state(request).settings.session_cookie_secure or request.url.scheme == "https"
    response.set_cookie(
        name,
        value,
        max_age=max_age,
        path="/",
        httponly=True,
        samesite=samesite,
        secure=secure,
    )


def current_session(request: Request) -> SessionInfo:
    """The live session of the request's cookie (its expiry moved on); :class:`LoginRequired`
    (a redirect to ``/login``) when there is none."""
    cached = request.scope.get("state", {}).get("console_session")
    if isinstance(cached, SessionInfo):
        return cached
    state = service_state(request)
    token = request.cookies.get(SESSION_COOKIE, "")
    session = get_session(state.db, token, settings=state.settings) if token else None
    if session is None:
        raise LoginRequired("sign in to use the console")
    request.scope.setdefault("state", {})["console_session"] = session
    return session


def current_actor(request: Request) -> Actor:
    """The actor of the signed-in person (``Actor("user:<id>", roles)``); no session: a
    redirect to ``/login``."""
    return actor_for(current_session(request))


class RoleGuard(Guard):
    """The guard of a console page: the signed-in person must hold one of ``roles`` (none
    named: any signed-in person); its :class:`~shieldwall.service.access.Rule` says so to the
    matrix test."""

    def __init__(self, roles: frozenset[Role]) -> None:
        self.rule = Rule("role", roles=roles)

    def __call__(self, request: Request) -> Actor:
        actor = current_actor(request)
        wanted = self.rule.roles
        if wanted and not actor.roles & wanted:
            names = " or ".join(sorted(r.value for r in wanted))
            raise Forbidden(f"this page needs the role {names}")
        return actor


def require_role(*roles: Role) -> RoleGuard:
    """A dependency that gives the actor when it holds at least one of ``roles`` (none: any
    signed-in person) and answers the 403 page otherwise (no session: a redirect to
    ``/login``). It is also the route's declared rule (:mod:`shieldwall.service.access`)."""
    return RoleGuard(frozenset(roles))


#: For console routes any signed-in person may use: ``dependencies=[SIGNED_IN]``.
SIGNED_IN = Depends(require_role())


def check_form_csrf(session: SessionInfo, token: str | None) -> None:
    """Refuse (:class:`Forbidden`, the 403 page) a form whose CSRF token is missing or wrong."""
    if not check_csrf(session, token):
        raise Forbidden("the form's security token is missing or wrong; reload the page")


def _is_console(request: Request) -> bool:
    return not request.url.path.startswith(KEYED_PREFIXES)


#: The paths whose errors are pages (elsewhere, e.g. ``/v1`` or ``/healthz``, they stay JSON).
PAGE_PREFIXES = (
    "/console",
    "/login",
    "/logout",
    "/protect",
    "/report",
    "/status",
    "/appeal",
)
_HEADINGS = {404: "Not found", 405: "Not found", 409: "Conflict", 422: "Check the address"}


def _is_page(request: Request) -> bool:
    path = request.url.path
    return any(
        path == p or path.startswith(p + "/") or path.startswith(p + ".") for p in PAGE_PREFIXES
    )


def install_console(app: FastAPI) -> None:
    """Answer the console's errors as pages: :class:`LoginRequired` redirects to ``/login``,
    :class:`Forbidden` on a console path is the 403 page (under ``/v1`` the JSON shape stays)."""
    fallback = app.exception_handlers[ShieldwallError]

    async def login_required(request: Request, exc: Exception) -> Response:
        back = request.url.path if request.method == "GET" else "/console"
        response = RedirectResponse(f"/login?next={quote(back)}", status_code=303)
        if request.cookies.get(SESSION_COOKIE):
            response.delete_cookie(SESSION_COOKIE, path="/")
        return response

    async def forbidden(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, Forbidden)
        if not _is_console(request):
            result = fallback(request, exc)
            assert isinstance(result, Awaitable)
            response = await result
            assert isinstance(response, Response)
            return response
        return render(request, "forbidden.html", {"message": exc.message}, status_code=403)

    validation_fallback = app.exception_handlers[RequestValidationError]
    http_fallback = app.exception_handlers[StarletteHTTPException]

    async def page_problem(request: Request, exc: Exception) -> Response:
        """A malformed address (``/console/cases/abc``) or an unknown page: a page, not JSON."""
        if not _is_page(request):
            handler = (
                validation_fallback if isinstance(exc, RequestValidationError) else http_fallback
            )
            result = handler(request, exc)
            assert isinstance(result, Awaitable)
            response = await result
            assert isinstance(response, Response)
            return response
        if isinstance(exc, RequestValidationError):
            status, message = 422, "This address is not valid: check the link you followed."
        else:
            assert isinstance(exc, StarletteHTTPException)
            status = exc.status_code
            message = "There is no such page." if status in (404, 405) else str(exc.detail)
        context = {"message": message, "heading": _HEADINGS.get(status, "Error")}
        return render(request, "forbidden.html", context, status_code=status)

    app.add_exception_handler(LoginRequired, login_required)
    app.add_exception_handler(Forbidden, forbidden)
    app.add_exception_handler(RequestValidationError, page_problem)
    app.add_exception_handler(StarletteHTTPException, page_problem)


#: For routes: ``actor: Actor = CURRENT_ACTOR``.
CURRENT_ACTOR = Depends(current_actor)
