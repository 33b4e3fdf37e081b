"""The JSON API under ``/v1`` (and the operations routes ``/healthz``, ``/readyz``,
``/metrics``): one router module per domain in :mod:`shieldwall.api.routes`, the request and
answer models (:mod:`~shieldwall.api.schemas`, which make the OpenAPI schema), the request
dependencies (:mod:`~shieldwall.api.deps`: the process state, the caller's key and the scope a
route needs) and the one place errors become JSON (:mod:`~shieldwall.api.errors`).

Routes parse, authorize, call one domain function and shape its answer; they hold no database
queries. :func:`shieldwall.server.app.create_app` mounts them (docs/service.md,
docs/architecture.md).
"""
