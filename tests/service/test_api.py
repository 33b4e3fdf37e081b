"""The API end to end over real HTTP: banks, entries, lookups, matches, withdrawal, ledger,
errors, health, metrics and the audit."""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import httpx
import pytest
from sqlalchemy import select

from service_helpers import LiveService
from shieldwall.hashing import hash_bytes
from shieldwall.media import synthetic
from shieldwall.store.models import RequestAudit

PHOTO = synthetic.encode(synthetic.scene(seed=11))
COPY = synthetic.encode(synthetic.scene(seed=11), quality=45)
OTHER = synthetic.encode(synthetic.scene(seed=12))
PDQ = hash_bytes(PHOTO).signals["pdq"]


def _bank(admin: httpx.Client, name: str = "ncii", kind: str = "block") -> None:
    r = admin.post("/v1/banks", json={"name": name, "kind": kind})
    assert r.status_code == 201, r.text
    assert r.json()["name"] == name


def test_bank_entry_lookup_and_withdraw(service: LiveService, admin: httpx.Client) -> None:
    _bank(admin)
    r = admin.post(
        "/v1/banks/ncii/entries",
        json={
            "signals": [{"type": "pdq", "value": PDQ.value, "quality": PDQ.quality}],
            "external_ids": ["case-1"],
            "provenance": "victim",
        },
    )
    assert r.status_code == 201, r.text
    entry = r.json()
    assert entry["external_ids"] == {"case-1": "active"}

    matcher = service.client(service.key("match"))
    # The very next lookup sees the new entry (no follow interval to wait for).
    r = matcher.post("/v1/lookup", files={"file": ("copy.jpg", COPY, "image/jpeg")})
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["matched"] is True
    assert body["banks"][0]["bank"] == "ncii"
    hit = body["banks"][0]["hits"][0]
    assert hit["entry_id"] == entry["id"]
    assert "distance" not in hit  # no read-distances scope: never a distance
    assert body["stored"] is False

    r = matcher.post("/v1/lookup", files={"file": ("other.jpg", OTHER, "image/jpeg")})
    assert r.json()["matched"] is False and r.json()["banks"] == []

    # With read-distances the distance is shown.
    r = admin.post("/v1/lookup/signals", json={"signals": [{"type": "pdq", "value": PDQ.value}]})
    assert r.json()["banks"][0]["hits"][0]["distance"] == 0

    # With a content id the match is stored and listed.
    r = matcher.post(
        "/v1/lookup",
        files={"file": ("copy.jpg", COPY, "image/jpeg")},
        data={"content_id": "upload-1"},
    )
    assert r.json()["stored"] is True
    reviewer = service.client(service.key("review"))
    page = reviewer.get("/v1/matches", params={"content_id": "upload-1"}).json()
    assert [(m["bank"], m["entry_id"]) for m in page["matches"]] == [("ncii", entry["id"])]
    assert "distance" not in page["matches"][0]

    r = admin.post("/v1/withdrawals", json={"external_ids": ["case-1"]})
    assert r.status_code == 200
    assert r.json()[0]["withdrawn_entries"] == [entry["id"]]
    r = matcher.post("/v1/lookup", files={"file": ("copy.jpg", COPY, "image/jpeg")})
    assert r.json()["matched"] is False


def test_allow_bank_suppresses(service: LiveService, admin: httpx.Client) -> None:
    _bank(admin, "ncii")
    _bank(admin, "memes", "allow")
    signal = {"type": "pdq", "value": PDQ.value}
    for bank in ("ncii", "memes"):
        r = admin.post(f"/v1/banks/{bank}/entries", json={"signals": [signal]})
        assert r.status_code == 201
    body = admin.post("/v1/lookup/signals", json={"signals": [signal]}).json()
    assert body["matched"] is False
    assert body["allowed_by"] == ["memes"]


def test_bank_upload_and_patch(service: LiveService, admin: httpx.Client) -> None:
    _bank(admin)
    r = admin.post(
        "/v1/banks/ncii/entries/upload",
        files={"file": ("p.jpg", PHOTO, "image/jpeg")},
        data={"external_ids": "c-1, c-2", "provenance": "victim"},
    )
    assert r.status_code == 201, r.text
    assert {s["type"] for s in r.json()["signals"]} == {"pdq", "md5", "sha256"}
    assert set(r.json()["external_ids"]) == {"c-1", "c-2"}
    r = admin.patch("/v1/banks/ncii", json={"enabled": False, "thresholds": {"pdq": 10}})
    assert r.json()["enabled"] is False and r.json()["thresholds"] == {"pdq": 10}
    body = admin.post("/v1/lookup", files={"file": ("c.jpg", PHOTO, "image/jpeg")}).json()
    assert body["matched"] is False  # the bank is disabled
    admin.patch("/v1/banks/ncii", json={"enabled": True})
    body = admin.post("/v1/lookup", files={"file": ("c.jpg", PHOTO, "image/jpeg")}).json()
    assert body["matched"] is True
    assert {h["signal_type"] for h in body["banks"][0]["hits"]} >= {"pdq", "md5"}
    assert admin.delete("/v1/banks/ncii").status_code == 204
    assert admin.get("/v1/banks/ncii").status_code == 404


def test_errors_have_one_shape_and_write_nothing(service: LiveService, admin: httpx.Client) -> None:
    _bank(admin)
    r = admin.post("/v1/banks/ncii/entries", json={"signals": [{"type": "pdq", "value": "zz"}]})
    assert r.status_code == 422
    assert r.json()["error"] == "malformed_signal"
    assert set(r.json()) >= {"error", "message", "request_id"}
    low = {"type": "pdq", "value": PDQ.value, "quality": 10}
    r = admin.post("/v1/banks/ncii/entries", json={"signals": [low]})
    assert (r.status_code, r.json()["error"]) == (422, "low_quality_signal")
    r = admin.post("/v1/banks/nope/entries", json={"signals": [{"type": "md5", "value": "0" * 32}]})
    assert (r.status_code, r.json()["error"]) == (404, "not_found")
    r = admin.post("/v1/banks", json={"name": "ncii", "kind": "block"})
    assert (r.status_code, r.json()["error"]) == (409, "conflict")
    r = admin.post("/v1/banks", json={"kind": "block"})
    assert r.status_code == 422
    assert r.json()["error"] == "validation_error"
    assert [f["field"] for f in r.json()["fields"]] == ["body.name"]
    r = admin.post("/v1/lookup", files={"file": ("t.jpg", b"not an image at all", "image/jpeg")})
    assert r.status_code in (415, 422)
    assert "t.jpg" in r.json()["message"]
    assert "upload-" not in r.json()["message"]
    r = admin.post("/v1/lookup", files={"file": ("e.jpg", b"", "image/jpeg")})
    assert (r.status_code, r.json()["error"]) == (422, "empty_media")
    r = admin.post("/v1/withdrawals", json={"external_ids": ["no-such-case"]})
    assert r.status_code == 404
    assert admin.get("/v1/banks/ncii").json()["entry_counts"] == {}
    r = admin.get("/v1/nowhere")
    assert (r.status_code, r.json()["error"]) == (404, "not_found")


def test_body_limit(make_service: Callable[..., LiveService]) -> None:
    live = make_service(api_max_body_bytes=10_000, api_max_json_bytes=5_000)
    client = live.client(live.key("hash"))
    r = client.post("/v1/hash", files={"file": ("big.jpg", b"\xff" * 20_000, "image/jpeg")})
    assert r.status_code == 413
    assert r.json()["error"] == "request_too_large"

    def chunks() -> Iterator[bytes]:  # no Content-Length: the limit is counted while reading
        for _ in range(3):
            yield b"x" * 2000

    r = client.post(
        "/v1/lookup/signals", content=chunks(), headers={"content-type": "application/json"}
    )
    assert r.status_code == 413


def test_hash_endpoint(service: LiveService) -> None:
    client = service.client(service.key("hash"))
    r = client.post("/v1/hash", files={"file": ("p.jpg", PHOTO, "image/jpeg")})
    assert r.status_code == 200
    signals = {s["type"]: s for s in r.json()["signals"]}
    assert signals["pdq"]["value"] == PDQ.value
    assert r.json()["content_type"] == "photo"


def test_ledger(service: LiveService, admin: httpx.Client) -> None:
    item = {"content_id": "post-1", "signals": [{"type": "pdq", "value": PDQ.value}]}
    r = admin.post("/v1/ledger", json={"items": [item]})
    assert r.json() == {"count": 1}
    bad = {"content_id": "post-2", "signals": [{"type": "pdq", "value": "00"}]}
    r = admin.post("/v1/ledger", json={"items": [item, bad]})
    assert r.status_code == 422  # validated before anything is written
    assert admin.delete("/v1/ledger/post-1").json() == {"count": 1}
    assert admin.delete("/v1/ledger/post-2").json() == {"count": 0}


def test_health_metrics_and_audit(service: LiveService, admin: httpx.Client) -> None:
    client = service.client()
    assert client.get("/healthz").json()["status"] == "ok"
    ready = client.get("/readyz")
    assert ready.status_code == 200 and ready.json()["status"] == "ready"
    _bank(admin)
    admin.post("/v1/banks/ncii/entries", json={"signals": [{"type": "pdq", "value": PDQ.value}]})
    admin.post("/v1/lookup/signals", json={"signals": [{"type": "pdq", "value": PDQ.value}]})
    text = client.get("/metrics").text
    created = 'shieldwall_http_requests_total{method="POST",route="/v1/banks",status="201"}'
    assert f"{created} 1.0" in text
    assert 'shieldwall_lookups_total{matched="true"} 1.0' in text
    assert "shieldwall_index_signals 1.0" in text
    assert "shieldwall_sync_lag_entries 0.0" in text

    assert service.state.audit is not None
    service.state.audit.flush()
    with service.db.session() as session:
        rows = list(session.scalars(select(RequestAudit).order_by(RequestAudit.id)))
    routes = [(r.method, r.route, r.status) for r in rows]
    assert ("POST", "/v1/banks", 201) in routes
    assert ("POST", "/v1/lookup/signals", 200) in routes
    assert all(r.key_id is not None for r in rows)
    for r in rows:  # never a hash value
        assert PDQ.value not in " ".join(str(v) for v in vars(r).values())


@pytest.mark.parametrize("path", ["/openapi.json", "/docs"])
def test_docs_are_served(service: LiveService, path: str) -> None:
    # making the schema takes seconds on a loaded machine: more than httpx's default 5 s
    assert httpx.get(service.url + path, timeout=120).status_code == 200


def test_scan_endpoint(service: LiveService) -> None:
    client = service.client(service.key("scan"))
    roop = "python run.py -s face.jpg -t clip.mp4 -o out.mp4 --frame-processor face_swapper"
    r = client.post("/v1/scan", data={"commands": [roop]})
    assert r.status_code == 200, r.text
    assert r.json()["verdict"] in ("warn", "block")
    script = b"import torch\nmodel = torch.nn.Linear(2, 2)\nprint(model)\n"
    r = client.post("/v1/scan", files=[("files", ("train.py", script, "text/x-python"))])
    assert r.status_code == 200
    assert r.json()["verdict"] == "allow"
    r = client.post("/v1/scan", data={})
    assert (r.status_code, r.json()["error"]) == (400, "usage_error")


def test_bank_signals_listing(service: LiveService, admin: httpx.Client) -> None:
    _bank(admin)
    first = admin.post(
        "/v1/banks/ncii/entries",
        json={"signals": [{"type": "pdq", "value": PDQ.value}], "external_ids": ["c-1"]},
    ).json()
    admin.post("/v1/banks/ncii/entries", json={"signals": [{"type": "md5", "value": "a" * 32}]})
    page = admin.get("/v1/banks/ncii/signals").json()
    assert [(s["type"], s["entry_id"]) for s in page["signals"]] == [
        ("pdq", first["id"]),
        ("md5", first["id"] + 1),
    ]
    assert (
        admin.get("/v1/banks/ncii/signals", params={"type": "md5"}).json()["signals"][0]["value"]
        == "a" * 32
    )
    paged = admin.get("/v1/banks/ncii/signals", params={"limit": 1}).json()
    assert len(paged["signals"]) == 1 and paged["next_after_id"] == page["signals"][0]["id"]
    admin.post("/v1/withdrawals", json={"external_ids": ["c-1"]})
    live = admin.get("/v1/banks/ncii/signals").json()["signals"]
    assert [s["type"] for s in live] == ["md5"]
    every = admin.get("/v1/banks/ncii/signals", params={"include_removed": True}).json()
    assert [s["live"] for s in every["signals"]] == [False, True]
    assert admin.get("/v1/banks/nope/signals").status_code == 404
    r = admin.get("/v1/banks/ncii/signals", params={"type": "nosuch"})
    assert (r.status_code, r.json()["error"]) == (422, "unknown_signal_type")


def test_stale_uploads_of_a_killed_process_are_removed_at_start(
    make_service: Callable[..., LiveService], tmp_path: Path
) -> None:
    folder = tmp_path / "data" / "uploads"
    folder.mkdir(parents=True)
    stale, fresh, other = folder / "upload-old", folder / "upload-new", folder / "keep.txt"
    for p in (stale, fresh, other):
        p.write_bytes(b"x")
    two_hours_ago = time.time() - 7200
    os.utime(stale, (two_hours_ago, two_hours_ago))
    make_service()
    assert sorted(p.name for p in folder.iterdir()) == ["keep.txt", "upload-new"]


def test_nul_characters_are_refused_on_every_database(
    service: LiveService, admin: httpx.Client
) -> None:
    _bank(admin)
    r = admin.post("/v1/withdrawals", json={"external_ids": ["case\u0000x"]})
    assert (r.status_code, r.json()["error"]) == (422, "invalid_text")
    r = admin.get("/v1/matches", params={"content_id": "a\u0000b"})
    assert (r.status_code, r.json()["error"]) == (422, "invalid_text")
    # In a multipart text field the database's refusal is mapped (PostgreSQL), or it is stored
    # as given (SQLite): never a 500.
    admin.post("/v1/banks/ncii/entries", json={"signals": [{"type": "pdq", "value": PDQ.value}]})
    r = admin.post(
        "/v1/lookup",
        files={"file": ("c.jpg", COPY, "image/jpeg")},
        data={"content_id": "post\u0000x"},
    )
    if service.db.dialect == "postgresql":
        assert (r.status_code, r.json()["error"]) == (422, "invalid_value"), r.text
    else:
        assert r.status_code == 200 and r.json()["stored"] is True
    assert admin.get("/v1/banks/ncii").status_code == 200


def test_bank_reads_are_events_of_the_audit_chain(
    service: LiveService, admin: httpx.Client
) -> None:
    from shieldwall.audit import list_events, verify

    _bank(admin)
    entry = admin.post(
        "/v1/banks/ncii/entries", json={"signals": [{"type": "pdq", "value": PDQ.value}]}
    ).json()
    curator_key = service.key("curate")
    curator = service.client(curator_key)
    prefix = curator_key.split("_")[1]
    page = curator.get("/v1/banks/ncii/signals").json()
    assert [s["value"] for s in page["signals"]] == [PDQ.value]
    assert curator.get(f"/v1/entries/{entry['id']}").status_code == 200
    reads = [e for e in list_events(service.db, limit=1000) if e.action == "bank.read"]
    assert [(e.actor, e.subject, e.details["route"]) for e in reads] == [
        (f"key:{prefix}", "bank:ncii", "signals"),
        (f"key:{prefix}", "bank:ncii", "entry"),
    ]
    assert reads[0].details["count"] == 1
    assert PDQ.value not in str(reads)  # the event names the read, never the hash values
    assert verify(service.db) is None
