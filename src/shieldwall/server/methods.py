"""HTTP methods answered as RFC 9110 asks, for every path the app routes: a method the path
does not have is ``405`` with the path's complete ``Allow`` header, and ``OPTIONS`` is ``204``
with it.

Starlette alone answered ``405`` with the methods of the first route whose path matched,
although several routes share a path (``GET`` and ``POST /v1/banks``), and ``OPTIONS`` like any
unknown method. And a path parameter typed ``int`` (``/v1/cases/{case_id}``) matched any
segment, so ``GET /v1/cases/claim`` was a ``422`` about a case id: here such a parameter
matches digits only, so that the path is ``/v1/cases/claim``, whose only method is ``POST``.
A path that no template matches goes on to the app unchanged (``404``, or ``422`` for
``/v1/cases/abc``).
"""

from __future__ import annotations

import re
from collections.abc import Callable

from fastapi.routing import APIRoute, iter_route_contexts
from starlette.routing import BaseRoute
from starlette.types import ASGIApp, Receive, Scope, Send

from shieldwall.errors import MethodNotAllowed, ShieldwallError

__all__ = ["MethodsMiddleware", "PathTable"]

#: The order methods are listed in ``Allow``.
_ORDER = ("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS")
_PARAM = re.compile(r"\{([^}/]+)\}")

ErrorRenderer = Callable[[ShieldwallError, str | None], tuple[int, dict[str, str], bytes]]


def _sorted(methods: set[str]) -> tuple[str, ...]:
    found = {*methods, "OPTIONS"}
    return tuple(sorted(found, key=lambda m: (_ORDER.index(m) if m in _ORDER else 99, m)))


def _numeric(route: object) -> set[str]:
    """The path parameters of an API route that are ``int``."""
    if not isinstance(getattr(route, "original_route", None), APIRoute):
        return set()
    dependant = getattr(route, "dependant", None)
    params = getattr(dependant, "path_params", [])
    return {p.name for p in params if p.field_info.annotation is int}


class PathTable:
    """The methods of every path the routes serve, by request path."""

    def __init__(self, routes: list[BaseRoute]) -> None:
        templates: list[tuple[re.Pattern[str], set[str]]] = []
        exact: dict[str, set[str]] = {}
        for route in iter_route_contexts(routes):
            template, methods = route.path_format, route.methods
            if not template or not methods:
                continue  # a mount (static files): not ours to answer
            if not _PARAM.search(template):
                exact.setdefault(template, set()).update(methods)
                continue
            integers = _numeric(route)
            regex, last = "", 0
            for param in _PARAM.finditer(template):
                regex += re.escape(template[last : param.start()])
                regex += "[0-9]+" if param.group(1) in integers else "[^/]+"
                last = param.end()
            regex += re.escape(template[last:])
            templates.append((re.compile(regex), set(methods)))
        self._templates = templates
        # A literal path's methods are known in advance, templates that match it included.
        self._exact = {
            path: _sorted(methods | self._templated(path)) for path, methods in exact.items()
        }

    def _templated(self, path: str) -> set[str]:
        found: set[str] = set()
        for regex, methods in self._templates:
            if regex.fullmatch(path):
                found |= methods
        return found

    def allow(self, path: str) -> tuple[str, ...] | None:
        """The methods of ``path`` in ``Allow`` order; ``None`` when the schema lacks it."""
        known = self._exact.get(path)
        if known is not None:
            return known
        found = self._templated(path)
        return _sorted(found) if found else None


class MethodsMiddleware:
    """See the module docstring. ``routes`` are the app's (read at the first request, when
    every route is in); ``render_error`` answers the ``405`` in the API's error shape."""

    def __init__(self, app: ASGIApp, routes: list[BaseRoute], render_error: ErrorRenderer) -> None:
        self.app = app
        self.routes = routes
        self.render_error = render_error
        self._table: PathTable | None = None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        if self._table is None:
            self._table = PathTable(self.routes)
        allow = self._table.allow(scope["path"])
        method = scope["method"]
        if allow is None or (method in allow and method != "OPTIONS"):
            await self.app(scope, receive, send)
            return
        header = ", ".join(allow)
        if method == "OPTIONS":
            status, headers, body = 204, {"Allow": header}, b""
        else:
            rid = scope.get("state", {}).get("request_id")
            error = MethodNotAllowed(
                f"{method} is not a method of {scope['path']}; it has {header}", list(allow)
            )
            status, headers, body = self.render_error(error, rid)
        raw = [(k.lower().encode(), v.encode()) for k, v in headers.items()]
        if body:
            raw += [(b"content-type", b"application/json")]
        raw += [(b"content-length", str(len(body)).encode())]
        await send({"type": "http.response.start", "status": status, "headers": raw})
        await send({"type": "http.response.body", "body": body})
