"""Request dependencies: the process state, the caller's key and the scope a route needs.

They are ``async`` on purpose: FastAPI runs every synchronous dependency in its thread pool,
a hop that cost more than a whole hash lookup."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from fastapi import Depends, Request

from shieldwall.errors import Forbidden, Unauthenticated
from shieldwall.people import Actor
from shieldwall.people.keys import KeyInfo, actor_for_key
from shieldwall.people.scopes import Scope
from shieldwall.service.state import ServiceState

__all__ = ["CURATOR", "SCOPE_EXTENSION", "current_actor", "current_key", "get_state", "scoped"]

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


async def current_actor(request: Request) -> Actor:
    """The caller as an :class:`Actor` (see :func:`~shieldwall.people.keys.actor_for_key`)."""
    return actor_for_key(await current_key(request))


def _need(scope: Scope) -> Callable[[KeyInfo], Awaitable[KeyInfo]]:
    async def check(key: KeyInfo = Depends(current_key)) -> KeyInfo:  # noqa: B008 - FastAPI's API
        if not key.allows(scope):
            raise Forbidden(f"this key lacks the {scope.value!r} scope this route needs")
        return key

    return check


def scoped(scope: Scope) -> dict[str, Any]:
    """Route decorator arguments that require ``scope`` and document it in the schema."""
    return {
        "dependencies": [Depends(_need(scope))],
        "openapi_extra": {SCOPE_EXTENSION: scope.value},
    }
