"""The API's documentation page and its OpenAPI schema's security: Swagger UI at ``/docs``,
loaded from files in the installed package (``fastapi-offline``'s copy of ``swagger-ui-dist``),
never from a CDN, so that it works on a machine with no way out; the page's
Content-Security-Policy allows only the service's own origin. There is no ``/redoc``: ReDoc's
bundle loads its logo from cdn.redoc.ly.

The schema declares one HTTP bearer scheme (``apiKey``) and applies it to every operation that
names the scope it needs (``x-required-scope``): Swagger UI's Authorize button takes a key, and
the public routes (notice intake, appeals, health) stay without it.
"""

from __future__ import annotations

import base64
import hashlib
import re
from importlib.resources import files
from pathlib import Path
from typing import Any

from fastapi import FastAPI
from fastapi.openapi.docs import get_swagger_ui_html
from fastapi.openapi.utils import get_openapi
from fastapi.responses import HTMLResponse
from fastapi.staticfiles import StaticFiles

from shieldwall.api.deps import SCOPE_EXTENSION
from shieldwall.service.access import public

__all__ = ["ASSETS_URL", "BEARER_SCHEME", "install_docs"]

#: Where the pages' scripts and styles are served from.
ASSETS_URL = "/docs/assets"
#: The name of the bearer security scheme in the schema's components.
BEARER_SCHEME = "apiKey"

_ASSETS = Path(str(files("fastapi_offline") / "static"))
_INLINE_SCRIPT = re.compile(r"<script>(.*?)</script>", re.DOTALL)


def _with_policy(page: HTMLResponse) -> HTMLResponse:
    """``page`` with a Content-Security-Policy naming only this origin (and the hashes of its
    inline scripts): a page that tried to load anything from elsewhere would be refused."""
    body = bytes(page.body).decode()
    hashes = " ".join(
        "'sha256-" + base64.b64encode(hashlib.sha256(s.encode()).digest()).decode() + "'"
        for s in _INLINE_SCRIPT.findall(body)
    )
    policy = (
        f"default-src 'self'; script-src 'self' {hashes}; style-src 'self' 'unsafe-inline'; "
        "img-src 'self' data:; font-src 'self' data:; "
        "frame-ancestors 'none'; base-uri 'none'"
    )
    return HTMLResponse(
        body,
        headers={
            "Content-Security-Policy": policy,
            "X-Content-Type-Options": "nosniff",
            "Referrer-Policy": "no-referrer",
        },
    )


def _secured_schema(app: FastAPI) -> dict[str, Any]:
    """The OpenAPI schema with the bearer scheme applied to the keyed operations."""
    if app.openapi_schema is not None:
        return app.openapi_schema
    schema = get_openapi(
        title=app.title,
        version=app.version,
        description=app.description,
        routes=app.routes,
    )
    components = schema.setdefault("components", {})
    components.setdefault("securitySchemes", {})[BEARER_SCHEME] = {
        "type": "http",
        "scheme": "bearer",
        "description": "An API key (`shieldwall key create`), sent as "
        "`Authorization: Bearer <key>`.",
    }
    for path_item in schema.get("paths", {}).values():
        for operation in path_item.values():
            if isinstance(operation, dict) and SCOPE_EXTENSION in operation:
                operation["security"] = [{BEARER_SCHEME: []}]
    app.openapi_schema = schema
    return schema


def install_docs(app: FastAPI) -> None:
    """Serve ``/docs`` from the package's files and secure the schema. The app must be made
    with ``docs_url=None, redoc_url=None`` (FastAPI's own pages use a CDN)."""
    assert app.openapi_url is not None
    openapi_url = app.openapi_url
    swagger = _with_policy(
        get_swagger_ui_html(
            openapi_url=openapi_url,
            title=f"{app.title} API",
            swagger_js_url=f"{ASSETS_URL}/swagger-ui-bundle.js",
            swagger_css_url=f"{ASSETS_URL}/swagger-ui.css",
            swagger_favicon_url=f"{ASSETS_URL}/favicon.png",
            # No badge from validator.swagger.io: nothing is fetched from elsewhere.
            swagger_ui_parameters={"validatorUrl": None, "persistAuthorization": False},
        )
    )

    async def docs_page() -> HTMLResponse:
        return swagger

    app.add_api_route("/docs", docs_page, methods=["GET"], include_in_schema=False, **public())
    app.mount(ASSETS_URL, StaticFiles(directory=_ASSETS), name="docs-assets")
    app.openapi = lambda: _secured_schema(app)  # type: ignore[method-assign]
