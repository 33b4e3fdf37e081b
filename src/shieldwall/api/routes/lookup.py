"""Hashing and lookups: ``/v1/hash`` and ``/v1/lookup``."""

from __future__ import annotations

import os
import tempfile
from collections.abc import Sequence
from pathlib import Path
from typing import Annotated

from fastapi import APIRouter, Depends, File, Form, Response, UploadFile
from pydantic import BaseModel, ConfigDict, Field

from shieldwall.api.deps import current_key, get_state, scoped
from shieldwall.api.schemas import (
    HashOut,
    LookupBank,
    LookupHit,
    LookupOut,
    LookupSignals,
    SignalOut,
)
from shieldwall.api.uploads import save_upload
from shieldwall.banks import BankKind, prepare_signal
from shieldwall.hashing import content_type_of, hash_file
from shieldwall.matching import MatchOutcome
from shieldwall.net import fetch_to_file
from shieldwall.people.keys import KeyInfo
from shieldwall.people.scopes import Scope
from shieldwall.service.state import ServiceState
from shieldwall.signals.base import Signal

router = APIRouter(prefix="/v1", tags=["lookup"])

_STATE = Depends(get_state)
_KEY = Depends(current_key)


def _signals_out(signals: list[Signal]) -> list[SignalOut]:
    return [SignalOut(type=s.type, value=s.value, quality=s.quality) for s in signals]


@router.post("/hash", response_model=HashOut, **scoped(Scope.HASH))
def hash_upload(
    file: Annotated[UploadFile, File(description="A photo or a video.")],
    state: ServiceState = _STATE,
) -> HashOut:
    """Hash an uploaded photo (PDQ, MD5, SHA-256) or video (vPDQ, video MD5)."""
    with save_upload(file.file, file.filename, state.settings) as saved:
        result = hash_file(
            saved.path,
            settings=state.settings,
            content_type=saved.content_type,
            source=saved.filename,
        )
        if result.error is not None:
            raise result.error
        return HashOut(
            signals=_signals_out(list(result.signals.values())),
            content_type=saved.content_type.value,
        )


class HashUrl(BaseModel):
    """Content to fetch and hash (off unless ``fetch_allowed_hosts`` names hosts)."""

    model_config = ConfigDict(extra="forbid")

    url: str = Field(min_length=1, max_length=4096)


@router.post("/hash/url", response_model=HashOut, **scoped(Scope.HASH))
def hash_url(body: HashUrl, state: ServiceState = _STATE) -> HashOut:
    """Fetch a URL and hash what it holds. Off by default; when on, only the allowed hosts,
    never a private, loopback or link-local address (checked after DNS resolution and at each
    redirect), with size and time limits (docs/outbound.md)."""
    folder = state.settings.data_dir / "uploads"
    folder.mkdir(parents=True, exist_ok=True)
    fd, name = tempfile.mkstemp(dir=folder, prefix="fetch-")
    os.close(fd)
    path = Path(name)
    try:
        fetch_to_file(body.url, path, settings=state.settings)
        result = hash_file(path, settings=state.settings, source=body.url)
        if result.error is not None:
            raise result.error
        content_type = content_type_of(path)
        return HashOut(
            signals=_signals_out(list(result.signals.values())), content_type=content_type.value
        )
    finally:
        path.unlink(missing_ok=True)


def _ranges(ranges: Sequence[tuple[float, float]]) -> list[list[float]]:
    return [[round(a, 3), round(b, 3)] for a, b in ranges]


def answer(
    outcome: MatchOutcome,
    key: KeyInfo,
    state: ServiceState,
    *,
    stored: bool,
) -> LookupOut:
    """The lookup answer: per bank, distances only for keys with ``read-distances``."""
    distances = Scope.READ_DISTANCES in key.scopes
    shown = outcome.allowed_by if outcome.allowed_by else outcome.matches
    banks: dict[str, LookupBank] = {}
    for m in shown:
        bank = banks.setdefault(m.bank, LookupBank(bank=m.bank, kind=m.bank_kind.value, hits=[]))
        video = m.video  # a video's frames: both shares and both sides' time ranges
        bank.hits.append(
            LookupHit(
                entry_id=m.entry_id,
                signal_type=m.signal_type,
                variant=m.variant,
                bank_variant=m.bank_variant,
                distance=m.distance if distances else None,
                query_share=round(video.query_share, 3) if video else None,
                bank_share=round(video.compared_share, 3) if video else None,
                query_ranges=_ranges(video.query_ranges) if video else None,
                bank_ranges=_ranges(video.compared_ranges) if video else None,
            )
        )
    for m in outcome.matches:
        state.metrics.matches.labels(m.bank_kind.value, m.signal_type).inc()
    state.metrics.lookups.labels("true" if outcome.matched else "false").inc()
    return LookupOut(
        content_id=outcome.content_id if stored else None,
        matched=outcome.matched,
        banks=list(banks.values()),
        allowed_by=sorted({m.bank for m in outcome.allowed_by if m.bank_kind is BankKind.ALLOW}),
        stored=stored and bool(outcome.matches),
        skipped_variants=outcome.skipped_variants or None,
    )


def after_match(state: ServiceState, outcome: MatchOutcome, stored: bool) -> None:
    """What follows a stored match: the match events for webhooks."""
    if stored and outcome.matches:
        state.on_matches(outcome.content_id, outcome.matches)


@router.post(
    "/lookup",
    response_model=LookupOut,
    response_model_exclude_none=True,
    **scoped(Scope.MATCH),
)
def lookup_upload(
    *,
    file: Annotated[UploadFile, File(description="A photo or a video.")],
    content_id: Annotated[
        str | None,
        Form(min_length=1, max_length=512, description="Store the matches under this id."),
    ] = None,
    dihedral: Annotated[
        bool | None,
        Form(description="Also match rotations and flips (default: the match_dihedral setting)."),
    ] = None,
    normalise: Annotated[
        bool | None,
        Form(
            description="Also match the photo with borders and caption bars cut, the photo "
            "inside a screenshot, and small rotations undone; a video's frames with their "
            "borders cut (default: the match_normalise setting)."
        ),
    ] = None,
    local_features: Annotated[
        bool | None,
        Form(
            description="Also match a photo by its local features where a bank holds them "
            "(default: the match_local_features setting)."
        ),
    ] = None,
    state: ServiceState = _STATE,
    key: KeyInfo = _KEY,
) -> LookupOut:
    """Hash an upload and match it against every enabled bank. With ``content_id`` the
    matches are stored (and the match webhooks called); without, nothing is stored. The upload
    is streamed to a temporary file (with the size limits) and deleted afterwards."""
    matcher = state.require_matcher()
    with save_upload(file.file, file.filename, state.settings) as saved:
        outcome = matcher.match_file(
            saved.path,
            content_id=content_id or saved.filename,
            dihedral=dihedral,
            record=content_id is not None,
            content_type=saved.content_type,
            normalise=normalise,
            source=saved.filename,
            local_features=local_features,
        )
    if outcome.error is not None:
        raise outcome.error
    after_match(state, outcome, content_id is not None)
    return answer(outcome, key, state, stored=content_id is not None)


@router.post(
    "/lookup/signals",
    response_model=LookupOut,
    response_model_exclude_none=True,
    **scoped(Scope.MATCH),
)
async def lookup_signals(
    body: LookupSignals, state: ServiceState = _STATE, key: KeyInfo = _KEY
) -> Response:
    """Match given signals (``{"signals": [{"type": "pdq", "value": "..."}]}``) against every
    enabled bank; with ``content_id`` the matches are stored."""
    # Runs on the event loop, not in the thread pool: a lookup that matches nothing is a
    # fraction of a millisecond of CPU (no database); one that matches reads and writes a few
    # rows. The pool's hops would cost more than the work.
    matcher = state.require_matcher()
    signals = [prepare_signal(s.type, s.value, s.quality) for s in body.signals]
    outcome = matcher.match(body.content_id or "-", signals, record=body.content_id is not None)
    after_match(state, outcome, body.content_id is not None)
    out = answer(outcome, key, state, stored=body.content_id is not None)
    # Built by us from a validated model, so FastAPI need not validate and encode it again
    # (the schema still comes from response_model).
    return Response(out.model_dump_json(exclude_none=True), media_type="application/json")
