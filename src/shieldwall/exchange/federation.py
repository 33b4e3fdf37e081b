"""Federation between Shieldwall instances: a partner's feed of chosen banks, signed.

The publishing instance serves each bank named in ``federation_banks`` as a feed of its
changes (``GET /v1/federation/banks/{bank}/feed?after=&limit=``, the ``federate`` scope): the
signal log's additions and tombstones of that bank's signals after a sequence number, as a
page signed with the instance's Ed25519 key (``federation_signing_key``)::

    {"payload": "<JSON text>", "signature": "<base64 Ed25519 signature of that text>"}

    payload: {"version": 1, "instance": "<database id>", "bank": "ncii", "after": 120,
              "next": 180, "more": false, "issued_at": 1764700000,
              "records": [{"type": "pdq", "value": "<hex>", "ref": "ncii/17",
                           "withdrawn": false}, ...]}

The subscribing instance configures the partner as an exchange of kind ``shieldwall``
(:class:`FederationExchange`) with the partner's public key, and refuses a page whose
signature does not verify (tampered), that answers another cursor or bank than it asked for,
or that is older than ``max_age_seconds`` (replayed); a page from another instance than the
one it followed before is refused too. Per-partner trust is the exchange's configuration:
which banks (one exchange per partner bank), what a match means (the bank it feeds is
``block`` or ``review``), and ``auto_remove`` (whether an exact match on a partner's hash may
remove copies without a person; off by default). Frame sets (vPDQ, kept in the side table)
are shared whole, in the signed payload as any value; a page ends early when its values grow
past :data:`_MAX_PAGE_CHARS`. Withdrawals propagate as tombstones; who
shared what is in the bank (provenance ``partner``, external id ``<exchange>:<bank>/<entry>``).
"""

from __future__ import annotations

import base64
import binascii
import json
import math
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar
from urllib.parse import urlencode

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator
from sqlalchemy import select

from shieldwall.config import Settings
from shieldwall.errors import ConfigError, ExchangeRefused, NotFound
from shieldwall.exchange.base import (
    BadRecord,
    Checkpoint,
    FetchPage,
    HashRecord,
    RemoteSignal,
    SignalExchange,
    protocol_error,
    read_secret,
)
from shieldwall.signals import Exchange, Storage, find_signal_type
from shieldwall.store import Database
from shieldwall.store.models import (
    Bank,
    BankSignal,
    BankSignalValue,
    DatabaseInstance,
    SignalLogRecord,
)

if TYPE_CHECKING:  # cryptography loads with the first federation key (not in every process)
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

__all__ = [
    "FEED_VERSION",
    "FederationExchange",
    "FederationSettings",
    "SignedPage",
    "feed_page",
    "public_key_of",
]

FEED_VERSION = 1
_MAX_LIMIT = 5000
#: A page ends early once its values reach this many characters (vPDQ frame sets are long);
#: at least one record is always sent.
_MAX_PAGE_CHARS = 8 << 20


@dataclass(frozen=True, slots=True)
class SignedPage:
    """A feed page as served: the payload text and its signature (base64)."""

    payload: str
    signature: str


def _private_key(settings: Settings) -> Ed25519PrivateKey:
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey  # noqa: PLC0415 (loaded on first use)

    raw = settings.federation_signing_key
    if not raw:
        raise ConfigError(
            "federation needs SHIELDWALL_FEDERATION_SIGNING_KEY(_FILE): a base64 Ed25519 seed"
        )
    try:
        seed = base64.b64decode(raw.strip(), validate=True)
        return Ed25519PrivateKey.from_private_bytes(seed)
    except (binascii.Error, ValueError) as exc:
        raise ConfigError(
            "SHIELDWALL_FEDERATION_SIGNING_KEY must be 32 bytes in base64 (an Ed25519 seed)"
        ) from exc


def public_key_of(settings: Settings) -> str:
    """This instance's public key (base64), to give to partners."""
    from cryptography.hazmat.primitives import serialization  # noqa: PLC0415

    public = _private_key(settings).public_key()
    raw = public.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    return base64.b64encode(raw).decode()


def feed_page(
    db: Database, settings: Settings, bank: str, *, after: int = 0, limit: int = 1000
) -> SignedPage:
    """The signed page of ``bank``'s changes after log sequence ``after``. A bank not shared
    (not in ``federation_banks``) is :class:`NotFound`, as an absent one is. Values kept in
    the side table (vPDQ frame sets) are sent whole; a page stops early (``more``) once its
    values pass :data:`_MAX_PAGE_CHARS`."""
    if bank not in settings.federation_banks:
        raise NotFound(f"no bank named {bank!r} is shared")
    key = _private_key(settings)
    limit = max(1, min(limit, _MAX_LIMIT))
    with db.session() as session:
        bank_id = session.scalar(select(Bank.id).where(Bank.name == bank))
        if bank_id is None:
            raise NotFound(f"no bank named {bank!r} is shared")
        instance = session.scalar(select(DatabaseInstance.id)) or ""
        rows = list(
            session.execute(
                select(
                    SignalLogRecord.seq,
                    SignalLogRecord.op,
                    SignalLogRecord.type,
                    SignalLogRecord.value,
                    BankSignal.entry_id,
                    BankSignalValue.value,
                )
                .join(BankSignal, BankSignal.id == SignalLogRecord.signal_id)
                .outerjoin(BankSignalValue, BankSignalValue.signal_id == BankSignal.id)
                .where(SignalLogRecord.seq > after, BankSignal.bank_id == bank_id)
                .order_by(SignalLogRecord.seq)
                .limit(limit + 1)
            )
        )
    more = len(rows) > limit
    rows = rows[:limit]
    records: list[dict[str, Any]] = []
    chars = 0
    last = after
    for number, (seq, op, kind, logged, entry_id, side_value) in enumerate(rows):
        if number and chars >= _MAX_PAGE_CHARS:
            more = True  # the rest on the next page
            break
        last = seq
        signal_type = find_signal_type(kind)
        if signal_type is None:
            continue
        if signal_type.storage is Storage.SIDE_TABLE:
            if side_value is None:
                continue  # the frame set is gone: nothing to share
            value = side_value
        elif signal_type.storage is Storage.INLINE:
            value = logged
        else:
            continue
        chars += len(value)
        records.append(
            {
                "type": signal_type.exchange_names.get(Exchange.THREATEXCHANGE, signal_type.name),
                "value": value,
                "ref": f"{bank}/{entry_id}",
                "withdrawn": op == "remove",
            }
        )
    payload = json.dumps(
        {
            "version": FEED_VERSION,
            "instance": instance,
            "bank": bank,
            "after": after,
            "next": last,
            "more": more,
            "issued_at": int(time.time()),
            "records": records,
        },
        separators=(",", ":"),
        sort_keys=True,
    )
    signature = base64.b64encode(key.sign(payload.encode())).decode()
    return SignedPage(payload, signature)


class FederationSettings(BaseModel):
    """A partner instance's feed of one bank."""

    model_config = ConfigDict(extra="forbid")

    base_url: str = Field(pattern=r"^https?://\S+$")
    #: The partner's bank to follow.
    bank: str = Field(min_length=1, max_length=200)
    #: The partner's public key (base64 of the 32 raw bytes).
    public_key: str
    api_key: str | None = None
    api_key_file: Path | None = None
    page_size: int = Field(default=1000, ge=1, le=_MAX_LIMIT)
    #: A page older than this is refused (a replay).
    max_age_seconds: int = Field(default=300, ge=1, le=86400)
    #: Whether an exact match on this partner's hashes may remove copies without a person.
    auto_remove: bool = False

    @field_validator("public_key")
    @classmethod
    def _key(cls, value: str) -> str:
        from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey  # noqa: PLC0415 (loaded on first use)

        try:
            raw = base64.b64decode(value.strip(), validate=True)
            Ed25519PublicKey.from_public_bytes(raw)
        except (binascii.Error, ValueError):
            raise ValueError("must be an Ed25519 public key: 32 bytes in base64") from None
        return value.strip()

    @model_validator(mode="after")
    def _has_key(self) -> FederationSettings:
        if not (self.api_key or self.api_key_file):
            raise ValueError("give api_key or api_key_file (a key with the federate scope)")
        return self


def _time(value: object) -> float | None:
    """``value`` as a finite Unix time, or ``None``."""
    if not isinstance(value, int | float) or isinstance(value, bool):
        return None
    try:
        seconds = float(value)
    except OverflowError:
        return None
    return seconds if math.isfinite(seconds) else None


class FederationExchange(SignalExchange):
    """Another Shieldwall instance's signed feed of one bank."""

    kind = "shieldwall"
    signal_format = Exchange.THREATEXCHANGE
    settings_model = FederationSettings
    secret_settings = frozenset({"api_key"})

    MAX_PAGE: ClassVar[int] = _MAX_LIMIT

    @property
    def auto_remove(self) -> bool:
        """The partner's ``auto_remove``: whether its exact matches may remove by themselves."""
        return self._settings.auto_remove

    @property
    def _settings(self) -> FederationSettings:
        assert isinstance(self.settings, FederationSettings)
        return self.settings

    def _verify(self, body: bytes, what: str) -> dict[str, Any]:
        try:
            page = json.loads(body)
            payload, signature = page["payload"], page["signature"]
            if not isinstance(payload, str) or not isinstance(signature, str):
                raise TypeError
            raw_signature = base64.b64decode(signature, validate=True)
        except (ValueError, KeyError, TypeError, RecursionError):  # binascii, 5000 digits, [[[[
            raise protocol_error(what, "not a signed feed page") from None
        from cryptography.exceptions import InvalidSignature  # noqa: PLC0415 (loaded on first use)
        from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey  # noqa: PLC0415 (loaded on first use)

        key = Ed25519PublicKey.from_public_bytes(base64.b64decode(self._settings.public_key))
        try:
            key.verify(raw_signature, payload.encode())
        except InvalidSignature:
            raise protocol_error(
                what, "the page's signature does not verify with the partner's key: refused"
            ) from None
        try:
            data = json.loads(payload)
        except (ValueError, RecursionError):  # signed, yet not JSON (found by fuzzing)
            raise protocol_error(what, "the signed payload is not JSON") from None
        if not isinstance(data, dict) or data.get("version") != FEED_VERSION:
            raise protocol_error(what, "an unknown feed version")
        return data

    def fetch(self, checkpoint: Checkpoint | None) -> Iterator[FetchPage]:
        s = self._settings
        state = checkpoint or {}
        after = int(state.get("after", 0))
        instance = state.get("instance")
        key = read_secret(s.api_key, s.api_key_file, f"{self.name} api key")
        if not key:
            raise ExchangeRefused(f"{self.name}: no API key configured")
        what = f"{self.name} feed of {s.bank}"
        page_number = 0
        while True:
            page_number += 1
            query = urlencode({"after": after, "limit": s.page_size})
            answer = self.context.http(
                f"{s.base_url.rstrip('/')}/v1/federation/banks/{s.bank}/feed?{query}",
                headers={"Authorization": f"Bearer {key}", "Accept": "application/json"},
                what=what,
            )
            data = self._verify(answer.body, what)
            if data.get("bank") != s.bank or data.get("after") != after:
                raise protocol_error(what, "a page for another bank or cursor (a replay): refused")
            # A signed page is still read with care: a string, null, NaN or a 400-digit number
            # here was a ValueError, a TypeError or (NaN) a page past the age check.
            issued, following = _time(data.get("issued_at", 0)), data.get("next", after)
            if issued is None:
                raise protocol_error(what, "issued_at is not a time")
            if not isinstance(following, int) or isinstance(following, bool):
                raise protocol_error(what, "next is not a log sequence number")
            age = self.context.clock() - issued
            if age > s.max_age_seconds:
                raise protocol_error(what, f"a page issued {age:.0f} s ago (a replay): refused")
            if instance is not None and data.get("instance") != instance:
                raise protocol_error(what, "a page from another instance than before: refused")
            instance = data.get("instance")
            records: list[HashRecord | BadRecord] = []
            raw = data.get("records")
            if not isinstance(raw, list):
                raise protocol_error(what, "records is not a list")
            for i, r in enumerate(raw):
                source = f"{self.name} page {page_number} record {i + 1}"
                if not isinstance(r, dict) or not all(
                    isinstance(r.get(k), str) for k in ("type", "value", "ref")
                ):
                    records.append(BadRecord(source, "a record needs type, value and ref"))
                    continue
                records.append(
                    HashRecord(
                        (RemoteSignal(r["type"], r["value"]),),
                        refs=(r["ref"],),
                        withdrawn=r.get("withdrawn") is True,
                        complete=False,
                        source=source,
                    )
                )
            more = data.get("more") is True
            yield FetchPage(records, {"after": following, "instance": instance}, more=more)
            if not more or following == after:
                return
            after = following
