"""The one place errors become JSON: the one error shape, mapped from the exception tree.

Every error answer is ``{"error": code, "message": text, "request_id": id}`` (plus ``fields``
for invalid requests), with the status the :mod:`shieldwall.errors` class carries. Routes raise
the error they were given (a :class:`~shieldwall.hashing.HashResult`'s, a
:class:`~shieldwall.matching.MatchOutcome`'s) as it is; the handlers here answer it, and the
service middleware answers its own refusals (no key, over a limit) through
:func:`render_error`, so that they have the same shape and headers.
"""

from __future__ import annotations

import json
import logging
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from sqlalchemy.exc import DataError as DBAPIDataError
from starlette.exceptions import HTTPException as StarletteHTTPException

from shieldwall.errors import MethodNotAllowed, RateLimited, ShieldwallError, Unauthenticated
from shieldwall.service.ratelimit import RateLimiter

__all__ = ["error_body", "error_headers", "install_error_handlers", "render_error"]

log = logging.getLogger("shieldwall.service")

_HTTP_CODES = {
    400: "bad_request",
    401: "unauthenticated",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    413: "request_too_large",
    415: "unsupported_media_type",
    422: "validation_error",
    429: "rate_limited",
    500: "internal_error",
    503: "unavailable",
}


def error_body(exc: ShieldwallError, request_id: str | None) -> dict[str, Any]:
    """The JSON object of an error answer: code, message, request id (and ``fields``, for the
    errors that name invalid fields)."""
    body: dict[str, Any] = {**exc.to_dict(), "request_id": request_id}
    fields = getattr(exc, "fields", None)
    if isinstance(fields, list):
        body["fields"] = fields
    return body


def error_headers(exc: ShieldwallError) -> dict[str, str]:
    """The headers an error answer carries: ``Retry-After`` when rate limited,
    ``WWW-Authenticate`` when a key is needed, ``Allow`` when the method is not."""
    headers: dict[str, str] = {}
    if isinstance(exc, MethodNotAllowed):
        headers["Allow"] = ", ".join(exc.allow)
    if isinstance(exc, RateLimited):
        headers["Retry-After"] = RateLimiter.retry_after_header(exc.retry_after)
    if isinstance(exc, Unauthenticated):
        headers["WWW-Authenticate"] = "Bearer"
    return headers


def render_error(exc: ShieldwallError, request_id: str | None) -> tuple[int, dict[str, str], bytes]:
    """Status, headers and JSON bytes of the answer to ``exc`` (for the middleware, which
    answers before the application and its handlers)."""
    return exc.http_status, error_headers(exc), json.dumps(error_body(exc, request_id)).encode()


def _request_id(request: Request) -> str | None:
    value = request.scope.get("state", {}).get("request_id")
    return value if isinstance(value, str) else None


def _answer(
    request: Request,
    status: int,
    code: str,
    message: str,
    *,
    fields: list[dict[str, str]] | None = None,
    headers: dict[str, str] | None = None,
) -> JSONResponse:
    """An error that is not of our tree (the framework's, a lower library's) in the one shape."""
    body: dict[str, Any] = {"error": code, "message": message, "request_id": _request_id(request)}
    if fields is not None:
        body["fields"] = fields
    return JSONResponse(body, status_code=status, headers=headers)


def install_error_handlers(app: FastAPI) -> None:
    """Map every exception to the one shape."""

    async def shieldwall_error(request: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, ShieldwallError)
        if exc.http_status >= 500:
            log.error("request failed: %s: %s", exc.code, exc.message)
        return JSONResponse(
            error_body(exc, _request_id(request)),
            status_code=exc.http_status,
            headers=error_headers(exc),
        )

    async def validation_error(request: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, RequestValidationError)
        fields = [
            {
                "field": ".".join(str(p) for p in err.get("loc", ())),
                "message": str(err.get("msg", "invalid")),
            }
            for err in exc.errors()
        ]
        names = ", ".join(f["field"] for f in fields)
        return _answer(request, 422, "validation_error", f"invalid request: {names}", fields=fields)

    async def http_error(request: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, StarletteHTTPException)
        return _answer(
            request,
            exc.status_code,
            _HTTP_CODES.get(exc.status_code, "http_error"),
            str(exc.detail),
            headers=getattr(exc, "headers", None),
        )

    async def unstorable(request: Request, exc: Exception) -> JSONResponse:
        # A value the database refuses (NUL in a form field on PostgreSQL, a number out of
        # range): the request's fault, not the service's.
        assert isinstance(exc, DBAPIDataError)
        detail = str(getattr(exc, "orig", exc)).splitlines()[0][:200]
        return _answer(
            request, 422, "invalid_value", f"a value in the request cannot be stored: {detail}"
        )

    async def unexpected(request: Request, exc: Exception) -> JSONResponse:
        log.exception("unexpected error", exc_info=exc)
        return _answer(
            request, 500, "internal_error", "the service failed to answer; the error was logged"
        )

    app.add_exception_handler(ShieldwallError, shieldwall_error)
    app.add_exception_handler(RequestValidationError, validation_error)
    app.add_exception_handler(StarletteHTTPException, http_error)
    app.add_exception_handler(DBAPIDataError, unstorable)
    app.add_exception_handler(Exception, unexpected)
