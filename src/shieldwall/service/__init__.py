"""What the two HTTP faces (:mod:`shieldwall.api`, the JSON API, and :mod:`shieldwall.web`, the
console and the public pages) share underneath; it imports neither of them.

- :mod:`~shieldwall.service.state`: :class:`~shieldwall.service.state.ServiceState`, what one
  process holds, and its :class:`~shieldwall.service.state.Role`;
- :mod:`~shieldwall.service.metrics`, :mod:`~shieldwall.service.ratelimit`,
  :mod:`~shieldwall.service.params`: under every request of both faces;
- :mod:`~shieldwall.service.access`: the access rule every route declares (public, a key's
  scope, a console role) and :func:`~shieldwall.service.access.route_rules`.

The faces are put together, with the middleware around them, by :mod:`shieldwall.server`
(docs/architecture.md).
"""
