"""The HMA-compatible endpoints answer HMA's documented shapes (requests and answers as in
HMA's API docs and blueprints: ``/h/hash`` -> ``{"pdq": ...}``, ``/m/lookup`` ->
``{"BANK": [{"bank_content_id": 1001, "distance": "4"}]}``, ``/m/raw_lookup`` ->
``{"matches": [...]}``, ``/c/banks``, ``/c/bank/<name>/signal|content``), behind our keys and
scopes, with distances only for keys that may read them."""

from __future__ import annotations

from pathlib import Path

from bank_helpers import flip_bits, photo, random_pdq
from service_helpers import LiveService
from shieldwall.banks import create_bank


def test_a_platform_integration_runs_unchanged(service: LiveService, tmp_path: Path) -> None:
    create_bank(service.db, "NCII_BANK", "block")
    curator = service.client(service.key("curate"))
    matcher = service.client(service.key("match,hash"))
    trusted = service.client(service.key("match,read-distances"))
    banks = curator.get("/c/banks")
    assert banks.status_code == 200
    assert banks.json() == [{"name": "NCII_BANK", "matching_enabled_ratio": 1.0}]
    assert curator.get("/c/bank/NCII_BANK").json()["name"] == "NCII_BANK"

    value = random_pdq(1)
    added = curator.post("/c/bank/NCII_BANK/signal", json={"pdq": value})
    assert added.status_code == 201, added.text
    banked = added.json()
    assert banked["signals"] == {"pdq": value} and isinstance(banked["id"], int)
    service.state.refresh()

    near = flip_bits(value, 4)
    answer = matcher.get("/m/lookup", params={"signal_type": "pdq", "signal": near})
    assert answer.status_code == 200
    assert answer.json() == {"NCII_BANK": [{"bank_content_id": banked["id"]}]}  # no distance
    shown = trusted.get("/m/lookup", params={"signal_type": "pdq", "signal": near}).json()
    assert shown == {"NCII_BANK": [{"bank_content_id": banked["id"], "distance": "4"}]}
    far = matcher.get("/m/lookup", params={"signal_type": "pdq", "signal": random_pdq(2)})
    assert far.json() == {}
    other = matcher.get(
        "/m/lookup", params={"signal_type": "pdq", "signal": near, "banks": "OTHER"}
    )
    assert other.json() == {}

    raw = matcher.get("/m/raw_lookup", params={"signal_type": "pdq", "signal": near})
    assert raw.json() == {"matches": [banked["id"]]}
    refused = matcher.get(
        "/m/raw_lookup",
        params={"signal_type": "pdq", "signal": near, "include_distance": "true"},
    )
    assert refused.status_code == 403 and refused.json()["error"] == "forbidden"
    with_distance = trusted.get(
        "/m/raw_lookup",
        params={"signal_type": "pdq", "signal": near, "include_distance": "true"},
    )
    assert with_distance.json() == {"matches": [{"bank_content_id": banked["id"], "distance": "4"}]}

    image = photo(tmp_path, "a.jpg", seed=11)
    hashed = matcher.post("/h/hash", files={"photo": ("a.jpg", image.read_bytes(), "image/jpeg")})
    assert hashed.status_code == 200, hashed.text
    ours = matcher.post(
        "/v1/hash", files={"file": ("a.jpg", image.read_bytes(), "image/jpeg")}
    ).json()
    pdq = next(s["value"] for s in ours["signals"] if s["type"] == "pdq")
    assert hashed.json()["pdq"] == pdq and hashed.json()["video_md5"]

    content = curator.post(
        "/c/bank/NCII_BANK/content", files={"photo": ("a.jpg", image.read_bytes(), "image/jpeg")}
    )
    assert content.status_code == 201, content.text
    assert content.json()["signals"]["pdq"] == pdq
    service.state.refresh()
    looked = matcher.post("/m/lookup", files={"photo": ("b.jpg", image.read_bytes(), "image/jpeg")})
    assert looked.json()["pdq"] == {"NCII_BANK": [{"bank_content_id": content.json()["id"]}]}


def test_keys_scopes_and_errors_keep_our_shape(service: LiveService) -> None:
    create_bank(service.db, "B", "block")
    anonymous = service.client()
    no_key = anonymous.get("/m/lookup", params={"signal_type": "pdq", "signal": random_pdq(1)})
    assert no_key.status_code == 401 and no_key.json()["error"] == "unauthenticated"
    matcher = service.client(service.key("match"))
    assert matcher.post("/c/bank/B/signal", json={"pdq": random_pdq(1)}).status_code == 403
    bad = matcher.get("/m/lookup", params={"signal_type": "pdq", "signal": "zz"})
    assert bad.status_code == 422 and bad.json()["error"] == "malformed_signal"
    unknown = matcher.get("/m/lookup", params={"signal_type": "tlsh", "signal": "ab"})
    assert unknown.status_code == 422 and unknown.json()["error"] == "unknown_signal_type"
    curator = service.client(service.key("curate"))
    assert curator.get("/c/bank/NOPE").status_code == 404
    missing = curator.post("/c/bank/NOPE/signal", json={"pdq": random_pdq(1)})
    assert missing.status_code == 404
