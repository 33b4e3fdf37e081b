"""The stand-in platform of ``shieldwall serve --demo``: a small HTTP server on loopback, in
the serve process, that serves the demo posts (generated images, never real imagery) at
``/content/<content id>``. The service fetches previews from it (``preview_url_template``),
and a removal hashes the reported post from it when the ledger does not know the post, so the
demo shows the whole chain: remove, bank, sweep, copy found.
"""

from __future__ import annotations

import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import unquote

__all__ = ["DemoPlatform"]


class DemoPlatform:
    """Serves ``posts`` (content id -> JPEG bytes) on ``127.0.0.1`` at a free port until
    :meth:`stop`; :attr:`template` is the preview URL template that points at it."""

    def __init__(self, posts: dict[str, bytes]) -> None:
        self.posts = dict(posts)
        platform = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                body = platform.posts.get(unquote(self.path.removeprefix("/content/")))
                if not self.path.startswith("/content/") or body is None:
                    self.send_error(404, "no such post")
                    return
                self.send_response(200)
                self.send_header("Content-Type", "image/jpeg")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, format: str, *args: object) -> None:
                """Quiet: the service logs what matters."""

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._thread = threading.Thread(
            target=self._server.serve_forever, name="shieldwall-demo-platform", daemon=True
        )

    @property
    def url(self) -> str:
        """The platform's base URL."""
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    @property
    def template(self) -> str:
        """``preview_url_template`` for this platform."""
        return self.url + "/content/{content_id}"

    def start(self) -> DemoPlatform:
        """Serve in a daemon thread."""
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop serving and close the socket."""
        self._server.shutdown()
        self._server.server_close()
