"""Request and response bodies of the HTTP API (they make the OpenAPI schema).

The schema is the validation: request fields are strict (``true`` is a boolean, ``1`` is not;
a number is not a string), enumerations are ``Literal``, and lengths and patterns are
``Field`` constraints, so that what the schema allows the code accepts (schemathesis checks
both ways, docs/security.md). Optional answer fields have defaults, so that a field an answer
may leave out is not marked required."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from shieldwall.people.scopes import Scope
from shieldwall.service.params import JSON_INTEGER, IdPath
from shieldwall.signals import all_signal_types, bankable_types

__all__ = [
    "ERROR_RESPONSES",
    "AnySignalTypeName",
    "BankCreate",
    "BankOut",
    "BankPatch",
    "BankSignalOut",
    "BankSignalPage",
    "EntryCreate",
    "EntryOut",
    "ErrorOut",
    "HashOut",
    "HealthOut",
    "IdPath",
    "KeyCreate",
    "KeyCreated",
    "KeyOut",
    "LedgerAdd",
    "LedgerOut",
    "LookupHit",
    "LookupOut",
    "LookupSignals",
    "MatchOut",
    "MatchPage",
    "QuarantineOut",
    "ScoreIn",
    "ScoresIn",
    "ScoresOut",
    "SignalIn",
    "SignalOut",
    "SignalTypeName",
    "WithdrawIn",
    "WithdrawOut",
]

_NAME = r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,199}$"
#: Python's whitespace (what ``str.strip`` strips), spelled out for patterns: ``\s`` differs
#: between the regular expression engines that generate, check and validate (0x1c-0x1f).
WS = r"\t\n\x0b\x0c\r\x1c-\x1f \x85\xa0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000"
#: Text that says something: a character that is not blank.
SAYS_SOMETHING = f"[^{WS}]"


def _signal_type_names(*, bankable: bool) -> list[str]:
    """The registered signal types' names and aliases (plug-ins included)."""
    kinds = bankable_types() if bankable else all_signal_types()
    return sorted({name for kind in kinds for name in (kind.name, *kind.aliases)})


def _bankable_enum(schema: dict[str, Any]) -> None:
    # Read when the schema is made, after every plug-in has registered its types.
    schema["enum"] = _signal_type_names(bankable=True)


def _any_type_enum(schema: dict[str, Any]) -> None:
    schema["enum"] = _signal_type_names(bankable=False)


#: A signal type that can be banked or looked up, by name or alias (``pdq``, ``video_md5``).
SignalTypeName = Annotated[str, Field(max_length=32, json_schema_extra=_bankable_enum)]
#: Any registered signal type (a filter).
AnySignalTypeName = Annotated[str, Field(max_length=32, json_schema_extra=_any_type_enum)]
#: A threshold: the largest distance that still matches.
Threshold = Annotated[int, Field(ge=0, le=256), JSON_INTEGER]
#: A signal's quality, 0..100.
Quality = Annotated[int, Field(ge=0, le=100), JSON_INTEGER]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class ErrorField(BaseModel):
    """One invalid field of a request."""

    field: str
    message: str


class ErrorOut(BaseModel):
    """The one error shape of every error answer."""

    error: str = Field(description="Stable machine-readable code, e.g. not_found.")
    message: str = Field(description="What is wrong, for a person.")
    request_id: str | None = None
    fields: list[ErrorField] | None = None


#: Documented on every route: each error answer has the one shape.
ERROR_RESPONSES: dict[int | str, dict[str, object]] = {
    status: {"model": ErrorOut, "description": text}
    for status, text in {
        400: "invalid request",
        401: "no key, or an unknown or revoked key",
        403: "the key lacks the scope",
        404: "no such thing",
        409: "the current state forbids it",
        413: "over a size limit",
        415: "not a format we decode",
        422: "invalid request or content",
        429: "rate limited (see Retry-After)",
        503: "this process does not serve the route, or the database is away",
        504: "ran past the time limit",
    }.items()
}


class SignalIn(_Strict):
    """A signal given by value: ``{"type": "pdq", "value": "<64 hex>", "quality": 90}``."""

    type: SignalTypeName = Field(description="A signal type (pdq, md5, sha256, vpdq, ...).")
    value: str = Field(min_length=1, max_length=100_000_000)
    quality: Quality | None = None


class SignalOut(BaseModel):
    """A signal as computed or stored."""

    type: str
    value: str
    quality: int | None = None


class HashOut(BaseModel):
    """The signals of one upload."""

    signals: list[SignalOut]
    content_type: str


class LookupSignals(_Strict):
    """Signals to look up. With ``content_id`` the matches are stored under it (and webhooks
    called); without, nothing is stored."""

    signals: list[SignalIn] = Field(min_length=1, max_length=64)
    content_id: str | None = Field(default=None, min_length=1, max_length=512)


class LookupHit(BaseModel):
    """One bank entry matched. ``distance`` only for keys with the read-distances scope."""

    entry_id: int
    signal_type: str
    #: The query-side variant that matched: ``original``, or a normalised cut (``trim``,
    #: ``caption-top``, ``screenshot``, ...), a rotation undone (``rotate+3``) or a flip.
    variant: str = "original"
    #: The bank-side variant matched (a crop of the banked photo), when not the signal itself.
    bank_variant: str | None = None
    distance: int | None = None
    #: Videos: the shares of query and banked frames that matched, and the matched time
    #: ranges (seconds) on each side.
    query_share: float | None = None
    bank_share: float | None = None
    query_ranges: list[list[float]] | None = None
    bank_ranges: list[list[float]] | None = None


class LookupBank(BaseModel):
    """What one bank says about the content."""

    bank: str
    kind: Literal["block", "allow", "review"]
    hits: list[LookupHit]


class LookupOut(BaseModel):
    """The answer to a lookup: per bank, without distances unless the key may see them.

    ``matched`` is true when a block or review bank matched and no allow bank suppressed it;
    ``allowed_by`` names the allow banks that suppressed every other hit."""

    content_id: str | None = Field(
        default=None, description="The id the matches were stored under (only when stored)."
    )
    matched: bool
    banks: list[LookupBank]
    allowed_by: list[str]
    stored: bool
    signals: list[SignalOut] | None = None
    #: Query-side variants that could not be made, with the reason (a flat picture has no
    #: border to trim): never an error.
    skipped_variants: dict[str, str] | None = None


class BankCreate(_Strict):
    """A new bank."""

    name: str = Field(pattern=_NAME)
    kind: Literal["block", "allow", "review"]
    thresholds: dict[SignalTypeName, Threshold] = Field(default_factory=dict)
    description: str = Field(default="", max_length=10_000)
    source: str | None = Field(default=None, max_length=100)
    enabled: bool = Field(default=True, strict=True)
    match_variants: bool = Field(
        default=True,
        strict=True,
        description="Count matches through variants (cuts, rotations, crops).",
    )
    local_features: bool = Field(
        default=False,
        strict=True,
        description="Photos banked from uploads also carry their local features (ORB), for "
        "copies no hash reaches; ~25 kB a photo.",
    )


class BankPatch(_Strict):
    """Changes to a bank: enable/disable, thresholds (``null`` resets one to the default)."""

    enabled: bool | None = Field(default=None, strict=True)
    thresholds: dict[SignalTypeName, Threshold | None] | None = None


class BankOut(BaseModel):
    """A bank."""

    id: int
    name: str
    kind: str
    enabled: bool
    thresholds: dict[str, int]
    description: str
    source: str | None
    created_at: datetime
    entry_counts: dict[str, int]
    live_signals: int | None
    match_variants: bool = True
    local_features: bool = False


class EntryCreate(_Strict):
    """An item to add to a bank: its signals and the cases holding it."""

    signals: list[SignalIn] = Field(min_length=1, max_length=64)
    external_ids: list[str] = Field(default_factory=list, max_length=1000)
    note: str = Field(default="", max_length=10_000)
    provenance: Literal["victim", "reviewer", "partner"] = "reviewer"


class EntryOut(BaseModel):
    """A bank entry."""

    id: int
    bank: str
    status: str
    disabled_until: datetime | None
    note: str
    provenance: str
    signals: list[SignalOut]
    external_ids: dict[str, str]
    created_at: datetime


class BankSignalOut(BaseModel):
    """One signal of a bank (a vpdq signal's value is the SHA-256 of its frames' text)."""

    id: int
    entry_id: int
    type: str
    value: str
    quality: int | None
    live: bool
    quarantined: bool
    created_at: datetime


class BankSignalPage(BaseModel):
    """A page of a bank's signals; pass ``next_after_id`` as ``after_id`` for the next."""

    signals: list[BankSignalOut]
    next_after_id: int | None = None


class WithdrawIn(_Strict):
    """Cases to withdraw: all of them, or (one unknown) none."""

    external_ids: list[str] = Field(min_length=1, max_length=1000)
    bank: str | None = Field(default=None, max_length=200)


class WithdrawOut(BaseModel):
    """What one withdrawal did."""

    external_id: str
    withdrawn_entries: list[int]
    kept_entries: list[int]


class LedgerItemIn(_Strict):
    """Content the platform hosts: its id and signals (never the media)."""

    content_id: str = Field(min_length=1, max_length=512)
    signals: list[SignalIn] = Field(min_length=1, max_length=64)


class LedgerAdd(_Strict):
    """Items to record in the ledger."""

    items: list[LedgerItemIn] = Field(min_length=1, max_length=10_000)


class ScoreIn(_Strict):
    """One detector score of one content id (docs/cases.md, "Detector scores")."""

    # Blank ids are the library's to name (validate_scores names every invalid item at once):
    # the pattern is the schema's only.
    content_id: str = Field(
        min_length=1,
        max_length=512,
        json_schema_extra={"pattern": SAYS_SOMETHING},
        description="The platform's id.",
    )
    detector: str = Field(
        min_length=1,
        max_length=64,
        json_schema_extra={"pattern": SAYS_SOMETHING},
        description="The classifier's name.",
    )
    label: Literal["synthetic", "intimate"] = Field(
        description="synthetic (AI-generated, a deepfake) or intimate (nudity, sexual content)"
    )
    score: float = Field(ge=0, le=1, allow_inf_nan=False, strict=True, description="0..1")
    model_version: str | None = Field(default=None, max_length=64)


class ScoresIn(_Strict):
    """Detector scores to record; a (content_id, detector, label) reported again replaces its
    score."""

    items: list[ScoreIn] = Field(max_length=10_000)


class ScoresOut(BaseModel):
    """How many scores were recorded."""

    count: int


class LedgerOut(BaseModel):
    """How many items were recorded or removed."""

    count: int


class MatchOut(BaseModel):
    """A stored match. ``distance`` only for keys with the read-distances scope."""

    id: int
    content_id: str
    bank: str
    entry_id: int | None = None
    signal_type: str
    source: str
    at: datetime
    distance: int | None = None


class MatchPage(BaseModel):
    """A page of stored matches; pass ``next_after_id`` as ``after_id`` for the next."""

    matches: list[MatchOut]
    next_after_id: int | None = None


class QuarantineOut(BaseModel):
    """A bank signal held by flood protection."""

    signal_id: int
    bank: str
    entry_id: int
    signal_type: str
    quarantined_at: datetime


class KeyCreate(_Strict):
    """A new API key."""

    name: str = Field(min_length=1, max_length=200)
    scopes: list[Scope] = Field(min_length=1, max_length=len(Scope))
    rate_limit: float | None = Field(default=None, gt=0, allow_inf_nan=False, strict=True)


class KeyOut(BaseModel):
    """An API key (never its secret)."""

    id: int
    prefix: str
    name: str
    scopes: list[str]
    rate_limit: float | None
    created_at: datetime
    revoked_at: datetime | None


class KeyCreated(KeyOut):
    """A new key with its secret, shown this once."""

    key: str


class HealthOut(BaseModel):
    """Liveness or readiness."""

    status: str
    role: str
    #: The answering process (``--workers N`` runs several).
    pid: int | None = None
    index_seq: int | None = None
    log_seq: int | None = None
    lag_seconds: float | None = None
    detail: str | None = None
