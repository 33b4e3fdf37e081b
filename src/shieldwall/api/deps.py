"""Request dependencies: the process state, the caller's key and the scope a route needs.

They are ``async`` on purpose: FastAPI runs every synchronous dependency in its thread pool,
a hop that cost more than a whole hash lookup."""

from __future__ import annotations

from typing import Any

from fastapi import Depends, Request

from shieldwall.errors import Forbidden, Unauthenticated
from shieldwall.people import Actor
from shieldwall.people.keys import KeyInfo, actor_for_key
from shieldwall.people.scopes import Scope
from shieldwall.service.access import Guard, Rule
from shieldwall.service.state import ServiceState

__all__ = [
    "CURATOR",
    "SCOPE_EXTENSION",
    "WHO",
    "ScopeGuard",
    "current_actor",
    "current_actor_id",
    "current_key",
    "get_state",
    "scoped",
]

#: The OpenAPI extension naming the scope an operation needs (the authorization matrix test
#: and the docs read it).
SCOPE_EXTENSION = "x-required-scope"


async def get_state(request: Request) -> ServiceState:
    """The process's :class:`ServiceState`."""
    state = request.app.state.shieldwall
    assert isinstance(state, ServiceState)
    return state


async def curating_state(request: Request) -> ServiceState:
    """The process's state, or :class:`~shieldwall.errors.NotServed` in a role that does not
    serve curation routes."""
    state = await get_state(request)
    state.require_curation()
    return state


#: The dependency of every curation route.
CURATOR = Depends(curating_state)


async def current_key(request: Request) -> KeyInfo:
    """The key the middleware authenticated."""
    key = request.scope.get("state", {}).get("key")
    if not isinstance(key, KeyInfo):
        raise Unauthenticated("a valid API key is needed: Authorization: Bearer <key>")
    return key


async def current_actor_id(request: Request) -> str:
    """The caller's id in the audit log: ``key:<prefix>``."""
    return f"key:{(await current_key(request)).prefix}"


#: For routes that change something the audit log records: ``who: str = WHO``.
WHO = Depends(current_actor_id)


async def current_actor(request: Request) -> Actor:
    """The caller as an :class:`Actor` (see :func:`~shieldwall.people.keys.actor_for_key`)."""
    return actor_for_key(await current_key(request))


class ScopeGuard(Guard):
    """The guard of a keyed route: the caller's key must hold ``scope`` (``admin`` implies
    every scope); its :class:`~shieldwall.service.access.Rule` says so to the matrix test."""

    def __init__(self, scope: Scope) -> None:
        self.rule = Rule("scope", scope=scope)

    async def __call__(self, key: KeyInfo = Depends(current_key)) -> KeyInfo:  # noqa: B008
        scope = self.rule.scope
        assert scope is not None
        if not key.allows(scope):
            raise Forbidden(f"this key lacks the {scope.value!r} scope this route needs")
        return key


def scoped(scope: Scope) -> dict[str, Any]:
    """Route decorator arguments that require ``scope`` and document it in the schema."""
    return {
        "dependencies": [Depends(ScopeGuard(scope))],
        "openapi_extra": {SCOPE_EXTENSION: scope.value},
    }
