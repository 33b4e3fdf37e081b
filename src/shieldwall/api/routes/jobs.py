"""Webhooks, sweeps (run as jobs) and the job queue over the API."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from fastapi import APIRouter, Depends, status
from pydantic import BaseModel, ConfigDict, Field

from shieldwall import jobs, webhooks
from shieldwall.api.deps import CURATOR, current_key, scoped
from shieldwall.api.schemas import WS, IdPath
from shieldwall.audit import record_action
from shieldwall.people.keys import KeyInfo
from shieldwall.people.scopes import Scope
from shieldwall.service.state import ServiceState

router = APIRouter(prefix="/v1", tags=["webhooks and jobs"])


_CURATOR = CURATOR
_KEY = Depends(current_key)


#: The events a webhook may receive.
EventType = Literal["match.created", "content.action"]
_DEFAULT_EVENTS: tuple[EventType, ...] = ("match.created",)
#: An http(s) URL with a host (a name, an IPv4 address or a bracketed IPv6 one) and no
#: credentials, as webhooks.create_webhook checks it.
_HOOK_URL = (
    r"^[hH][tT][tT][pP][sS]?://([A-Za-z0-9.-]*[A-Za-z0-9]|\[[0-9A-Fa-f:.]+\])(:[0-9]{1,5})?"
    f"([/?#][^{WS}]*)?$"
)


class WebhookCreate(BaseModel):
    """A receiver of events. Without ``secret`` one is generated (shown in this answer only)."""

    model_config = ConfigDict(extra="forbid")

    url: str = Field(max_length=2048, pattern=_HOOK_URL)
    events: list[EventType] = Field(
        default_factory=lambda: list(_DEFAULT_EVENTS), min_length=1, max_length=16
    )
    secret: str | None = Field(default=None, min_length=16, max_length=200)
    description: str = Field(default="", max_length=10_000)
    enabled: bool = Field(default=True, strict=True)


class WebhookPatch(BaseModel):
    """Changes to a webhook; a new ``secret`` rotates it."""

    model_config = ConfigDict(extra="forbid")

    url: str | None = Field(default=None, max_length=2048, pattern=_HOOK_URL)
    events: list[EventType] | None = Field(default=None, min_length=1, max_length=16)
    secret: str | None = Field(default=None, min_length=16, max_length=200)
    description: str | None = Field(default=None, max_length=10_000)
    enabled: bool | None = Field(default=None, strict=True)


class WebhookOut(BaseModel):
    """A webhook (never its secret, except when created)."""

    id: int
    url: str
    events: list[str]
    enabled: bool
    description: str
    created_at: datetime
    updated_at: datetime
    secret: str | None = None


class JobOut(BaseModel):
    """A background job."""

    id: int
    kind: str
    state: str
    attempts: int
    max_attempts: int
    run_after: datetime
    last_error: str | None
    created_at: datetime
    finished_at: datetime | None


class SweepIn(BaseModel):
    """A sweep: the signals added since the last one, or every live block signal (``full``)."""

    model_config = ConfigDict(extra="forbid")

    full: bool = Field(default=False, strict=True)


class QueueOut(BaseModel):
    """The job queue: jobs by state, and the newest dead-lettered ones (100 at most)."""

    depth: dict[str, int]
    dead: list[JobOut]


def _webhook_out(hook: webhooks.Webhook, secret: str | None = None) -> WebhookOut:
    return WebhookOut(
        id=hook.id,
        url=hook.url,
        events=list(hook.events),
        enabled=hook.enabled,
        description=hook.description,
        created_at=hook.created_at,
        updated_at=hook.updated_at,
        secret=secret,
    )


def _job_out(job: jobs.Job) -> JobOut:
    return JobOut(
        id=job.id,
        kind=job.kind,
        state=job.state.value,
        attempts=job.attempts,
        max_attempts=job.max_attempts,
        run_after=job.run_after,
        last_error=job.last_error,
        created_at=job.created_at,
        finished_at=job.finished_at,
    )


@router.get(
    "/webhooks",
    response_model=list[WebhookOut],
    response_model_exclude_none=True,
    **scoped(Scope.ADMIN),
)
def list_webhooks(state: ServiceState = _CURATOR) -> list[WebhookOut]:
    """Every webhook."""
    return [_webhook_out(h) for h in webhooks.list_webhooks(state.db)]


@router.post(
    "/webhooks",
    response_model=WebhookOut,
    status_code=status.HTTP_201_CREATED,
    **scoped(Scope.ADMIN),
)
def create_webhook(
    body: WebhookCreate, state: ServiceState = _CURATOR, key: KeyInfo = _KEY
) -> WebhookOut:
    """Register a receiver; the answer holds its signing secret, shown this once. Deliveries
    are signed (``Shieldwall-Signature``, see docs/webhooks.md) and retried with backoff. A
    ``webhook.create`` audit event."""
    hook, secret = webhooks.create_webhook(
        state.db,
        body.url,
        body.events,
        body.secret,
        description=body.description,
        enabled=body.enabled,
        settings=state.settings,
    )
    details = {"url": hook.url, "events": hook.events}
    record_action(state.db, f"key:{key.prefix}", "webhook.create", f"webhook:{hook.id}", details)
    return _webhook_out(hook, secret)


@router.get(
    "/webhooks/{webhook_id}",
    response_model=WebhookOut,
    response_model_exclude_none=True,
    **scoped(Scope.ADMIN),
)
def get_webhook(webhook_id: IdPath, state: ServiceState = _CURATOR) -> WebhookOut:
    """One webhook."""
    return _webhook_out(webhooks.get_webhook(state.db, webhook_id))


@router.patch(
    "/webhooks/{webhook_id}",
    response_model=WebhookOut,
    response_model_exclude_none=True,
    **scoped(Scope.ADMIN),
)
def patch_webhook(
    webhook_id: IdPath, body: WebhookPatch, state: ServiceState = _CURATOR, key: KeyInfo = _KEY
) -> WebhookOut:
    """Change a webhook (URL, events, enabled, description, secret); enabling or disabling is
    a ``webhook.enable`` / ``webhook.disable`` audit event, as in the console."""
    hook = webhooks.update_webhook(
        state.db,
        webhook_id,
        url=body.url,
        events=body.events,
        enabled=body.enabled,
        description=body.description,
        secret=body.secret,
        settings=state.settings,
    )
    if body.enabled is not None:
        action = "webhook.enable" if body.enabled else "webhook.disable"
        record_action(state.db, f"key:{key.prefix}", action, f"webhook:{webhook_id}", {})
    return _webhook_out(hook)


@router.delete(
    "/webhooks/{webhook_id}", status_code=status.HTTP_204_NO_CONTENT, **scoped(Scope.ADMIN)
)
def delete_webhook(webhook_id: IdPath, state: ServiceState = _CURATOR) -> None:
    """Delete a webhook (queued deliveries to it are dropped when they run)."""
    webhooks.delete_webhook(state.db, webhook_id)


@router.post(
    "/sweeps", response_model=JobOut, status_code=status.HTTP_202_ACCEPTED, **scoped(Scope.CURATE)
)
def start_sweep(body: SweepIn, state: ServiceState = _CURATOR) -> JobOut:
    """Queue a sweep of the ledger for copies of newly banked signals; it runs on a worker.
    Its matches are stored with source ``sweep`` and sent to the match webhooks."""
    job_id = jobs.enqueue(
        state.db, webhooks.SWEEP_KIND, {"full": body.full}, settings=state.settings
    )
    return _job_out(jobs.get_job(state.db, job_id))


@router.get("/jobs/{job_id}", response_model=JobOut, **scoped(Scope.CURATE))
def get_job(job_id: IdPath, state: ServiceState = _CURATOR) -> JobOut:
    """A job's state (a sweep's, a webhook delivery's)."""
    return _job_out(jobs.get_job(state.db, job_id))


@router.get("/jobs", response_model=QueueOut, **scoped(Scope.ADMIN))
def queue(state: ServiceState = _CURATOR) -> QueueOut:
    """Jobs by state (queue depth), and the dead-lettered ones."""
    dead = jobs.list_jobs(state.db, state=jobs.JobState.DEAD, limit=100)
    return QueueOut(depth=jobs.queue_depth(state.db), dead=[_job_out(j) for j in dead])
