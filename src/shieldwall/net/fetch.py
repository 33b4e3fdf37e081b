"""SSRF-safe outbound HTTP: fetch a URL to a file (hash by URL), POST to a URL (webhooks).

Every request:

- accepts ``http`` and ``https`` only, and no credentials in the URL;
- (fetch) goes only to a host on ``SHIELDWALL_FETCH_ALLOWED_HOSTS`` (empty: fetching by URL is
  disabled);
- resolves the host itself and refuses it if ANY of its addresses is private, loopback,
  link-local, multicast, reserved, ... (:mod:`shieldwall.net.policy`);
- connects to the vetted address, never resolving the name again (DNS rebinding), with the
  ``Host`` header and the TLS server name (SNI, certificate check) set to the host name;
- follows redirects itself (at most ``SHIELDWALL_FETCH_MAX_REDIRECTS``), each hop checked as
  the first one;
- streams the body to disk, refusing it as soon as it exceeds the byte limit (at once when
  ``Content-Length`` says so), and stops at a total time limit that covers connecting,
  redirects and reading.
"""

from __future__ import annotations

import http.client
import socket
import ssl
import threading
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urljoin, urlsplit

from shieldwall.config import Settings, get_settings
from shieldwall.errors import FetchError, FetchRefused, FetchTimeout, FetchTooLarge
from shieldwall.net.policy import AddressPolicy, IPAddress, Resolver

__all__ = [
    "FetchResult",
    "Response",
    "fetch_to_file",
    "get_bytes",
    "host_allowed",
    "post",
    "request",
]

_REDIRECTS = frozenset({301, 302, 303, 307, 308})
_CHUNK = 64 * 1024
_USER_AGENT = "shieldwall"


@dataclass(frozen=True)
class FetchResult:
    """A body fetched to ``path``: ``size`` bytes from ``url`` (after ``redirects``)."""

    url: str
    path: Path
    size: int
    content_type: str | None
    address: str
    redirects: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class Response:
    """An answer read whole into memory (:func:`request`): status, headers (names in lower
    case) and body."""

    status: int
    headers: dict[str, str]
    body: bytes


@dataclass(frozen=True)
class _Target:
    scheme: str
    host: str
    port: int
    path: str
    host_header: str


class _Deadline:
    def __init__(self, seconds: float) -> None:
        self.seconds = seconds
        self.end = time.monotonic() + seconds

    def remaining(self) -> float:
        return self.end - time.monotonic()

    @property
    def expired(self) -> bool:
        return self.remaining() <= 0

    def check(self, url: str) -> None:
        if self.expired:
            raise FetchTimeout(f"{url}: took longer than the limit of {self.seconds:g} s")


def _parse(url: str) -> _Target:
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError as exc:
        raise FetchRefused(f"refused: {url!r} is not a valid URL: {exc}") from exc
    scheme = parts.scheme.lower()
    if scheme not in ("http", "https"):
        raise FetchRefused(f"refused: {url!r}: only http and https URLs are fetched")
    host = (parts.hostname or "").rstrip(".")
    if not host:
        raise FetchRefused(f"refused: {url!r} has no host")
    if parts.username is not None or parts.password is not None:
        raise FetchRefused(f"refused: {url!r}: credentials in URLs are not sent")
    default = 443 if scheme == "https" else 80
    port = port or default
    shown = f"[{host}]" if ":" in host else host
    host_header = shown if port == default else f"{shown}:{port}"
    path = parts.path or "/"
    if parts.query:
        path = f"{path}?{parts.query}"
    return _Target(scheme, host, port, path, host_header)


def host_allowed(host: str, allowed: list[str]) -> bool:
    """Whether ``host`` is on the allow-list: equal to an entry, or under ``*.domain``."""
    host = host.lower().rstrip(".")
    for entry in allowed:
        if entry.startswith("*."):
            if host.endswith(entry[1:]):
                return True
        elif host == entry:
            return True
    return False


class _PinnedHTTP(http.client.HTTPConnection):
    """A connection to one vetted address (``host`` is the address literal: no resolution)."""


class _PinnedHTTPS(http.client.HTTPConnection):
    """TLS to a vetted address, with the server name (SNI, certificate) of the URL's host."""

    default_port = 443

    def __init__(
        self, address: str, port: int, *, server_name: str, timeout: float, tls: ssl.SSLContext
    ) -> None:
        super().__init__(address, port, timeout=timeout)
        self._server_name = server_name
        self._tls = tls

    def connect(self) -> None:
        super().connect()
        self.sock = self._tls.wrap_socket(self.sock, server_hostname=self._server_name)


def _abort(conn: http.client.HTTPConnection) -> None:
    sock = conn.sock
    if sock is not None:
        with suppress(OSError):
            sock.shutdown(socket.SHUT_RDWR)


@contextmanager
def _exchange(
    target: _Target,
    addresses: list[IPAddress],
    *,
    method: str,
    body: bytes | None,
    headers: Mapping[str, str],
    deadline: _Deadline,
    url: str,
) -> Iterator[tuple[http.client.HTTPResponse, str]]:
    """Connect to the first vetted address that answers, send the request, yield the response;
    the connection is shut down when the deadline passes, whatever it is doing."""
    conn: http.client.HTTPConnection | None = None
    failure: OSError | None = None
    used = ""
    for ip in addresses:
        deadline.check(url)
        if target.scheme == "https":
            candidate: http.client.HTTPConnection = _PinnedHTTPS(
                str(ip),
                target.port,
                server_name=target.host,
                timeout=deadline.remaining(),
                tls=ssl.create_default_context(),
            )
        else:
            candidate = _PinnedHTTP(str(ip), target.port, timeout=deadline.remaining())
        try:
            candidate.connect()
        except OSError as exc:
            candidate.close()
            failure = exc
            continue
        conn, used = candidate, str(ip)
        break
    if conn is None:
        deadline.check(url)
        raise FetchError(f"{url}: cannot connect to {target.host}: {failure}")
    timer = threading.Timer(max(deadline.remaining(), 0.0), _abort, (conn,))
    timer.daemon = True
    timer.start()
    response: http.client.HTTPResponse | None = None
    try:
        all_headers = {
            "Host": target.host_header,
            "User-Agent": _USER_AGENT,
            "Accept-Encoding": "identity",
            "Connection": "close",
            **headers,
        }
        conn.request(method, target.path, body=body, headers=all_headers)
        response = conn.getresponse()
        yield response, used
    except (OSError, http.client.HTTPException) as exc:
        deadline.check(url)
        raise FetchError(f"{url}: {type(exc).__name__}: {exc}") from exc
    finally:
        timer.cancel()
        if response is not None:
            response.close()  # owns the socket when the server closes the connection
        conn.close()


def _body(
    response: http.client.HTTPResponse, *, max_bytes: int, deadline: _Deadline, url: str
) -> Iterator[bytes]:
    """The answer's body in chunks: refused at once when ``Content-Length`` is over
    ``max_bytes``, and as soon as the bytes read pass it; the deadline checked at each chunk."""
    length = response.getheader("Content-Length")
    if length is not None and length.strip().isdigit() and int(length) > max_bytes:
        raise FetchTooLarge(
            f"{url}: the body is {int(length)} bytes (Content-Length), over the limit of "
            f"{max_bytes} bytes"
        )
    size = 0
    while True:
        chunk = response.read1(_CHUNK)
        deadline.check(url)
        if not chunk:
            return
        size += len(chunk)
        if size > max_bytes:
            raise FetchTooLarge(
                f"{url}: the body is over the limit of {max_bytes} bytes; stopped reading"
            )
        yield chunk


def _stream(
    response: http.client.HTTPResponse,
    dest: Path,
    *,
    max_bytes: int,
    deadline: _Deadline,
    url: str,
) -> int:
    size = 0
    try:
        with dest.open("wb") as out:
            for chunk in _body(response, max_bytes=max_bytes, deadline=deadline, url=url):
                out.write(chunk)
                size += len(chunk)
        return size
    except BaseException:
        dest.unlink(missing_ok=True)
        raise


def fetch_to_file(
    url: str,
    dest: Path,
    *,
    settings: Settings | None = None,
    resolver: Resolver | None = None,
) -> FetchResult:
    """Fetch ``url`` to ``dest`` under the SSRF policy (see the module); nothing is left at
    ``dest`` on failure.

    Raises :class:`FetchRefused` (disabled, scheme, host not allowed, address refused, too many
    redirects), :class:`FetchTooLarge`, :class:`FetchTimeout` or :class:`FetchError` (cannot
    connect, non-2xx answer). ``resolver`` replaces the system resolver (tests).
    """
    settings = settings or get_settings()
    if not settings.fetch_allowed_hosts:
        raise FetchRefused(
            "fetching by URL is disabled: no host is allowed (SHIELDWALL_FETCH_ALLOWED_HOSTS)"
        )
    policy = AddressPolicy.from_networks(settings.outbound_allowed_networks, resolver)
    deadline = _Deadline(settings.fetch_timeout_seconds)
    redirects: list[str] = []
    current = url
    for _hop in range(settings.fetch_max_redirects + 1):
        target = _parse(current)
        if not host_allowed(target.host, settings.fetch_allowed_hosts):
            raise FetchRefused(
                f"refused: {current}: host {target.host} is not on the allow-list "
                "(SHIELDWALL_FETCH_ALLOWED_HOSTS)"
            )
        addresses = policy.resolve(target.host, target.port)
        with _exchange(
            target,
            addresses,
            method="GET",
            body=None,
            headers={"Accept": "*/*"},
            deadline=deadline,
            url=current,
        ) as (response, address):
            if response.status in _REDIRECTS:
                location = response.getheader("Location")
                if not location:
                    raise FetchError(f"{current}: redirect {response.status} without Location")
                redirects.append(current)
                current = urljoin(current, location.strip())
                continue
            if not 200 <= response.status < 300:
                raise FetchError(f"{current}: the server answered {response.status}")
            size = _stream(
                response, dest, max_bytes=settings.fetch_max_bytes, deadline=deadline, url=current
            )
            return FetchResult(
                current, dest, size, response.getheader("Content-Type"), address, redirects
            )
    raise FetchRefused(
        f"refused: {url}: more than {settings.fetch_max_redirects} redirects "
        "(SHIELDWALL_FETCH_MAX_REDIRECTS)"
    )


@contextmanager
def _direct(
    url: str,
    *,
    method: str,
    body: bytes | None,
    headers: Mapping[str, str],
    policy: AddressPolicy,
    timeout: float,
) -> Iterator[tuple[http.client.HTTPResponse, _Deadline]]:
    """One request to an operator-configured URL: the address policy, no host allow-list, no
    redirects followed."""
    target = _parse(url)
    deadline = _Deadline(timeout)
    addresses = policy.resolve(target.host, target.port)
    with _exchange(
        target, addresses, method=method, body=body, headers=headers, deadline=deadline, url=url
    ) as (response, _address):
        yield response, deadline


def post(
    url: str,
    body: bytes,
    *,
    headers: Mapping[str, str],
    policy: AddressPolicy,
    timeout_seconds: float,
) -> int:
    """POST ``body`` to ``url`` under the address policy (no host allow-list, no redirects
    followed) and return the status; at most 64 KiB of the answer is read."""
    with _direct(
        url, method="POST", body=body, headers=headers, policy=policy, timeout=timeout_seconds
    ) as (response, _deadline):
        response.read1(_CHUNK)
        return response.status


def get_bytes(
    url: str,
    *,
    headers: Mapping[str, str],
    policy: AddressPolicy,
    timeout_seconds: float,
    max_bytes: int,
) -> tuple[bytes, str | None]:
    """GET ``url`` into memory under the address policy (no host allow-list: the operator
    configured the URL; no redirects followed) and return the body and its ``Content-Type``.

    For content that must never touch the disk (review previews). Raises
    :class:`FetchRefused`, :class:`FetchTooLarge` (as soon as the body passes ``max_bytes``),
    :class:`FetchTimeout` or :class:`FetchError` (cannot connect, a non-2xx answer)."""
    with _direct(
        url,
        method="GET",
        body=None,
        headers={"Accept": "image/*", **headers},
        policy=policy,
        timeout=timeout_seconds,
    ) as (response, deadline):
        if not 200 <= response.status < 300:
            raise FetchError(f"{url}: the server answered {response.status}")
        body = b"".join(_body(response, max_bytes=max_bytes, deadline=deadline, url=url))
        return body, response.getheader("Content-Type")


def request(
    url: str,
    *,
    method: str = "GET",
    body: bytes | None = None,
    headers: Mapping[str, str],
    policy: AddressPolicy,
    timeout_seconds: float,
    max_bytes: int,
) -> Response:
    """One request to an operator-configured URL (a hash exchange's API) under the address
    policy (no host allow-list, no redirects followed), its answer read whole whatever the
    status. Raises :class:`FetchRefused`, :class:`FetchTooLarge`, :class:`FetchTimeout` (the
    total time limit passed) or :class:`FetchError` (cannot connect)."""
    with _direct(
        url, method=method, body=body, headers=headers, policy=policy, timeout=timeout_seconds
    ) as (response, deadline):
        data = b"".join(_body(response, max_bytes=max_bytes, deadline=deadline, url=url))
        return Response(response.status, {k.lower(): v for k, v in response.getheaders()}, data)
