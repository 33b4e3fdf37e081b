"""The server-rendered pages: the review console (``/login``, ``/console...``; sessions, roles
and CSRF in :mod:`shieldwall.web.console`), the public pages (``/report``, ``/status``,
``/appeal``; :mod:`~shieldwall.web.public`), review previews (:mod:`~shieldwall.web.preview`)
and the transparency report's charts (:mod:`~shieldwall.web.charts`). Templates are in
``web/templates``, the console's script in ``web/static``.

Pages call the same domain functions as the JSON API and never import it;
:func:`shieldwall.server.app.create_app` mounts them (docs/cases.md, docs/people.md,
docs/architecture.md).
"""
