"""The transparency report page in headless Chromium: reached from the header, its figures
and charts drawn (inline SVG under the page's CSP, no script), the period form, a bad period's
error, a download; screenshots of the report and of the error."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING

from service_helpers import LiveService

from .report_data import TRUSTED_FLAGGERS, seed
from .web_helpers import PASSWORD

if TYPE_CHECKING:
    from playwright.sync_api import ConsoleMessage, Page

Shoot = Callable[[str], Path]


def test_read_the_report_change_the_period_and_download(
    page: Page, make_service: Callable[..., LiveService], shoot: Shoot
) -> None:
    service = make_service(trusted_flaggers=TRUSTED_FLAGGERS)
    seed(service.db, service.settings)
    problems: list[str] = []

    def on_console(message: ConsoleMessage) -> None:
        if message.type in ("error", "warning"):
            problems.append(message.text)

    page.on("console", on_console)
    page.goto(service.url + "/login")
    page.fill("#username", "audrey")
    page.fill("#password", PASSWORD)
    page.click("#sign-in")
    page.click("#nav-report")
    assert page.url == service.url + "/console/report"
    today = datetime.now(UTC).date()
    assert page.input_value("#from") == str(today - timedelta(days=29))
    assert page.input_value("#to") == str(today)
    assert page.text_content("#notices-total") == "3"
    assert page.text_content("#removed-within-48h") == "50.0%"
    assert page.text_content("#appeals-reversal-rate") == "100.0%"
    # the charts are drawn: the bars have their size on screen, in proportion
    people = page.locator('#chart-notices-by-source rect.bar[data-label="People"]')
    flaggers = page.locator('#chart-notices-by-source rect.bar[data-label="Trusted flaggers"]')
    big, small = people.bounding_box(), flaggers.bounding_box()
    assert big is not None and small is not None
    assert small["width"] > 0 and abs(big["width"] - 2 * small["width"]) < 1
    assert page.locator("svg.chart").count() == 7
    shoot("report")
    # a longer period brings the 40-day-old notice in
    page.fill("#from", str(today - timedelta(days=59)))
    page.click("#show-report")
    assert page.url.endswith(f"/console/report?from={today - timedelta(days=59)}&to={today}")
    assert page.text_content("#notices-total") == "4"
    with page.expect_download() as caught:
        page.click("#download-csv")
    download = caught.value
    assert download.suggested_filename == (
        f"shieldwall-transparency-report-{today - timedelta(days=59)}-to-{today}.csv"
    )
    assert "notices.total,4" in Path(download.path()).read_text()
    # the first day after the last: the error next to the last day, no figures
    page.fill("#from", str(today + timedelta(days=1)))
    page.click("#show-report")
    assert "on or after the first day" in (page.text_content("#error-to") or "")
    assert page.locator("#notices-total").count() == 0
    shoot("bad-period")
    # a period without cases: zeros in the tables, the charts say there is nothing to draw
    page.goto(service.url + "/console/report?from=2026-01-01&to=2026-01-31")
    assert page.text_content("#notices-total") == "0"
    assert page.text_content("#median-hours") == "\N{EN DASH}"
    assert page.locator("svg.chart rect.bar").count() == 0
    assert page.locator("svg.chart text.empty-message").count() == 7
    shoot("empty-period")
    assert not [p for p in problems if "Content Security Policy" in p or "Refused" in p]
