"""The console's transparency report (DSA Art. 15 and 24; issue 5 point 9): the figures of a
period as tables and server-drawn SVG charts, and the same period as CSV or JSON downloads.

``GET /console/report?from=YYYY-MM-DD&to=YYYY-MM-DD`` (both days included, UTC; by default
the last 30 days up to today), ``/console/report.csv`` and ``/console/report.json``. Any console
role may read them; each view and download is audited by the library
(``report.transparency``). Not under ``/v1``; not in the OpenAPI schema.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, Response
from markupsafe import Markup

from shieldwall.cases import report_csv, transparency_report
from shieldwall.people.roles import Actor, Role
from shieldwall.web import charts
from shieldwall.web.console import render, require_role, service_state

__all__ = ["DEFAULT_DAYS", "MAX_DAYS", "Period", "parse_period", "router"]

router = APIRouter(include_in_schema=False)

#: The default period: this many days, up to and including today (UTC).
DEFAULT_DAYS = 30
#: The longest period one report may cover (three years, a leap day included).
MAX_DAYS = 3 * 365 + 1

_READER = Depends(require_role(*Role))
_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
_HEADERS = {"Cache-Control": "no-store", "X-Content-Type-Options": "nosniff"}


@dataclass
class Period:
    """The days a report covers, ``first`` to ``last`` both included (UTC), as the form had
    them (``raw``), with an error message per field when they are not a valid period."""

    first: date | None
    last: date | None
    raw: dict[str, str]
    errors: dict[str, str] = field(default_factory=dict)

    @property
    def days(self) -> int:
        assert self.first is not None and self.last is not None
        return (self.last - self.first).days + 1

    def bounds(self) -> tuple[datetime, datetime]:
        """The library's ``[start, end)``: midnight UTC of ``first`` to midnight after
        ``last``."""
        assert self.first is not None and self.last is not None
        start = datetime.combine(self.first, time(), tzinfo=UTC)
        return start, datetime.combine(self.last, time(), tzinfo=UTC) + timedelta(days=1)

    def filename(self, extension: str) -> str:
        return f"shieldwall-transparency-report-{self.first}-to-{self.last}.{extension}"


def _parse_day(text: str) -> date | str:
    """The day of ``YYYY-MM-DD``, or the error message."""
    if not _DATE.fullmatch(text):
        return "Enter a date as YYYY-MM-DD, for example 2026-01-31."
    try:
        day = date.fromisoformat(text)
    except ValueError:
        return f"{text} is not a date in the calendar."
    if day.year < 1970 or day >= date.max:
        return "Enter a date from 1970 onwards."
    return day


def parse_period(start: str | None, end: str | None, *, today: date) -> Period:
    """The period of the form's ``from`` and ``to`` (blank or missing: ``to`` is ``today``,
    ``from`` :data:`DEFAULT_DAYS` days up to ``to``). Errors, one per field: a text that is not
    a ``YYYY-MM-DD`` date of the calendar, ``from`` after ``to`` (on ``to``), a period longer
    than :data:`MAX_DAYS` days (on ``from``)."""
    start, end = (start or "").strip(), (end or "").strip()
    errors: dict[str, str] = {}
    last: date | None = today
    if end:
        parsed = _parse_day(end)
        last = parsed if isinstance(parsed, date) else None
        if isinstance(parsed, str):
            errors["to"] = parsed
    first: date | None = last - timedelta(days=DEFAULT_DAYS - 1) if last else None
    if start:
        parsed = _parse_day(start)
        first = parsed if isinstance(parsed, date) else None
        if isinstance(parsed, str):
            errors["from"] = parsed
    elif last is None:
        errors["from"] = "Enter the first day of the period (YYYY-MM-DD)."
    if first is not None and last is not None:
        if first > last:
            errors["to"] = f"The last day must be on or after the first day ({first})."
        elif (last - first).days + 1 > MAX_DAYS:
            errors["from"] = (
                f"A report covers at most {MAX_DAYS} days (3 years); this period has "
                f"{(last - first).days + 1}. Choose a later first day."
            )
    raw = {
        "from": start or (str(first) if first else ""),
        "to": end or (str(last) if last else ""),
    }
    return Period(first, last, raw, errors)


def _period(request: Request) -> Period:
    query = request.query_params
    return parse_period(query.get("from"), query.get("to"), today=datetime.now(UTC).date())


def _share(part: int | float | None) -> str:
    return "\N{EN DASH}" if part is None else f"{part:.1%}"


def _hours(value: float | None) -> str:
    return "\N{EN DASH}" if value is None else f"{value:.1f} h"


_ACTIONS_ALL = (
    ("remove", "Removed"),
    ("restrict", "Restricted"),
    ("label", "Labelled"),
    ("no_action", "No action"),
)
_GROUNDS = (("law", "Illegal content (law)"), ("terms", "Terms of service"))


def _charts(report: dict[str, Any]) -> dict[str, Markup]:
    notices, decisions, appeals = report["notices"], report["decisions"], report["appeals"]
    source, category, kind = (
        notices["by_source"],
        notices["by_category"],
        notices["by_content_kind"],
    )
    by_ground = decisions["by_ground"]
    removals, in_time = decisions["removals"], decisions["removed_within_48h"]
    return {
        "source": charts.bar_chart(
            "Notices by source",
            [("People", source["person"]), ("Trusted flaggers", source["trusted_flagger"])],
            chart_id="chart-notices-by-source",
        ),
        "category": charts.bar_chart(
            "Notices by category",
            [
                ("Cyber violence (NCII)", category["cyber_violence"]),
                ("Protection of minors", category["protection_of_minors"]),
            ],
            chart_id="chart-notices-by-category",
        ),
        "kind": charts.bar_chart(
            "Notices by content kind",
            [
                ("Real", kind["real"]),
                ("Synthetic (AI, deepfake)", kind["synthetic"]),
                ("Unknown", kind["unknown"]),
            ],
            chart_id="chart-notices-by-content-kind",
        ),
        "ground": charts.stacked_bar_chart(
            "Decisions by ground and action",
            [
                (name, [(label, by_ground[ground][action]) for action, label in _ACTIONS_ALL])
                for ground, name in _GROUNDS
            ],
            chart_id="chart-decisions-by-ground",
        ),
        "automation": charts.share_chart(
            "Automated and human decisions",
            [
                ("Human decisions", decisions["human_decisions"]),
                ("Automated decisions", decisions["automated_decisions"]),
            ],
            chart_id="chart-automated-vs-human",
        ),
        "deadline": charts.share_chart(
            "Removals within 48 hours of the notice",
            [("Within 48 hours", in_time), ("After 48 hours", removals - in_time)],
            chart_id="chart-removed-within-48h",
            colours=(charts.PALETTE[2], charts.PALETTE[5]),
        ),
        "appeals": charts.share_chart(
            "Appeals decided: upheld and rejected",
            [("Upheld (decision reversed)", appeals["upheld"]), ("Rejected", appeals["rejected"])],
            chart_id="chart-appeals-outcomes",
            colours=(charts.PALETTE[1], charts.PALETTE[0]),
        ),
    }


def _page(request: Request, period: Period, report: dict[str, Any] | None) -> HTMLResponse:
    context: dict[str, Any] = {
        "period": period,
        "errors": period.errors,
        "report": report,
        "max_days": MAX_DAYS,
        "default_days": DEFAULT_DAYS,
    }
    if report is not None:
        context.update(
            charts=_charts(report),
            actions=_ACTIONS_ALL,
            grounds=_GROUNDS,
            generated=datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
            share=_share,
            hours=_hours,
            query=f"from={period.first}&to={period.last}",
        )
    return render(request, "transparency.html", context, status_code=422 if period.errors else 200)


@router.get("/console/report", response_class=HTMLResponse)
def report_page(request: Request, actor: Actor = _READER) -> HTMLResponse:
    """The report of the period as tables and charts, with the period form and the download
    links; an invalid period: the form with the error next to its field (``422``), no report."""
    period = _period(request)
    if period.errors:
        return _page(request, period, None)
    start, end = period.bounds()
    return _page(
        request, period, transparency_report(service_state(request).db, actor, start=start, end=end)
    )


def _download(request: Request, actor: Actor, extension: str) -> Response:
    period = _period(request)
    if period.errors:
        return _page(request, period, None)
    start, end = period.bounds()
    report = transparency_report(service_state(request).db, actor, start=start, end=end)
    if extension == "csv":
        body, media_type = report_csv(report), "text/csv; charset=utf-8"
    else:
        body, media_type = json.dumps(report, indent=2) + "\n", "application/json"
    headers = {
        **_HEADERS,
        "Content-Disposition": f'attachment; filename="{period.filename(extension)}"',
    }
    return Response(body, media_type=media_type, headers=headers)


@router.get("/console/report.csv")
def report_download_csv(request: Request, actor: Actor = _READER) -> Response:
    """The period's report as CSV (one ``metric,value`` row per figure), as an attachment."""
    return _download(request, actor, "csv")


@router.get("/console/report.json")
def report_download_json(request: Request, actor: Actor = _READER) -> Response:
    """The period's report as JSON (the API's shape), as an attachment."""
    return _download(request, actor, "json")
