"""The one JSON error shape, mapped once from the exception tree.

Every error answer is ``{"error": code, "message": text, "request_id": id}`` (plus ``fields``
for invalid requests), with the status the :mod:`shieldwall.errors` class carries.
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

from shieldwall.errors import RateLimited, ShieldwallError

__all__ = ["error_body", "error_for_code", "install_error_handlers"]

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


def error_body(code: str, message: str, request_id: str | None, **extra: Any) -> bytes:
    """The JSON bytes of an error answer."""
    body: dict[str, Any] = {"error": code, "message": message, "request_id": request_id}
    body.update(extra)
    return json.dumps(body).encode()


def _classes(cls: type[ShieldwallError]) -> list[type[ShieldwallError]]:
    out = [cls]
    for sub in cls.__subclasses__():
        out.extend(_classes(sub))
    return out


def error_for_code(code: str | None, message: str) -> ShieldwallError:
    """The exception of the tree whose ``code`` is ``code`` (for results that carry an error
    code rather than raising, like :class:`~shieldwall.hashing.HashResult`)."""
    for cls in _classes(ShieldwallError):
        if cls.code == code and cls is not RateLimited:
            return cls(message)
    return ShieldwallError(message)


def _request_id(request: Request) -> str | None:
    value = request.scope.get("state", {}).get("request_id")
    return value if isinstance(value, str) else None


def install_error_handlers(app: FastAPI) -> None:
    """Map every exception to the one shape."""

    async def shieldwall_error(request: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, ShieldwallError)
        headers = {}
        if isinstance(exc, RateLimited):
            headers["Retry-After"] = str(max(1, round(exc.retry_after + 0.5)))
        if exc.http_status >= 500:
            log.error("request failed: %s: %s", exc.code, exc.message)
        body: dict[str, Any] = {
            "error": exc.code,
            "message": exc.message,
            "request_id": _request_id(request),
        }
        fields = getattr(exc, "fields", None)
        if isinstance(fields, list):
            body["fields"] = fields
        return JSONResponse(
            body,
            status_code=exc.http_status,
            headers=headers,
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
        return JSONResponse(
            {
                "error": "validation_error",
                "message": f"invalid request: {names}",
                "request_id": _request_id(request),
                "fields": fields,
            },
            status_code=422,
        )

    async def http_error(request: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, StarletteHTTPException)
        return JSONResponse(
            {
                "error": _HTTP_CODES.get(exc.status_code, "http_error"),
                "message": str(exc.detail),
                "request_id": _request_id(request),
            },
            status_code=exc.status_code,
            headers=getattr(exc, "headers", None),
        )

    async def unstorable(request: Request, exc: Exception) -> JSONResponse:
        # A value the database refuses (NUL in a form field on PostgreSQL, a number out of
        # range): the request's fault, not the service's.
        assert isinstance(exc, DBAPIDataError)
        detail = str(getattr(exc, "orig", exc)).splitlines()[0][:200]
        return JSONResponse(
            {
                "error": "invalid_value",
                "message": f"a value in the request cannot be stored: {detail}",
                "request_id": _request_id(request),
            },
            status_code=422,
        )

    async def unexpected(request: Request, exc: Exception) -> JSONResponse:
        log.exception("unexpected error", exc_info=exc)
        return JSONResponse(
            {
                "error": "internal_error",
                "message": "the service failed to answer; the error was logged",
                "request_id": _request_id(request),
            },
            status_code=500,
        )

    app.add_exception_handler(ShieldwallError, shieldwall_error)
    app.add_exception_handler(RequestValidationError, validation_error)
    app.add_exception_handler(StarletteHTTPException, http_error)
    app.add_exception_handler(DBAPIDataError, unstorable)
    app.add_exception_handler(Exception, unexpected)
