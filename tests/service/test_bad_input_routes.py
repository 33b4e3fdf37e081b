"""The same bad input gets the same answer on every route: each bad upload (empty, corrupt, not
media, over the size or pixel limit, a decompression bomb, truncated) through every route that
takes media gets one status and one error code, with a message that names the content as the
caller gave it (never our temporary file); a malformed hash gets one answer on every route that
takes hashes."""

from __future__ import annotations

import struct
import zlib
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler
from pathlib import Path

import httpx
import numpy as np
import pytest

from http_helpers import LoopbackServer, Received
from service_helpers import LiveService
from shieldwall.media import synthetic

#: The media limits of the service under test (small, so that the files stay small).
MAX_MEDIA_BYTES = 200_000
MAX_IMAGE_PIXELS = 1_000_000


def _png_header_only(width: int, height: int) -> bytes:
    """A PNG whose header claims ``width x height`` with hardly any pixel data: a bomb."""

    def chunk(kind: bytes, body: bytes) -> bytes:
        crc = zlib.crc32(kind + body) & 0xFFFFFFFF
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", crc)

    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    idat = zlib.compress(b"\x00" * 16)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", idat) + chunk(b"IEND", b"")


def _corrupt(png: bytes) -> bytes:
    """A PNG with a valid header whose image data is damaged (its compressed stream zeroed)."""
    start = png.index(b"IDAT") + 4
    return png[:start] + b"\x00" * 20 + png[start + 20 :]


JPEG = synthetic.encode(synthetic.scene(41, 320, 240))
PNG = synthetic.encode(synthetic.scene(41, 320, 240), "PNG")

#: Case -> (the bytes, the one (status, error code) every media route must answer).
BAD_MEDIA: dict[str, tuple[bytes, tuple[int, str]]] = {
    "empty": (b"", (422, "empty_media")),
    "corrupt": (_corrupt(PNG), (422, "corrupt_media")),
    "not_media": (b"Dear diary, this is plain text.\n" * 20, (415, "unsupported_media")),
    "over_size_limit": (JPEG + b"\x00" * MAX_MEDIA_BYTES, (413, "media_too_large")),
    "over_pixel_limit": (
        synthetic.encode(np.full((1000, 1200, 3), 90, np.uint8), "PNG"),
        (413, "media_too_large"),
    ),
    "decompression_bomb": (_png_header_only(50_000, 50_000), (413, "media_too_large")),
    "truncated": (JPEG[: len(JPEG) // 2], (422, "corrupt_media")),
}

#: How each media route is called with ``(name, data)``; ``hash_url`` fetches it from ``url``.
MediaCall = Callable[[httpx.Client, str, bytes, str], httpx.Response]


def _upload(path: str, **form: str) -> MediaCall:
    def call(client: httpx.Client, name: str, data: bytes, _url: str) -> httpx.Response:
        return client.post(path, files={"file": (name, data, "image/jpeg")}, data=form)

    return call


def _by_url(client: httpx.Client, _name: str, _data: bytes, url: str) -> httpx.Response:
    return client.post("/v1/hash/url", json={"url": url})


MEDIA_ROUTES: dict[str, MediaCall] = {
    "POST /v1/hash": _upload("/v1/hash"),
    "POST /v1/hash/url": _by_url,
    "POST /v1/lookup": _upload("/v1/lookup"),
    "POST /v1/lookup (stored)": _upload("/v1/lookup", content_id="content-1"),
    "POST /v1/banks/{name}/entries/upload": _upload("/v1/banks/ncii/entries/upload"),
}


@pytest.fixture
def served() -> Iterator[tuple[LoopbackServer, dict[str, bytes]]]:
    """A platform on loopback that serves ``files[path]`` (for hashing by URL)."""
    files: dict[str, bytes] = {}

    def respond(handler: BaseHTTPRequestHandler, request: Received) -> None:
        body = files.get(request.path, b"")
        handler.send_response(200)
        handler.send_header("Content-Type", "application/octet-stream")
        handler.send_header("Content-Length", str(len(body)))
        handler.end_headers()
        handler.wfile.write(body)

    with LoopbackServer(respond) as server:
        yield server, files


@pytest.fixture
def live(make_service: Callable[..., LiveService]) -> LiveService:
    service = make_service(
        max_media_bytes=MAX_MEDIA_BYTES,
        max_image_pixels=MAX_IMAGE_PIXELS,
        fetch_allowed_hosts=["127.0.0.1"],
        outbound_allowed_networks=["127.0.0.1/32"],
    )
    admin = service.client(service.key("admin"))
    assert admin.post("/v1/banks", json={"name": "ncii", "kind": "block"}).status_code == 201
    return service


@pytest.mark.parametrize("case", list(BAD_MEDIA))
def test_bad_media_gets_one_answer_on_every_route(
    case: str, live: LiveService, served: tuple[LoopbackServer, dict[str, bytes]]
) -> None:
    data, expected = BAD_MEDIA[case]
    server, files = served
    files[f"/{case}.jpg"] = data
    url = server.url(f"/{case}.jpg")
    name = f"{case}.jpg"
    client = live.client(live.key("admin"))
    answers: dict[str, tuple[int, str]] = {}
    for route, call in MEDIA_ROUTES.items():
        r = call(client, name, data, url)
        body = r.json()
        answers[route] = (r.status_code, body.get("error"))
        # The message names the content as the caller gave it, never our temporary file.
        given = url if route == "POST /v1/hash/url" else name
        assert body["message"].startswith(f"{given}: "), (route, body["message"])
        assert "upload-" not in body["message"] and "fetch-" not in body["message"], route
    assert answers == dict.fromkeys(MEDIA_ROUTES, expected)
    # Nothing was stored, and no temporary file stayed behind.
    assert client.get("/v1/matches").json()["matches"] == []
    assert client.get("/v1/banks/ncii").json()["entry_counts"] == {}
    uploads = Path(live.settings.data_dir) / "uploads"
    assert not uploads.exists() or list(uploads.iterdir()) == []


#: How each route that takes hashes is called with one signal.
HASH_ROUTES: dict[str, Callable[[httpx.Client, dict[str, str]], httpx.Response]] = {
    "POST /v1/lookup/signals": lambda c, s: c.post("/v1/lookup/signals", json={"signals": [s]}),
    "POST /v1/banks/{name}/entries": lambda c, s: c.post(
        "/v1/banks/ncii/entries", json={"signals": [s]}
    ),
    "POST /v1/ledger": lambda c, s: c.post(
        "/v1/ledger", json={"items": [{"content_id": "hosted-1", "signals": [s]}]}
    ),
}


@pytest.mark.parametrize(
    ("signal", "expected"),
    [
        ({"type": "pdq", "value": "zz"}, (422, "malformed_signal")),
        ({"type": "pdq", "value": "0" * 63 + "g"}, (422, "malformed_signal")),
        ({"type": "md5", "value": "abc"}, (422, "malformed_signal")),
        ({"type": "nonesuch", "value": "00"}, (422, "unknown_signal_type")),
    ],
    ids=["pdq-short", "pdq-not-hex", "md5-short", "unknown-type"],
)
def test_malformed_hash_gets_one_answer_on_every_route(
    live: LiveService, signal: dict[str, str], expected: tuple[int, str]
) -> None:
    client = live.client(live.key("admin"))
    answers = {}
    for route, call in HASH_ROUTES.items():
        r = call(client, signal)
        answers[route] = (r.status_code, r.json().get("error"))
    assert answers == dict.fromkeys(HASH_ROUTES, expected)
    assert client.get("/v1/banks/ncii").json()["entry_counts"] == {}
