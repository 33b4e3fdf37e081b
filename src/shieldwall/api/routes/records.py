"""The ledger of hosted content, the stored matches and the platform's detector scores."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Path, Query

from shieldwall.api.deps import CURATOR, current_key, get_state, scoped
from shieldwall.api.schemas import (
    LedgerAdd,
    LedgerOut,
    MatchOut,
    MatchPage,
    ScoresIn,
    ScoresOut,
)
from shieldwall.banks import prepare_signal
from shieldwall.cases import record_scores
from shieldwall.matching import add_to_ledger, list_matches, remove_from_ledger
from shieldwall.people.keys import KeyInfo
from shieldwall.people.scopes import Scope
from shieldwall.service.state import ServiceState

router = APIRouter(prefix="/v1", tags=["ledger and matches"])

_STATE = Depends(get_state)
_KEY = Depends(current_key)


_CURATOR = CURATOR


@router.post("/ledger", response_model=LedgerOut, **scoped(Scope.CURATE))
def ledger_add(body: LedgerAdd, state: ServiceState = _CURATOR) -> LedgerOut:
    """Record hosted content by id and signals (never media); a sweep compares new bank
    signals with it. Every signal is validated before anything is written."""
    items = [
        (i.content_id, [prepare_signal(s.type, s.value, s.quality) for s in i.signals])
        for i in body.items
    ]
    return LedgerOut(count=add_to_ledger(state.db, items))


@router.delete("/ledger/{content_id}", response_model=LedgerOut, **scoped(Scope.CURATE))
def ledger_remove(
    content_id: Annotated[str, Path(min_length=1, max_length=512)],
    state: ServiceState = _CURATOR,
) -> LedgerOut:
    """Forget hosted content (taken down); its stored matches stay."""
    return LedgerOut(count=remove_from_ledger(state.db, [content_id]))


@router.post("/scores", response_model=ScoresOut, **scoped(Scope.MATCH))
def scores(body: ScoresIn, state: ServiceState = _CURATOR) -> ScoresOut:
    """Record the platform's detector scores per content id (``synthetic``: AI-generated or a
    deepfake; ``intimate``: nudity or sexual content; 0..1). A score at or above
    ``cases_detector_threshold`` is detector evidence for the undecided cases holding the
    content id (docs/cases.md). Every item is checked before anything is written: ``422``
    names each invalid item and field."""
    items = [item.model_dump() for item in body.items]
    return ScoresOut(count=record_scores(state.db, state.settings, items))


@router.get(
    "/matches", response_model=MatchPage, response_model_exclude_none=True, **scoped(Scope.REVIEW)
)
def matches(
    *,
    content_id: Annotated[str | None, Query(max_length=512)] = None,
    bank: Annotated[str | None, Query(max_length=200)] = None,
    source: Annotated[str | None, Query(pattern="^(upload|sweep)$")] = None,
    after_id: Annotated[int, Query(ge=0, le=2**63 - 1)] = 0,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
    state: ServiceState = _STATE,
    key: KeyInfo = _KEY,
) -> MatchPage:
    """Stored matches in id order, filtered; page with ``after_id``."""
    found = list_matches(
        state.db,
        content_id=content_id,
        bank=bank,
        source=source,
        after_id=after_id,
        limit=limit,
    )
    distances = Scope.READ_DISTANCES in key.scopes
    return MatchPage(
        matches=[
            MatchOut(
                id=m.id,
                content_id=m.content_id,
                bank=m.bank,
                entry_id=m.entry_id,
                signal_type=m.signal_type,
                source=m.source,
                at=m.at,
                distance=m.distance if distances else None,
            )
            for m in found
        ],
        next_after_id=found[-1].id if len(found) == limit else None,
    )
