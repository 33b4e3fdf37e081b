"""The console's webhook pages (admins; issue 16 point 2).

- ``/console/webhooks``: every webhook, and the form that adds one (its signing secret is on
  the answer page only, once);
- ``/console/webhooks/{id}``: the webhook, a test delivery (a signed ``webhook.test`` event
  sent now, through the same address policy as every delivery, its outcome shown), enable or
  disable, and its recent deliveries (the ``webhook.deliver`` jobs: state, attempts, error).

The routes call :mod:`shieldwall.webhooks` as ``/v1/webhooks`` does. Audit events:
``webhook.create``, ``webhook.enable`` / ``webhook.disable`` and ``webhook.test`` (with its
outcome).
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from shieldwall import webhooks
from shieldwall.errors import NotFound, ShieldwallError, WebhookDeliveryFailed
from shieldwall.people.accounts import SessionInfo
from shieldwall.people.roles import Actor
from shieldwall.service.params import IdPath
from shieldwall.web.admin import ADMIN, audit, sentence
from shieldwall.web.console import check_form_csrf, current_session, render, service_state

__all__ = ["router"]

router = APIRouter(include_in_schema=False)

_SESSION = Depends(current_session)
FormText = Annotated[str, Form()]
FormList = Annotated[list[str], Form()]
_DONE = {
    "enabled": "Webhook enabled: events are delivered to it again.",
    "disabled": "Webhook disabled: nothing is delivered to it until it is enabled.",
}


def _list_page(
    request: Request,
    *,
    created: tuple[webhooks.Webhook, str] | None = None,
    error: str = "",
    values: dict[str, Any] | None = None,
    status: int = 200,
) -> HTMLResponse:
    context: dict[str, Any] = {
        "hooks": webhooks.list_webhooks(service_state(request).db),
        "event_types": sorted(webhooks.EVENT_TYPES),
        "created": created,
        "error": error,
        "values": values or {"url": "", "events": [webhooks.MATCH_CREATED], "description": ""},
    }
    return render(request, "webhooks.html", context, status_code=status)


@router.get("/console/webhooks", response_class=HTMLResponse)
def webhooks_page(request: Request, actor: Actor = ADMIN) -> HTMLResponse:
    """Every webhook, and the form that adds one."""
    del actor
    return _list_page(request)


@router.post("/console/webhooks", response_class=HTMLResponse)
def add_webhook(
    request: Request,
    *,
    csrf_token: FormText = "",
    url: FormText = "",
    events: FormList | None = None,
    description: FormText = "",
    actor: Actor = ADMIN,
    session: SessionInfo = _SESSION,
) -> Response:
    """Add a receiver; the answer page shows its signing secret, this once."""
    check_form_csrf(session, csrf_token)
    chosen = events or []
    values = {"url": url, "events": chosen, "description": description}
    try:
        hook, secret = webhooks.create_webhook(
            service_state(request).db, url.strip(), chosen, description=description.strip()
        )
    except ShieldwallError as exc:
        return _list_page(request, error=sentence(exc), values=values, status=exc.http_status)
    details = {"url": hook.url, "events": hook.events}
    audit(request, actor, "webhook.create", f"webhook:{hook.id}", details)
    return _list_page(request, created=(hook, secret), status=201)


def _detail_page(
    request: Request,
    webhook_id: int,
    *,
    tested: tuple[bool, str] | None = None,
    status: int = 200,
) -> HTMLResponse:
    db = service_state(request).db
    try:
        hook = webhooks.get_webhook(db, webhook_id)
    except NotFound:
        missing = {"heading": "Not found", "message": f"There is no webhook {webhook_id}."}
        return render(request, "forbidden.html", missing, status_code=404)
    context: dict[str, Any] = {
        "hook": hook,
        "deliveries": webhooks.recent_deliveries(db, webhook_id, limit=20),
        "tested": tested,
        "notice": _DONE.get(request.query_params.get("done", ""), ""),
    }
    return render(request, "webhook.html", context, status_code=status)


@router.get("/console/webhooks/{webhook_id}", response_class=HTMLResponse)
def webhook_page(request: Request, webhook_id: IdPath, actor: Actor = ADMIN) -> HTMLResponse:
    """One webhook with its recent deliveries and the test button."""
    del actor
    return _detail_page(request, webhook_id)


@router.post("/console/webhooks/{webhook_id}/test", response_class=HTMLResponse)
def send_test_delivery(
    request: Request,
    webhook_id: IdPath,
    *,
    csrf_token: FormText = "",
    actor: Actor = ADMIN,
    session: SessionInfo = _SESSION,
) -> Response:
    """Send a signed ``webhook.test`` event now and show what the receiver answered."""
    check_form_csrf(session, csrf_token)
    state = service_state(request)
    try:
        event_id = webhooks.send_test(state.db, webhook_id, settings=state.settings)
    except NotFound:
        return _detail_page(request, webhook_id)
    except WebhookDeliveryFailed as exc:
        details = {"ok": False, "error": exc.message[:500]}
        audit(request, actor, "webhook.test", f"webhook:{webhook_id}", details)
        return _detail_page(request, webhook_id, tested=(False, sentence(exc)), status=502)
    except ShieldwallError as exc:
        return _detail_page(request, webhook_id, tested=(False, sentence(exc)), status=409)
    audit(request, actor, "webhook.test", f"webhook:{webhook_id}", {"ok": True, "event": event_id})
    message = f"Test delivery {event_id} sent: the receiver answered with success (2xx)."
    return _detail_page(request, webhook_id, tested=(True, message))


@router.post("/console/webhooks/{webhook_id}/enabled", response_class=HTMLResponse)
def set_enabled(
    request: Request,
    webhook_id: IdPath,
    *,
    csrf_token: FormText = "",
    enabled: FormText = "",
    actor: Actor = ADMIN,
    session: SessionInfo = _SESSION,
) -> Response:
    """Enable (``enabled=1``) or disable (``enabled=0``) the webhook."""
    check_form_csrf(session, csrf_token)
    if enabled not in ("0", "1"):
        return _detail_page(request, webhook_id, status=422)
    try:
        webhooks.update_webhook(service_state(request).db, webhook_id, enabled=enabled == "1")
    except NotFound:
        return _detail_page(request, webhook_id)
    action = "webhook.enable" if enabled == "1" else "webhook.disable"
    audit(request, actor, action, f"webhook:{webhook_id}", {})
    done = "enabled" if enabled == "1" else "disabled"
    return RedirectResponse(f"/console/webhooks/{webhook_id}?done={done}", status_code=303)
