"""Victim cases (issue 15): a person protects their own photos and videos by their hashes only.

The hashing happens on the person's device (the ``/protect`` page's Web Worker, or a helpline's
``shieldwall protect``); what reaches us is a submission of hashes::

    {"consent": {"platform": true, "stopncii": false},
     "declarations": {"depicted": true, "adult": true},
     "language": "en",
     "items": [{"kind": "photo",
                "signals": [{"type": "pdq", "value": "<64 hex>", "quality": 92},
                            {"type": "md5", "value": "<32 hex>"}],
                "variants": [{"type": "pdq", "value": "...", "quality": 88,
                              "variant": "crop-top-10"}]}]}

:func:`file_case` validates all of it (a malformed submission raises
:class:`~shieldwall.errors.InvalidProtection` naming each problem, and nothing is saved), then in
one transaction banks each item as one entry of the ``protect_bank`` (provenance ``victim``,
external id ``<case number>/<item>``) and records the case with its consent. The answer carries
the case number and a PIN shown once (stored as an argon2 hash). :func:`case_status` gives
counts only (items, matches found, removed), never where or what; :func:`withdraw_items`
withdraws one item or all of them from our banks.

With consent to StopNCII, each item's own PDQ and MD5 hashes (the types StopNCII takes; its
SHA-256, vPDQ and bank-side variants are not sent) are recorded as ``victim_share`` rows and a
``victim.stopncii_share`` job is queued in the same transaction; the exchange package's handler
submits them (:mod:`shieldwall.exchange.victim_share`). Withdrawing an item cancels what was
not sent yet and queues a ``victim.stopncii_withdraw`` job for what was.
No file name, image, thumbnail or identity is ever part of a case.
"""

from __future__ import annotations

import contextlib
import re
import secrets
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Final

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from shieldwall.audit import record_event
from shieldwall.banks import (
    BankKind,
    Provenance,
    add_entry_in,
    create_bank,
    get_bank,
    prepare_signal,
    withdraw,
)
from shieldwall.config import Settings, get_settings
from shieldwall.errors import (
    Conflict,
    InvalidProtection,
    NotFound,
    ShieldwallError,
)
from shieldwall.jobs import job_record
from shieldwall.people.passwords import dummy_hash, hash_secret, verify_secret
from shieldwall.signals import Signal
from shieldwall.store import Database
from shieldwall.store.models import (
    Bank,
    CaseItem,
    MatchRecord,
    VictimCase,
    VictimItem,
    VictimShare,
    utcnow,
)

__all__ = [
    "ITEM_KINDS",
    "LANGUAGES",
    "SHARE_JOB",
    "STOPNCII_TYPES",
    "WITHDRAW_JOB",
    "ItemStatus",
    "ProtectedItem",
    "Submission",
    "VictimReceipt",
    "VictimStatus",
    "case_status",
    "file_case",
    "refresh_stopncii_state",
    "validate_submission",
    "withdraw_items",
]

ITEM_KINDS: Final = ("photo", "video")
LANGUAGES: Final = ("en", "es")
#: The signal types a device may send, per kind of item.
_TYPES: Final = {"photo": ("pdq", "md5", "sha256"), "video": ("vpdq", "md5", "sha256")}
#: Most hashes of one item (its own and its variants).
_MAX_SIGNALS: Final = 64
_VARIANT: Final = re.compile(r"^[a-z0-9][a-z0-9+.-]{0,31}$")
_CASE_ALPHABET: Final = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"  # no 0/O, 1/I
_PIN_ALPHABET: Final = "23456789"
#: The job kinds that share a case's hashes through StopNCII and send their withdrawal.
SHARE_JOB: Final = "victim.stopncii_share"
WITHDRAW_JOB: Final = "victim.stopncii_withdraw"
#: The signal types StopNCII takes (its ``ImagePDQ`` and ``VideoMD5``).
STOPNCII_TYPES: Final = ("pdq", "md5")


@dataclass(frozen=True, slots=True)
class ProtectedItem:
    """One photo or video of a submission: its own hashes and its bank-side variants."""

    kind: str
    signals: list[Signal]
    variants: list[Signal] = field(default_factory=list)


@dataclass(frozen=True, slots=True)
class Submission:
    """A validated submission."""

    items: list[ProtectedItem]
    consent_stopncii: bool
    language: str = "en"


@dataclass(frozen=True, slots=True)
class VictimReceipt:
    """What filing a case answers: the case number and the PIN (shown once)."""

    case_number: str
    pin: str
    created_at: datetime
    items: int
    signals: int
    bank: str
    #: ``pending`` (the exchange client will share the hashes) or ``not_requested``.
    stopncii: str


@dataclass(frozen=True, slots=True)
class ItemStatus:
    """One item of a case as its status shows it: counts only."""

    number: int
    kind: str
    status: str
    matches_found: int
    removed: int


@dataclass(frozen=True, slots=True)
class VictimStatus:
    """A case's status (with the PIN): received, active or withdrawn, and counts."""

    case_number: str
    status: str
    created_at: datetime
    stopncii: str
    items: list[ItemStatus]
    #: Why sharing waits, when it does.
    stopncii_note: str | None = None
    #: Hashes submitted to StopNCII (and not withdrawn), and when the last was.
    stopncii_shared: int = 0
    stopncii_shared_at: datetime | None = None
    #: Hashes whose withdrawal reached StopNCII, and those whose withdrawal waits.
    stopncii_withdrawn: int = 0
    stopncii_withdrawal_pending: int = 0
    #: Hashes of types StopNCII does not take (SHA-256, vPDQ): kept here only.
    stopncii_not_sent: int = 0

    @property
    def matches_found(self) -> int:
        """Contents on the platform that matched any item."""
        return sum(i.matches_found for i in self.items)

    @property
    def removed(self) -> int:
        """Matched contents that were blocked at upload or removed by a reviewer."""
        return sum(i.removed for i in self.items)


# -- validation --------------------------------------------------------------------------------


def _signal(raw: object, kind: str, where: str, errors: list[dict[str, str]]) -> Signal | None:
    if not isinstance(raw, Mapping):
        errors.append({"field": where, "message": "must be an object with type and value"})
        return None
    signal_type, value, quality = raw.get("type"), raw.get("value"), raw.get("quality")
    if signal_type not in _TYPES[kind]:
        allowed = ", ".join(_TYPES[kind])
        errors.append({"field": f"{where}.type", "message": f"a {kind} has {allowed} hashes"})
        return None
    if not isinstance(value, str) or not value:
        errors.append({"field": f"{where}.value", "message": "must be the hash as text"})
        return None
    if quality is not None and (isinstance(quality, bool) or not isinstance(quality, int)):
        errors.append({"field": f"{where}.quality", "message": "must be a whole number"})
        return None
    try:
        return prepare_signal(signal_type, value, quality)
    except ShieldwallError as exc:
        errors.append({"field": f"{where}.value", "message": exc.message})
        return None


def _item(raw: object, where: str, errors: list[dict[str, str]]) -> ProtectedItem | None:
    if not isinstance(raw, Mapping):
        errors.append({"field": where, "message": "must be an object"})
        return None
    kind = raw.get("kind")
    if kind not in ITEM_KINDS:
        errors.append({"field": f"{where}.kind", "message": "must be photo or video"})
        return None
    own, variants = raw.get("signals"), raw.get("variants", [])
    if not isinstance(own, list) or not own:
        errors.append({"field": f"{where}.signals", "message": "must list at least one hash"})
        return None
    if not isinstance(variants, list):
        errors.append({"field": f"{where}.variants", "message": "must be a list"})
        return None
    if len(own) + len(variants) > _MAX_SIGNALS:
        errors.append({"field": where, "message": f"at most {_MAX_SIGNALS} hashes an item"})
        return None
    before = len(errors)
    signals = [_signal(s, kind, f"{where}.signals.{i}", errors) for i, s in enumerate(own)]
    found: list[Signal] = []
    for i, raw_variant in enumerate(variants):
        name = raw_variant.get("variant") if isinstance(raw_variant, Mapping) else None
        if not isinstance(name, str) or not _VARIANT.match(name):
            errors.append({"field": f"{where}.variants.{i}.variant", "message": "needs a name"})
            continue
        # A photo's variants are PDQs; a video's are frame sets (vPDQ of cropped frames).
        signal = _signal(raw_variant, kind, f"{where}.variants.{i}", errors)
        if signal is not None:
            found.append(replace(signal, variant=name))
    if len(errors) > before:
        return None
    kept = [s for s in signals if s is not None]
    if len({s.type for s in kept}) != len(kept):
        errors.append({"field": f"{where}.signals", "message": "one hash of each type"})
        return None
    return ProtectedItem(kind, kept, found)


def validate_submission(
    data: object, settings: Settings
) -> tuple[Submission | None, list[dict[str, str]]]:
    """Check a submission; returns it (``None`` when invalid) and the list of problems
    (``{"field", "message"}``), each naming its place (``items.2.signals.0.value``)."""
    errors: list[dict[str, str]] = []
    if not isinstance(data, Mapping):
        return None, [{"field": "", "message": "the submission must be a JSON object"}]
    declarations = data.get("declarations")
    declarations = declarations if isinstance(declarations, Mapping) else {}
    for name, why in (
        ("depicted", "only the person in the images may protect them"),
        ("adult", "this service is for people 18 or over"),
    ):
        if declarations.get(name) is not True:
            errors.append({"field": f"declarations.{name}", "message": f"must be true ({why})"})
    consent = data.get("consent")
    consent = consent if isinstance(consent, Mapping) else {}
    if consent.get("platform") is not True:
        errors.append(
            {"field": "consent.platform", "message": "must be true (the hashes go to our banks)"}
        )
    stopncii = consent.get("stopncii", False)
    if not isinstance(stopncii, bool):
        errors.append({"field": "consent.stopncii", "message": "must be true or false"})
        stopncii = False
    language = data.get("language", "en")
    if language not in LANGUAGES:
        language = "en"
    raw_items = data.get("items")
    items: list[ProtectedItem] = []
    if not isinstance(raw_items, list) or not raw_items:
        errors.append({"field": "items", "message": "choose at least one photo or video"})
    elif len(raw_items) > settings.protect_max_items:
        errors.append(
            {"field": "items", "message": f"at most {settings.protect_max_items} files a case"}
        )
    else:
        for i, raw in enumerate(raw_items):
            item = _item(raw, f"items.{i}", errors)
            if item is not None:
                items.append(item)
    if errors:
        return None, errors
    return Submission(items, stopncii, str(language)), []


# -- filing ------------------------------------------------------------------------------------


def _new_case_number() -> str:
    raw = "".join(secrets.choice(_CASE_ALPHABET) for _ in range(16))
    return "PR-" + "-".join(raw[i : i + 4] for i in range(0, 16, 4))


def _new_pin() -> str:
    return "".join(secrets.choice(_PIN_ALPHABET) for _ in range(10))


def _ensure_bank(db: Database, settings: Settings) -> None:
    try:
        get_bank(db, settings.protect_bank)
    except NotFound:
        with contextlib.suppress(Conflict):  # created at the same moment by another case
            create_bank(
                db,
                settings.protect_bank,
                BankKind(settings.protect_bank_kind),
                description="hashes people protected from their own device (/protect)",
            )


def file_case(
    db: Database,
    settings: Settings,
    data: object,
    *,
    channel: str = "web",
    actor: str = "public",
) -> VictimReceipt:
    """Validate a submission and file its case (see the module docstring); raises
    :class:`InvalidProtection` (nothing saved) naming each problem."""
    submission, errors = validate_submission(data, settings)
    if submission is None:
        names = ", ".join(dict.fromkeys(e["field"] for e in errors))
        raise InvalidProtection(f"the submission is malformed: {names}", errors)
    pin = _new_pin()
    pin_hash = hash_secret(pin, settings)
    _ensure_bank(db, settings)  # before the transaction: SQLite has one writer
    now = utcnow()
    stopncii = "pending" if submission.consent_stopncii else "not_requested"
    total = 0
    with db.transaction() as session:
        number = _new_case_number()
        while session.scalar(select(VictimCase.id).where(VictimCase.case_number == number)):
            number = _new_case_number()  # pragma: no cover - 80 random bits
        case = VictimCase(
            case_number=number,
            pin_hash=pin_hash,
            created_at=now,
            status="active",
            bank_name=settings.protect_bank,
            channel=channel,
            consent_platform=True,
            consent_stopncii=submission.consent_stopncii,
            stopncii_state=stopncii,
            language=submission.language,
        )
        session.add(case)
        session.flush()
        # Audited before banking: on PostgreSQL the audit lock comes before the signal log's,
        # in the order a case decision takes them (the other order deadlocks with it).
        record_event(
            session,
            actor,
            "victim_case.filed",
            f"victim:{number}",
            {"items": len(submission.items), "channel": channel, "stopncii": stopncii},
        )
        for n, item in enumerate(submission.items, start=1):
            signals = [*item.signals, *item.variants]
            entry_id = add_entry_in(
                session,
                settings.protect_bank,
                signals,
                external_ids=[f"{number}/{n}"],
                provenance=Provenance.VICTIM,
            )
            session.add(
                VictimItem(
                    case_id=case.id,
                    number=n,
                    kind=item.kind,
                    entry_id=entry_id,
                    signal_count=len(signals),
                    status="active",
                )
            )
            total += len(signals)
            if submission.consent_stopncii:
                for signal in item.signals:  # its own hashes, not the bank-side variants
                    sendable = signal.type in STOPNCII_TYPES
                    session.add(
                        VictimShare(
                            case_id=case.id,
                            item_number=n,
                            signal_type=signal.type,
                            value=signal.value,
                            state="pending" if sendable else "not_sent",
                        )
                    )
        session.flush()
        if submission.consent_stopncii:
            stopncii = refresh_stopncii_state(session, case)
            if stopncii == "pending":
                session.add(
                    job_record(SHARE_JOB, {"case": number}, max_attempts=settings.job_max_attempts)
                )
    return VictimReceipt(
        number, pin, now, len(submission.items), total, settings.protect_bank, stopncii
    )


# -- status and withdrawal ---------------------------------------------------------------------


def refresh_stopncii_state(session: Session, case: VictimCase) -> str:
    """Set the case's ``stopncii_state`` from its shares (and return it): ``withdrawal_pending``
    while a withdrawal waits, ``shared`` while a hash is shared, ``withdrawn`` once every
    withdrawal reached StopNCII, ``pending`` while a hash waits to be sent, ``cancelled`` when
    all were withdrawn before being sent, ``not_shareable`` when none is of a type StopNCII
    takes, ``not_requested`` without consent."""
    if not case.consent_stopncii:
        return case.stopncii_state
    states = set(
        session.scalars(
            select(VictimShare.state).where(
                VictimShare.case_id == case.id, VictimShare.state != "not_sent"
            )
        )
    )
    for state in ("withdrawal_pending", "shared", "pending", "withdrawn", "cancelled"):
        if state in states:
            case.stopncii_state = state
            break
    else:
        case.stopncii_state = "not_shareable"
    if case.stopncii_state == "not_shareable":
        case.stopncii_note = "StopNCII takes PDQ and MD5 hashes only; this case has none"
    return case.stopncii_state


def _case(session: Session, settings: Settings, case_number: str, pin: str) -> VictimCase:
    """The case if the PIN is right; the same :class:`NotFound` after the same work otherwise."""
    case = session.scalar(select(VictimCase).where(VictimCase.case_number == case_number))
    stored = case.pin_hash if case is not None else dummy_hash(settings)
    if not verify_secret(stored, pin) or case is None:
        raise NotFound("no protection case with this number and PIN")
    return case


def _counts(session: Session, entry_ids: Sequence[int]) -> dict[int, tuple[int, int]]:
    """Per bank entry: distinct contents matched, and of those the ones blocked at upload (a
    block bank's match) or removed by a case decision."""
    if not entry_ids:
        return {}
    matched: dict[int, set[str]] = {}
    blocked: dict[int, set[str]] = {}
    rows = session.execute(
        select(MatchRecord.entry_id, MatchRecord.content_id, Bank.kind)
        .outerjoin(Bank, Bank.id == MatchRecord.bank_id)
        .where(MatchRecord.entry_id.in_(entry_ids))
    )
    for entry_id, content_id, kind in rows:
        assert entry_id is not None
        matched.setdefault(entry_id, set()).add(content_id)
        if kind == BankKind.BLOCK.value:
            blocked.setdefault(entry_id, set()).add(content_id)
    wanted = set().union(*matched.values()) if matched else set()
    removed_ids: set[str] = set()
    if wanted:
        for (content_ids,) in session.execute(
            select(CaseItem.content_ids).where(
                CaseItem.state == "decided", CaseItem.action == "remove"
            )
        ):
            removed_ids.update(c for c in content_ids if c in wanted)
    return {
        e: (len(ids), len(blocked.get(e, set()) | (ids & removed_ids)))
        for e, ids in matched.items()
    }


def case_status(
    db: Database, case_number: str, pin: str, *, settings: Settings | None = None
) -> VictimStatus:
    """A case's status and counts; an unknown number and a wrong PIN raise the same
    :class:`NotFound`."""
    settings = settings or get_settings()
    with db.session() as session:
        case = _case(session, settings, case_number, pin)
        items = list(
            session.scalars(
                select(VictimItem).where(VictimItem.case_id == case.id).order_by(VictimItem.number)
            )
        )
        counts = _counts(session, [i.entry_id for i in items if i.entry_id is not None])
        shares = list(session.scalars(select(VictimShare).where(VictimShare.case_id == case.id)))
        shared = [s for s in shares if s.state == "shared"]
        shared_at = [s.shared_at for s in shares if s.shared_at is not None]
        return VictimStatus(
            case.case_number,
            case.status,
            case.created_at,
            case.stopncii_state,
            [
                ItemStatus(
                    i.number,
                    i.kind,
                    i.status,
                    *counts.get(i.entry_id if i.entry_id is not None else -1, (0, 0)),
                )
                for i in items
            ],
            stopncii_note=case.stopncii_note,
            stopncii_shared=len(shared),
            stopncii_shared_at=max(shared_at) if shared_at else None,
            stopncii_withdrawn=sum(s.state == "withdrawn" for s in shares),
            stopncii_withdrawal_pending=sum(s.state == "withdrawal_pending" for s in shares),
            stopncii_not_sent=sum(s.state == "not_sent" for s in shares),
        )


def withdraw_items(
    db: Database,
    case_number: str,
    pin: str,
    *,
    item: int | None = None,
    settings: Settings | None = None,
    actor: str = "public",
) -> VictimStatus:
    """Withdraw one item (``item``) or the whole case: its hashes stop matching in our banks
    (an entry another case also holds keeps matching for that case); a StopNCII share not sent
    yet is cancelled, one sent is marked for withdrawal and a ``victim.stopncii_withdraw`` job
    queued. Withdrawing twice is harmless; an unknown item is
    :class:`NotFound`."""
    settings = settings or get_settings()
    with db.session() as session:
        case = _case(session, settings, case_number, pin)
        query = select(VictimItem.number).where(
            VictimItem.case_id == case.id, VictimItem.status == "active"
        )
        if item is not None:
            exists = session.scalar(
                select(func.count()).where(VictimItem.case_id == case.id, VictimItem.number == item)
            )
            if not exists:
                raise NotFound(f"case {case_number} has no item {item}")
            query = query.where(VictimItem.number == item)
        numbers = list(session.scalars(query))
        bank = case.bank_name
    for n in numbers:
        # Each in its own transaction; a repeat after a failure is harmless.
        with contextlib.suppress(NotFound):  # the bank was deleted since
            withdraw(db, f"{case_number}/{n}", bank=bank)
    now = utcnow()
    with db.transaction() as session:
        case = _case(session, settings, case_number, pin)
        for row in session.scalars(
            select(VictimItem).where(
                VictimItem.case_id == case.id, VictimItem.number.in_(numbers or [-1])
            )
        ):
            row.status, row.withdrawn_at = "withdrawn", now
        session.flush()
        left = session.scalar(
            select(func.count()).where(VictimItem.case_id == case.id, VictimItem.status == "active")
        )
        to_withdraw = 0
        for share in session.scalars(
            select(VictimShare).where(
                VictimShare.case_id == case.id, VictimShare.item_number.in_(numbers or [-1])
            )
        ):
            if share.state == "pending":
                share.state = "cancelled"  # not sent yet (a share job running now sends it
                # and then queues its withdrawal)
            elif share.state == "shared":
                share.state = "withdrawal_pending"
                to_withdraw += 1
        if to_withdraw:
            session.add(
                job_record(
                    WITHDRAW_JOB, {"case": case_number}, max_attempts=settings.job_max_attempts
                )
            )
        session.flush()
        refresh_stopncii_state(session, case)
        if not left and case.status != "withdrawn":
            case.status, case.withdrawn_at = "withdrawn", now
        if numbers:
            record_event(
                session,
                actor,
                "victim_case.withdrawn",
                f"victim:{case_number}",
                {"items": numbers, "whole_case": item is None},
            )
    return case_status(db, case_number, pin, settings=settings)
