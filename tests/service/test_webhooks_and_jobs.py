"""Over the API: a match stored by a lookup reaches a webhook receiver (signed), sweeps run as
jobs on the service's worker, and hashing by URL refuses what the outbound policy refuses."""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler

import httpx

from http_helpers import LoopbackServer, Received
from service_helpers import LiveService
from shieldwall.hashing import hash_bytes
from shieldwall.media import synthetic
from shieldwall.webhooks import verify_signature

PHOTO = synthetic.encode(synthetic.scene(seed=21))
PDQ = hash_bytes(PHOTO).signals["pdq"]
SIGNAL = {"type": "pdq", "value": PDQ.value}


def _ok(handler: BaseHTTPRequestHandler, _request: Received) -> None:
    handler.send_response(204)
    handler.end_headers()


def _wait(predicate: Callable[[], bool], timeout: float = 120.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.05)
    return False


def test_lookup_match_is_delivered_signed(make_service: Callable[..., LiveService]) -> None:
    live = make_service(outbound_allowed_networks=["127.0.0.1/32"], worker_poll_seconds=0.05)
    admin = live.client(live.key("admin"))
    with LoopbackServer(_ok) as receiver:
        r = admin.post("/v1/webhooks", json={"url": receiver.url("/hook")})
        assert r.status_code == 201, r.text
        secret = r.json()["secret"]
        assert "secret" not in admin.get(f"/v1/webhooks/{r.json()['id']}").json()
        admin.post("/v1/banks", json={"name": "ncii", "kind": "block"})
        admin.post(
            "/v1/banks/ncii/entries", json={"signals": [{"type": "pdq", "value": PDQ.value}]}
        )
        # Without a content id nothing is stored and nothing is sent.
        admin.post("/v1/lookup", files={"file": ("a.jpg", PHOTO, "image/jpeg")})
        r = admin.post(
            "/v1/lookup",
            files={"file": ("a.jpg", PHOTO, "image/jpeg")},
            data={"content_id": "post-42"},
        )
        assert r.json()["matched"] is True
        assert _wait(lambda: len(receiver.received) >= 1)
        time.sleep(0.3)
        assert len(receiver.received) == 1
        delivery = receiver.received[0]
        verify_signature(secret, delivery.headers, delivery.body)
        event = json.loads(delivery.body)
        assert event["type"] == "match.created"
        assert event["data"]["content_id"] == "post-42"
        assert PDQ.value not in delivery.body.decode()  # never a hash value
        assert "distance" not in delivery.body.decode()


def test_sweep_runs_as_a_job(make_service: Callable[..., LiveService]) -> None:
    live = make_service(worker_poll_seconds=0.05)
    admin = live.client(live.key("admin"))
    admin.post(
        "/v1/ledger",
        json={
            "items": [{"content_id": "hosted-1", "signals": [{"type": "pdq", "value": PDQ.value}]}]
        },
    )
    admin.post("/v1/banks", json={"name": "ncii", "kind": "block"})
    admin.post("/v1/banks/ncii/entries", json={"signals": [{"type": "pdq", "value": PDQ.value}]})
    r = admin.post("/v1/sweeps", json={})
    assert r.status_code == 202
    job_id = r.json()["id"]
    assert _wait(lambda: admin.get(f"/v1/jobs/{job_id}").json()["state"] == "done")
    page = admin.get("/v1/matches", params={"content_id": "hosted-1"}).json()
    assert [(m["bank"], m["source"]) for m in page["matches"]] == [("ncii", "sweep")]
    assert admin.get("/v1/jobs").json()["depth"].get("done", 0) >= 1


def test_hash_by_url_is_off_by_default_and_refuses_private_addresses(
    make_service: Callable[..., LiveService],
) -> None:
    live = make_service()
    client = live.client(live.key("hash"))
    with LoopbackServer(_ok) as server:
        r = client.post("/v1/hash/url", json={"url": server.url("/a.jpg")})
        assert (r.status_code, r.json()["error"]) == (403, "fetch_refused")
        assert "disabled" in r.json()["message"]
    on = make_service(fetch_allowed_hosts=["localhost", "127.0.0.1", "169.254.169.254"])
    client = on.client(on.key("hash"))
    for url in (
        "http://127.0.0.1:9/a.jpg",
        "http://localhost:9/a.jpg",
        "http://169.254.169.254/latest/meta-data/",
    ):
        r = client.post("/v1/hash/url", json={"url": url})
        assert (r.status_code, r.json()["error"]) == (403, "fetch_refused"), url
    assert httpx.get(on.url + "/healthz").status_code == 200
