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
from shieldwall.service.access import public
from shieldwall.web.i18n import N_, Translator, language_of, translator
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
NOT_FOUND_MESSAGE = N_(
    "No notice was found with this tracking number and PIN. Check both and try again."
)

#: The declarations as the form words them (the keys are the library's field names).
DECLARATION_LABELS: dict[str, str] = {
    "declares_good_faith_non_consent": N_(
        "I believe in good faith that this intimate image was "
        "published without the consent of the person depicted."
    ),
    "declares_accurate_and_complete": N_(
        "I believe that the information in this report is accurate and complete."
    ),
    "declares_intimate_image": N_(
        "The content is an intimate image (for example nude, sexual, "
        "or showing someone in underwear or in the toilet)."
    ),
    "declares_depicted_or_acting_for_them": N_(
        "I am the person depicted, or I act on their behalf."
    ),
    "declares_good_faith_and_true": N_("I make this report in good faith and it is true."),
}
#: A notice's states in plain words (the status page never shows the internal names).
STATUS_WORDS: dict[str, str] = {
    "received": N_("Received, waiting for review"),
    "in_review": N_("Being reviewed"),
    "decided": N_("Decided"),
    "appealed": N_("Appealed: being reviewed again"),
    "appeal_decided": N_("Appeal decided"),
}
#: The fields as the error summary names them (before each message).
FIELD_LABELS: dict[str, str] = {
    "urls": N_("Where is the image? Exact web address(es)"),
    "content_ids": N_("Content ID(s), if you know them (optional instead of addresses)"),
    "content_kind": N_("Is the image real or fake?"),
    "explanation": N_("Why should it be removed?"),
    "reporter_name": N_("Your full name"),
    "reporter_email": N_("Your email address"),
    "authority_explanation": N_("If you act for them: what authorises you to do so?"),
    "signature": N_("Signature: type your full name"),
    "trusted_flagger_token": N_("Trusted flaggers only"),
}
#: The library's field messages as the form shows them (for the catalogue).
LIBRARY_MESSAGES = (
    N_("This field is required."),
    N_("Must be text."),
    N_("Not an email address."),
    N_("Explain why the content is unlawful (10+ chars)."),
    N_("Give the exact URL(s) or the content id(s) of the image."),
    N_("A trusted flagger must present its configured token."),
    N_("TAKE IT DOWN Act: good-faith belief that the image was published without consent"),
    N_("DSA Art. 16(2)(d): bona fide belief that the notice is accurate and complete"),
    N_("UK: the content is an intimate image"),
    N_("UK: the reporter is the person depicted or acts for them"),
    N_("UK: the notice is made in good faith and is true"),
)
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


def _message(field: str, message: str, _: Translator) -> str:
    if field in lib.DECLARATIONS:
        why = _(lib.DECLARATIONS[field])
        return _("Tick this box to make this declaration; the law requires it (%(why)s).", why=why)
    return _(message[:1].upper() + message[1:] + ("" if message.endswith(".") else "."))


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
        "labels": FIELD_LABELS,
        "deadline_hours": service_state(request).settings.case_deadline_hours,
    }


@router.get("/report", response_class=HTMLResponse, **public())
def report_form(request: Request) -> HTMLResponse:
    """The notice form."""
    context = _report_context(request, _blank())
    return public_page(request, "report.html", context)


@router.post("/report", response_class=HTMLResponse, **public())
async def report_submit(request: Request) -> HTMLResponse:
    """File a notice: the acknowledgement page (tracking number, PIN), or the form again with
    the values kept and each error next to its field (nothing saved)."""
    form = await request.form()
    check_public_csrf(request, form)
    state = service_state(request)
    _ = translator(language_of(request))
    values = _blank()
    for name in _TEXT_FIELDS:
        value = form.get(name)
        values[name] = value if isinstance(value, str) else ""
    for name in _FLAGS:
        values[name] = form.get(name) is not None
    context = _report_context(request, values)
    data = _notice_data(values)
    problems = lib.validate_notice(data, state.settings)[1]
    if not problems:  # a form sent back with errors costs no allowance
        throttled = over_rate_limit(request, "report.html", context)
        if throttled is not None:
            return throttled
    try:
        if problems:
            raise InvalidNotice("the notice is incomplete or invalid", problems)
        receipt = await run_in_threadpool(lib.submit_notice, state.db, state.settings, data)
    except InvalidNotice as exc:
        errors: dict[str, list[str]] = {}
        for item in exc.fields:
            field = item["field"]
            key = "trusted_flagger_token" if field == "source" else field
            errors.setdefault(key, []).append(_message(field, item["message"], _))
        context["errors"] = errors
        context["error"] = N_("The report was not sent: please correct the fields marked below.")
        return public_page(request, "report.html", context, status=422)
    return public_page(request, "report_received.html", {"receipt": receipt})


@router.get("/status", response_class=HTMLResponse, **public())
def status_form(request: Request, tracking_number: str = "") -> HTMLResponse:
    """The status form (tracking number and PIN)."""
    return public_page(
        request,
        "status.html",
        {"tracking_number": tracking_number[:64], "status_words": STATUS_WORDS},
    )


@router.post("/status", response_class=HTMLResponse, **public())
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
    context: dict[str, Any] = {"tracking_number": tracking, "status_words": STATUS_WORDS}
    if not tracking or not pin:  # before the rate limit: costs no allowance
        return public_page(
            request, "status.html", {**context, "error": NOT_FOUND_MESSAGE}, status=404
        )
    throttled = over_rate_limit(request, "status.html", context)
    if throttled is not None:
        return throttled
    guard = state.pin_guard
    keys = (f"tn:{tracking}", client_address(request))
    try:
        if guard is not None:
            guard.check(*keys)
        status = await run_in_threadpool(
            lib.notice_status, state.db, tracking, pin, settings=state.settings
        )
    except RateLimited as exc:
        return throttled_page(
            request,
            "status.html",
            context,
            N_("Too many wrong attempts. Wait a while and try again."),
            exc.retry_after,
        )
    except NotFound:
        if guard is not None:
            guard.failed(*keys)
        return public_page(
            request, "status.html", {**context, "error": NOT_FOUND_MESSAGE}, status=404
        )
    return public_page(request, "status.html", {**context, "status": status})
