"""Who may use each route: one declarative rule per route, read from the route itself.

Every route of the service carries exactly one guard among its dependencies, and the guard both
enforces and declares the route's rule:

- ``**public()`` in the decorator: anyone (the public pages, the notice intake, health);
- ``**scoped(Scope.CURATE)`` (:mod:`shieldwall.api.deps`): an API key with that scope
  (``admin`` implies every scope); no valid key is a 401, a key without the scope a 403;
- ``Depends(require_role(Role.REVIEWER, ...))`` (:mod:`shieldwall.web.console`): a console
  session holding one of the roles (none named: any signed-in person); no session is the
  redirect to ``/login``, a person without the roles the 403 page.

:func:`route_rules` lists every route of an app with its rule, and the authorization matrix
test calls each with every credential; a route without a guard fails it. The framework's own
routes (the OpenAPI schema, the docs pages, ``/static``) are :data:`FRAMEWORK_PUBLIC`.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from fastapi import Depends, FastAPI
from fastapi.dependencies.models import Dependant
from fastapi.routing import APIRoute, iter_route_contexts

from shieldwall.people.roles import Role
from shieldwall.people.scopes import Scope

__all__ = [
    "FRAMEWORK_PUBLIC",
    "Credential",
    "Decision",
    "Guard",
    "RouteRule",
    "Rule",
    "framework_paths",
    "public",
    "route_rules",
]

#: Paths the framework adds, public by design: the schema, its docs pages and the scripts
#: (``/docs/assets``: the Swagger UI files the package serves itself, ``server/docs.py``).
FRAMEWORK_PUBLIC = frozenset(
    {"/openapi.json", "/docs", "/docs/assets", "/docs/oauth2-redirect", "/redoc", "/static"}
)


class Decision(StrEnum):
    """What a rule says of a credential."""

    ALLOWED = "allowed"
    #: No valid credential of the kind the route needs (401; a console page: to ``/login``).
    UNAUTHENTICATED = "unauthenticated"
    #: A valid credential without the right (403).
    FORBIDDEN = "forbidden"


@dataclass(frozen=True, slots=True)
class Credential:
    """What a caller presents: an API key's scopes (``None``: no valid key) and a console
    session's roles (``None``: not signed in)."""

    scopes: frozenset[Scope] | None = None
    roles: frozenset[Role] | None = None


@dataclass(frozen=True, slots=True)
class Rule:
    """Who may use a route: ``kind`` is ``public``, ``scope`` (an API key with ``scope``) or
    ``role`` (a console session with one of ``roles``; empty: any signed-in person)."""

    kind: str
    scope: Scope | None = None
    roles: frozenset[Role] = frozenset()

    def decide(self, credential: Credential) -> Decision:
        """What this rule says of ``credential``."""
        if self.kind == "public":
            return Decision.ALLOWED
        if self.kind == "scope":
            assert self.scope is not None
            if credential.scopes is None:
                return Decision.UNAUTHENTICATED
            if self.scope in credential.scopes or Scope.ADMIN in credential.scopes:
                return Decision.ALLOWED
            return Decision.FORBIDDEN
        if credential.roles is None:
            return Decision.UNAUTHENTICATED
        if not self.roles or self.roles & credential.roles:
            return Decision.ALLOWED
        return Decision.FORBIDDEN

    def describe(self) -> str:
        """``public``, ``key scope curate`` or ``console role admin|reviewer``."""
        if self.kind == "public":
            return "public"
        if self.kind == "scope":
            assert self.scope is not None
            return f"key scope {self.scope.value}"
        names = "|".join(sorted(r.value for r in self.roles)) or "any signed-in person"
        return f"console role {names}"


class Guard:
    """A dependency that carries a route's :class:`Rule` (subclasses check it)."""

    rule: Rule


class _Public(Guard):
    rule = Rule("public")

    async def __call__(self) -> None:
        return None


_PUBLIC = _Public()


def public() -> dict[str, Any]:
    """Route decorator arguments that declare the route public."""
    return {"dependencies": [Depends(_PUBLIC)]}


@dataclass(frozen=True, slots=True)
class RouteRule:
    """One route (a method and a path template) and the rules of its guards (none: the route
    declares nothing, which the matrix test refuses)."""

    method: str
    path: str
    rules: tuple[Rule, ...]
    route: APIRoute


def _guards(dependant: Dependant | None) -> Iterator[Guard]:
    if dependant is None:
        return
    for sub in dependant.dependencies:
        if isinstance(sub.call, Guard):
            yield sub.call
        yield from _guards(sub)


def route_rules(app: FastAPI) -> list[RouteRule]:
    """Every API route of ``app`` (each method apart) with the rules its guards declare;
    the framework's routes (:data:`FRAMEWORK_PUBLIC`) are not API routes and not listed."""
    found: list[RouteRule] = []
    for context in iter_route_contexts(app.routes):
        route = context.original_route
        if not isinstance(route, APIRoute):
            continue
        guards = list(dict.fromkeys(_guards(context.dependant)))
        rules = tuple(dict.fromkeys(g.rule for g in guards))
        for method in sorted(context.methods or ()):
            found.append(RouteRule(method, str(context.path), rules, route))
    return found


def framework_paths(app: FastAPI) -> list[str]:
    """The paths of ``app``'s routes that are not API routes (the framework's own, and mounts);
    each must be in :data:`FRAMEWORK_PUBLIC`."""
    return [
        str(context.path)
        for context in iter_route_contexts(app.routes)
        if not isinstance(context.original_route, APIRoute)
    ]
