"""The HTTP server: the one place that puts the two HTTP faces together.

- :mod:`~shieldwall.server.app`: :func:`~shieldwall.server.app.create_app` builds the
  application of a role from :mod:`shieldwall.api` (the JSON API) and :mod:`shieldwall.web`
  (the console and the public pages);
- :mod:`~shieldwall.server.middleware`: around every request of both (request ids, keys,
  limits, the request audit, errors as JSON);
- :mod:`~shieldwall.server.run`: ``shieldwall serve`` under uvicorn (``--workers``, graceful
  shutdown, JSON logs).

What both faces share underneath (process state and roles, metrics, rate limits, parameters)
is :mod:`shieldwall.service`, which imports neither face (docs/architecture.md).
"""
