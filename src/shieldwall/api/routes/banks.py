"""Banks, entries, withdrawals and quarantine: the curators' routes."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Depends, File, Form, Query, UploadFile, status

from shieldwall import banks
from shieldwall.api.deps import CURATOR, WHO, current_key, scoped
from shieldwall.api.schemas import (
    AnySignalTypeName,
    BankCreate,
    BankOut,
    BankPatch,
    BankSignalOut,
    BankSignalPage,
    EntryCreate,
    EntryOut,
    IdPath,
    QuarantineOut,
    SignalOut,
    WithdrawIn,
    WithdrawOut,
)
from shieldwall.api.uploads import save_upload
from shieldwall.audit import record_read
from shieldwall.banks import BankInfo, EntryInfo
from shieldwall.errors import UsageError
from shieldwall.hashing import hash_file
from shieldwall.matching import list_quarantined, release_signal
from shieldwall.people.keys import KeyInfo
from shieldwall.people.scopes import Scope
from shieldwall.service.params import IsoDateTime
from shieldwall.service.state import ServiceState
from shieldwall.signals import get_signal_type

router = APIRouter(prefix="/v1", tags=["banks"])

_CURATE = scoped(Scope.CURATE)


_CURATOR = CURATOR
_KEY = Depends(current_key)


def bank_out(info: BankInfo) -> BankOut:
    """API form of a bank."""
    return BankOut(
        id=info.id,
        name=info.name,
        kind=info.kind.value,
        enabled=info.enabled,
        thresholds=info.thresholds,
        description=info.description,
        source=info.source,
        created_at=info.created_at,
        entry_counts=info.entry_counts,
        live_signals=info.live_signals,
        match_variants=info.match_variants,
        local_features=info.local_features,
    )


def entry_out(info: EntryInfo) -> EntryOut:
    """API form of an entry."""
    return EntryOut(
        id=info.id,
        bank=info.bank,
        status=info.status.value,
        disabled_until=info.disabled_until,
        note=info.note,
        provenance=info.provenance.value,
        signals=[SignalOut(type=s.type, value=s.value, quality=s.quality) for s in info.signals],
        external_ids=info.external_ids,
        created_at=info.created_at,
    )


@router.get("/banks", response_model=list[BankOut], **_CURATE)
def list_banks(state: ServiceState = _CURATOR) -> list[BankOut]:
    """Every bank with its entry counts."""
    return [bank_out(b) for b in banks.list_banks(state.db)]


@router.post("/banks", response_model=BankOut, status_code=status.HTTP_201_CREATED, **_CURATE)
def create_bank(body: BankCreate, state: ServiceState = _CURATOR, who: str = WHO) -> BankOut:
    """Create a bank (409 when the name is taken)."""
    info = banks.create_bank(
        state.db,
        body.name,
        body.kind,
        thresholds=body.thresholds,
        description=body.description,
        source=body.source,
        enabled=body.enabled,
        match_variants=body.match_variants,
        local_features=body.local_features,
        by=who,
    )
    state.refresh()
    return bank_out(banks.get_bank(state.db, info.name))


@router.get("/banks/{name}", response_model=BankOut, **_CURATE)
def get_bank(name: str, state: ServiceState = _CURATOR) -> BankOut:
    """One bank."""
    return bank_out(banks.get_bank(state.db, name))


@router.patch("/banks/{name}", response_model=BankOut, **_CURATE)
def patch_bank(
    name: str, body: BankPatch, state: ServiceState = _CURATOR, who: str = WHO
) -> BankOut:
    """Enable or disable a bank, set or reset thresholds."""
    banks.get_bank(state.db, name)
    for signal_type, threshold in (body.thresholds or {}).items():
        banks.set_bank_threshold(state.db, name, signal_type, threshold, by=who)
    if body.enabled is not None:
        banks.set_bank_enabled(state.db, name, body.enabled, by=who)
    state.refresh()
    return bank_out(banks.get_bank(state.db, name))


@router.delete("/banks/{name}", status_code=status.HTTP_204_NO_CONTENT, **_CURATE)
def delete_bank(name: str, state: ServiceState = _CURATOR, who: str = WHO) -> None:
    """Delete a bank and its entries (stored matches stay)."""
    banks.delete_bank(state.db, name, by=who)
    state.refresh()


@router.get("/banks/{name}/signals", response_model=BankSignalPage, **_CURATE)
def list_signals(
    name: str,
    *,
    signal_type: Annotated[AnySignalTypeName | None, Query(alias="type")] = None,
    include_removed: bool = False,
    after_id: Annotated[int, Query(ge=0, le=2**63 - 1)] = 0,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
    state: ServiceState = _CURATOR,
    key: KeyInfo = _KEY,
) -> BankSignalPage:
    """A bank's signals in id order (live ones unless ``include_removed``), by type; page with
    ``after_id``. Reading hash values is a ``bank.read`` event of the hash-chained audit log
    (key, bank, page, count). Signals are added through entries and removed by withdrawing
    their entry or case."""
    found = banks.list_signals(
        state.db,
        name,
        signal_type=signal_type,
        live_only=not include_removed,
        after_id=after_id,
        limit=limit,
    )
    record_read(
        state.db,
        f"key:{key.prefix}",
        "bank.read",
        f"bank:{name}",
        {"route": "signals", "after_id": after_id, "count": len(found)},
    )
    return BankSignalPage(
        signals=[
            BankSignalOut(
                id=s.id,
                entry_id=s.entry_id,
                type=s.type,
                value=s.value,
                quality=s.quality,
                live=s.live,
                quarantined=s.quarantined,
                created_at=s.created_at,
            )
            for s in found
        ],
        next_after_id=found[-1].id if len(found) == limit else None,
    )


@router.post(
    "/banks/{name}/entries",
    response_model=EntryOut,
    status_code=status.HTTP_201_CREATED,
    **_CURATE,
)
def add_entry(
    name: str, body: EntryCreate, state: ServiceState = _CURATOR, who: str = WHO
) -> EntryOut:
    """Add an item by its signals. Adding the same signal again merges into the entry that
    holds it (new external ids attached); nothing is duplicated."""
    signals = [banks.prepare_signal(s.type, s.value, s.quality) for s in body.signals]
    info = banks.add_entry(
        state.db,
        name,
        signals,
        external_ids=body.external_ids,
        note=body.note,
        provenance=body.provenance,
        by=who,
    )
    state.refresh()
    return entry_out(info)


@router.post(
    "/banks/{name}/entries/upload",
    response_model=EntryOut,
    status_code=status.HTTP_201_CREATED,
    **_CURATE,
)
def add_entry_upload(
    *,
    name: str,
    file: Annotated[UploadFile, File(description="A photo or a video to bank.")],
    external_ids: Annotated[
        str, Form(max_length=100_000, description="Case numbers, comma-separated.")
    ] = "",
    note: Annotated[str, Form(max_length=10_000)] = "",
    provenance: Annotated[Literal["victim", "reviewer", "partner"], Form()] = "reviewer",
    state: ServiceState = _CURATOR,
    who: str = WHO,
) -> EntryOut:
    """Hash an upload and bank its signals (the media is not kept)."""
    extra = banks.signals_to_bank(banks.get_bank(state.db, name))
    with save_upload(file.file, file.filename, state.settings) as saved:
        # Videos are banked densely (every frame by default) so that clips cut anywhere align.
        result = hash_file(
            saved.path,
            settings=state.settings,
            seconds_per_hash=state.settings.video_bank_seconds_per_hash,
            content_type=saved.content_type,
            bank_variants=state.settings.bank_variants,
            source=saved.filename,
            extra_signals=extra,
        )
    if result.error is not None:
        raise result.error
    bankable = [
        s
        for s in [*result.signals.values(), *result.bank_variants]
        if get_signal_type(s.type).bankable
    ]
    if not bankable:
        raise UsageError(f"{saved.filename}: none of its signals can be banked")
    info = banks.add_entry(
        state.db,
        name,
        bankable,
        external_ids=[x.strip() for x in external_ids.split(",") if x.strip()],
        note=note,
        provenance=provenance,
        by=who,
    )
    state.refresh()
    return entry_out(info)


@router.get("/entries/{entry_id}", response_model=EntryOut, **_CURATE)
def get_entry(entry_id: IdPath, state: ServiceState = _CURATOR, key: KeyInfo = _KEY) -> EntryOut:
    """One entry with its signals and cases; a ``bank.read`` audit event."""
    entry = banks.get_entry(state.db, entry_id)
    record_read(
        state.db,
        f"key:{key.prefix}",
        "bank.read",
        f"bank:{entry.bank}",
        {"route": "entry", "entry_id": entry_id, "count": len(entry.signals)},
    )
    return entry_out(entry)


@router.post("/entries/{entry_id}/withdraw", response_model=EntryOut, **_CURATE)
def withdraw_entry(entry_id: IdPath, state: ServiceState = _CURATOR, who: str = WHO) -> EntryOut:
    """Withdraw an entry whatever its cases: its signals stop matching."""
    info = banks.withdraw_entry(state.db, entry_id, by=who)
    state.refresh()
    return entry_out(info)


@router.post("/entries/{entry_id}/disable", response_model=EntryOut, **_CURATE)
def disable_entry(
    entry_id: IdPath,
    until: Annotated[
        IsoDateTime | None, Query(description="Until when (RFC 3339, with its zone).")
    ] = None,
    state: ServiceState = _CURATOR,
    who: str = WHO,
) -> EntryOut:
    """Stop an entry matching, until a time or until enabled."""
    info = banks.disable_entry(state.db, entry_id, until, by=who)
    state.refresh()
    return entry_out(info)


@router.post("/entries/{entry_id}/enable", response_model=EntryOut, **_CURATE)
def enable_entry(entry_id: IdPath, state: ServiceState = _CURATOR, who: str = WHO) -> EntryOut:
    """Let a disabled entry match again."""
    info = banks.enable_entry(state.db, entry_id, by=who)
    state.refresh()
    return entry_out(info)


@router.post("/withdrawals", response_model=list[WithdrawOut], **_CURATE)
def withdraw(body: WithdrawIn, state: ServiceState = _CURATOR, who: str = WHO) -> list[WithdrawOut]:
    """Withdraw cases by external id: all of them or, when one is unknown (404), none. An entry
    another active case still holds keeps its signals."""
    outcomes = banks.withdraw_cases(state.db, body.external_ids, bank=body.bank, by=who)
    state.refresh()
    return [
        WithdrawOut(
            external_id=o.external_id,
            withdrawn_entries=o.withdrawn_entries,
            kept_entries=o.kept_entries,
        )
        for o in outcomes
    ]


@router.get("/quarantine", response_model=list[QuarantineOut], **_CURATE)
def quarantine(state: ServiceState = _CURATOR) -> list[QuarantineOut]:
    """Bank signals that flood protection holds for review."""
    return [
        QuarantineOut(
            signal_id=q.signal_id,
            bank=q.bank,
            entry_id=q.entry_id,
            signal_type=q.signal_type,
            quarantined_at=q.quarantined_at,
        )
        for q in list_quarantined(state.db)
    ]


@router.post("/quarantine/{signal_id}/release", status_code=status.HTTP_204_NO_CONTENT, **_CURATE)
def release(signal_id: IdPath, state: ServiceState = _CURATOR, who: str = WHO) -> None:
    """Let a quarantined signal match again."""
    release_signal(state.db, signal_id, by=who)
