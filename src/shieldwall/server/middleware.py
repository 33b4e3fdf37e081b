"""One ASGI middleware around every request: request id, authentication and rate limit (before
the body is read), body size and time limits, metrics, the request audit and the access log.

It refuses with errors of the tree (:class:`~shieldwall.errors.Unauthenticated`,
:class:`~shieldwall.errors.RateLimited`, :class:`~shieldwall.errors.RequestTooLarge`, ...),
answered by the renderer :func:`~shieldwall.service.app.create_app` gives it (the JSON API's
:func:`~shieldwall.api.errors.render_error`): the same shape and headers as a route's error.
"""

from __future__ import annotations

import asyncio
import logging
import re
import time
import uuid
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from shieldwall.audit.requests import AuditRow
from shieldwall.errors import (
    InvalidText,
    RateLimited,
    RequestTimeout,
    RequestTooLarge,
    ShieldwallError,
    Unauthenticated,
)
from shieldwall.people.keys import KeyInfo
from shieldwall.service.addresses import client_key
from shieldwall.service.state import KEYED_PREFIXES, ServiceState

__all__ = ["PUBLIC_PREFIXES", "ErrorRenderer", "ServiceMiddleware"]

log = logging.getLogger("shieldwall.access")

#: Routes under /v1 that need no key (issue 5's notice intake joins these).
PUBLIC_PREFIXES: tuple[str, ...] = ("/v1/notices", "/v1/appeals/file")
_NUL_MESSAGE = "text in the request must not contain NUL characters (\\u0000 or %00)"
_REQUEST_ID = re.compile(r"^[A-Za-z0-9._-]{1,32}$")

#: An error and the request id -> the answer's status, headers and body.
ErrorRenderer = Callable[[ShieldwallError, str | None], tuple[int, dict[str, str], bytes]]


def _header(scope: Scope, name: bytes) -> str | None:
    for key, value in scope.get("headers", ()):
        if key == name:
            return str(value.decode("latin-1"))
    return None


class ServiceMiddleware:
    """See the module docstring."""

    def __init__(self, app: ASGIApp, state: ServiceState, render_error: ErrorRenderer) -> None:
        self.app = app
        self.state = state
        self.render_error = render_error

    async def _reject(
        self, send: Send, error: ShieldwallError, rid: str, status: list[int]
    ) -> None:
        """Answer ``error`` (its status noted in ``status`` for the metrics and the audit)."""
        status[0], headers, body = self.render_error(error, rid)
        raw = [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]
        raw += [(k.lower().encode(), v.encode()) for k, v in headers.items()]
        await send({"type": "http.response.start", "status": status[0], "headers": raw})
        await send({"type": "http.response.body", "body": body})

    def _authenticate(self, scope: Scope) -> KeyInfo | None:
        header = _header(scope, b"authorization") or ""
        scheme, _, token = header.partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            return None
        return self.state.keys.authenticate(token.strip())

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:  # noqa: PLR0915
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        settings = self.state.settings
        given = _header(scope, b"x-request-id")
        rid = given if given and _REQUEST_ID.match(given) else uuid.uuid4().hex[:16]
        request_state: dict[str, Any] = scope.setdefault("state", {})
        request_state["request_id"] = rid
        status = [500]
        started_response = [False]
        key: KeyInfo | None = None
        path: str = scope["path"]
        metrics = self.state.metrics

        async def send_wrapper(message: Message) -> None:
            if message["type"] == "http.response.start":
                status[0] = message["status"]
                started_response[0] = True
                message.setdefault("headers", [])
                message["headers"] = [*message["headers"], (b"x-request-id", rid.encode())]
            await send(message)

        metrics.in_flight.inc()
        try:
            if path.startswith(KEYED_PREFIXES) and not path.startswith(PUBLIC_PREFIXES):
                key = self._authenticate(scope)
                if key is None:
                    await self._reject(
                        send,
                        Unauthenticated("a valid API key is needed: Authorization: Bearer <key>"),
                        rid,
                        status,
                    )
                    return
                request_state["key"] = key
                rate = key.rate_limit or settings.api_rate_limit
                wait = self.state.limiter.take(key.id, rate)
                if wait > 0:
                    await self._reject(
                        send,
                        RateLimited(
                            f"this key may make {rate:g} requests per second; retry later", wait
                        ),
                        rid,
                        status,
                    )
                    return
            elif path.startswith("/v1/"):
                client = scope.get("client")
                wanted = settings.client_address_header.lower().encode("latin-1")
                forwarded = b", ".join(v for k, v in scope.get("headers", ()) if k == wanted)
                address = client_key(
                    client[0] if client else None, forwarded.decode("latin-1") or None, settings
                )
                wait = self.state.public_limiter.take(address, settings.notice_rate_limit)
                if wait > 0:
                    await self._reject(
                        send,
                        RateLimited("too many requests from this address; retry later", wait),
                        rid,
                        status,
                    )
                    return
            ctype = (_header(scope, b"content-type") or "").lower()
            limit = (
                settings.api_max_json_bytes
                if ctype.startswith("application/json")
                else settings.api_max_body_bytes
            )
            declared = _header(scope, b"content-length")
            if declared is not None and declared.isdigit() and int(declared) > limit:
                await self._reject(
                    send,
                    RequestTooLarge(
                        f"the request body is {int(declared)} bytes; the limit is {limit}"
                    ),
                    rid,
                    status,
                )
                return
            if b"%00" in scope.get("query_string", b"") or "\x00" in path:
                await self._reject(send, InvalidText(_NUL_MESSAGE), rid, status)
                return
            received = [0]
            # A refusal found while the body arrives: the app sees the client go away, and we
            # answer in its place.
            refused: list[ShieldwallError] = []
            is_json = ctype.startswith("application/json")
            tail = [b""]

            async def limited_receive() -> Message:
                if refused:
                    return {"type": "http.disconnect"}
                message = await receive()
                if message["type"] == "http.request":
                    chunk = message.get("body", b"")
                    received[0] += len(chunk)
                    if received[0] > limit:
                        refused.append(
                            RequestTooLarge(f"the request body is over the limit of {limit} bytes")
                        )
                        return {"type": "http.disconnect"}
                    # PostgreSQL cannot store NUL in text, and no field needs it: refused on
                    # every database alike (escaped, as JSON must; across chunk boundaries).
                    if is_json and b"\\u0000" in tail[0] + chunk:
                        refused.append(InvalidText(_NUL_MESSAGE))
                        return {"type": "http.disconnect"}
                    tail[0] = chunk[-5:]
                return message

            async def guarded_send(message: Message) -> None:
                if not refused:
                    await send_wrapper(message)

            try:
                # asyncio.timeout, not wait_for: no extra task per request.
                async with asyncio.timeout(settings.api_request_timeout_seconds):
                    await self.app(scope, limited_receive, guarded_send)
            except TimeoutError:
                if not started_response[0]:
                    await self._reject(
                        send,
                        RequestTimeout(
                            f"the request ran past {settings.api_request_timeout_seconds:g} s"
                        ),
                        rid,
                        status,
                    )
            except Exception:
                if not refused:
                    raise
            if refused and not started_response[0]:
                await self._reject(send, refused[0], rid, status)
        finally:
            metrics.in_flight.dec()
            elapsed = time.perf_counter() - started
            route = scope.get("route")
            template = getattr(route, "path", None) or ("/v1/*" if path.startswith("/v1/") else "*")
            metrics.requests.labels(template, scope["method"], str(status[0])).inc()
            metrics.latency.labels(template).observe(elapsed)
            if self.state.audit is not None and path.startswith(KEYED_PREFIXES):
                self.state.audit.record(
                    AuditRow(
                        datetime.now(UTC),
                        key.id if key else None,
                        scope["method"][:8],
                        template[:200],
                        status[0],
                        round(elapsed * 1000, 3),
                        rid,
                    )
                )
            if log.isEnabledFor(logging.INFO):
                log.info(
                    "request",
                    extra={
                        "fields": {
                            "request_id": rid,
                            "method": scope["method"],
                            "route": template,
                            "status": status[0],
                            "ms": round(elapsed * 1000, 2),
                            "key": key.prefix if key else None,
                        }
                    },
                )
