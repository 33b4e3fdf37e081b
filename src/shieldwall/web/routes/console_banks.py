"""The console's bank pages (admins; issue 16 point 2).

- ``/console/banks``: every bank with its counts, and the form that creates one;
- ``/console/banks/{name}``: the bank, enable or disable it, its thresholds, its entries (the
  latest, or those an external id holds), withdraw an entry or every entry of an external id.

The routes call the functions the API's ``/v1/banks`` routes call, with the signed-in person
(``by="user:<id>"``) as the actor; those functions record the audit events ``bank.create``,
``bank.enable`` / ``bank.disable``, ``bank.threshold``, ``bank.entry_withdraw`` and
``bank.withdraw`` (by external id) in the change's own transaction. The pages never show hash
values: an entry shows its signal types only (reading values stays an audited API or CLI read,
``bank.read``).
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Form, Path, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from shieldwall import banks
from shieldwall.errors import NotFound, ShieldwallError
from shieldwall.people.accounts import SessionInfo
from shieldwall.people.roles import Actor
from shieldwall.service.params import IdPath
from shieldwall.signals import Comparison, bankable_types
from shieldwall.web.admin import ADMIN, sentence
from shieldwall.web.console import check_form_csrf, current_session, render, service_state

__all__ = ["router"]

router = APIRouter(include_in_schema=False)

_SESSION = Depends(current_session)
FormText = Annotated[str, Form()]
BankName = Annotated[str, Path(max_length=200)]
#: What a redirect's ``done`` says (fixed sentences: nothing from the address is shown).
_DONE = {
    "created": "Bank created.",
    "enabled": "Bank enabled: its entries match again.",
    "disabled": "Bank disabled: its entries match nothing until it is enabled.",
    "threshold": "Threshold saved.",
    "entry-withdrawn": "Entry withdrawn: its signals no longer match.",
}


def _threshold_types() -> list[str]:
    """The signal types whose matches have a distance (a threshold means something)."""
    return [t.name for t in bankable_types() if t.comparison != Comparison.EXACT]


def _list_page(
    request: Request, *, error: str = "", values: dict[str, str] | None = None, status: int = 200
) -> HTMLResponse:
    found = banks.list_banks(service_state(request).db)
    context: dict[str, Any] = {
        "banks": found,
        "kinds": [k.value for k in banks.BankKind],
        "error": error,
        "values": values or {"name": "", "kind": "block", "description": ""},
    }
    return render(request, "banks.html", context, status_code=status)


@router.get("/console/banks", response_class=HTMLResponse)
def banks_page(request: Request, actor: Actor = ADMIN) -> HTMLResponse:
    """Every bank with its entry counts, and the form that creates one."""
    del actor
    return _list_page(request)


@router.post("/console/banks", response_class=HTMLResponse)
def create_bank(
    request: Request,
    *,
    csrf_token: FormText = "",
    name: FormText = "",
    kind: FormText = "block",
    description: FormText = "",
    actor: Actor = ADMIN,
    session: SessionInfo = _SESSION,
) -> Response:
    """Create a bank (a taken name or a bad one: the form again with the reason)."""
    check_form_csrf(session, csrf_token)
    state = service_state(request)
    name = name.strip()
    values = {"name": name, "kind": kind, "description": description}
    try:
        info = banks.create_bank(state.db, name, kind, description=description.strip(), by=actor.id)
    except ShieldwallError as exc:
        return _list_page(request, error=sentence(exc), values=values, status=exc.http_status)
    state.refresh()
    return RedirectResponse(f"/console/banks/{info.name}?done=created", status_code=303)


def _bank_page(
    request: Request,
    name: str,
    *,
    external_id: str = "",
    error: str = "",
    notice: str = "",
    status: int = 200,
) -> HTMLResponse:
    db = service_state(request).db
    try:
        bank = banks.get_bank(db, name)
    except NotFound:
        missing = {"heading": "Not found", "message": f"There is no bank named {name[:200]!r}."}
        return render(request, "forbidden.html", missing, status_code=404)
    wanted = external_id.strip()
    entries = banks.find_entries(db, name, external_id=wanted or None, limit=50)
    types = _threshold_types()
    context: dict[str, Any] = {
        "bank": bank,
        "entries": entries,
        "external_id": wanted,
        "threshold_types": types,
        "defaults": {t.name: t.default_threshold for t in bankable_types()},
        "error": error,
        "notice": notice or _DONE.get(request.query_params.get("done", ""), ""),
    }
    return render(request, "bank.html", context, status_code=status)


@router.get("/console/banks/{name}", response_class=HTMLResponse)
def bank_page(
    request: Request,
    name: BankName,
    external_id: Annotated[str, Query(max_length=200)] = "",
    actor: Actor = ADMIN,
) -> HTMLResponse:
    """One bank: its state and thresholds, and its entries (the latest 50, or those the
    external id holds)."""
    del actor
    return _bank_page(request, name, external_id=external_id)


@router.post("/console/banks/{name}/enabled", response_class=HTMLResponse)
def set_enabled(
    request: Request,
    name: BankName,
    *,
    csrf_token: FormText = "",
    enabled: FormText = "",
    actor: Actor = ADMIN,
    session: SessionInfo = _SESSION,
) -> Response:
    """Enable (``enabled=1``) or disable (``enabled=0``) the bank."""
    check_form_csrf(session, csrf_token)
    state = service_state(request)
    if enabled not in ("0", "1"):
        return _bank_page(request, name, error="Choose to enable or disable.", status=422)
    try:
        banks.set_bank_enabled(state.db, name, enabled == "1", by=actor.id)
    except ShieldwallError as exc:
        return _bank_page(request, name, error=sentence(exc), status=exc.http_status)
    state.refresh()
    done = "enabled" if enabled == "1" else "disabled"
    return RedirectResponse(f"/console/banks/{name}?done={done}", status_code=303)


@router.post("/console/banks/{name}/thresholds", response_class=HTMLResponse)
def set_threshold(
    request: Request,
    name: BankName,
    *,
    csrf_token: FormText = "",
    signal_type: FormText = "",
    threshold: FormText = "",
    actor: Actor = ADMIN,
    session: SessionInfo = _SESSION,
) -> Response:
    """Set the bank's threshold for a signal type (empty: back to the type's default)."""
    check_form_csrf(session, csrf_token)
    state = service_state(request)
    if signal_type not in _threshold_types():
        known = ", ".join(_threshold_types())
        return _bank_page(request, name, error=f"Choose a signal type: {known}.", status=422)
    text = threshold.strip()
    if text and not (text.isdigit() and len(text) <= 3):
        message = "The threshold is a whole number from 0 to 256, or empty for the default."
        return _bank_page(request, name, error=message, status=422)
    value = int(text) if text else None
    try:
        banks.set_bank_threshold(state.db, name, signal_type, value, by=actor.id)
    except ShieldwallError as exc:
        return _bank_page(request, name, error=sentence(exc), status=exc.http_status)
    state.refresh()
    return RedirectResponse(f"/console/banks/{name}?done=threshold", status_code=303)


@router.post("/console/banks/{name}/withdraw", response_class=HTMLResponse)
def withdraw_external_id(
    request: Request,
    name: BankName,
    *,
    csrf_token: FormText = "",
    external_id: FormText = "",
    actor: Actor = ADMIN,
    session: SessionInfo = _SESSION,
) -> Response:
    """Withdraw an external id (a case number) from the bank: an entry no other active case
    holds stops matching; the others keep their signals."""
    check_form_csrf(session, csrf_token)
    state = service_state(request)
    wanted = external_id.strip()
    if not wanted or len(wanted) > 200:
        message = "Give the external id (case number) to withdraw, up to 200 characters."
        return _bank_page(request, name, error=message, status=422)
    try:
        banks.get_bank(state.db, name)
        (outcome,) = banks.withdraw_cases(state.db, [wanted], bank=name, by=actor.id)
    except ShieldwallError as exc:
        return _bank_page(
            request, name, external_id=wanted, error=sentence(exc), status=exc.http_status
        )
    state.refresh()
    notice = (
        f"Withdrew {wanted}: {len(outcome.withdrawn_entries)} entries stop matching, "
        f"{len(outcome.kept_entries)} kept (another active case holds them)."
    )
    return _bank_page(request, name, external_id=wanted, notice=notice)


@router.post("/console/entries/{entry_id}/withdraw", response_class=HTMLResponse)
def withdraw_entry(
    request: Request,
    entry_id: IdPath,
    *,
    csrf_token: FormText = "",
    actor: Actor = ADMIN,
    session: SessionInfo = _SESSION,
) -> Response:
    """Withdraw one entry whatever its cases: its signals stop matching."""
    check_form_csrf(session, csrf_token)
    state = service_state(request)
    try:
        info = banks.withdraw_entry(state.db, entry_id, by=actor.id)
    except ShieldwallError as exc:
        context = {"heading": "Not withdrawn", "message": sentence(exc)}
        return render(request, "forbidden.html", context, status_code=exc.http_status)
    state.refresh()
    return RedirectResponse(f"/console/banks/{info.bank}?done=entry-withdrawn", status_code=303)
