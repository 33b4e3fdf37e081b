"""SSRF-safe fetch: the refusals run through the real default policy (system resolver, no
allowed networks); the positive and redirect tests allow exactly one loopback address."""

from __future__ import annotations

import ipaddress
import shutil
import ssl
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest

from http_helpers import LoopbackServer, Received, answer
from shieldwall.config import Settings
from shieldwall.errors import FetchError, FetchRefused, FetchTimeout, FetchTooLarge
from shieldwall.net import AddressPolicy, address_problem, fetch_to_file, post
from shieldwall.net.fetch import get_bytes

BODY = b"\x89PNG pretend image " * 100


def _respond(handler: BaseHTTPRequestHandler, request: Received) -> None:
    parts = urlsplit(request.path)
    query = parse_qs(parts.query)
    if parts.path == "/ok":
        answer(handler, 200, BODY, {"Content-Type": "image/png"})
    elif parts.path == "/redirect":
        answer(handler, 302, b"", {"Location": query["to"][0]})
    elif parts.path == "/loop":
        answer(handler, 302, b"", {"Location": "/loop"})
    elif parts.path == "/big-announced":
        handler.send_response(200)
        handler.send_header("Content-Length", str(10_000_000))
        handler.end_headers()
        handler.wfile.write(b"x" * 1000)
    elif parts.path == "/big-streamed":  # no Content-Length: the body ends with the connection
        handler.send_response(200)
        handler.end_headers()
        for _ in range(100):
            handler.wfile.write(b"x" * 10_000)
    elif parts.path == "/slow":
        handler.send_response(200)
        handler.end_headers()
        for _ in range(100):
            handler.wfile.write(b"x")
            handler.wfile.flush()
            time.sleep(0.1)
    elif parts.path == "/silent":
        time.sleep(5)
    elif parts.path == "/missing":
        answer(handler, 404, b"no")
    else:
        answer(handler, 200, b"posted")


@pytest.fixture
def server() -> Iterator[LoopbackServer]:
    with LoopbackServer(_respond) as srv:
        yield srv


@pytest.fixture
def decoy() -> Iterator[LoopbackServer]:
    """A server on another loopback address that must never be reached."""
    with LoopbackServer(_respond, host="127.0.0.2") as srv:
        yield srv


def _settings(**overrides: object) -> Settings:
    base: dict[str, object] = {
        "fetch_allowed_hosts": ["127.0.0.1", "127.0.0.2", "localhost", "::1", "*.example.test"],
        "fetch_timeout_seconds": 60.0,  # generous: only the tests of the limit set a short one
    }
    base.update(overrides)
    return Settings.load(**base)


def _allowed(**overrides: object) -> Settings:
    """Settings that let the test reach 127.0.0.1 (only)."""
    return _settings(outbound_allowed_networks=["127.0.0.1/32"], **overrides)


# -- refused by the default policy --------------------------------------------------------------


def test_disabled_when_no_host_is_allowed(tmp_path: Path, server: LoopbackServer) -> None:
    with pytest.raises(FetchRefused, match="disabled"):
        fetch_to_file(server.url("/ok"), tmp_path / "f", settings=Settings.load())
    assert server.received == []


@pytest.mark.parametrize(
    ("url", "reason"),
    [
        ("http://127.0.0.1:{port}/ok", "loopback"),
        ("http://localhost:{port}/ok", "localhost resolves to 127.0.0.1, a loopback"),
        ("http://10.20.30.40/ok", "private"),
        ("http://169.254.169.254/latest/meta-data/", "link-local"),
        ("http://[::1]:{port}/ok", "loopback"),
        ("http://[::ffff:127.0.0.1]:{port}/ok", "loopback"),
    ],
)
def test_inward_addresses_are_refused(
    tmp_path: Path, server: LoopbackServer, url: str, reason: str
) -> None:
    settings = _settings(
        fetch_allowed_hosts=[
            "127.0.0.1",
            "localhost",
            "10.20.30.40",
            "169.254.169.254",
            "::1",
            "::ffff:127.0.0.1",
        ]
    )
    with pytest.raises(FetchRefused, match=reason):
        fetch_to_file(url.format(port=server.port), tmp_path / "f", settings=settings)
    assert server.received == []
    assert not (tmp_path / "f").exists()


def test_a_name_with_any_inward_address_is_refused(tmp_path: Path) -> None:
    def resolver(host: str, port: int) -> list[str]:
        return {"img.example.test": ["93.184.215.14", "10.0.0.7"]}[host]

    with pytest.raises(FetchRefused, match=r"img\.example\.test resolves to 10\.0\.0\.7"):
        fetch_to_file(
            "http://img.example.test/a.jpg", tmp_path / "f", settings=_settings(), resolver=resolver
        )


def test_scheme_credentials_and_host_allow_list(tmp_path: Path, server: LoopbackServer) -> None:
    settings = _allowed()
    for url, reason in [
        ("file:///etc/passwd", "only http and https"),
        ("ftp://127.0.0.1/x", "only http and https"),
        (f"http://user:pw@127.0.0.1:{server.port}/ok", "credentials"),
        ("http://evil.test/x", "not on the allow-list"),
        ("http:///nohost", "no host"),
    ]:
        with pytest.raises(FetchRefused, match=reason):
            fetch_to_file(url, tmp_path / "f", settings=settings)
    assert server.received == []


@pytest.mark.parametrize(
    "address",
    [
        "127.0.0.1",
        "10.0.0.1",
        "172.16.0.1",
        "192.168.1.1",
        "169.254.169.254",
        "100.64.0.1",
        "0.0.0.0",
        "224.0.0.1",
        "240.0.0.1",
        "255.255.255.255",
        "192.0.2.1",
        "198.18.0.1",
        "::1",
        "::",
        "fe80::1",
        "fc00::1",
        "ff02::1",
        "::ffff:10.0.0.1",
        "2002:a00:1::",
        "64:ff9b::a9fe:a9fe",
        "2001:db8::1",
        "fec0::1",
    ],
)
def test_address_classification_refuses(address: str) -> None:
    assert address_problem(ipaddress.ip_address(address)) is not None


@pytest.mark.parametrize("address", ["93.184.215.14", "8.8.8.8", "2606:4700:4700::1111"])
def test_address_classification_accepts_public(address: str) -> None:
    assert address_problem(ipaddress.ip_address(address)) is None


# -- allowed loopback server: redirects, limits --------------------------------------------------


def test_fetches_from_an_allowed_network(tmp_path: Path, server: LoopbackServer) -> None:
    dest = tmp_path / "f"
    result = fetch_to_file(server.url("/ok"), dest, settings=_allowed())
    assert dest.read_bytes() == BODY
    assert (result.size, result.content_type, result.address) == (
        len(BODY),
        "image/png",
        "127.0.0.1",
    )
    assert server.received[0].headers["Host"] == f"127.0.0.1:{server.port}"


def test_the_host_header_is_the_name_while_the_vetted_address_is_used(
    tmp_path: Path, server: LoopbackServer
) -> None:
    calls: list[str] = []

    def resolver(host: str, port: int) -> list[str]:
        calls.append(host)
        return ["127.0.0.1"]

    fetch_to_file(
        f"http://cdn.example.test:{server.port}/ok",
        tmp_path / "f",
        settings=_allowed(),
        resolver=resolver,
    )
    assert calls == ["cdn.example.test"]  # resolved once, by us
    assert server.received[0].headers["Host"] == f"cdn.example.test:{server.port}"


@pytest.mark.parametrize(
    "target",
    [
        "http://169.254.169.254/latest/meta-data/",
        "http://10.0.0.1/",
        "http://[::1]:{decoy}/ok",
        "http://127.0.0.2:{decoy}/ok",
        "http://evil.test/",
    ],
)
def test_redirects_to_refused_addresses_are_refused(
    tmp_path: Path, server: LoopbackServer, decoy: LoopbackServer, target: str
) -> None:
    url = server.url("/redirect?to=" + target.format(decoy=decoy.port))
    with pytest.raises(FetchRefused, match="refused"):
        fetch_to_file(url, tmp_path / "f", settings=_allowed())
    assert len(server.received) == 1
    assert decoy.received == []
    assert not (tmp_path / "f").exists()


def test_redirects_are_followed_and_limited(tmp_path: Path, server: LoopbackServer) -> None:
    result = fetch_to_file(server.url("/redirect?to=/ok"), tmp_path / "f", settings=_allowed())
    assert result.url == server.url("/ok")
    assert result.redirects == [server.url("/redirect?to=/ok")]
    with pytest.raises(FetchRefused, match="more than 3 redirects"):
        fetch_to_file(server.url("/loop"), tmp_path / "g", settings=_allowed(fetch_max_redirects=3))
    assert len(server.received) == 2 + 4


@pytest.mark.parametrize("path", ["/big-announced", "/big-streamed"])
def test_oversized_bodies_are_refused(tmp_path: Path, server: LoopbackServer, path: str) -> None:
    dest = tmp_path / "f"
    with pytest.raises(FetchTooLarge, match="over the limit of 100000 bytes"):
        fetch_to_file(server.url(path), dest, settings=_allowed(fetch_max_bytes=100_000))
    assert not dest.exists()


@pytest.mark.parametrize("path", ["/slow", "/silent"])
def test_slow_servers_hit_the_time_limit(tmp_path: Path, server: LoopbackServer, path: str) -> None:
    # /slow sends a byte every 0.1 s for 10 s, so only a limit on the whole fetch (not on each
    # read) stops it; /silent says nothing for 5 s. (How soon after the limit it stops is not
    # asserted: a loaded machine may be late.)
    with pytest.raises(FetchTimeout, match="longer than the limit of 1 s"):
        fetch_to_file(server.url(path), tmp_path / "f", settings=_allowed(fetch_timeout_seconds=1))
    assert not (tmp_path / "f").exists()


def test_error_status_is_a_fetch_error(tmp_path: Path, server: LoopbackServer) -> None:
    with pytest.raises(FetchError, match="answered 404"):
        fetch_to_file(server.url("/missing"), tmp_path / "f", settings=_allowed())


def test_post_follows_the_address_policy(server: LoopbackServer) -> None:
    strict = AddressPolicy.from_networks([])
    with pytest.raises(FetchRefused, match="loopback"):
        post(server.url("/hook"), b"{}", headers={}, policy=strict, timeout_seconds=2)
    assert server.received == []
    allowed = AddressPolicy.from_networks(["127.0.0.0/8"])
    assert (
        post(server.url("/hook"), b"{}", headers={"X-A": "1"}, policy=allowed, timeout_seconds=60)
        == 200
    )
    assert server.received[0].body == b"{}"
    assert server.received[0].headers["X-A"] == "1"


def test_get_bytes_reads_into_memory_under_the_policy(server: LoopbackServer) -> None:
    strict = AddressPolicy.from_networks([])
    with pytest.raises(FetchRefused, match="loopback"):
        get_bytes(server.url("/ok"), headers={}, policy=strict, timeout_seconds=2, max_bytes=10**6)
    assert server.received == []
    allowed = AddressPolicy.from_networks(["127.0.0.0/8"])

    def get(path: str, max_bytes: int = 10**6, timeout: float = 60) -> tuple[bytes, str | None]:
        return get_bytes(
            server.url(path),
            headers={"Authorization": "Bearer t"},
            policy=allowed,
            timeout_seconds=timeout,
            max_bytes=max_bytes,
        )

    assert get("/ok") == (BODY, "image/png")
    assert server.received[-1].headers["Authorization"] == "Bearer t"
    with pytest.raises(FetchError, match="answered 302"):  # redirects are not followed
        get("/redirect?to=/ok")
    with pytest.raises(FetchError, match="answered 404"):
        get("/missing")
    for path in ("/big-announced", "/big-streamed"):
        with pytest.raises(FetchTooLarge, match="over the limit of 100000 bytes"):
            get(path, 100_000)
    with pytest.raises(FetchTimeout):
        get("/slow", timeout=1)  # a byte every 0.1 s for 10 s


# -- TLS: the connection goes to the vetted address, the name is the server name ----------------


@dataclass
class TLSServer:
    server: LoopbackServer
    cert: Path
    server_names: list[str | None]


@pytest.fixture
def tls_server(tmp_path: Path) -> Iterator[TLSServer]:
    if shutil.which("openssl") is None:
        pytest.skip("openssl is not installed")
    cert, key = tmp_path / "cert.pem", tmp_path / "key.pem"
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1",
         "-subj", "/CN=cdn.example.test", "-addext", "subjectAltName=DNS:cdn.example.test",
         "-keyout", str(key), "-out", str(cert)],
        check=True, capture_output=True,
    )  # fmt: skip
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(cert, key)
    names: list[str | None] = []

    def on_sni(_sock: ssl.SSLObject, name: str | None, _ctx: ssl.SSLContext) -> None:
        names.append(name)

    context.sni_callback = on_sni
    with LoopbackServer(_respond, tls=context) as srv:
        yield TLSServer(srv, cert, names)


def test_https_connects_to_the_vetted_address_with_the_name_as_server_name(
    tmp_path: Path, tls_server: TLSServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SSL_CERT_FILE", str(tls_server.cert))  # trust the test certificate

    def resolver(host: str, port: int) -> list[str]:
        return ["127.0.0.1"]

    port = tls_server.server.port
    result = fetch_to_file(f"https://cdn.example.test:{port}/ok", tmp_path / "f",
                           settings=_allowed(), resolver=resolver)  # fmt: skip
    assert (result.size, result.address) == (len(BODY), "127.0.0.1")
    assert tls_server.server_names == ["cdn.example.test"]
    assert tls_server.server.received[0].headers["Host"] == f"cdn.example.test:{port}"
    # the certificate is checked against the name, not the address
    with pytest.raises(FetchError, match=r"(?i)certificate verify failed"):
        fetch_to_file(f"https://img.example.test:{port}/ok", tmp_path / "g",
                      settings=_allowed(), resolver=resolver)  # fmt: skip
