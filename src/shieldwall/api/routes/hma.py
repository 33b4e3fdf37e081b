"""HMA-compatible endpoints: what an HMA (OpenMediaMatch) deployment's clients call, answered
in HMA's shapes, behind our keys and scopes, so that an existing integration can point at
Shieldwall unchanged (docs/exchanges.md, "HMA compatibility").

- ``GET /h/hash?url=`` and ``POST /h/hash`` (multipart field ``photo`` or ``video``):
  ``{"pdq": "<hex>", ...}``, keyed by HMA's signal type names (``hash`` scope).
- ``GET /m/lookup?signal_type=&signal=``: ``{"BANK": [{"bank_content_id": 7}]}``;
  ``GET /m/lookup?url=`` and ``POST /m/lookup``: the same keyed by signal type (``match``).
- ``GET /m/raw_lookup?signal_type=&signal=``: ``{"matches": [7]}``; ``include_distance=true``
  only for keys with ``read-distances`` (403 otherwise).
- ``GET /c/banks``, ``GET /c/bank/{name}``: ``{"name", "matching_enabled_ratio"}``;
  ``POST /c/bank/{name}/signal`` (``{"pdq": "<hex>"}``) and ``POST /c/bank/{name}/content``
  (a file, or ``?url=``): ``{"id": entry id, "signals": {...}}`` (``curate``).

Distances appear (``"distance": "4"``, HMA's string form) only for keys with
``read-distances``: hashes of intimate images are an oracle for evasion. ``bank_content_id`` is
our bank entry id. Errors keep our one JSON shape. A lookup here stores no match.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated, Any

from fastapi import APIRouter, Body, Depends, File, Query, UploadFile, status
from pydantic import BaseModel

from shieldwall.api.deps import CURATOR, WHO, current_key, get_state, scoped
from shieldwall.api.uploads import save_upload
from shieldwall.banks import add_entry, get_bank, list_banks, prepare_signal
from shieldwall.errors import Forbidden, UnknownSignalType, UsageError
from shieldwall.hashing import hash_file
from shieldwall.matching import BankMatch
from shieldwall.net import fetch_to_file
from shieldwall.people.keys import KeyInfo
from shieldwall.people.scopes import Scope
from shieldwall.service.state import ServiceState
from shieldwall.signals import Exchange, Signal, SignalType, from_exchange_name, get_signal_type

router = APIRouter(tags=["HMA compatibility"])

_STATE = Depends(get_state)
_KEY = Depends(current_key)
_CURATOR = CURATOR
#: Query values stay printable ASCII and short, so that a request line fits the HTTP server's
#: limit (16 KiB with h11) whatever a client puts in it.
_ASCII = r"^[!-~]*$"
_SIGNAL = Query(min_length=1, max_length=8192, pattern=_ASCII)
_URL = Query(min_length=1, max_length=4096, pattern=_ASCII)
_BANKS = Query(max_length=2048, pattern=r"^[A-Za-z0-9_.,-]*$")
_PHOTO = File(description="A photo (HMA's content type photo).")
_VIDEO = File(description="A video (HMA's content type video).")


class HmaBank(BaseModel):
    """A bank as HMA shows it."""

    name: str
    matching_enabled_ratio: float


class HmaBanked(BaseModel):
    """What banking content answers: the entry's id and its signals by HMA type name."""

    id: int
    signals: dict[str, str]


def _kind(name: str) -> SignalType:
    """A signal type by HMA's name (``pdq``, ``video_md5``) or ours."""
    try:
        return from_exchange_name(Exchange.THREATEXCHANGE, name)
    except UnknownSignalType:
        return get_signal_type(name)


def hma_name(signal_type: str) -> str:
    """How HMA names our signal type (its own name when HMA has none)."""
    kind = get_signal_type(signal_type)
    return kind.exchange_names.get(Exchange.THREATEXCHANGE, kind.name)


def _signals(computed: dict[str, Signal]) -> dict[str, Signal]:
    """The computed signals HMA has names for, keyed by them."""
    out: dict[str, Signal] = {}
    for signal in computed.values():
        kind = get_signal_type(signal.type)
        if Exchange.THREATEXCHANGE in kind.exchange_names and signal.variant is None:
            out[hma_name(signal.type)] = signal
    return out


@contextmanager
def _fetched(url: str, state: ServiceState) -> Iterator[Path]:
    folder = state.settings.data_dir / "uploads"
    folder.mkdir(parents=True, exist_ok=True)
    fd, name = tempfile.mkstemp(dir=folder, prefix="fetch-")
    os.close(fd)
    path = Path(name)
    try:
        fetch_to_file(url, path, settings=state.settings)
        yield path
    finally:
        path.unlink(missing_ok=True)


def _hash_path(path: Path, state: ServiceState, source: str) -> dict[str, Signal]:
    result = hash_file(path, settings=state.settings, source=source)
    if result.error is not None:
        raise result.error
    return _signals(dict(result.signals))


def _hash_upload(
    photo: UploadFile | None, video: UploadFile | None, state: ServiceState
) -> dict[str, Signal]:
    upload = photo or video
    if upload is None or (photo is not None and video is not None):
        raise UsageError("send one file, in the multipart field photo or video")
    with save_upload(upload.file, upload.filename, state.settings) as saved:
        return _hash_path(saved.path, state, saved.filename)


def _matches(
    signal: Signal, state: ServiceState, key: KeyInfo, banks: set[str] | None
) -> dict[str, list[dict[str, Any]]]:
    """HMA's ``{bank: [{bank_content_id, distance}]}`` for one signal (no match stored)."""
    outcome = state.require_matcher().match("-", [signal], record=False)
    shown = Scope.READ_DISTANCES in key.scopes
    out: dict[str, list[dict[str, Any]]] = {}
    seen: set[tuple[str, int]] = set()
    hits: list[BankMatch] = sorted(outcome.matches, key=lambda m: (m.bank, m.entry_id))
    for m in hits:
        if (banks is not None and m.bank not in banks) or (m.bank, m.entry_id) in seen:
            continue
        seen.add((m.bank, m.entry_id))
        item: dict[str, Any] = {"bank_content_id": m.entry_id}
        if shown:
            item["distance"] = str(m.distance)
        out.setdefault(m.bank, []).append(item)
    return out


def _bank_filter(banks: str | None) -> set[str] | None:
    return {b for b in banks.split(",") if b} if banks else None


@router.get("/h/hash", response_model=dict[str, str], **scoped(Scope.HASH))
def hash_get(url: Annotated[str, _URL], state: ServiceState = _STATE) -> dict[str, str]:
    """Fetch a URL (the allowed hosts only, docs/outbound.md) and hash it: ``{"pdq": ...}``."""
    with _fetched(url, state) as path:
        return {k: s.value for k, s in _hash_path(path, state, url).items()}


@router.post("/h/hash", response_model=dict[str, str], **scoped(Scope.HASH))
def hash_post(
    photo: Annotated[UploadFile | None, _PHOTO] = None,
    video: Annotated[UploadFile | None, _VIDEO] = None,
    state: ServiceState = _STATE,
) -> dict[str, str]:
    """Hash an uploaded photo or video: ``{"pdq": ...}`` / ``{"video_md5": ...}``."""
    return {k: s.value for k, s in _hash_upload(photo, video, state).items()}


@router.get("/m/lookup", response_model=dict[str, Any], **scoped(Scope.MATCH))
def lookup_get(
    *,
    signal_type: Annotated[str | None, Query(max_length=64, pattern=_ASCII)] = None,
    signal: Annotated[str | None, _SIGNAL] = None,
    url: Annotated[str | None, _URL] = None,
    banks: Annotated[str | None, _BANKS] = None,
    state: ServiceState = _STATE,
    key: KeyInfo = _KEY,
) -> dict[str, Any]:
    """Banks matching a signal (``{"BANK": [{"bank_content_id": 7}]}``), or, with ``url``,
    matching each signal of the fetched content, keyed by signal type."""
    wanted = _bank_filter(banks)
    if url:
        with _fetched(url, state) as path:
            computed = _hash_path(path, state, url)
        found = {k: _matches(s, state, key, wanted) for k, s in computed.items()}
        if signal_type:
            return found.get(signal_type, {})
        return found
    if not signal or not signal_type:
        raise UsageError("give url, or both signal_type and signal")
    return _matches(prepare_signal(_kind(signal_type).name, signal), state, key, wanted)


@router.post("/m/lookup", response_model=dict[str, Any], **scoped(Scope.MATCH))
def lookup_post(
    *,
    photo: Annotated[UploadFile | None, _PHOTO] = None,
    video: Annotated[UploadFile | None, _VIDEO] = None,
    banks: Annotated[str | None, _BANKS] = None,
    state: ServiceState = _STATE,
    key: KeyInfo = _KEY,
) -> dict[str, Any]:
    """Hash an uploaded file and match each of its signals: ``{"pdq": {"BANK": [...]}}``."""
    wanted = _bank_filter(banks)
    computed = _hash_upload(photo, video, state)
    return {k: _matches(s, state, key, wanted) for k, s in computed.items()}


@router.get("/m/raw_lookup", response_model=dict[str, Any], **scoped(Scope.MATCH))
def raw_lookup(
    *,
    signal_type: Annotated[str, Query(min_length=1, max_length=64, pattern=_ASCII)],
    signal: Annotated[str, _SIGNAL],
    banks: Annotated[str | None, _BANKS] = None,
    include_distance: bool = False,
    state: ServiceState = _STATE,
    key: KeyInfo = _KEY,
) -> dict[str, Any]:
    """The bank entries a signal matches: ``{"matches": [7, 9]}``; with ``include_distance``
    (``read-distances`` keys only) ``[{"bank_content_id": 7, "distance": "4"}]``. Unlike
    HMA's, disabled banks and entries never match here."""
    if include_distance and Scope.READ_DISTANCES not in key.scopes:
        raise Forbidden("include_distance needs the 'read-distances' scope")
    found = _matches(
        prepare_signal(_kind(signal_type).name, signal), state, key, _bank_filter(banks)
    )
    items = [item for bank in sorted(found) for item in found[bank]]
    if include_distance:
        return {"matches": items}
    return {"matches": [item["bank_content_id"] for item in items]}


def _hma_bank(name: str, state: ServiceState) -> HmaBank:
    info = get_bank(state.db, name)
    return HmaBank(name=info.name, matching_enabled_ratio=1.0 if info.enabled else 0.0)


@router.get("/c/banks", response_model=list[HmaBank], **scoped(Scope.CURATE))
def banks_index(state: ServiceState = _CURATOR) -> list[HmaBank]:
    """Every bank, as HMA lists them."""
    return [
        HmaBank(name=b.name, matching_enabled_ratio=1.0 if b.enabled else 0.0)
        for b in list_banks(state.db)
    ]


@router.get("/c/bank/{bank_name}", response_model=HmaBank, **scoped(Scope.CURATE))
def bank_show(bank_name: str, state: ServiceState = _CURATOR) -> HmaBank:
    """One bank (404 when absent)."""
    return _hma_bank(bank_name, state)


def _bank_signals(
    bank_name: str, signals: dict[str, Signal], state: ServiceState, who: str
) -> HmaBanked:
    if not signals:
        raise UsageError("no signals given")
    get_bank(state.db, bank_name)  # 404 before anything is written
    entry = add_entry(state.db, bank_name, list(signals.values()), by=who)
    state.refresh()
    return HmaBanked(
        id=entry.id, signals={hma_name(s.type): s.value for s in entry.signals if not s.variant}
    )


@router.post(
    "/c/bank/{bank_name}/signal",
    response_model=HmaBanked,
    status_code=status.HTTP_201_CREATED,
    **scoped(Scope.CURATE),
)
def bank_add_signals(
    bank_name: str,
    body: Annotated[dict[str, str], Body(description='{"pdq": "<64 hex>"}, by HMA type name')],
    state: ServiceState = _CURATOR,
    who: str = WHO,
) -> HmaBanked:
    """Bank signals given directly, as one entry."""
    signals = {k: prepare_signal(_kind(k).name, v) for k, v in body.items()}
    return _bank_signals(bank_name, signals, state, who)


@router.post(
    "/c/bank/{bank_name}/content",
    response_model=HmaBanked,
    status_code=status.HTTP_201_CREATED,
    **scoped(Scope.CURATE),
)
def bank_add_content(
    *,
    bank_name: str,
    photo: Annotated[UploadFile | None, _PHOTO] = None,
    video: Annotated[UploadFile | None, _VIDEO] = None,
    url: Annotated[str | None, _URL] = None,
    state: ServiceState = _CURATOR,
    who: str = WHO,
) -> HmaBanked:
    """Bank content uploaded (``photo``/``video``) or fetched (``url``)."""
    get_bank(state.db, bank_name)
    if url:
        with _fetched(url, state) as path:
            computed = _hash_path(path, state, url)
    else:
        computed = _hash_upload(photo, video, state)
    return _bank_signals(bank_name, computed, state, who)
