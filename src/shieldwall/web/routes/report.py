"""The public notice pages (issue 5): ``/report`` (the notice form, its errors next to each
field, the acknowledgement with the tracking number and the PIN) and ``/status`` (a notice's
status and history with the two). Server-rendered, no JavaScript, no account; not under
``/v1`` and not in the OpenAPI schema.

Both POSTs are CSRF-protected like the login form (a double-submit cookie, since there is no
session), rate-limited per client address by the same limiter and rate as ``/v1/notices``
(``notice_rate_limit``), and the status look-up shares the API's wrong-PIN throttle.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse
from starlette.concurrency import run_in_threadpool

from shieldwall.cases import notices as lib
from shieldwall.errors import InvalidNotice, NotFound, RateLimited
from shieldwall.web.console import render
from shieldwall.web.public import (
    PUBLIC_CSRF_COOKIE,
    check_public_csrf,
    client_address,
    over_rate_limit,
    public_page,
    service_state,
    throttled_page,
)

__all__ = ["NOT_FOUND_MESSAGE", "PUBLIC_CSRF_COOKIE", "router"]

router = APIRouter(include_in_schema=False)

#: The one answer to an unknown tracking number and to a wrong PIN.
NOT_FOUND_MESSAGE = (
    "No notice was found with this tracking number and PIN. Check both and try again."
)

#: The declarations as the form words them (the keys are the library's field names).
DECLARATION_LABELS: dict[str, str] = {
    "declares_good_faith_non_consent": "I believe in good faith that this intimate image was "
    "published without the consent of the person depicted.",
    "declares_accurate_and_complete": "I believe that the information in this report is "
    "accurate and complete.",
    "declares_intimate_image": "The content is an intimate image (for example nude, sexual, "
    "or showing someone in underwear or in the toilet).",
    "declares_depicted_or_acting_for_them": "I am the person depicted, or I act on their behalf.",
    "declares_good_faith_and_true": "I make this report in good faith and it is true.",
}
_TEXT_FIELDS = (
    "reporter_name",
    "reporter_email",
    "signature",
    "explanation",
    "authority_explanation",
    "trusted_flagger_token",
    "urls",
    "content_ids",
    "content_kind",
)
_FLAGS = ("possible_minor", "authorised_agent", *lib.DECLARATIONS)


def _lines(text: str) -> list[str]:
    return [line.strip() for line in text.splitlines() if line.strip()]


def _notice_data(values: dict[str, Any]) -> dict[str, Any]:
    """The library's notice from the form's values."""
    data: dict[str, Any] = {
        name: values[name]
        for name in ("reporter_name", "reporter_email", "signature", "explanation")
    }
    data["urls"] = _lines(values["urls"])
    data["content_ids"] = _lines(values["content_ids"])
    data["content_kind"] = values["content_kind"] or "unknown"
    data["possible_minor"] = values["possible_minor"]
    data["authorised_agent"] = values["authorised_agent"]
    if values["authorised_agent"]:
        data["authority_explanation"] = values["authority_explanation"]
    if values["trusted_flagger_token"].strip():
        data["source"] = "trusted_flagger"
        data["trusted_flagger_token"] = values["trusted_flagger_token"].strip()
    for name in lib.DECLARATIONS:
        data[name] = values[name]
    return data


def _message(field: str, message: str) -> str:
    if field in lib.DECLARATIONS:
        why = lib.DECLARATIONS[field]
        return f"Tick this box to make this declaration; the law requires it ({why})."
    return message[:1].upper() + message[1:] + ("" if message.endswith(".") else ".")


def _blank() -> dict[str, Any]:
    values: dict[str, Any] = dict.fromkeys(_TEXT_FIELDS, "")
    values.update(dict.fromkeys(_FLAGS, False))
    values["content_kind"] = "unknown"
    return values


def _report_context(request: Request, values: dict[str, Any]) -> dict[str, Any]:
    return {
        "values": values,
        "errors": {},
        "declarations": DECLARATION_LABELS,
        "deadline_hours": service_state(request).settings.case_deadline_hours,
    }


@router.get("/report", response_class=HTMLResponse)
def report_form(request: Request) -> HTMLResponse:
    """The notice form."""
    context = _report_context(request, _blank())
    return public_page(request, "report.html", context)


@router.post("/report", response_class=HTMLResponse)
async def report_submit(request: Request) -> HTMLResponse:
    """File a notice: the acknowledgement page (tracking number, PIN), or the form again with
    the values kept and each error next to its field (nothing saved)."""
    form = await request.form()
    check_public_csrf(request, form)
    state = service_state(request)
    values = _blank()
    for name in _TEXT_FIELDS:
        value = form.get(name)
        values[name] = value if isinstance(value, str) else ""
    for name in _FLAGS:
        values[name] = form.get(name) is not None
    context = _report_context(request, values)
    throttled = over_rate_limit(request, "report.html", context)
    if throttled is not None:
        return throttled
    try:
        receipt = await run_in_threadpool(
            lib.submit_notice, state.db, state.settings, _notice_data(values)
        )
    except InvalidNotice as exc:
        errors: dict[str, list[str]] = {}
        for item in exc.fields:
            field = item["field"]
            key = "trusted_flagger_token" if field == "source" else field
            errors.setdefault(key, []).append(_message(field, item["message"]))
        context["errors"] = errors
        context["error"] = "The report was not sent: please correct the fields marked below."
        return public_page(request, "report.html", context, status=422)
    return render(request, "report_received.html", {"receipt": receipt})


@router.get("/status", response_class=HTMLResponse)
def status_form(request: Request, tracking_number: str = "") -> HTMLResponse:
    """The status form (tracking number and PIN)."""
    return public_page(request, "status.html", {"tracking_number": tracking_number[:64]})


@router.post("/status", response_class=HTMLResponse)
async def status_submit(request: Request) -> HTMLResponse:
    """A notice's status and history; an unknown number and a wrong PIN get the same message,
    and repeated wrong PINs are throttled (shared with the API)."""
    form = await request.form()
    check_public_csrf(request, form)
    state = service_state(request)
    raw_tracking = form.get("tracking_number")
    raw_pin = form.get("pin")
    tracking = (raw_tracking if isinstance(raw_tracking, str) else "").strip().upper()[:64]
    pin = (raw_pin if isinstance(raw_pin, str) else "").strip()[:64]
    context: dict[str, Any] = {"tracking_number": tracking}
    throttled = over_rate_limit(request, "status.html", context)
    if throttled is not None:
        return throttled
    guard = state.pin_guard
    keys = (f"tn:{tracking}", client_address(request))
    try:
        if guard is not None:
            guard.check(*keys)
        if not tracking or not pin:
            raise NotFound(NOT_FOUND_MESSAGE)
        status = await run_in_threadpool(
            lib.notice_status, state.db, tracking, pin, settings=state.settings
        )
    except RateLimited as exc:
        return throttled_page(
            request,
            "status.html",
            context,
            "Too many wrong attempts. Wait a while and try again.",
            exc.retry_after,
        )
    except NotFound:
        if guard is not None:
            guard.failed(*keys)
        return public_page(
            request, "status.html", {**context, "error": NOT_FOUND_MESSAGE}, status=404
        )
    return public_page(request, "status.html", {**context, "status": status})
