"""The running HTTP service: what the two HTTP faces (:mod:`shieldwall.api`, the JSON API, and
:mod:`shieldwall.web`, the console and the public pages) share, and the one place that puts
them together.

- :mod:`~shieldwall.service.app`: :func:`~shieldwall.service.app.create_app` builds the
  application of a role (the only module here that imports ``api/`` and ``web/``);
- :mod:`~shieldwall.service.server`: ``shieldwall serve`` under uvicorn (``--workers``, graceful
  shutdown, JSON logs);
- :mod:`~shieldwall.service.state`: :class:`~shieldwall.service.state.ServiceState`, what one
  process holds, and its :class:`~shieldwall.service.state.Role`;
- :mod:`~shieldwall.service.middleware`, :mod:`~shieldwall.service.metrics`,
  :mod:`~shieldwall.service.ratelimit`, :mod:`~shieldwall.service.params`: around and under
  every request of both faces.

Nothing is imported here, so that the faces can import the shared modules without loading the
application (docs/architecture.md).
"""
