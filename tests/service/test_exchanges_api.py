"""The exchanges over the API: configure (admin), list, show and queue a sync (curate); the
service's worker runs the sync against the fake StopNCII; secrets never come back."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator

import pytest

import fake_stopncii
from fake_stopncii import FakeStopNCII
from service_helpers import LiveService
from shieldwall.banks import get_bank
from shieldwall.exchange import RemoteSignal
from shieldwall.exchange.contract import pdq_value


@pytest.fixture
def fake() -> Iterator[FakeStopNCII]:
    fake = fake_stopncii.serve([(RemoteSignal("ImagePDQ", pdq_value(1)), ("c1",))])
    assert fake.server is not None
    with fake.server:
        yield fake


def test_configure_sync_and_remove(
    make_service: Callable[..., LiveService], fake: FakeStopNCII
) -> None:
    service = make_service(outbound_allowed_networks=["127.0.0.0/8"], worker_poll_seconds=0.05)
    admin = service.client(service.key("admin"))
    curator = service.client(service.key("curate"))
    body = {"name": "stopncii", "kind": "stopncii", "settings": fake.settings()}
    assert curator.post("/v1/exchanges", json=body).status_code == 403
    created = admin.post("/v1/exchanges", json=body)
    assert created.status_code == 201, created.text
    assert created.json()["settings"]["fetch_key"] == "********"
    assert fake_stopncii.FETCH_KEY not in created.text
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:  # the service's worker runs the first sync
        shown = curator.get("/v1/exchanges/stopncii").json()
        if shown["last_success_at"]:
            break
        time.sleep(0.05)
    assert shown["added"] == 1 and shown["last_error"] is None
    assert get_bank(service.db, "stopncii").live_signals == 1
    fake.put(RemoteSignal("ImagePDQ", pdq_value(2)))
    queued = curator.post("/v1/exchanges/stopncii/sync")
    assert queued.status_code == 202 and queued.json()["job_id"] > 0
    while time.monotonic() < deadline:
        if curator.get("/v1/exchanges/stopncii").json()["added"] == 2:
            break
        time.sleep(0.05)
    assert [e["name"] for e in curator.get("/v1/exchanges").json()] == ["stopncii"]
    assert get_bank(service.db, "stopncii").live_signals == 2
    assert curator.delete("/v1/exchanges/stopncii").status_code == 403
    assert admin.delete("/v1/exchanges/stopncii").status_code == 204
    assert curator.get("/v1/exchanges/stopncii").status_code == 404


def test_bad_settings_are_a_400_naming_the_field(service: LiveService) -> None:
    admin = service.client(service.key("admin"))
    answer = admin.post(
        "/v1/exchanges", json={"name": "x", "kind": "stopncii", "settings": {"page_size": 0}}
    )
    assert answer.status_code == 400
    assert answer.json()["error"] == "usage_error"
    assert "page_size" in answer.json()["message"]
    unknown = admin.post("/v1/exchanges", json={"name": "x", "kind": "nope"})
    assert unknown.status_code == 400 and "unknown exchange kind" in unknown.json()["message"]
    assert admin.get("/v1/exchanges").json() == []
