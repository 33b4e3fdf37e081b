"""Webhooks: CRUD, signatures, match events, and deliveries to a real receiver on loopback
(which checks every signature with ``verify_signature``), retried and dead-lettered."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler

import pytest

from bank_helpers import flip_bits, pdq, random_pdq
from http_helpers import LoopbackServer, Received, answer
from shieldwall.banks import BankKind, add_entry, create_bank
from shieldwall.config import Settings
from shieldwall.errors import NotFound, UsageError, WebhookSignatureError
from shieldwall.jobs import JobState, Worker, enqueue, get_job, list_jobs
from shieldwall.matching import BankMatch, add_to_ledger
from shieldwall.store import Database
from shieldwall.webhooks import (
    create_webhook,
    delete_webhook,
    event_body,
    get_webhook,
    list_webhooks,
    match_event,
    notify_matches,
    sign,
    update_webhook,
    verify_signature,
)
from shieldwall.worker import builtin_handlers

SECRET = "s3cret-s3cret-s3cret"
LOOPBACK = Settings.load(
    outbound_allowed_networks=["127.0.0.1/32"],
    job_backoff_seconds=0.01,
    job_backoff_max_seconds=0.05,
    webhook_max_attempts=3,
    webhook_timeout_seconds=60,
)
MATCHES = [
    BankMatch("ncii", BankKind.BLOCK, 7, 70, "pdq", 12),
    BankMatch("ncii", BankKind.BLOCK, 8, 80, "md5", 0),
]


class Receiver:
    """A webhook receiver that verifies signatures and answers ``status`` when they hold."""

    def __init__(self, secret: str, status: int = 200) -> None:
        self.secret = secret
        self.status = status
        self.verified: list[Received] = []
        self.rejected: list[str] = []
        self.seen_deliveries: set[str] = set()
        self.lock = threading.Lock()

    def __call__(self, handler: BaseHTTPRequestHandler, request: Received) -> None:
        try:
            verify_signature(self.secret, request.headers, request.body)
        except WebhookSignatureError as exc:
            with self.lock:
                self.rejected.append(exc.message)
            answer(handler, 401)
            return
        with self.lock:
            self.verified.append(request)
            self.seen_deliveries.add(request.headers["Shieldwall-Delivery"])
        answer(handler, self.status)


@pytest.fixture
def receiver() -> Iterator[tuple[Receiver, LoopbackServer]]:
    rec = Receiver(SECRET)
    with LoopbackServer(rec) as server:
        yield rec, server


def _drain(db: Database, settings: Settings, until: int, timeout: float = 120) -> None:
    """Run a worker until job ``until`` is done or dead (retries included)."""
    worker = Worker(db, settings=settings, handlers=builtin_handlers(settings))
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if get_job(db, until).state in (JobState.DONE, JobState.DEAD):
            return
        if worker.run_once() is None:
            time.sleep(0.02)
    raise AssertionError(f"job {until} still {get_job(db, until).state}")


# -- CRUD --------------------------------------------------------------------------------------


def test_crud(db: Database) -> None:
    hook, secret = create_webhook(db, "https://platform.example/hooks", ["match.created"])
    assert secret.startswith("whsec_") and len(secret) > 40
    given, same = create_webhook(db, "http://other.example/h", ["*"], SECRET, description="b")
    assert same == SECRET
    assert [h.id for h in list_webhooks(db)] == [hook.id, given.id]
    assert get_webhook(db, hook.id).events == ["match.created"]
    changed = update_webhook(db, hook.id, enabled=False, url="https://platform.example/v2")
    assert (changed.enabled, changed.url) == (False, "https://platform.example/v2")
    delete_webhook(db, hook.id)
    with pytest.raises(NotFound, match=f"no webhook {hook.id}"):
        get_webhook(db, hook.id)
    with pytest.raises(NotFound):
        delete_webhook(db, hook.id)
    for url, events, sec, reason in [
        ("ftp://x.example/", ["match.created"], None, "http"),
        ("https://u:p@x.example/", ["match.created"], None, "credentials"),
        ("https://x.example/", [], None, "at least one event"),
        ("https://x.example/", ["match.deleted"], None, "unknown event type"),
        ("https://x.example/", ["match.created"], "short", "secret"),
    ]:
        with pytest.raises(UsageError, match=reason):
            create_webhook(db, url, events, sec)


# -- signatures --------------------------------------------------------------------------------


def _signed(body: bytes, secret: str = SECRET, at: int = 1_800_000_000) -> dict[str, str]:
    return {"Shieldwall-Timestamp": str(at), "Shieldwall-Signature": sign(secret, at, body)}


def test_verify_signature() -> None:
    body = b'{"id":"evt_1"}'
    now = 1_800_000_000
    verify_signature(SECRET, _signed(body), body, now=now + 299)
    lower = {k.lower(): v for k, v in _signed(body).items()}
    verify_signature(SECRET, lower, body, now=now)
    rotated = _signed(body)
    rotated["Shieldwall-Signature"] = f"v1={'0' * 64}, {rotated['Shieldwall-Signature']}"
    verify_signature(SECRET, rotated, body, now=now)
    cases = [
        (_signed(body, secret="another-secret-xx"), body, now, "does not match"),
        (_signed(body), body + b" ", now, "does not match"),
        (_signed(body), body, now + 301, "stale or replayed"),
        (_signed(body), body, now - 301, "stale or replayed"),
        ({"Shieldwall-Timestamp": str(now)}, body, now, "missing"),
        ({**_signed(body), "Shieldwall-Timestamp": "soon"}, body, now, "not an integer"),
    ]
    for headers, sent, at, reason in cases:
        with pytest.raises(WebhookSignatureError, match=reason):
            verify_signature(SECRET, headers, sent, now=at)


def test_signature_is_hmac_sha256_of_timestamp_and_body() -> None:
    import hashlib
    import hmac

    expected = hmac.new(b"k" * 16, b"123.body", hashlib.sha256).hexdigest()
    assert sign("k" * 16, 123, b"body") == f"v1={expected}"


# -- events ------------------------------------------------------------------------------------


def test_match_events_carry_no_hashes_or_distances() -> None:
    event = match_event("post-1", MATCHES)
    assert event["type"] == "match.created" and event["id"].startswith("evt_")
    assert event["data"] == {
        "content_id": "post-1",
        "matches": [
            {"bank": "ncii", "entry_id": 7, "signal_type": "pdq"},
            {"bank": "ncii", "entry_id": 8, "signal_type": "md5"},
        ],
    }
    assert b"distance" not in event_body(event)
    assert event["created"].endswith("Z")


def test_notify_matches_queues_one_delivery_per_subscribed_enabled_webhook(db: Database) -> None:
    a, _ = create_webhook(db, "https://a.example/", ["match.created"], SECRET)
    b, _ = create_webhook(db, "https://b.example/", ["*"], SECRET)
    off, _ = create_webhook(db, "https://c.example/", ["*"], SECRET, enabled=False)
    assert notify_matches(db, "post-1", [], settings=LOOPBACK) == []
    jobs = notify_matches(db, "post-1", MATCHES, settings=LOOPBACK)
    assert len(jobs) == 2
    queued = list_jobs(db, kind="webhook.deliver")
    assert sorted(j.payload["webhook_id"] for j in queued) == [a.id, b.id]
    assert {j.payload["event"]["id"] for j in queued} == {queued[0].payload["event"]["id"]}
    assert all(j.max_attempts == 3 for j in queued)
    assert off.id not in {j.payload["webhook_id"] for j in queued}


# -- delivery to a real receiver -----------------------------------------------------------------


def test_delivery_is_signed_and_verified_by_the_receiver(
    db: Database, receiver: tuple[Receiver, LoopbackServer]
) -> None:
    rec, server = receiver
    create_webhook(db, server.url("/hook"), ["match.created"], SECRET)
    (job_id,) = notify_matches(db, "post-1", MATCHES, settings=LOOPBACK)
    before = int(time.time())
    _drain(db, LOOPBACK, job_id)
    after = time.time()
    assert get_job(db, job_id).state is JobState.DONE
    assert rec.rejected == []
    (got,) = rec.verified
    event = json.loads(got.body)
    assert got.method == "POST" and got.path == "/hook"
    assert got.headers["Shieldwall-Event"] == "match.created"
    assert got.headers["Shieldwall-Delivery"] == event["id"]
    assert got.headers["Content-Type"] == "application/json"
    assert event["data"]["content_id"] == "post-1"
    assert before <= int(got.headers["Shieldwall-Timestamp"]) <= after  # the time of sending


def test_failing_receiver_gets_retries_then_dead_letter(db: Database) -> None:
    rec = Receiver(SECRET, status=500)
    with LoopbackServer(rec) as server:
        create_webhook(db, server.url("/hook"), ["match.created"], SECRET)
        (job_id,) = notify_matches(db, "post-1", MATCHES, settings=LOOPBACK)
        _drain(db, LOOPBACK, job_id)
    dead = get_job(db, job_id)
    assert dead.state is JobState.DEAD and dead.attempts == 3
    assert dead.last_error is not None and "answered 500" in dead.last_error
    assert len(rec.verified) == 3  # every retry signed afresh and valid
    assert len(rec.seen_deliveries) == 1  # the same delivery id: receivers can deduplicate


def test_deliveries_follow_the_address_policy(
    db: Database, receiver: tuple[Receiver, LoopbackServer]
) -> None:
    rec, server = receiver
    create_webhook(db, server.url("/hook"), ["match.created"], SECRET)
    strict = Settings.load(job_backoff_seconds=0.01, webhook_max_attempts=3)
    (job_id,) = notify_matches(db, "post-1", MATCHES, settings=strict)
    _drain(db, strict, job_id)
    dead = get_job(db, job_id)
    assert dead.state is JobState.DEAD and dead.attempts == 1  # refused: not retried
    assert dead.last_error is not None and "loopback" in dead.last_error
    assert rec.verified == [] and server.received == []


def test_deleted_or_disabled_webhook_is_skipped(
    db: Database, receiver: tuple[Receiver, LoopbackServer]
) -> None:
    _rec, server = receiver
    gone, _ = create_webhook(db, server.url("/a"), ["*"], SECRET)
    off, _ = create_webhook(db, server.url("/b"), ["*"], SECRET)
    jobs = notify_matches(db, "post-1", MATCHES, settings=LOOPBACK)
    delete_webhook(db, gone.id)
    update_webhook(db, off.id, enabled=False)
    for job_id in jobs:
        _drain(db, LOOPBACK, job_id)
        assert get_job(db, job_id).state is JobState.DONE
    assert server.received == []


def test_sweep_job_emits_match_events(
    db: Database, receiver: tuple[Receiver, LoopbackServer]
) -> None:
    rec, server = receiver
    create_webhook(db, server.url("/hook"), ["match.created"], SECRET)
    create_bank(db, "ncii", "block")
    value = random_pdq(1)
    add_to_ledger(db, [("post-copy", [pdq(flip_bits(value, 10))]), ("other", [pdq(random_pdq(9))])])
    entry = add_entry(db, "ncii", [pdq(value)], external_ids=["case-1"])
    sweep_id = enqueue(db, "sweep", {}, settings=LOOPBACK)
    _drain(db, LOOPBACK, sweep_id)
    assert get_job(db, sweep_id).state is JobState.DONE
    (delivery,) = list_jobs(db, kind="webhook.deliver")
    _drain(db, LOOPBACK, delivery.id)
    (got,) = rec.verified
    assert json.loads(got.body)["data"] == {
        "content_id": "post-copy",
        "matches": [{"bank": "ncii", "entry_id": entry.id, "signal_type": "pdq"}],
    }
    assert value.encode() not in got.body
