"""Webhooks: platforms are called back, with a signed POST, when content matches a bank.
Deliveries run as jobs (retries with backoff, dead-letter). See docs/webhooks.md."""

from shieldwall.webhooks._hooks import (
    DELIVER_KIND,
    EVENT_TYPES,
    MATCH_CREATED,
    SIGNATURE_VERSION,
    MatchLike,
    Webhook,
    create_webhook,
    delete_webhook,
    deliver,
    event_body,
    get_webhook,
    list_webhooks,
    match_event,
    notify_matches,
    sign,
    update_webhook,
    verify_signature,
)

__all__ = [
    "DELIVER_KIND",
    "EVENT_TYPES",
    "MATCH_CREATED",
    "SIGNATURE_VERSION",
    "MatchLike",
    "Webhook",
    "create_webhook",
    "delete_webhook",
    "deliver",
    "event_body",
    "get_webhook",
    "list_webhooks",
    "match_event",
    "notify_matches",
    "sign",
    "update_webhook",
    "verify_signature",
]
