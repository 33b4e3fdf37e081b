"""Webhooks: receivers of match events, called back with a signed POST by the job queue.

A delivery is a ``webhook.deliver`` job: retried with backoff when the receiver fails, and
dead-lettered after ``SHIELDWALL_WEBHOOK_MAX_ATTEMPTS``. Every attempt is signed afresh::

    Shieldwall-Event:      match.created
    Shieldwall-Delivery:   evt_...          (the event id: the same on every retry)
    Shieldwall-Timestamp:  1795000000       (Unix seconds of this attempt)
    Shieldwall-Signature:  v1=<hex HMAC-SHA256(secret, f"{timestamp}.{body}")>

Events never carry hash values or distances: only the content id, and per match the bank,
the entry id and the signal type. See docs/webhooks.md.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import secrets
import time
import uuid
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol
from urllib.parse import urlsplit

from sqlalchemy import select
from sqlalchemy.orm import Session

from shieldwall.config import Settings, get_settings
from shieldwall.errors import (
    FetchError,
    FetchRefused,
    NotFound,
    UsageError,
    WebhookDeliveryFailed,
    WebhookSignatureError,
)
from shieldwall.jobs import Job, get_job, job_record
from shieldwall.net.fetch import post
from shieldwall.net.policy import AddressPolicy, Resolver, check_saved_url
from shieldwall.store import Database, JobRecord, WebhookRecord, utcnow

__all__ = [
    "CONTENT_ACTION",
    "DELIVER_KIND",
    "EVENT_TYPES",
    "MATCH_CREATED",
    "SIGNATURE_VERSION",
    "TEST_EVENT",
    "MatchLike",
    "Webhook",
    "action_event",
    "create_webhook",
    "delete_webhook",
    "deliver",
    "event_body",
    "get_webhook",
    "list_webhooks",
    "match_event",
    "notify_matches",
    "queue_event",
    "recent_deliveries",
    "send_test",
    "sign",
    "update_webhook",
    "verify_signature",
]

MATCH_CREATED = "match.created"
#: Every event type a webhook can subscribe to; ``*`` subscribes to all.
#: A case decision acted on content (remove, restrict, label) or an appeal reversed it.
CONTENT_ACTION = "content.action"
EVENT_TYPES = frozenset({MATCH_CREATED, CONTENT_ACTION})
DELIVER_KIND = "webhook.deliver"
#: The type of the event a test delivery sends (a receiver should answer 2xx and ignore it).
TEST_EVENT = "webhook.test"
SIGNATURE_VERSION = "v1"
_MIN_SECRET = 16

log = logging.getLogger("shieldwall.webhooks")


@dataclass(frozen=True, slots=True)
class Webhook:
    """A webhook as shown (its secret is shown once, when created or rotated)."""

    id: int
    url: str
    events: list[str]
    enabled: bool
    description: str
    created_at: datetime
    updated_at: datetime


class MatchLike(Protocol):
    """What an event says of a match (a :class:`~shieldwall.matching.BankMatch` or a
    :class:`~shieldwall.matching.StoredMatch`)."""

    @property
    def bank(self) -> str: ...
    @property
    def entry_id(self) -> int | None: ...
    @property
    def signal_type(self) -> str: ...


def _webhook(r: WebhookRecord) -> Webhook:
    return Webhook(r.id, r.url, list(r.events), r.enabled, r.description, r.created_at,
                   r.updated_at)  # fmt: skip


def _check_url(url: str) -> str:
    try:
        parts = urlsplit(url)
    except ValueError as exc:
        raise UsageError(f"invalid webhook URL {url!r}: {exc}") from exc
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise UsageError(f"invalid webhook URL {url!r}: give an http(s) URL with a host")
    if parts.username is not None or parts.password is not None:
        raise UsageError(f"invalid webhook URL {url!r}: no credentials in the URL")
    if len(url) > 2048:
        raise UsageError("invalid webhook URL: longer than 2048 characters")
    return url


def _check_events(events: Iterable[str]) -> list[str]:
    chosen = sorted(set(events))
    if not chosen:
        raise UsageError("a webhook needs at least one event type")
    unknown = [e for e in chosen if e != "*" and e not in EVENT_TYPES]
    if unknown:
        raise UsageError(
            f"unknown event type(s) {', '.join(unknown)}; known: {', '.join(sorted(EVENT_TYPES))}"
            " or *"
        )
    return chosen


def _check_secret(secret: str) -> str:
    if len(secret) < _MIN_SECRET or len(secret) > 200:
        raise UsageError(f"a webhook secret must have {_MIN_SECRET} to 200 characters")
    return secret


def create_webhook(
    db: Database,
    url: str,
    events: Iterable[str],
    secret: str | None = None,
    *,
    description: str = "",
    enabled: bool = True,
    settings: Settings | None = None,
    resolver: Resolver | None = None,
) -> tuple[Webhook, str]:
    """Register a receiver of ``events`` at ``url``; returns it and its signing secret
    (generated when not given: show it once, it is not shown again). With ``settings`` (the
    API, the console), the URL is checked against the outbound policy now."""
    secret = _check_secret(secret) if secret is not None else "whsec_" + secrets.token_urlsafe(32)
    _check_url(url)
    if settings is not None:
        check_saved_url(url, settings.outbound_allowed_networks, "webhook URL", resolver)
    record = WebhookRecord(
        url=url,
        secret=secret,
        events=_check_events(events),
        enabled=enabled,
        description=description,
    )
    with db.transaction() as session:
        session.add(record)
        session.flush()
        return _webhook(record), secret


def list_webhooks(db: Database) -> list[Webhook]:
    """Every webhook, in id order."""
    with db.session() as session:
        return [_webhook(r) for r in session.scalars(select(WebhookRecord).order_by("id"))]


def get_webhook(db: Database, webhook_id: int) -> Webhook:
    """One webhook; :class:`NotFound` if there is none with that id."""
    with db.session() as session:
        record = session.get(WebhookRecord, webhook_id)
        if record is None:
            raise NotFound(f"no webhook {webhook_id}")
        return _webhook(record)


def update_webhook(
    db: Database,
    webhook_id: int,
    *,
    url: str | None = None,
    events: Iterable[str] | None = None,
    enabled: bool | None = None,
    description: str | None = None,
    secret: str | None = None,
    settings: Settings | None = None,
    resolver: Resolver | None = None,
) -> Webhook:
    """Change what is given; a new ``secret`` signs every later attempt (rotation). With
    ``settings``, a new URL is checked against the outbound policy now."""
    if url is not None:
        _check_url(url)
        if settings is not None:
            check_saved_url(url, settings.outbound_allowed_networks, "webhook URL", resolver)
    with db.transaction() as session:
        record = session.get(WebhookRecord, webhook_id)
        if record is None:
            raise NotFound(f"no webhook {webhook_id}")
        if url is not None:
            record.url = url
        if events is not None:
            record.events = _check_events(events)
        if enabled is not None:
            record.enabled = enabled
        if description is not None:
            record.description = description
        if secret is not None:
            record.secret = _check_secret(secret)
        session.flush()
        return _webhook(record)


def delete_webhook(db: Database, webhook_id: int) -> None:
    """Remove a webhook; its pending deliveries are dropped when their turn comes."""
    with db.transaction() as session:
        record = session.get(WebhookRecord, webhook_id)
        if record is None:
            raise NotFound(f"no webhook {webhook_id}")
        session.delete(record)


# -- events ------------------------------------------------------------------------------------


def match_event(
    content_id: str, matches: Sequence[MatchLike], *, now: datetime | None = None
) -> dict[str, Any]:
    """The ``match.created`` event of ``content_id``: bank, entry id and signal type of each
    match, never a hash value or a distance."""
    return {
        "id": f"evt_{uuid.uuid4().hex}",
        "type": MATCH_CREATED,
        "created": (now or utcnow()).isoformat().replace("+00:00", "Z"),
        "data": {
            "content_id": content_id,
            "matches": [
                {"bank": m.bank, "entry_id": m.entry_id, "signal_type": m.signal_type}
                for m in matches
            ],
        },
    }


def action_event(
    tracking_number: str,
    content_id: str,
    action: str,
    ground: str,
    *,
    reversed_: bool = False,
    statement: Mapping[str, Any] | None = None,
    now: datetime | None = None,
) -> dict[str, Any]:
    """The ``content.action`` event: a case decided to ``action`` (``remove``, ``restrict``,
    ``label``) ``content_id`` on ``ground`` (``law`` or ``terms``), or an upheld appeal
    reversed that (``reversed: true``). ``statement``, the statement of reasons for the
    uploader (with the appeal code and link), is passed on as ``statement_of_reasons`` for the
    platform to forward (DSA Art. 17). Never a hash value or the reporter's identity."""
    data: dict[str, Any] = {
        "case": tracking_number,
        "content_id": content_id,
        "action": action,
        "ground": ground,
        "reversed": reversed_,
    }
    if statement is not None:
        data["statement_of_reasons"] = dict(statement)
    return {
        "id": f"evt_{uuid.uuid4().hex}",
        "type": CONTENT_ACTION,
        "created": (now or utcnow()).isoformat().replace("+00:00", "Z"),
        "data": data,
    }


def queue_event(session: Session, event: Mapping[str, Any], settings: Settings) -> list[int]:
    """Queue one ``webhook.deliver`` job of ``event`` per enabled webhook subscribed to its
    type, in the caller's transaction; returns the job ids."""
    hooks = [
        h
        for h in session.scalars(select(WebhookRecord).where(WebhookRecord.enabled))
        if event["type"] in h.events or "*" in h.events
    ]
    records = [
        job_record(
            DELIVER_KIND,
            {"webhook_id": h.id, "event": dict(event)},
            max_attempts=settings.webhook_max_attempts,
        )
        for h in hooks
    ]
    session.add_all(records)
    session.flush()
    return [r.id for r in records]


def event_body(event: Mapping[str, Any]) -> bytes:
    """The exact bytes POSTed (and signed) for ``event``: compact JSON, keys sorted."""
    return json.dumps(event, separators=(",", ":"), sort_keys=True, ensure_ascii=False).encode()


def notify_matches(
    db: Database,
    content_id: str,
    matches: Sequence[MatchLike],
    *,
    settings: Settings | None = None,
) -> list[int]:
    """Queue one ``webhook.deliver`` job per enabled webhook subscribed to ``match.created``
    (in one transaction); returns the job ids (none when nothing matched or nobody listens)."""
    if not matches:
        return []
    settings = settings or get_settings()
    event = match_event(content_id, matches)
    with db.transaction() as session:
        hooks = [
            h
            for h in session.scalars(select(WebhookRecord).where(WebhookRecord.enabled))
            if MATCH_CREATED in h.events or "*" in h.events
        ]
        records = [
            job_record(
                DELIVER_KIND,
                {"webhook_id": h.id, "event": event},
                max_attempts=settings.webhook_max_attempts,
            )
            for h in hooks
        ]
        session.add_all(records)
        session.flush()
        return [r.id for r in records]


# -- signatures --------------------------------------------------------------------------------


def sign(secret: str, timestamp: int, body: bytes) -> str:
    """``v1=<hex HMAC-SHA256(secret, f"{timestamp}.{body}")>``."""
    digest = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256)
    return f"{SIGNATURE_VERSION}={digest.hexdigest()}"


def verify_signature(
    secret: str,
    headers: Mapping[str, str],
    body: bytes,
    *,
    tolerance_s: float = 300,
    now: float | None = None,
) -> None:
    """Check a received delivery: its ``Shieldwall-Signature`` must be the HMAC of its
    ``Shieldwall-Timestamp`` and the raw ``body`` under ``secret``, and the timestamp within
    ``tolerance_s`` of ``now`` (Unix seconds; default: the clock). Raises
    :class:`WebhookSignatureError` saying why otherwise.

    Against replays, a receiver also remembers the ``Shieldwall-Delivery`` ids it accepted for
    at least ``tolerance_s`` and ignores a repeated one (docs/webhooks.md).
    """
    lowered = {k.lower(): v for k, v in headers.items()}
    stamp = lowered.get("shieldwall-timestamp")
    given = lowered.get("shieldwall-signature")
    if stamp is None or given is None:
        raise WebhookSignatureError("missing Shieldwall-Timestamp or Shieldwall-Signature header")
    try:
        timestamp = int(stamp.strip())
    except ValueError as exc:
        raise WebhookSignatureError(f"Shieldwall-Timestamp {stamp!r} is not an integer") from exc
    current = time.time() if now is None else now
    if abs(current - timestamp) > tolerance_s:
        raise WebhookSignatureError(
            f"Shieldwall-Timestamp {timestamp} is more than {tolerance_s:g} s from now: stale "
            "or replayed"
        )
    expected = sign(secret, timestamp, body)
    candidates = [part.strip() for part in given.split(",")]  # several during a rotation
    if not any(hmac.compare_digest(expected, c) for c in candidates):
        raise WebhookSignatureError("Shieldwall-Signature does not match the body")


# -- delivery ----------------------------------------------------------------------------------


def deliver(
    db: Database,
    payload: Mapping[str, Any],
    *,
    settings: Settings | None = None,
    resolver: Resolver | None = None,
) -> None:
    """Send one delivery job's event to its webhook (the ``webhook.deliver`` handler).

    A webhook deleted or disabled meanwhile is skipped. Raises
    :class:`WebhookDeliveryFailed` unless the receiver answers 2xx (not retried when the
    address policy refuses the URL).
    """
    settings = settings or get_settings()
    webhook_id = int(payload["webhook_id"])
    event: Mapping[str, Any] = payload["event"]
    with db.session() as session:
        record = session.get(WebhookRecord, webhook_id)
        if record is None or not record.enabled:
            log.info("delivery of %s skipped: webhook %s gone or disabled", event["id"], webhook_id)
            return
        url, secret = record.url, record.secret
    body = event_body(event)
    timestamp = int(time.time())
    headers = {
        "Content-Type": "application/json",
        "Shieldwall-Event": str(event["type"]),
        "Shieldwall-Delivery": str(event["id"]),
        "Shieldwall-Timestamp": str(timestamp),
        "Shieldwall-Signature": sign(secret, timestamp, body),
    }
    policy = AddressPolicy.from_networks(settings.outbound_allowed_networks, resolver)
    try:
        status = post(
            url,
            body,
            headers=headers,
            policy=policy,
            timeout_seconds=settings.webhook_timeout_seconds,
        )
    except FetchRefused as exc:
        raise WebhookDeliveryFailed(
            f"webhook {webhook_id}: {exc.message}", retryable=False
        ) from exc
    except FetchError as exc:
        raise WebhookDeliveryFailed(f"webhook {webhook_id}: {exc.message}") from exc
    if not 200 <= status < 300:
        raise WebhookDeliveryFailed(f"webhook {webhook_id}: {url} answered {status}")


def send_test(
    db: Database,
    webhook_id: int,
    *,
    settings: Settings | None = None,
    resolver: Resolver | None = None,
) -> str:
    """Send one ``webhook.test`` event to the webhook now (not queued, not retried), signed and
    through the outbound address policy like every delivery; returns the event id.
    :class:`NotFound` when there is no such webhook, :class:`UsageError` when it is disabled,
    :class:`WebhookDeliveryFailed` when the receiver does not answer 2xx."""
    hook = get_webhook(db, webhook_id)
    if not hook.enabled:
        raise UsageError(f"webhook {webhook_id} is disabled: enable it to test it")
    event = {
        "id": f"evt_{uuid.uuid4().hex}",
        "type": TEST_EVENT,
        "created": utcnow().isoformat().replace("+00:00", "Z"),
        "data": {"webhook_id": webhook_id},
    }
    deliver(db, {"webhook_id": webhook_id, "event": event}, settings=settings, resolver=resolver)
    return str(event["id"])


def recent_deliveries(db: Database, webhook_id: int, *, limit: int = 20) -> list[Job]:
    """The latest ``webhook.deliver`` jobs of one webhook, newest first (state, attempts, last
    error; ``payload["event"]`` is the event). Looks through the latest 2,000 deliveries of
    every webhook."""
    with db.session() as session:
        rows = session.execute(
            select(JobRecord.id, JobRecord.payload)
            .where(JobRecord.kind == DELIVER_KIND)
            .order_by(JobRecord.id.desc())
            .limit(2000)
        )
        found = [i for i, payload in rows if (payload or {}).get("webhook_id") == webhook_id]
    return [get_job(db, i) for i in found[:limit]]
