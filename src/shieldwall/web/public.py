"""What the public pages (``/protect``, ``/report``, ``/status``, ``/appeal``) share: there is no
session, so the form CSRF token is a double-submit cookie (as the login form's); each POST that
passes validation takes a token from the per-address limiter of the public API
(``notice_rate_limit``, the middleware covers only ``/v1``): a form sent back with errors costs
nothing. Wrong credentials count in the API's :class:`~shieldwall.cases.PinGuard`.

The client address is the connection's, or, when the connection comes from one of the
``trusted_proxies``, the last address of ``client_address_header`` that is not itself a trusted
proxy (so people behind one proxy do not share one limit, and nobody else can pick their own
address). Every page is in the request's language (:mod:`shieldwall.web.i18n`) and carries the
platform's name, logo and helplines from the settings.
"""

from __future__ import annotations

import secrets
from typing import Any

from fastapi import Request
from fastapi.responses import HTMLResponse
from starlette.datastructures import FormData

from shieldwall.errors import Forbidden
from shieldwall.service.addresses import client_key
from shieldwall.service.ratelimit import RateLimiter
from shieldwall.web.console import render, service_state, set_cookie
from shieldwall.web.i18n import LANGUAGE_COOKIE, LANGUAGES, language_of, translator

__all__ = [
    "PUBLIC_CSRF_COOKIE",
    "check_public_csrf",
    "client_address",
    "form_text",
    "over_rate_limit",
    "page_context",
    "public_page",
    "service_state",
    "throttled_page",
]

#: The public forms' CSRF cookie (double submit: the form carries the same value).
PUBLIC_CSRF_COOKIE = "shieldwall_public_csrf"


def client_address(request: Request) -> str:
    """The rate-limit and throttle key of the request's client address (``ip:<address>``): the
    connection's, or the one a trusted proxy names (:mod:`shieldwall.service.addresses`)."""
    settings = service_state(request).settings
    host = request.client.host if request.client else None
    return client_key(host, request.headers.get(settings.client_address_header), settings)


def page_context(request: Request) -> dict[str, Any]:
    """What every public page's template uses: the language, ``_``, the platform."""
    language = language_of(request)
    settings = service_state(request).settings
    return {
        "lang": language,
        "languages": LANGUAGES,
        "_": translator(language),
        "path": request.url.path,
        "platform_name": settings.platform_name,
        "platform_logo": settings.platform_logo_url,
        "helplines": settings.platform_helplines,
    }


def form_text(form: FormData, name: str, limit: int) -> str:
    """A form field as text (absent or a file: empty), stripped and cut to ``limit``."""
    value = form.get(name)
    return (value if isinstance(value, str) else "").strip()[:limit]


def public_page(
    request: Request, template: str, context: dict[str, Any], *, status: int = 200
) -> HTMLResponse:
    """A public page with the form CSRF token (the cookie's, or a new one), in the request's
    language (a ``?lang=`` choice is kept in a cookie)."""
    token = request.cookies.get(PUBLIC_CSRF_COOKIE) or secrets.token_urlsafe(32)
    values = {**page_context(request), "form_csrf": token, **context}
    response = render(request, template, values, status_code=status)
    set_cookie(request, response, PUBLIC_CSRF_COOKIE, token, max_age=3600)
    asked = request.query_params.get("lang", "")
    if asked in LANGUAGES and request.cookies.get(LANGUAGE_COOKIE) != asked:
        set_cookie(request, response, LANGUAGE_COOKIE, asked, max_age=365 * 24 * 3600)
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
    (and one token taken) otherwise. Call it once the form has passed validation."""
    state = service_state(request)
    wait = state.public_limiter.take(client_address(request), state.settings.notice_rate_limit)
    if wait <= 0:
        return None
    _ = translator(language_of(request))
    return throttled_page(
        request,
        template,
        context,
        _("Too many requests from your connection. Wait a minute and try again."),
        wait,
    )
