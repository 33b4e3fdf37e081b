"""The public appeal page (issue 5, DSA Art. 20): ``/appeal``, an internal complaint against a
case decision, without an account and without JavaScript. The uploader appeals with the appeal
code of the statement of reasons (the library's appeal token), the notifier with the tracking
number and the PIN; both give a reason.

Like ``/status``: a double-submit CSRF cookie, the per-address limit of the public API
(``notice_rate_limit``), and wrong credentials count in the API's wrong-PIN throttle
(``state.pin_guard``). ``GET /appeal?code=...`` fills the code in: the access log and the
request audit name the route template only, never the query string, and the pages are sent
with ``Referrer-Policy: no-referrer``.
"""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse
from starlette.concurrency import run_in_threadpool

from shieldwall.cases import appeals as lib
from shieldwall.errors import (
    AppealWindowClosed,
    Conflict,
    InvalidDecision,
    NotFound,
    RateLimited,
)
from shieldwall.service.access import public
from shieldwall.web.i18n import N_
from shieldwall.web.public import (
    check_public_csrf,
    client_address,
    form_text,
    over_rate_limit,
    public_page,
    service_state,
    throttled_page,
)

__all__ = ["NOT_FOUND_MESSAGE", "REASON_MAX", "router"]

router = APIRouter(include_in_schema=False)

#: The one answer to a wrong code, tracking number or PIN (no hint which part was wrong).
NOT_FOUND_MESSAGE = N_("No decision was found for the details you gave. Check them and try again.")
#: The longest reason the form takes (as the API).
REASON_MAX = 10_000
_WAYS = ("code", "tracking")


def _values(way: str = "code", **given: str) -> dict[str, str]:
    values = {"way": way, "code": "", "tracking_number": "", "reason": ""}
    values.update(given)
    return values


def _form_page(
    request: Request,
    values: dict[str, str],
    *,
    errors: dict[str, str] | None = None,
    error: str = "",
    status: int = 200,
) -> HTMLResponse:
    context = {"values": values, "errors": errors or {}, "error": error}
    return public_page(request, "appeal.html", context, status=status)


def _sentence(message: str) -> str:
    return message[:1].upper() + message[1:] + ("" if message.endswith(".") else ".")


@router.get("/appeal", response_class=HTMLResponse, **public())
def appeal_form(request: Request, code: str = "", tracking_number: str = "") -> HTMLResponse:
    """The appeal form; ``?code=`` fills in the appeal code, ``?tracking_number=`` the
    tracking number (and chooses "I reported it")."""
    code, tracking = code.strip()[:200], tracking_number.strip().upper()[:64]
    way = "tracking" if tracking and not code else "code"
    return _form_page(request, _values(way, code=code, tracking_number=tracking))


def _missing(values: dict[str, str], pin: str, reason: str) -> dict[str, str]:
    errors: dict[str, str] = {}
    if values["way"] == "code" and not values["code"]:
        errors["code"] = N_("Enter the appeal code from the statement of reasons you received.")
    if values["way"] == "tracking":
        if not values["tracking_number"]:
            errors["tracking_number"] = N_("Enter the tracking number of your report.")
        if not pin:
            errors["pin"] = N_("Enter the PIN you were given with the tracking number.")
    if not reason.strip():
        errors["reason"] = N_("Say why you think the decision is wrong.")
    elif len(reason) > REASON_MAX:
        errors["reason"] = f"The reason may be at most {REASON_MAX:,} characters long."
    return errors


@router.post("/appeal", response_class=HTMLResponse, **public())
async def appeal_submit(request: Request) -> HTMLResponse:
    """File an appeal: the acknowledgement with the appeal's number, or the form again with
    each error next to its field (the PIN is never sent back), the one generic message for
    wrong credentials (``404``), ``429`` when throttled, ``409`` when the appeal window has
    closed or an appeal is already open."""
    form = await request.form()
    check_public_csrf(request, form)
    state = service_state(request)
    way = form_text(form, "way", 16)
    values = _values(
        way if way in _WAYS else "code",
        code=form_text(form, "code", 200),
        tracking_number=form_text(form, "tracking_number", 64).upper(),
    )
    raw_reason = form.get("reason")
    reason = raw_reason if isinstance(raw_reason, str) else ""
    values["reason"] = reason[: REASON_MAX + 1]
    pin = form_text(form, "pin", 64)
    errors = _missing(values, pin, reason)
    if errors:  # before the rate limit: a form sent back costs no allowance
        message = N_("The appeal was not sent: please correct the fields marked below.")
        return _form_page(request, values, errors=errors, error=message, status=422)
    throttled = over_rate_limit(request, "appeal.html", {"values": values, "errors": {}})
    if throttled is not None:
        return throttled
    guard = state.pin_guard
    keys = [client_address(request)]
    by_number = values["way"] == "tracking"
    if by_number:
        keys.append(f"tn:{values['tracking_number']}")
    try:
        if guard is not None:
            guard.check(*keys)
        appeal = await run_in_threadpool(
            lambda: lib.file_appeal(
                state.db,
                reason=reason,
                appeal_token=None if by_number else values["code"],
                tracking_number=values["tracking_number"] if by_number else None,
                pin=pin if by_number else None,
            )
        )
    except RateLimited as exc:
        context = {"values": {**values, "code": ""}, "errors": {}}
        message = N_("Too many wrong attempts. Wait a while and try again.")
        return throttled_page(request, "appeal.html", context, message, exc.retry_after)
    except NotFound:
        if guard is not None:
            guard.failed(*keys)
        wrong = {**values, "code": ""}
        return _form_page(request, wrong, error=NOT_FOUND_MESSAGE, status=404)
    except AppealWindowClosed as exc:
        return _form_page(request, values, error=_sentence(exc.message), status=409)
    except InvalidDecision:
        errors = {"reason": N_("Say why you think the decision is wrong.")}
        return _form_page(request, values, errors=errors, status=422)
    except Conflict as exc:  # an appeal already open, or nothing decided yet
        return _form_page(request, values, error=_sentence(exc.message), status=409)
    return public_page(request, "appeal_filed.html", {"appeal": appeal})
