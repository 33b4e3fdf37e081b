"""API keys over the API (admin only)."""

from __future__ import annotations

from fastapi import APIRouter, Depends, status

from shieldwall.api.deps import current_key, get_state, scoped
from shieldwall.api.schemas import IdPath, KeyCreate, KeyCreated, KeyOut
from shieldwall.audit import record_action
from shieldwall.people import keys
from shieldwall.people.scopes import Scope
from shieldwall.service.state import ServiceState

router = APIRouter(prefix="/v1", tags=["keys"])

_STATE = Depends(get_state)
_KEY = Depends(current_key)


def key_out(info: keys.KeyInfo) -> KeyOut:
    """API form of a key."""
    return KeyOut(
        id=info.id,
        prefix=info.prefix,
        name=info.name,
        scopes=[s.value for s in info.scopes],
        rate_limit=info.rate_limit,
        created_at=info.created_at,
        revoked_at=info.revoked_at,
    )


@router.get("/keys", response_model=list[KeyOut], **scoped(Scope.ADMIN))
def list_keys(state: ServiceState = _STATE) -> list[KeyOut]:
    """Every key (never a secret)."""
    return [key_out(k) for k in keys.list_keys(state.db)]


@router.post(
    "/keys", response_model=KeyCreated, status_code=status.HTTP_201_CREATED, **scoped(Scope.ADMIN)
)
def create_key(
    body: KeyCreate, state: ServiceState = _STATE, key: keys.KeyInfo = _KEY
) -> KeyCreated:
    """Create a key; its secret is in this answer only (a ``key.create`` audit event)."""
    info, secret = keys.create_key(state.db, body.name, body.scopes, rate_limit=body.rate_limit)
    details = {"name": info.name, "scopes": [s.value for s in info.scopes]}
    record_action(state.db, f"key:{key.prefix}", "key.create", f"key:{info.prefix}", details)
    return KeyCreated(**key_out(info).model_dump(), key=secret)


@router.delete("/keys/{key_id}", response_model=KeyOut, **scoped(Scope.ADMIN))
def revoke_key(key_id: IdPath, state: ServiceState = _STATE, key: keys.KeyInfo = _KEY) -> KeyOut:
    """Revoke a key; every process refuses it at once with ``redis_url`` set, otherwise
    within ``api_key_cache_seconds`` (a ``key.revoke`` audit event)."""
    info = keys.revoke_key(state.db, key_id, revocations=state.keys.revocations)
    state.keys.forget(info.prefix)
    details = {"name": info.name}
    record_action(state.db, f"key:{key.prefix}", "key.revoke", f"key:{info.prefix}", details)
    return key_out(info)
