"""What the public pages (``/report``, ``/status``, ``/appeal``) share: there is no session, so
the form CSRF token is a double-submit cookie (as the login form's); each POST takes a token
from the per-address limiter of the public API (``notice_rate_limit``, the middleware covers
only ``/v1``); wrong credentials count in the API's :class:`~shieldwall.cases.PinGuard`.
"""

from __future__ import annotations

import secrets
from typing import Any

from fastapi import Request
from fastapi.responses import HTMLResponse
from starlette.datastructures import FormData

from shieldwall.errors import Forbidden
from shieldwall.service.ratelimit import RateLimiter
from shieldwall.web.console import render, service_state, set_cookie

__all__ = [
    "PUBLIC_CSRF_COOKIE",
    "check_public_csrf",
    "client_address",
    "form_text",
    "over_rate_limit",
    "public_page",
    "service_state",
    "throttled_page",
]

#: The public forms' CSRF cookie (double submit: the form carries the same value).
PUBLIC_CSRF_COOKIE = "shieldwall_public_csrf"


def client_address(request: Request) -> str:
    """The rate-limit and throttle key of the request's client address (``ip:<address>``)."""
    return f"ip:{request.client.host if request.client else 'unknown'}"


def form_text(form: FormData, name: str, limit: int) -> str:
    """A form field as text (absent or a file: empty), stripped and cut to ``limit``."""
    value = form.get(name)
    return (value if isinstance(value, str) else "").strip()[:limit]


def public_page(
    request: Request, template: str, context: dict[str, Any], *, status: int = 200
) -> HTMLResponse:
    """A public page with the form CSRF token (the cookie's, or a new one)."""
    token = request.cookies.get(PUBLIC_CSRF_COOKIE) or secrets.token_urlsafe(32)
    response = render(request, template, {"form_csrf": token, **context}, status_code=status)
    set_cookie(request, response, PUBLIC_CSRF_COOKIE, token, max_age=3600)
    return response


def check_public_csrf(request: Request, form: FormData) -> None:
    """Refuse (:class:`Forbidden`, the 403 page) a form whose token does not repeat the
    cookie's."""
    expected = request.cookies.get(PUBLIC_CSRF_COOKIE, "")
    given = form.get("csrf_token")
    given = given if isinstance(given, str) else ""
    if not expected or not secrets.compare_digest(expected.encode(), given.encode()):
        raise Forbidden("the form's security token is missing or wrong; reload the page")


def throttled_page(
    request: Request, template: str, context: dict[str, Any], message: str, wait: float
) -> HTMLResponse:
    """The page again with ``message``, ``429`` and ``Retry-After``."""
    response = public_page(request, template, {**context, "error": message}, status=429)
    response.headers["Retry-After"] = RateLimiter.retry_after_header(wait)
    return response


def over_rate_limit(
    request: Request, template: str, context: dict[str, Any]
) -> HTMLResponse | None:
    """The page again with a 429 when this address is over ``notice_rate_limit``; ``None``
    (and one token taken) otherwise."""
    state = service_state(request)
    wait = state.public_limiter.take(client_address(request), state.settings.notice_rate_limit)
    if wait <= 0:
        return None
    return throttled_page(
        request,
        template,
        context,
        "Too many requests from your connection. Wait a minute and try again.",
        wait,
    )
