"""The FastAPI application: :func:`create_app` builds one for a role, from the JSON API
(:mod:`shieldwall.api`) and the pages (:mod:`shieldwall.web`) on one
:class:`~shieldwall.service.state.ServiceState`."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI
from fastapi.staticfiles import StaticFiles

from shieldwall import __version__
from shieldwall.api.errors import install_error_handlers, render_error
from shieldwall.api.routes import (
    banks,
    cases,
    exchanges,
    federation,
    health,
    hma,
    jobs,
    keys,
    lookup,
    records,
    scan,
)
from shieldwall.api.schemas import ERROR_RESPONSES
from shieldwall.audit import configure as configure_audit
from shieldwall.audit.requests import RequestAuditWriter
from shieldwall.cases import PinGuard
from shieldwall.cases.platform import check_preview_source
from shieldwall.config import Settings, get_settings
from shieldwall.people.keys import KeyCache
from shieldwall.replicas import Revocations, SharedStore
from shieldwall.server.docs import install_docs
from shieldwall.server.methods import MethodsMiddleware
from shieldwall.server.middleware import ServiceMiddleware
from shieldwall.service.duty import DutyCollector
from shieldwall.service.ratelimit import RateLimiter
from shieldwall.service.state import Role, ServiceState
from shieldwall.store import Database, open_database
from shieldwall.web.console import STATIC_DIR, install_console
from shieldwall.web.routes import (
    appeal,
    console,
    console_admin,
    console_appeals,
    console_banks,
    console_cases,
    console_exchanges,
    console_people,
    console_report,
    console_search,
    console_signin,
    console_webhooks,
    home,
    protect,
    report,
)

__all__ = ["create_app"]

DESCRIPTION = """\
Hash banks and matching against non-consensual intimate imagery.

Every `/v1` route but the notice intake and appeals (`/v1/notices`, `/v1/appeals/file`: public,
rate-limited per client address) needs an API key (`Authorization: Bearer <key>`) with the
scope named in the operation's `x-required-scope`; `admin` has every scope. Errors have one shape:
`{"error": code, "message": text, "request_id": id}`. Lookups never show match distances
unless the key has the `read-distances` scope.
"""


def create_app(
    settings: Settings | None = None,
    *,
    role: Role | str = Role.ALL,
    db: Database | None = None,
    audit: bool = True,
) -> FastAPI:
    """The service for ``role``. The index (matcher roles) is loaded and the log followed
    when the app starts (its lifespan), and everything is saved and stopped when it ends."""
    settings = settings or get_settings()
    check_preview_source(settings)  # a source the outbound policy refuses: say so now
    database = db or open_database(settings)
    configure_audit(database, settings)  # the chain's key and anchor (outside the database)
    # The limits and throttles, in Redis shared by the replicas when redis_url is set.
    store = SharedStore.from_settings(settings)
    window = settings.rate_limit_window_seconds
    state = ServiceState(
        settings=settings,
        db=database,
        role=Role(role),
        keys=KeyCache(
            database, settings.api_key_cache_seconds, Revocations.from_settings(settings)
        ),
        limiter=RateLimiter(store, name="key", window_seconds=window),
        public_limiter=RateLimiter(store, name="address", window_seconds=window),
        audit=RequestAuditWriter(database) if audit else None,
        pin_guard=PinGuard(
            settings.notice_pin_max_failures, settings.notice_pin_window_seconds, store
        ),
    )
    state.metrics.add_state(state.state_gauges)
    state.metrics.registry.register(DutyCollector(database, settings.metrics_duty_cache_seconds))

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        state.start()
        try:
            yield
        finally:
            state.close()

    app = FastAPI(
        title="Shieldwall",
        version=__version__,
        description=DESCRIPTION,
        lifespan=lifespan,
        # Served from the package's own files by install_docs (FastAPI's pages use a CDN).
        docs_url=None,
        redoc_url=None,
    )
    app.state.shieldwall = state
    # The JSON API: errors become the one JSON shape; every /v1 route documents it.
    install_error_handlers(app)
    app.include_router(health.router)
    for module in (
        lookup,
        banks,
        records,
        jobs,
        keys,
        scan,
        cases,
        exchanges,
        federation,
        hma,
    ):
        app.include_router(module.router, responses=ERROR_RESPONSES)
    # The pages: their errors are pages (outside /v1), their scripts under /static.
    install_console(app)
    for page in (
        home,
        console,
        console_cases,
        console_report,
        report,
        appeal,
        protect,
        console_appeals,
        console_exchanges,
        console_signin,
        console_banks,
        console_people,
        console_admin,
        console_webhooks,
        console_search,
    ):
        app.include_router(page.router)
    app.mount("/static", StaticFiles(directory=STATIC_DIR), name="static")
    install_docs(app)
    # A 405 with the path's whole Allow, OPTIONS answered (inside the service middleware, so
    # that they are authenticated, counted and logged like any other request).
    app.add_middleware(MethodsMiddleware, routes=app.routes, render_error=render_error)
    # Its refusals (no key, over a limit) are answered in the API's one error shape.
    app.add_middleware(ServiceMiddleware, state=state, render_error=render_error)
    return app
