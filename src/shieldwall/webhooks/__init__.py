"""Webhooks: platforms are called back, with a signed POST, when content matches a bank.
Deliveries run as jobs (retries with backoff, dead-letter); :func:`job_handlers` gives the
worker the handlers of the ``webhook.deliver`` and ``sweep`` kinds. See docs/webhooks.md."""

from shieldwall.webhooks._hooks import (
    CONTENT_ACTION,
    DELIVER_KIND,
    EVENT_TYPES,
    MATCH_CREATED,
    SIGNATURE_VERSION,
    MatchLike,
    Webhook,
    action_event,
    create_webhook,
    delete_webhook,
    deliver,
    event_body,
    get_webhook,
    list_webhooks,
    match_event,
    notify_matches,
    queue_event,
    sign,
    update_webhook,
    verify_signature,
)
from shieldwall.webhooks._jobs import SWEEP_KIND, job_handlers

__all__ = [
    "CONTENT_ACTION",
    "DELIVER_KIND",
    "EVENT_TYPES",
    "MATCH_CREATED",
    "SIGNATURE_VERSION",
    "SWEEP_KIND",
    "MatchLike",
    "Webhook",
    "action_event",
    "create_webhook",
    "delete_webhook",
    "deliver",
    "event_body",
    "get_webhook",
    "job_handlers",
    "list_webhooks",
    "match_event",
    "notify_matches",
    "queue_event",
    "sign",
    "update_webhook",
    "verify_signature",
]
