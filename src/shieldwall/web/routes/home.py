"""The front page (``/``): where a person reports an image, and links to the console, the API
documentation and health."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

from shieldwall import __version__
from shieldwall.service.access import public
from shieldwall.web.console import service_state

router = APIRouter(include_in_schema=False)


@router.get("/", response_class=HTMLResponse, include_in_schema=False, **public())
def home(request: Request) -> HTMLResponse:
    """The front page: links to the report form, the review console, the API documentation
    and health."""
    state = service_state(request)
    return HTMLResponse(
        "<!doctype html><html lang=en><meta charset=utf-8><title>Shieldwall</title>"
        f"<h1>Shieldwall {__version__}</h1><p>Role: {state.role.value}.</p>"
        "<p>An intimate image of you shared without consent? "
        '<a href="/report" id="report-link">Report it here</a> (no account needed); '
        '<a href="/status">check a report\'s status</a>. Afraid one will be shared? '
        '<a href="/protect" id="protect-link">Protect it</a> without sending it to us.</p>'
        '<p>Review console: <a href="/console">sign in</a>.</p>'
        '<p>API: <a href="/docs">documentation</a>, <a href="/openapi.json">OpenAPI</a>. '
        "Health: <a href=/healthz>/healthz</a>, <a href=/readyz>/readyz</a>, "
        "<a href=/metrics>/metrics</a>.</p></html>"
    )
