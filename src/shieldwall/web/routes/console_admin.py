"""The console's administration index and its API-key page (admins; issue 16 point 2).

- ``/console/admin``: links to banks, people, API keys, webhooks and exchanges;
- ``/console/keys``: every key (never a secret), the form that creates one (its secret is on
  the answer page only, once) and revoke buttons.

Keys are created and revoked with :mod:`shieldwall.people.keys`, as ``/v1/keys`` does; a
revoked key is forgotten by this process's key cache at once. Audit events: ``key.create``
(name, scopes) and ``key.revoke``.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from shieldwall.errors import ShieldwallError
from shieldwall.people import keys
from shieldwall.people.accounts import SessionInfo
from shieldwall.people.roles import Actor
from shieldwall.people.scopes import Scope
from shieldwall.service.params import IdPath
from shieldwall.web.admin import ADMIN, audit, sentence
from shieldwall.web.console import check_form_csrf, current_session, render, service_state

__all__ = ["router"]

router = APIRouter(include_in_schema=False)

_SESSION = Depends(current_session)
FormText = Annotated[str, Form()]
FormList = Annotated[list[str], Form()]
#: What each scope lets a key do, for the form.
SCOPE_HINTS = {
    Scope.HASH: "hash uploaded content",
    Scope.MATCH: "look content up in the banks",
    Scope.CURATE: "manage banks and entries, withdraw, run sweeps",
    Scope.REVIEW: "read stored matches; work cases as a reviewer",
    Scope.SCAN: "scan code for face-swap jobs",
    Scope.ADMIN: "everything, keys and webhooks included",
    Scope.READ_DISTANCES: "see match distances (trusted reviewers only)",
    Scope.FEDERATE: "read the signed feeds of shared banks (a partner)",
}


@router.get("/console/admin", response_class=HTMLResponse)
def admin_index(request: Request, actor: Actor = ADMIN) -> HTMLResponse:
    """The administration pages."""
    del actor
    return render(request, "admin.html")


def _keys_page(
    request: Request,
    *,
    created: tuple[keys.KeyInfo, str] | None = None,
    error: str = "",
    values: dict[str, Any] | None = None,
    status: int = 200,
) -> HTMLResponse:
    state = service_state(request)
    revoked = request.query_params.get("done") == "revoked"
    cache = state.settings.api_key_cache_seconds
    context: dict[str, Any] = {
        "keys": keys.list_keys(state.db),
        "scopes": [(s.value, SCOPE_HINTS.get(s, "")) for s in Scope],
        "created": created,
        "error": error,
        "notice": f"Key revoked: every process refuses it within {cache:g} s." if revoked else "",
        "values": values or {"name": "", "scopes": [], "rate_limit": ""},
    }
    return render(request, "keys.html", context, status_code=status)


@router.get("/console/keys", response_class=HTMLResponse)
def keys_page(request: Request, actor: Actor = ADMIN) -> HTMLResponse:
    """Every API key, and the form that creates one."""
    del actor
    return _keys_page(request)


@router.post("/console/keys", response_class=HTMLResponse)
def create_key(
    request: Request,
    *,
    csrf_token: FormText = "",
    name: FormText = "",
    scopes: FormList | None = None,
    rate_limit: FormText = "",
    actor: Actor = ADMIN,
    session: SessionInfo = _SESSION,
) -> Response:
    """Create a key; the answer page shows its secret, this once (it is not stored)."""
    check_form_csrf(session, csrf_token)
    chosen = scopes or []
    values = {"name": name, "scopes": chosen, "rate_limit": rate_limit}
    limit: float | None = None
    if rate_limit.strip():
        try:
            limit = float(rate_limit)
        except ValueError:
            message = "The rate limit is a number of requests per second, or empty for none."
            return _keys_page(request, error=message, values=values, status=422)
    try:
        info, secret = keys.create_key(
            service_state(request).db, name.strip(), chosen, rate_limit=limit
        )
    except ShieldwallError as exc:
        return _keys_page(request, error=sentence(exc), values=values, status=exc.http_status)
    details = {"name": info.name, "scopes": [s.value for s in info.scopes]}
    audit(request, actor, "key.create", f"key:{info.prefix}", details)
    return _keys_page(request, created=(info, secret), status=201)


@router.post("/console/keys/{key_id}/revoke", response_class=HTMLResponse)
def revoke_key(
    request: Request,
    key_id: IdPath,
    *,
    csrf_token: FormText = "",
    actor: Actor = ADMIN,
    session: SessionInfo = _SESSION,
) -> Response:
    """Revoke a key (this process forgets it now; the others at once with ``redis_url`` set,
    otherwise within ``api_key_cache_seconds``). The last admin key is refused (409)."""
    check_form_csrf(session, csrf_token)
    state = service_state(request)
    try:
        info = keys.revoke_key(state.db, key_id, revocations=state.keys.revocations)
    except ShieldwallError as exc:
        return _keys_page(request, error=sentence(exc), status=exc.http_status)
    state.keys.forget(info.prefix)
    audit(request, actor, "key.revoke", f"key:{info.prefix}", {"name": info.name})
    return RedirectResponse("/console/keys?done=revoked", status_code=303)
