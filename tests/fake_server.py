"""A threaded HTTP server on loopback that hands each request to a function and sends its
:class:`Reply` (GET, POST and PUT: what the exchange fakes need)."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler
from types import TracebackType

from http_helpers import LoopbackServer, Received, answer


@dataclass(frozen=True)
class Request:
    method: str
    path: str
    #: Header names in lower case.
    headers: dict[str, str]
    body: bytes


@dataclass(frozen=True)
class Reply:
    status: int
    body: bytes = b""
    headers: dict[str, str] = field(default_factory=dict)
    #: Seconds to wait before answering (a slow exchange, past the client's timeout).
    delay: float = 0.0


class FakeServer:
    """``with FakeServer(respond) as server: server.url("/v1")``: a
    :class:`~http_helpers.LoopbackServer` whose function answers with a :class:`Reply`."""

    def __init__(self, respond: Callable[[Request], Reply], host: str = "127.0.0.1") -> None:
        self.received: list[Request] = []

        def handle(handler: BaseHTTPRequestHandler, got: Received) -> None:
            request = Request(
                got.method, got.path, {k.lower(): v for k, v in got.headers.items()}, got.body
            )
            self.received.append(request)
            reply = respond(request)
            if reply.delay:
                time.sleep(reply.delay)
            headers = {"Content-Type": "application/json", **reply.headers, "Connection": "close"}
            answer(handler, reply.status, reply.body, headers)

        self._server = LoopbackServer(handle, host)

    def url(self, path: str = "/") -> str:
        return self._server.url(path)

    def __enter__(self) -> FakeServer:
        self._server.__enter__()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self._server.__exit__(exc_type, exc, tb)
