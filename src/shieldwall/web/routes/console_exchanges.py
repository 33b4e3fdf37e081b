"""The console's page of hash exchanges (admins): each exchange with its last sync, checkpoint,
counts added / withdrawn / skipped / failed, feedback and last error. Changes go through the
CLI or the API (docs/exchanges.md)."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse

from shieldwall.exchange import list_exchanges
from shieldwall.people.roles import Actor, Role
from shieldwall.web.console import render, require_role, service_state

router = APIRouter(include_in_schema=False)

_ADMIN = Depends(require_role(Role.ADMIN))


@router.get("/console/exchanges", response_class=HTMLResponse)
def console_exchanges(request: Request, actor: Actor = _ADMIN) -> HTMLResponse:
    """Every configured exchange (admins only)."""
    del actor
    found = list_exchanges(service_state(request).db)
    return render(request, "exchanges.html", {"exchanges": found})
