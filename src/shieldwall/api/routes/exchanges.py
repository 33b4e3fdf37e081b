"""Hash exchanges over the API: configure them (``admin``), look at them and queue a sync
(``curate``). Secrets in settings are never answered back."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query, status
from pydantic import BaseModel, ConfigDict, Field

from shieldwall import exchange
from shieldwall.api.deps import CURATOR, scoped
from shieldwall.people.scopes import Scope
from shieldwall.service.params import JsonInt
from shieldwall.service.state import ServiceState

router = APIRouter(prefix="/v1", tags=["exchanges"])

_CURATOR = CURATOR
_NAME = Annotated[str, Field(min_length=1, max_length=64)]


def _kind_enum(schema: dict[str, Any]) -> None:
    # The registered plug-ins, read when the schema is made.
    schema["enum"] = sorted(k.kind for k in exchange.all_exchange_kinds())


class ExchangeCreate(BaseModel):
    """An exchange to configure: its plug-in ``kind`` (``stopncii``, ``ncmec``), the bank it
    feeds (default: one of its name, created when absent) and the plug-in's settings (give
    keys as ``*_key_file`` paths where you can)."""

    model_config = ConfigDict(extra="forbid")

    name: _NAME
    kind: str = Field(max_length=64, json_schema_extra=_kind_enum)
    bank: str | None = Field(default=None, min_length=1, max_length=200)
    settings: dict[str, Any] = Field(default_factory=dict)
    interval_seconds: JsonInt = Field(default=3600, ge=60, le=7 * 86400)
    bank_kind: Literal["block", "review"] = "block"


class ExchangeOut(BaseModel):
    """A configured exchange: last sync, checkpoint, counts, feedback and last error."""

    name: str
    kind: str
    bank: str
    enabled: bool
    interval_seconds: int
    settings: dict[str, Any]
    checkpoint: dict[str, Any] | None
    added: int
    withdrawn: int
    skipped: int
    skipped_types: dict[str, int]
    failed: int
    feedback: dict[str, int]
    last_sync_at: datetime | None
    last_success_at: datetime | None
    last_error: str | None
    backoff_until: datetime | None
    created_at: datetime


class SyncQueued(BaseModel):
    """The sync job queued (``GET /v1/jobs/{id}`` follows it)."""

    job_id: int


def _out(info: exchange.ExchangeInfo) -> ExchangeOut:
    return ExchangeOut(
        name=info.name,
        kind=info.kind,
        bank=info.bank,
        enabled=info.enabled,
        interval_seconds=info.interval_seconds,
        settings=info.settings,
        checkpoint=info.checkpoint,
        added=info.added,
        withdrawn=info.withdrawn,
        skipped=info.skipped,
        skipped_types=info.skipped_types,
        failed=info.failed,
        feedback=info.feedback,
        last_sync_at=info.last_sync_at,
        last_success_at=info.last_success_at,
        last_error=info.last_error,
        backoff_until=info.backoff_until,
        created_at=info.created_at,
    )


@router.get("/exchanges", response_model=list[ExchangeOut], **scoped(Scope.CURATE))
def list_exchanges(state: ServiceState = _CURATOR) -> list[ExchangeOut]:
    """Every configured exchange."""
    return [_out(i) for i in exchange.list_exchanges(state.db)]


@router.post(
    "/exchanges",
    response_model=ExchangeOut,
    status_code=status.HTTP_201_CREATED,
    **scoped(Scope.ADMIN),
)
def create_exchange(body: ExchangeCreate, state: ServiceState = _CURATOR) -> ExchangeOut:
    """Configure an exchange (400 naming each bad setting, 409 when the name is taken); its
    first sync is queued for the worker."""
    info = exchange.add_exchange(
        state.db,
        body.name,
        body.kind,
        bank=body.bank,
        settings=body.settings,
        interval_seconds=body.interval_seconds,
        bank_kind=body.bank_kind,
        config=state.settings,
    )
    state.refresh()
    return _out(info)


@router.get("/exchanges/{name}", response_model=ExchangeOut, **scoped(Scope.CURATE))
def get_exchange(name: str, state: ServiceState = _CURATOR) -> ExchangeOut:
    """One exchange (404 when there is none of that name)."""
    return _out(exchange.get_exchange(state.db, name))


@router.post(
    "/exchanges/{name}/sync",
    response_model=SyncQueued,
    status_code=status.HTTP_202_ACCEPTED,
    **scoped(Scope.CURATE),
)
def sync_exchange(name: str, state: ServiceState = _CURATOR) -> SyncQueued:
    """Queue a sync now for the worker; the schedule carries on from it."""
    return SyncQueued(job_id=exchange.queue_sync(state.db, name, state.settings))


@router.delete("/exchanges/{name}", status_code=status.HTTP_204_NO_CONTENT, **scoped(Scope.ADMIN))
def delete_exchange(
    name: str,
    delete_bank: Annotated[bool, Query()] = False,
    state: ServiceState = _CURATOR,
) -> None:
    """Forget an exchange; its bank stays unless ``delete_bank``."""
    exchange.remove_exchange(state.db, name, delete_bank=delete_bank)
    state.refresh()
