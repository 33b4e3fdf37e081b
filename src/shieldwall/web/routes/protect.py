"""The victim portal (issue 15): ``/protect`` (who may use it, what happens to the hashes,
consent, the choice of files, hashed in the browser's Web Worker by ``/static/protect/``),
``POST /protect/cases`` (the hashes as JSON; the answer: case number and PIN, once),
``/protect/status`` (counts only, with the PIN) and ``POST /protect/withdraw`` (one item or the
whole case). See docs/protect.md.

``POST /protect/cases`` takes ``application/json`` only (a page elsewhere cannot send it
without the browser asking us first, which we never allow), at most ``protect_max_body_bytes``
(413, read no further), validated before it takes one of the address's rate-limit tokens; a
malformed submission is 422 with ``fields`` and saves nothing.
"""

from __future__ import annotations

import json
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, JSONResponse
from starlette.concurrency import run_in_threadpool

from shieldwall.cases import victims
from shieldwall.errors import InvalidProtection, NotFound, RateLimited
from shieldwall.service.access import public
from shieldwall.web.i18n import language_of, translator
from shieldwall.web.public import (
    check_public_csrf,
    client_address,
    form_text,
    public_page,
    service_state,
    throttled_page,
)

__all__ = ["router"]

router = APIRouter(include_in_schema=False)

#: The portal's pages also play the person's own videos (``blob:`` URLs of local files) to
#: hash their frames; nothing else differs from the other pages' policy.
PROTECT_CSP = (
    "default-src 'self'; script-src 'self'; worker-src 'self'; connect-src 'self'; "
    "style-src 'self' 'unsafe-inline'; img-src 'self' data: blob:; media-src 'self' blob:; "
    "frame-ancestors 'none'; form-action 'self'; base-uri 'none'; object-src 'none'"
)
_CASE_NUMBER_LIMIT = 32
_PIN_LIMIT = 32


def _json_error(
    status: int,
    code: str,
    message: str,
    *,
    fields: list[dict[str, str]] | None = None,
    headers: dict[str, str] | None = None,
) -> JSONResponse:
    body: dict[str, Any] = {"error": code, "message": message}
    if fields is not None:
        body["fields"] = fields
    return JSONResponse(body, status_code=status, headers=headers)


def _page(
    request: Request, template: str, context: dict[str, Any], status: int = 200
) -> HTMLResponse:
    response = public_page(request, template, context, status=status)
    response.headers["Content-Security-Policy"] = PROTECT_CSP
    return response


@router.get("/protect", response_class=HTMLResponse, **public())
def protect_page(request: Request) -> HTMLResponse:
    """The portal: eligibility, what happens to the hashes, consent, the files."""
    state = service_state(request)
    settings = state.settings
    return _page(
        request,
        "protect.html",
        {
            "max_items": settings.protect_max_items,
            "bank_kind": settings.protect_bank_kind,
        },
    )


async def _read_limited(request: Request, limit: int) -> bytes | None:
    """The body, or ``None`` once it is over ``limit`` bytes (the rest is not read)."""
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > limit:
        return None
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            return None
        chunks.append(chunk)
    return b"".join(chunks)


@router.post("/protect/cases", **public())
async def protect_submit(request: Request) -> JSONResponse:
    """File a case from the hashes; ``201`` with the case number and the PIN (shown once)."""
    state = service_state(request)
    settings = state.settings
    _ = translator(language_of(request))
    media_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if media_type != "application/json":
        return _json_error(415, "unsupported_media", _("Send the hashes as application/json."))
    body = await _read_limited(request, settings.protect_max_body_bytes)
    if body is None:
        limit = settings.protect_max_body_bytes // 1024
        return _json_error(
            413,
            "request_too_large",
            _("The submission is over %(limit)s kB: protect fewer files at once.", limit=limit),
        )
    try:
        data = json.loads(body)
    except (ValueError, UnicodeDecodeError):
        return _json_error(422, "validation_error", _("The submission is not JSON."))
    submission, errors = victims.validate_submission(data, settings)
    if submission is None:
        return _json_error(
            422,
            "validation_error",
            _(
                "The submission was refused and nothing was saved: %(fields)s.",
                fields=", ".join(dict.fromkeys(e["field"] for e in errors)),
            ),
            fields=errors,
        )
    wait = state.public_limiter.take(client_address(request), settings.notice_rate_limit)
    if wait > 0:
        return _json_error(
            429,
            "rate_limited",
            _("Too many requests from your connection. Wait a minute and try again."),
            headers={"Retry-After": str(max(1, int(wait + 0.999)))},
        )
    try:
        receipt = await run_in_threadpool(victims.file_case, state.db, settings, data)
    except InvalidProtection as exc:  # pragma: no cover - validated above
        return _json_error(422, "validation_error", exc.message, fields=exc.fields)
    return JSONResponse(
        {
            "case_number": receipt.case_number,
            "pin": receipt.pin,
            "items": receipt.items,
            "signals": receipt.signals,
            "stopncii": receipt.stopncii,
            "status_url": "/protect/status?case_number=" + receipt.case_number,
        },
        status_code=201,
        headers={"Cache-Control": "no-store"},
    )


@router.get("/protect/status", response_class=HTMLResponse, **public())
def protect_status_form(request: Request, case_number: str = "") -> HTMLResponse:
    """The status form (case number and PIN)."""
    return _page(request, "protect_status.html", {"case_number": case_number[:32]})


async def _credentials(request: Request) -> tuple[str, str, Any]:
    form = await request.form()
    check_public_csrf(request, form)
    number = form_text(form, "case_number", _CASE_NUMBER_LIMIT).upper()
    pin = form_text(form, "pin", _PIN_LIMIT)
    return number, pin, form


async def _with_pin(request: Request, action: str) -> HTMLResponse:
    state = service_state(request)
    _ = translator(language_of(request))
    number, pin, form = await _credentials(request)
    context: dict[str, Any] = {"case_number": number}
    not_found = _(
        "No protection case was found with this case number and PIN. Check both and try again."
    )
    errors: dict[str, str] = {}
    if not number:
        errors["case_number"] = _("Enter your case number (it starts with PR-).")
    if not pin:
        errors["pin"] = _("Enter the PIN you were given with the case number.")
    if errors:  # before the rate limit: costs no allowance
        return _page(request, "protect_status.html", {**context, "errors": errors}, 422)
    wait = state.public_limiter.take(client_address(request), state.settings.notice_rate_limit)
    if wait > 0:
        message = _("Too many requests from your connection. Wait a minute and try again.")
        response = throttled_page(request, "protect_status.html", context, message, wait)
        response.headers["Content-Security-Policy"] = PROTECT_CSP
        return response
    guard = state.pin_guard
    keys = (f"pr:{number}", client_address(request))
    message = ""
    try:
        if guard is not None:
            guard.check(*keys)
        if action == "status":
            status = await run_in_threadpool(
                victims.case_status, state.db, number, pin, settings=state.settings
            )
        else:
            raw = form_text(form, "item", 8)
            item = int(raw) if raw.isdigit() else None
            status = await run_in_threadpool(
                lambda: victims.withdraw_items(
                    state.db, number, pin, item=item, settings=state.settings
                )
            )
            message = (
                _("Photo or video %(number)s was withdrawn.", number=item)
                if item is not None
                else _("Your whole case was withdrawn.")
            )
    except RateLimited as exc:
        too_many = _("Too many wrong attempts. Wait a while and try again.")
        response = throttled_page(
            request, "protect_status.html", context, too_many, exc.retry_after
        )
        response.headers["Content-Security-Policy"] = PROTECT_CSP
        return response
    except NotFound:
        if guard is not None:
            guard.failed(*keys)
        return _page(request, "protect_status.html", {**context, "error": not_found}, 404)
    return _page(
        request,
        "protect_status.html",
        {**context, "status": status, "pin": pin, "message": message},
    )


@router.post("/protect/status", response_class=HTMLResponse, **public())
async def protect_status(request: Request) -> HTMLResponse:
    """A case's status: received, active or withdrawn, matches found and removed (counts)."""
    return await _with_pin(request, "status")


@router.post("/protect/withdraw", response_class=HTMLResponse, **public())
async def protect_withdraw(request: Request) -> HTMLResponse:
    """Withdraw one item (``item``) or the whole case (no ``item``)."""
    return await _with_pin(request, "withdraw")
