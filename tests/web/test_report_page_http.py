"""The console's transparency report page over plain HTTP: its figures are the library's for
the period, the default period, a bad period refused next to its field with nothing computed,
the CSV and JSON downloads, who may read it, and the audit of every view."""

from __future__ import annotations

import csv
import html
import io
import json
import re
from collections.abc import Callable
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

import pytest

from service_helpers import LiveService
from shieldwall.audit import list_events
from shieldwall.cases import report_csv, transparency_report
from shieldwall.people import Actor, Role
from shieldwall.people.accounts import create_person
from shieldwall.web.routes.console_report import MAX_DAYS

from .report_data import TRUSTED_FLAGGERS, seed
from .web_helpers import PASSWORD, signed_in

_AUDITOR = Actor("user:test-auditor", frozenset({Role.AUDITOR}))
#: Each figure's id on the page and where the library's report has it.
FIGURES: dict[str, tuple[str, ...]] = {
    "notices-total": ("notices", "total"),
    "notices-person": ("notices", "by_source", "person"),
    "notices-trusted-flagger": ("notices", "by_source", "trusted_flagger"),
    "notices-cyber-violence": ("notices", "by_category", "cyber_violence"),
    "notices-protection-of-minors": ("notices", "by_category", "protection_of_minors"),
    "notices-real": ("notices", "by_content_kind", "real"),
    "notices-synthetic": ("notices", "by_content_kind", "synthetic"),
    "notices-unknown": ("notices", "by_content_kind", "unknown"),
    "decisions-total": ("decisions", "total"),
    **{
        f"decisions-{ground}-{action.replace('_', '-')}": (
            "decisions",
            "by_ground",
            ground,
            action,
        )
        for ground in ("law", "terms")
        for action in ("remove", "restrict", "label", "no_action")
    },
    "human-decisions": ("decisions", "human_decisions"),
    "automated-decisions": ("decisions", "automated_decisions"),
    "automated-detection": ("decisions", "automated_detection"),
    "median-hours": ("decisions", "median_hours_to_action"),
    "removals": ("decisions", "removals"),
    "removed-within-48h-count": ("decisions", "removed_within_48h"),
    "removed-within-48h": ("decisions", "share_removed_within_48h"),
    "appeals-filed": ("appeals", "filed"),
    "appeals-decided": ("appeals", "decided"),
    "appeals-upheld": ("appeals", "upheld"),
    "appeals-rejected": ("appeals", "rejected"),
    "appeals-reversal-rate": ("appeals", "reversal_rate"),
    "appeals-median-hours": ("appeals", "median_hours_to_decide"),
}
_CELL = re.compile(r'<td class="num" id="([^"]+)" data-value="([^"]*)">([^<]*)</td>')


@pytest.fixture
def service(make_service: Callable[..., LiveService]) -> LiveService:
    """The console users of conftest, a trusted flagger, and the cases of report_data."""
    live = make_service(trusted_flaggers=TRUSTED_FLAGGERS)
    seed(live.db, live.settings)
    return live


def _today() -> date:
    return datetime.now(UTC).date()


def _library(service: LiveService, first: date, last: date) -> dict[str, Any]:
    start = datetime.combine(first, time(), tzinfo=UTC)
    end = datetime.combine(last, time(), tzinfo=UTC) + timedelta(days=1)
    return transparency_report(service.db, _AUDITOR, start=start, end=end)


def _figures(page: str) -> dict[str, tuple[str, str]]:
    """id: (data-value, text) of every figure cell of the page."""
    return {i: (v, html.unescape(t)) for i, v, t in _CELL.findall(page)}


def _lookup(report: dict[str, Any], path: tuple[str, ...]) -> Any:
    value: Any = report
    for key in path:
        value = value[key]
    return value


def _assert_figures_match(page: str, report: dict[str, Any]) -> None:
    figures = _figures(page)
    assert set(figures) >= set(FIGURES)
    for ident, path in FIGURES.items():
        value = _lookup(report, path)
        assert figures[ident][0] == ("" if value is None else str(value)), ident


def _report_events(service: LiveService) -> list[dict[str, Any]]:
    return [
        {"actor": e.actor, **e.details}
        for e in list_events(service.db, limit=10_000)
        if e.action == "report.transparency"
    ]


def test_the_page_shows_the_library_figures_for_the_period(service: LiveService) -> None:
    client = signed_in(service, "alice")
    first, last = _today() - timedelta(days=59), _today()
    page = client.get(f"/console/report?from={first}&to={last}")
    assert page.status_code == 200
    report = _library(service, first, last)
    _assert_figures_match(page.text, report)
    # the seeded cases, so that a page of zeros would fail too
    figures = _figures(page.text)
    assert figures["notices-total"] == ("4", "4")  # the 40-day-old notice is in this period
    assert figures["notices-trusted-flagger"][0] == "1"
    assert figures["notices-protection-of-minors"][0] == "1"
    assert figures["decisions-law-remove"][0] == "2"
    assert figures["decisions-law-total"][0] == "2"
    assert figures["decisions-terms-no-action"][0] == "1"
    assert figures["decisions-remove"][0] == "2"
    assert figures["human-decisions"][0] == "3" and figures["automated-decisions"][0] == "0"
    assert figures["removed-within-48h"] == ("0.5", "50.0%")
    assert figures["removed-within-48h-count"][0] == "1"
    assert figures["appeals-reversal-rate"] == ("1.0", "100.0%")
    assert re.fullmatch(r"30\.0 h", figures["median-hours"][1])  # ~60 h and ~0 h
    assert f'value="{first}"' in page.text and f'value="{last}"' in page.text
    # the charts: server-drawn SVG, one per figure group, no script anywhere
    for chart in (
        "chart-notices-by-source",
        "chart-notices-by-category",
        "chart-notices-by-content-kind",
        "chart-decisions-by-ground",
        "chart-automated-vs-human",
        "chart-removed-within-48h",
        "chart-appeals-outcomes",
    ):
        assert f'<svg xmlns="http://www.w3.org/2000/svg" id="{chart}"' in page.text, chart
    assert "<script" not in page.text
    assert 'data-label="Trusted flaggers" data-value="1"' in page.text
    assert "style-src 'self' 'unsafe-inline'" in page.headers["content-security-policy"]
    assert page.headers["cache-control"] == "no-store"


def test_the_default_period_is_the_last_30_days_up_to_today(service: LiveService) -> None:
    client = signed_in(service, "alice")
    page = client.get("/console/report")
    assert page.status_code == 200
    first, last = _today() - timedelta(days=29), _today()
    assert f'id="from" name="from" value="{first}"' in page.text
    assert f'id="to" name="to" value="{last}"' in page.text
    report = _library(service, first, last)
    _assert_figures_match(page.text, report)
    assert _figures(page.text)["notices-total"][0] == "3"  # not the 40-day-old notice
    assert f"/console/report.csv?from={first}&amp;to={last}" in page.text
    assert f"/console/report.json?from={first}&amp;to={last}" in page.text
    # blank fields are the default too; a lone "to" ends a 30-day period there
    assert _figures(client.get("/console/report?from=&to=").text) == _figures(page.text)
    lone = client.get("/console/report?to=2026-03-31")
    assert 'id="from" name="from" value="2026-03-02"' in lone.text


def test_the_last_day_is_included(service: LiveService) -> None:
    client = signed_in(service, "alice")
    today = _today()
    page = client.get(f"/console/report?from={today}&to={today}")
    assert page.status_code == 200
    assert _figures(page.text)["decisions-total"][0] == "3"  # decided today
    assert "(1 day, UTC)" in page.text


@pytest.mark.parametrize(
    ("query", "field", "message"),
    [
        ("from=yesterday&to=2026-01-31", "from", "Enter a date as YYYY-MM-DD"),
        ("from=2026-01-01&to=2026-02-30", "to", "2026-02-30 is not a date in the calendar."),
        ("from=2026-1-1&to=2026-01-31", "from", "Enter a date as YYYY-MM-DD"),
        ("from=2026-03-01&to=2026-02-01", "to", "on or after the first day (2026-03-01)"),
        ("from=2020-01-01&to=2026-01-01", "from", f"at most {MAX_DAYS} days (3 years)"),
        ("from=1969-12-31&to=1970-01-31", "from", "from 1970 onwards"),
        ("from=9999-12-01&to=9999-12-31", "to", "from 1970 onwards"),
    ],
)
def test_a_bad_period_is_refused_next_to_its_field(
    service: LiveService, query: str, field: str, message: str
) -> None:
    client = signed_in(service, "alice")
    before = len(_report_events(service))
    for path in ("/console/report", "/console/report.csv", "/console/report.json"):
        page = client.get(f"{path}?{query}")
        assert page.status_code == 422, path
        error = re.search(rf'<p class="field-error" id="error-{field}">([^<]+)</p>', page.text)
        assert error and message in html.unescape(error.group(1)), page.text
        assert f'id="{field}" name="{field}"' in page.text
        assert 'aria-invalid="true" aria-describedby="error-' + field in page.text
        assert 'id="notices-total"' not in page.text  # no report
        assert "content-disposition" not in page.headers
    assert len(_report_events(service)) == before  # nothing computed, nothing audited


def test_the_longest_period_is_accepted(service: LiveService) -> None:
    client = signed_in(service, "alice")
    last = date(2026, 6, 30)
    first = last - timedelta(days=MAX_DAYS - 1)
    assert client.get(f"/console/report?from={first}&to={last}").status_code == 200
    longer = client.get(f"/console/report?from={first - timedelta(days=1)}&to={last}")
    assert longer.status_code == 422


def test_the_downloads_hold_the_same_period(service: LiveService) -> None:
    client = signed_in(service, "audrey")
    first, last = _today() - timedelta(days=59), _today()
    report = _library(service, first, last)
    name = f"shieldwall-transparency-report-{first}-to-{last}"
    answer = client.get(f"/console/report.csv?from={first}&to={last}")
    assert answer.status_code == 200
    assert answer.headers["content-type"] == "text/csv; charset=utf-8"
    assert answer.headers["content-disposition"] == f'attachment; filename="{name}.csv"'
    assert answer.text == report_csv(report)
    rows = dict(csv.reader(io.StringIO(answer.text)))
    assert rows["notices.total"] == "4" and rows["decisions.removed_within_48h"] == "1"
    answer = client.get(f"/console/report.json?from={first}&to={last}")
    assert answer.status_code == 200
    assert answer.headers["content-type"] == "application/json"
    assert answer.headers["content-disposition"] == f'attachment; filename="{name}.json"'
    assert json.loads(answer.text) == report
    assert report["period"] == {
        "from": f"{first}T00:00:00+00:00",
        "to": f"{last + timedelta(days=1)}T00:00:00+00:00",
    }
    default = client.get("/console/report.json")
    assert default.headers["content-disposition"].endswith(
        f'-{_today() - timedelta(days=29)}-to-{_today()}.json"'
    )


def test_every_view_and_download_is_audited(service: LiveService) -> None:
    client = signed_in(service, "audrey")
    before = len(_report_events(service))
    client.get("/console/report?from=2026-01-01&to=2026-01-31")
    client.get("/console/report.csv?from=2026-01-01&to=2026-01-31")
    client.get("/console/report.json?from=2026-01-01&to=2026-01-31")
    events = _report_events(service)[before:]
    assert len(events) == 3
    for event in events:
        assert event["actor"].startswith("user:") and event["actor"] != _AUDITOR.id
        assert event["from"] == "2026-01-01T00:00:00+00:00"
        assert event["to"] == "2026-02-01T00:00:00+00:00"


@pytest.mark.parametrize("username", ["alice", "root", "audrey"])
def test_every_console_role_may_read_it(service: LiveService, username: str) -> None:
    client = signed_in(service, username)
    assert client.get("/console/report").status_code == 200
    assert client.get("/console/report.csv").status_code == 200
    console = client.get("/console")
    assert '<a href="/console/report" id="nav-report">Report</a>' in console.text


def test_child_safety_reviewer_may_read_it(service: LiveService) -> None:
    create_person(service.db, "chris", PASSWORD, "child_safety_reviewer", settings=service.settings)
    assert signed_in(service, "chris").get("/console/report").status_code == 200


def test_no_session_redirects_and_no_role_is_refused(service: LiveService) -> None:
    client = service.client()
    for path in ("/console/report", "/console/report.csv", "/console/report.json"):
        answer = client.get(path + "?from=2026-01-01&to=2026-01-31")
        assert answer.status_code == 303
        assert answer.headers["location"] == f"/login?next={path}"
    create_person(service.db, "norole", PASSWORD, "", settings=service.settings)
    client = signed_in(service, "norole")
    before = len(_report_events(service))
    for path in ("/console/report", "/console/report.csv", "/console/report.json"):
        answer = client.get(path)
        assert answer.status_code == 403
        assert "needs the role" in answer.text
    assert len(_report_events(service)) == before


def test_the_page_is_not_in_the_api_schema(service: LiveService) -> None:
    paths = service.client().get("/openapi.json").json()["paths"]
    assert not [p for p in paths if p.startswith("/console")]
