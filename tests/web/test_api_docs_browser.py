"""The API documentation in Chromium: ``/docs`` (Swagger UI) renders from the package's own
files with no request leaving the service's origin, and its Authorize button takes an API key
that "Try it out" then sends."""

from __future__ import annotations

from typing import TYPE_CHECKING

from service_helpers import LiveService

if TYPE_CHECKING:
    from playwright.sync_api import ConsoleMessage, Page, Request


def _watch(page: Page) -> tuple[list[str], list[str]]:
    """Every URL the page requests, and every console error (a refused load shows there)."""
    requested: list[str] = []
    errors: list[str] = []

    def on_request(request: Request) -> None:
        requested.append(request.url)

    def on_console(message: ConsoleMessage) -> None:
        if message.type == "error":
            errors.append(message.text)

    page.on("request", on_request)
    page.on("console", on_console)
    return requested, errors


def _elsewhere(requested: list[str], origin: str) -> list[str]:
    return [u for u in requested if not u.startswith((origin + "/", "data:", "blob:"))]


def test_swagger_ui_renders_offline_and_authorizes_with_a_key(
    service: LiveService, page: Page
) -> None:
    token = service.key("curate")
    requested, errors = _watch(page)
    page.goto(service.url + "/docs")
    page.locator(".swagger-ui .info .title").filter(has_text="Shieldwall").wait_for()
    banks = page.locator(".opblock-summary", has_text="/v1/banks").first
    banks.wait_for()
    assert requested and not _elsewhere(requested, service.url), requested
    assert not errors, errors

    # Authorize: the bearer scheme of the schema takes the key.
    page.locator("button.authorize").first.click()
    dialog = page.locator(".dialog-ux")
    dialog.locator("input").first.fill(token)
    dialog.locator("button.authorize").click()
    dialog.locator("button.btn-done").click()

    # "Try it out" on GET /v1/banks sends it: 200, not 401.
    operation = page.locator(".opblock-get", has=page.locator("[data-path='/v1/banks']")).first
    operation.locator(".opblock-summary").click()
    operation.locator(".try-out__btn").click()
    with page.expect_response(lambda r: r.url == service.url + "/v1/banks") as answer:
        operation.locator("button.execute").click()
    assert answer.value.status == 200
    assert answer.value.request.headers.get("authorization") == f"Bearer {token}"
    assert not _elsewhere(requested, service.url), requested


def test_there_is_no_redoc_page(service: LiveService, page: Page) -> None:
    # ReDoc's bundle loads its logo from a CDN: the service serves Swagger UI only.
    answer = page.goto(service.url + "/redoc")
    assert answer is not None and answer.status == 404
