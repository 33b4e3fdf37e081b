"""Federation feeds: a shared bank's changes, signed, for partner instances (``federate``)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query
from pydantic import BaseModel

from shieldwall.api.deps import CURATOR, scoped
from shieldwall.exchange.federation import feed_page
from shieldwall.people.scopes import Scope
from shieldwall.service.state import ServiceState

router = APIRouter(prefix="/v1", tags=["federation"])

_CURATOR = CURATOR


class FeedPageOut(BaseModel):
    """A signed feed page: the payload text and its Ed25519 signature (base64); verify the
    signature over the payload's exact text before reading it (docs/exchanges.md)."""

    payload: str
    signature: str


@router.get("/federation/banks/{bank}/feed", response_model=FeedPageOut, **scoped(Scope.FEDERATE))
def bank_feed(
    bank: str,
    after: Annotated[int, Query(ge=0, le=2**63 - 1)] = 0,
    limit: Annotated[int, Query(ge=1, le=5000)] = 1000,
    state: ServiceState = _CURATOR,
) -> FeedPageOut:
    """The changes of a shared bank after log sequence ``after`` (404 for a bank not shared)."""
    page = feed_page(state.db, state.settings, bank, after=after, limit=limit)
    return FeedPageOut(payload=page.payload, signature=page.signature)
