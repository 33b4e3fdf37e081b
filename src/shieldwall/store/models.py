"""SQLAlchemy models: banks, their entries and signals, the signal log, matches and the ledger.

The tables (see ``docs/banks.md`` for what each column means)::

    bank ─< bank_entry ─< entry_external_id        a case number or other id, with its status
              │
              └─< bank_signal                       one hash of the entry; live or tombstoned
                    └── bank_signal_value           a large value kept aside (a vpdq frame set;
                                                    bank_signal.value is then its digest)
    signal_log                                      append-only: seq, add | remove, type, value
    match                                           query content x bank signal, every match kept
    ledger_item ─< ledger_signal                    what the platform hosts: content id, and
                                                    each indexable hash (PDQ, MD5, SHA-256, ...)
    sweep_state                                     how far the retroactive sweep has read the log
    job                                             the background job queue (docs/jobs.md)
    webhook                                         receivers of match events (docs/webhooks.md)
    database_instance                               a random id naming this database
    api_key                                         service keys: a digest, scopes, rate limit
    request_audit                                   one row per API request (never hash values)
    audit_event                                     the case audit log, hash-chained (people.md)
    person ─< login_session                         console users (argon2) and their sessions
    notice ─< notice_event                          notices (issue 5) and their status history
      └── case_item ─< appeal                       the case a notice opens, its appeals
    content_score                                   platforms' detector scores per content id
    exchange ─< exchange_feedback                   hash exchanges (StopNCII, NCMEC, ...) feeding
                                                    a bank: checkpoint, counts; feedback to send

    victim_case ─< victim_item                      cases people filed from their own device

``bank_signal`` is unique per ``(bank, type, value)``: adding the same hash to a bank twice finds
the existing row. Rows are never deleted except with their bank; removal is a tombstone in
``signal_log`` (and ``live = false``), which is what every in-memory index follows.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    Text,
    TypeDecorator,
    UniqueConstraint,
    text,
)
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from shieldwall.store.sealing import SealedString, SealedText

__all__ = [
    "ApiKey",
    "Appeal",
    "AuditEvent",
    "Bank",
    "BankEntry",
    "BankSignal",
    "BankSignalValue",
    "Base",
    "CaseItem",
    "ContentScore",
    "DatabaseInstance",
    "EntryExternalId",
    "ExchangeFeedbackRecord",
    "ExchangeRecord",
    "JobRecord",
    "LedgerItem",
    "LedgerSignal",
    "LoginSession",
    "MatchRecord",
    "Notice",
    "NoticeEvent",
    "Person",
    "RequestAudit",
    "SignInFlow",
    "SignalLogRecord",
    "SweepState",
    "TransparencySubmission",
    "UTCDateTime",
    "VictimCase",
    "VictimItem",
    "VictimShare",
    "WebhookRecord",
    "utcnow",
]

#: An integer primary key that is BIGINT on PostgreSQL and the rowid alias on SQLite.
BigId = BigInteger().with_variant(Integer(), "sqlite")


def utcnow() -> datetime:
    """The current time, timezone-aware, in UTC."""
    return datetime.now(UTC)


class UTCDateTime(TypeDecorator[datetime]):
    """A timestamp stored in UTC and always read back timezone-aware (SQLite keeps no zone)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetimes are not stored: give a timezone")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: Any, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        assert isinstance(value, datetime)
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


class Base(DeclarativeBase):
    """Base of every model; timestamps are :class:`UTCDateTime`."""

    type_annotation_map = {datetime: UTCDateTime}  # noqa: RUF012 - SQLAlchemy's declared API


class Bank(Base):
    """A named set of hashes: ``block``, ``allow`` (known false positives) or ``review``."""

    __tablename__ = "bank"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    name: Mapped[str] = mapped_column(String(200), unique=True)
    kind: Mapped[str] = mapped_column(String(16))
    enabled: Mapped[bool] = mapped_column(default=True)
    #: Per signal type, the largest distance that matches; absent types use the type's default.
    thresholds: Mapped[dict[str, int]] = mapped_column(JSON, default=dict)
    description: Mapped[str] = mapped_column(Text, default="")
    #: The exchange the bank is fed from (``stopncii``, ...), if any.
    source: Mapped[str | None] = mapped_column(String(100))
    #: Whether matches through variants (a query's normalised cuts or rotations, a banked
    #: photo's crops) count in this bank, or only its signals as given.
    match_variants: Mapped[bool] = mapped_column(default=True)
    #: Whether photos banked with the image at hand also carry their local features (``orb``),
    #: for copies no hash reaches (docs/matching.md).
    local_features: Mapped[bool] = mapped_column(default=False)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class BankEntry(Base):
    """One item of a bank (one image, one video) with its hashes, cases and status.

    The reporter's identity is never stored here: only external ids (case numbers) and the kind
    of provenance.
    """

    __tablename__ = "bank_entry"
    __table_args__ = (
        # The few disabled entries, which every matcher re-reads at each refresh.
        Index(
            "ix_bank_entry_disabled",
            "status",
            sqlite_where=text("status = 'disabled'"),
            postgresql_where=text("status = 'disabled'"),
        ),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    bank_id: Mapped[int] = mapped_column(ForeignKey("bank.id", ondelete="CASCADE"), index=True)
    note: Mapped[str] = mapped_column(Text, default="")
    provenance: Mapped[str] = mapped_column(String(16))
    #: ``active``, ``withdrawn`` or ``disabled`` (until ``disabled_until``, if set).
    status: Mapped[str] = mapped_column(String(16), default="active")
    disabled_until: Mapped[datetime | None]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class EntryExternalId(Base):
    """An external id (a StopNCII case number, a ticket) holding an entry, and its status."""

    __tablename__ = "entry_external_id"
    __table_args__ = (UniqueConstraint("entry_id", "external_id"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    entry_id: Mapped[int] = mapped_column(ForeignKey("bank_entry.id", ondelete="CASCADE"))
    external_id: Mapped[str] = mapped_column(String(200), index=True)
    #: ``active`` or ``withdrawn``.
    status: Mapped[str] = mapped_column(String(16), default="active")
    added_at: Mapped[datetime] = mapped_column(default=utcnow)
    withdrawn_at: Mapped[datetime | None]


class BankSignal(Base):
    """One hash of a bank entry. ``live`` is false once a tombstone was logged for it."""

    __tablename__ = "bank_signal"
    __table_args__ = (
        UniqueConstraint("bank_id", "type", "value"),
        Index("ix_bank_signal_type_value", "type", "value"),
        # The few quarantined signals, which every matcher re-reads at each refresh.
        Index(
            "ix_bank_signal_quarantined",
            "quarantined_at",
            sqlite_where=text("quarantined_at IS NOT NULL"),
            postgresql_where=text("quarantined_at IS NOT NULL"),
        ),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    bank_id: Mapped[int] = mapped_column(ForeignKey("bank.id", ondelete="CASCADE"))
    entry_id: Mapped[int] = mapped_column(
        ForeignKey("bank_entry.id", ondelete="CASCADE"), index=True
    )
    type: Mapped[str] = mapped_column(String(32))
    #: Sealed when at-rest keys are configured (:mod:`shieldwall.store.sealing`).
    value: Mapped[str] = mapped_column(SealedString(128))
    quality: Mapped[int | None]
    #: For a bank-side variant (a crop of the banked photo, made where the image was at hand):
    #: which one; ``None`` for the signal as given.
    variant: Mapped[str | None] = mapped_column(String(32))
    live: Mapped[bool] = mapped_column(default=True)
    #: Set when flood protection stopped this signal from matching, pending review.
    quarantined_at: Mapped[datetime | None]
    #: When a reviewer last released it from quarantine (flood counting restarts there).
    released_at: Mapped[datetime | None]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class BankSignalValue(Base):
    """The value of a banked signal whose type is stored in the side table
    (:attr:`~shieldwall.signals.Storage.SIDE_TABLE`: a vpdq frame set, one line a frame).

    Such a value can be megabytes (a long video banked densely): too long for the
    ``(bank, type, value)`` unique index (PostgreSQL's btree holds about 2.7 kB). So its
    ``bank_signal`` (and its ``signal_log`` entries) carry the type's
    :meth:`~shieldwall.signals.SignalType.storage_key` (the SHA-256 of the text), and the text
    itself lives here, one row per signal.
    """

    __tablename__ = "bank_signal_value"

    signal_id: Mapped[int] = mapped_column(
        BigId, ForeignKey("bank_signal.id", ondelete="CASCADE"), primary_key=True
    )
    value: Mapped[str] = mapped_column(SealedText())


class SignalLogRecord(Base):
    """One change of the bank signals, append-only: ``add`` or ``remove`` (a tombstone).

    ``seq`` grows with commit order (SQLite has one writer; on PostgreSQL appends take an
    advisory lock), so a follower that has read up to ``seq`` misses nothing by reading on.
    """

    __tablename__ = "signal_log"
    __table_args__ = ({"sqlite_autoincrement": True},)

    seq: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    op: Mapped[str] = mapped_column(String(8))
    #: No foreign key: the log outlives a deleted bank's rows.
    signal_id: Mapped[int] = mapped_column(BigInteger)
    type: Mapped[str] = mapped_column(String(32))
    value: Mapped[str] = mapped_column(SealedString(128))
    at: Mapped[datetime] = mapped_column(default=utcnow)


class MatchRecord(Base):
    """A stored match: which content matched which bank entry, by which signal, how far, when."""

    __tablename__ = "match"
    __table_args__ = (
        UniqueConstraint("content_id", "signal_id"),
        Index("ix_match_signal_at", "signal_id", "at"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    content_id: Mapped[str] = mapped_column(String(512), index=True)
    bank_id: Mapped[int | None] = mapped_column(ForeignKey("bank.id", ondelete="SET NULL"))
    bank_name: Mapped[str] = mapped_column(String(200))
    entry_id: Mapped[int | None] = mapped_column(
        ForeignKey("bank_entry.id", ondelete="SET NULL"), index=True
    )
    signal_id: Mapped[int | None] = mapped_column(ForeignKey("bank_signal.id", ondelete="SET NULL"))
    signal_type: Mapped[str] = mapped_column(String(32))
    distance: Mapped[int]
    #: The query-side variant that matched (``original``, ``trim``, ``rotate+3``, ...).
    variant: Mapped[str] = mapped_column(String(32), default="original")
    #: The bank-side variant it matched (``crop-top-10``, ...), ``None``: the banked signal.
    bank_variant: Mapped[str | None] = mapped_column(String(32))
    #: ``upload`` (matched when checked) or ``sweep`` (found in the ledger afterwards).
    source: Mapped[str] = mapped_column(String(16))
    at: Mapped[datetime] = mapped_column(default=utcnow)


class LedgerItem(Base):
    """A piece of content the platform hosts, by its platform id (never the media)."""

    __tablename__ = "ledger_item"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    content_id: Mapped[str] = mapped_column(String(512), unique=True)
    seen_at: Mapped[datetime] = mapped_column(default=utcnow)
    #: What a backfill hashed, to skip it when resumed: ``"file:<size>:<mtime ns>"`` of a
    #: file, ``"url:<url>"`` of a fetched URL; ``None`` for items recorded otherwise.
    source_stamp: Mapped[str | None] = mapped_column(String(2100), default=None)


class LedgerSignal(Base):
    """One hash of a ledger item, of any type the ledger keeps
    (:attr:`~shieldwall.signals.SignalType.in_ledger`): exact digests are looked up by
    ``(type, value)``; a sweep streams a Hamming type's values by ``(type, id)``."""

    __tablename__ = "ledger_signal"
    __table_args__ = (
        UniqueConstraint("item_id", "type"),
        Index("ix_ledger_signal_type_value", "type", "value"),
        Index("ix_ledger_signal_type_id", "type", "id"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    item_id: Mapped[int] = mapped_column(ForeignKey("ledger_item.id", ondelete="CASCADE"))
    type: Mapped[str] = mapped_column(String(32))
    value: Mapped[str] = mapped_column(String(128))


class DatabaseInstance(Base):
    """One row naming this database for good: files derived from it (index snapshots) carry
    the id, so a snapshot is never applied to another database."""

    __tablename__ = "database_instance"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class SweepState(Base):
    """How far a sweep has read the signal log."""

    __tablename__ = "sweep_state"

    name: Mapped[str] = mapped_column(String(100), primary_key=True)
    last_seq: Mapped[int] = mapped_column(BigInteger, default=0)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class ApiKey(Base):
    """A key of the HTTP service. Only a SHA-256 digest of the secret is stored (the secret is
    shown once, when created); ``prefix`` is its public part, shown in lists and logs."""

    __tablename__ = "api_key"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    prefix: Mapped[str] = mapped_column(String(16), unique=True)
    digest: Mapped[bytes] = mapped_column(LargeBinary(32))
    name: Mapped[str] = mapped_column(String(200))
    #: Scope names (``hash``, ``match``, ``curate``, ``review``, ``admin``, ``read-distances``).
    scopes: Mapped[list[str]] = mapped_column(JSON)
    #: Requests per second this key may make (a burst of twice as many); ``None``: the default.
    rate_limit: Mapped[float | None] = mapped_column(Float)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    revoked_at: Mapped[datetime | None]


class RequestAudit(Base):
    """One API request: who (key), what (method and route template), the status and when.
    Never the body, query values or any hash."""

    __tablename__ = "request_audit"
    __table_args__ = (Index("ix_request_audit_at", "at"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    at: Mapped[datetime] = mapped_column(default=utcnow)
    key_id: Mapped[int | None] = mapped_column(BigInteger, index=True)
    method: Mapped[str] = mapped_column(String(8))
    route: Mapped[str] = mapped_column(String(200))
    status: Mapped[int]
    duration_ms: Mapped[float] = mapped_column(Float)
    request_id: Mapped[str] = mapped_column(String(32))


class JobRecord(Base):
    """A background job (``shieldwall.jobs``): queued, claimed by one worker under a lease,
    done, retried with backoff, or dead-lettered (``dead``) after ``max_attempts``."""

    __tablename__ = "job"
    __table_args__ = (Index("ix_job_state_run_after", "state", "run_after"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    kind: Mapped[str] = mapped_column(String(100))
    payload: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    #: ``queued``, ``running``, ``retry`` (failed, waiting for ``run_after``), ``done``, ``dead``.
    state: Mapped[str] = mapped_column(String(16), default="queued")
    #: Claims so far (a claim counts as an attempt even if its worker dies).
    attempts: Mapped[int] = mapped_column(default=0)
    max_attempts: Mapped[int]
    #: Not claimed before this time (a retry's backoff, or a scheduled job).
    run_after: Mapped[datetime] = mapped_column(default=utcnow)
    #: The worker holding the job, and until when its lease lasts.
    locked_by: Mapped[str | None] = mapped_column(String(200))
    locked_until: Mapped[datetime | None]
    last_error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)
    finished_at: Mapped[datetime | None]


class WebhookRecord(Base):
    """A receiver of events (``shieldwall.webhooks``). ``secret`` is stored as given: it is
    needed to sign every delivery, so it cannot be kept hashed."""

    __tablename__ = "webhook"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    url: Mapped[str] = mapped_column(String(2048))
    secret: Mapped[str] = mapped_column(String(200))
    #: Event types delivered (``match.created``); ``*`` is every type.
    events: Mapped[list[str]] = mapped_column(JSON, default=list)
    enabled: Mapped[bool] = mapped_column(default=True)
    description: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class AuditEvent(Base):
    """One event of the hash-chained case audit log (``shieldwall.audit``)."""

    __tablename__ = "audit_event"

    seq: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    at: Mapped[datetime]
    actor: Mapped[str] = mapped_column(String(200))
    action: Mapped[str] = mapped_column(String(100))
    subject: Mapped[str] = mapped_column(String(500))
    details: Mapped[dict[str, Any]] = mapped_column(JSON)
    prev_hash: Mapped[str] = mapped_column(String(64))
    hash: Mapped[str] = mapped_column(String(64))
    #: The fingerprint of the HMAC key that made ``hash``; NULL: plain SHA-256 (rows written
    #: before migration 0018, or by a process with no key configured).
    key_id: Mapped[str | None] = mapped_column(String(16), default=None)


class Person(Base):
    """A console user (``shieldwall.people``): argon2 password hash, roles, lock-out state."""

    __tablename__ = "person"
    __table_args__ = (UniqueConstraint("oidc_issuer", "oidc_subject", name="uq_person_oidc"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    username: Mapped[str] = mapped_column(String(64), unique=True)
    display_name: Mapped[str] = mapped_column(String(200))
    #: Role names (``shieldwall.people.Role`` values).
    roles: Mapped[list[str]] = mapped_column(JSON)
    password_hash: Mapped[str] = mapped_column(String(200))
    failed_logins: Mapped[int] = mapped_column(Integer, default=0)
    locked_until: Mapped[datetime | None]
    disabled: Mapped[bool] = mapped_column(default=False)
    #: Show content previews unblurred by default (a per-user preference; off by default).
    reveal_previews: Mapped[bool] = mapped_column(default=False)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    #: The TOTP secret (base32); set at enrolment, in use once ``totp_enabled_at`` is set.
    totp_secret: Mapped[str | None] = mapped_column(String(64))
    totp_enabled_at: Mapped[datetime | None]
    #: The time step of the last code accepted (a code is never accepted twice).
    totp_last_step: Mapped[int | None] = mapped_column(BigInteger)
    #: An admin requires two-factor sign-in of this account (also ``totp_required`` for all).
    totp_required: Mapped[bool] = mapped_column(default=False)
    #: SHA-256 digests (hex) of the unused recovery codes.
    recovery_codes: Mapped[list[str] | None] = mapped_column(JSON)
    #: The OpenID Connect issuer and subject of an account that signs in through the provider.
    oidc_issuer: Mapped[str | None] = mapped_column(String(500))
    oidc_subject: Mapped[str | None] = mapped_column(String(255))


class LoginSession(Base):
    """A signed-in console session. Only a SHA-256 digest of the cookie's token is stored."""

    __tablename__ = "login_session"
    __table_args__ = (Index("ix_login_session_person", "person_id"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    digest: Mapped[bytes] = mapped_column(LargeBinary(32), unique=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("person.id", ondelete="CASCADE"))
    #: The secret the session's CSRF tokens are derived from.
    csrf_secret: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_seen: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime]
    #: ``None``: signed in. ``totp`` or ``enrol``: the password was right and the second
    #: factor is still to come; such a session opens no console page.
    pending: Mapped[str | None] = mapped_column(String(16))


class SignInFlow(Base):
    """A single sign-on in progress (OpenID Connect authorization code with PKCE): bound to
    the browser by a cookie whose SHA-256 digest is ``binding``; used once."""

    __tablename__ = "sign_in_flow"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    binding: Mapped[bytes] = mapped_column(LargeBinary(32), unique=True)
    state: Mapped[str] = mapped_column(String(64))
    nonce: Mapped[str] = mapped_column(String(64))
    code_verifier: Mapped[str] = mapped_column(String(128))
    next_url: Mapped[str] = mapped_column(String(500))
    expires_at: Mapped[datetime]


class Notice(Base):
    """A notice asking to remove intimate imagery (docs/cases.md). The reporter's identity
    (``reporter_name``, ``reporter_email``, ``signature``) lives here only: never in banks,
    statements of reasons, exports or audit events."""

    __tablename__ = "notice"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    tracking_number: Mapped[str] = mapped_column(String(32), unique=True)
    #: argon2 hash of the PIN (the PIN itself is shown once and never stored).
    pin_hash: Mapped[str] = mapped_column(String(200))
    received_at: Mapped[datetime] = mapped_column(default=utcnow)
    #: ``person`` or ``trusted_flagger``.
    source: Mapped[str] = mapped_column(String(32))
    #: The trusted flagger's configured name (``source = trusted_flagger``).
    trusted_flagger: Mapped[str | None] = mapped_column(String(200))
    reporter_name: Mapped[str] = mapped_column(String(200))
    reporter_email: Mapped[str] = mapped_column(String(320))
    signature: Mapped[str] = mapped_column(String(200))
    authorised_agent: Mapped[bool] = mapped_column(default=False)
    authority_explanation: Mapped[str | None] = mapped_column(Text)
    explanation: Mapped[str] = mapped_column(Text)
    urls: Mapped[list[str]] = mapped_column(JSON, default=list)
    content_ids: Mapped[list[str]] = mapped_column(JSON, default=list)
    #: ``synthetic`` (a deepfake) or ``real`` or ``unknown``.
    content_kind: Mapped[str] = mapped_column(String(16), default="unknown")
    #: The declarations as made (all true for a valid notice).
    declarations: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    possible_minor: Mapped[bool] = mapped_column(default=False)
    #: ``received``, ``in_review``, ``decided``, ``appealed``...: what the status page shows.
    status: Mapped[str] = mapped_column(String(32), default="received")


class NoticeEvent(Base):
    """One step of a notice's history, as its status page shows it (no personal data)."""

    __tablename__ = "notice_event"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    notice_id: Mapped[int] = mapped_column(ForeignKey("notice.id", ondelete="CASCADE"), index=True)
    at: Mapped[datetime] = mapped_column(default=utcnow)
    status: Mapped[str] = mapped_column(String(32))
    note: Mapped[str] = mapped_column(Text, default="")


class CaseItem(Base):
    """A case: the work a notice opens, in a queue, claimed by one reviewer at a time, decided
    once (docs/cases.md). ``version`` is the compare-and-set counter of claims and decisions."""

    __tablename__ = "case_item"
    __table_args__ = (Index("ix_case_queue_state_deadline", "queue", "state", "deadline"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    notice_id: Mapped[int | None] = mapped_column(
        ForeignKey("notice.id", ondelete="SET NULL"), index=True
    )
    tracking_number: Mapped[str] = mapped_column(String(32), index=True)
    #: ``notice`` (opened by a notice), ``copy`` (a copy found after a removal) or ``match``
    #: (a match on a bank an exchange feeds).
    kind: Mapped[str] = mapped_column(String(16), default="notice")
    #: The removal case a copy task was opened from.
    parent_id: Mapped[int | None] = mapped_column(ForeignKey("case_item.id", ondelete="SET NULL"))
    #: ``adult`` or ``restricted`` (suspected minors; child-safety reviewers only).
    queue: Mapped[str] = mapped_column(String(16))
    #: ``open``, ``claimed``, ``decided``.
    state: Mapped[str] = mapped_column(String(16), default="open")
    received_at: Mapped[datetime] = mapped_column(default=utcnow)
    deadline: Mapped[datetime]
    trusted: Mapped[bool] = mapped_column(default=False)
    #: Strength of evidence: 3 exact-hash match, 2 PDQ match, 1 detector score, 0 none.
    evidence: Mapped[int] = mapped_column(default=0)
    content_ids: Mapped[list[str]] = mapped_column(JSON, default=list)
    assigned_to: Mapped[str | None] = mapped_column(String(200))
    claimed_at: Mapped[datetime | None]
    version: Mapped[int] = mapped_column(default=0)
    action: Mapped[str | None] = mapped_column(String(16))
    ground: Mapped[str | None] = mapped_column(String(16))
    legal_ground: Mapped[str | None] = mapped_column(Text)
    reason: Mapped[str | None] = mapped_column(Text)
    decided_by: Mapped[str | None] = mapped_column(String(200))
    decided_at: Mapped[datetime | None]
    #: The block-bank entry a removal added the content's signals to.
    block_entry_id: Mapped[int | None] = mapped_column(
        ForeignKey("bank_entry.id", ondelete="SET NULL")
    )
    sweep_job_id: Mapped[int | None] = mapped_column(BigInteger)
    #: SHA-256 of the uploader's appeal token (given in the statement of reasons).
    appeal_token_hash: Mapped[str | None] = mapped_column(String(64))
    #: Decided by the system, not a person (an exact copy of removed content; migration 0008).
    automated: Mapped[bool] = mapped_column(default=False)
    #: What a removal banked and from where, or why nothing (``shieldwall.cases.removal``,
    #: ``Banking.to_json``; migration 0019). ``None`` for other actions and older removals.
    banking: Mapped[dict[str, Any] | None] = mapped_column(JSON)


class Appeal(Base):
    """An internal complaint (DSA Art. 20) against a case decision, by the uploader (appeal
    token) or the notifier (tracking number and PIN); decided by another person."""

    __tablename__ = "appeal"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("case_item.id", ondelete="CASCADE"), index=True)
    #: ``uploader`` or ``notifier``.
    appellant: Mapped[str] = mapped_column(String(16))
    reason: Mapped[str] = mapped_column(Text)
    filed_at: Mapped[datetime] = mapped_column(default=utcnow)
    #: ``open``, ``upheld`` (the decision was reversed) or ``rejected``.
    state: Mapped[str] = mapped_column(String(16), default="open")
    decided_by: Mapped[str | None] = mapped_column(String(200))
    decided_at: Mapped[datetime | None]
    outcome: Mapped[str | None] = mapped_column(Text)


class ContentScore(Base):
    """A platform's detector score for one of its contents (docs/cases.md, "Detector scores"):
    how likely a classifier thinks the content is ``synthetic`` (AI-generated, a deepfake) or
    ``intimate`` (nudity, sexual content). One row per ``(content_id, detector, label)``:
    reporting again replaces the score (migration 0009)."""

    __tablename__ = "content_score"
    __table_args__ = (UniqueConstraint("content_id", "detector", "label"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    content_id: Mapped[str] = mapped_column(String(512), index=True)
    #: The classifier's name, as the platform calls it.
    detector: Mapped[str] = mapped_column(String(64))
    #: ``synthetic`` or ``intimate``.
    label: Mapped[str] = mapped_column(String(32))
    #: 0..1: how sure the classifier is.
    score: Mapped[float] = mapped_column(Float)
    model_version: Mapped[str | None] = mapped_column(String(64))
    reported_at: Mapped[datetime] = mapped_column(default=utcnow)


class ExchangeRecord(Base):
    """A hash exchange this platform pulls from (``shieldwall.exchange``): its plug-in
    (``kind``), settings, the bank it feeds, how far it has read (``checkpoint``, advanced in
    the transaction that applies what it covers), its counts and its last error (migration
    0014)."""

    __tablename__ = "exchange"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    name: Mapped[str] = mapped_column(String(64), unique=True)
    kind: Mapped[str] = mapped_column(String(64))
    #: The plug-in's settings (URLs, key files or keys, page size...), as validated by it.
    settings: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    bank_id: Mapped[int | None] = mapped_column(ForeignKey("bank.id", ondelete="SET NULL"))
    bank_name: Mapped[str] = mapped_column(String(200))
    #: The plug-in's own checkpoint (``None``: start from the beginning).
    checkpoint: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    enabled: Mapped[bool] = mapped_column(default=True)
    #: Seconds between scheduled syncs on the worker.
    interval_seconds: Mapped[int] = mapped_column(default=3600)
    added: Mapped[int] = mapped_column(BigInteger, default=0)
    withdrawn: Mapped[int] = mapped_column(BigInteger, default=0)
    skipped: Mapped[int] = mapped_column(BigInteger, default=0)
    failed: Mapped[int] = mapped_column(BigInteger, default=0)
    #: Skipped records by the exchange's own signal type name (``VideoTMK``: 12).
    skipped_types: Mapped[dict[str, int]] = mapped_column(JSON, default=dict)
    last_sync_at: Mapped[datetime | None]
    last_success_at: Mapped[datetime | None]
    last_error: Mapped[str | None] = mapped_column(Text)
    #: No sync before this time (after an error: the backoff, or what the exchange asked for).
    backoff_until: Mapped[datetime | None]
    #: Consecutive failed syncs (the backoff doubles with each).
    failures: Mapped[int] = mapped_column(default=0)
    #: The scheduled ``exchange.sync`` job that keeps the schedule going.
    sync_job_id: Mapped[int | None] = mapped_column(BigInteger)
    #: Feedback collection: the last match id and case decision time looked at.
    match_cursor: Mapped[int] = mapped_column(BigInteger, default=0)
    decision_cursor: Mapped[datetime | None]
    #: The last stored match on its bank that opened a case (migration 0016).
    case_cursor: Mapped[int] = mapped_column(BigInteger, default=0)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class ExchangeFeedbackRecord(Base):
    """One piece of feedback to send to an exchange about one of its hashes (a match pending
    review, a removal, a reviewer's "not NCII"): queued once, sent once (unique per exchange,
    hash and kind of feedback)."""

    __tablename__ = "exchange_feedback"
    __table_args__ = (
        UniqueConstraint("exchange_id", "signal_type", "value", "feedback"),
        Index("ix_exchange_feedback_state", "exchange_id", "state"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    exchange_id: Mapped[int] = mapped_column(ForeignKey("exchange.id", ondelete="CASCADE"))
    signal_type: Mapped[str] = mapped_column(String(32))
    value: Mapped[str] = mapped_column(String(128))
    #: ``matched``, ``confirmed`` or ``rejected`` (:class:`shieldwall.exchange.Feedback`).
    feedback: Mapped[str] = mapped_column(String(16))
    #: The exchange's ids holding the hash (case numbers, an NCMEC entry), for the request.
    refs: Mapped[list[str]] = mapped_column(JSON, default=list)
    #: ``pending``, ``sent`` or ``failed`` (refused for good).
    state: Mapped[str] = mapped_column(String(16), default="pending")
    attempts: Mapped[int] = mapped_column(default=0)
    last_error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    sent_at: Mapped[datetime | None]


class TransparencySubmission(Base):
    """A decided case's statement of reasons sent to the EU Transparency Database (DSA Art.
    24(5)): its ``puid`` (so that a retry never makes a duplicate), state and the database's
    answer (migration 0014)."""

    __tablename__ = "transparency_submission"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    case_id: Mapped[int] = mapped_column(
        ForeignKey("case_item.id", ondelete="CASCADE"), unique=True
    )
    puid: Mapped[str] = mapped_column(String(500), unique=True)
    #: ``submitted`` (accepted), ``existing`` (the database had the puid: done) or
    #: ``failed`` (refused for good, ``last_error`` says why).
    state: Mapped[str] = mapped_column(String(16))
    #: The statement's id in the database, when it said.
    uuid: Mapped[str | None] = mapped_column(String(64))
    attempts: Mapped[int] = mapped_column(default=0)
    last_error: Mapped[str | None] = mapped_column(Text)
    submitted_at: Mapped[datetime] = mapped_column(default=utcnow)


class VictimCase(Base):
    """A case a person filed to protect their own images (``/protect``, ``shieldwall protect``;
    migration 0013): only hashes reached us. The PIN is kept as an argon2 hash; no file name,
    image, thumbnail or identity is stored."""

    __tablename__ = "victim_case"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    case_number: Mapped[str] = mapped_column(String(32), unique=True)
    pin_hash: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    #: ``active`` or ``withdrawn`` (every item withdrawn).
    status: Mapped[str] = mapped_column(String(16), default="active")
    #: The bank the items' hashes went to.
    bank_name: Mapped[str] = mapped_column(String(200))
    #: ``web`` (the person's browser) or ``helpline`` (``shieldwall protect``).
    channel: Mapped[str] = mapped_column(String(16), default="web")
    #: Consent to each use: this platform's banks; sharing through StopNCII too.
    consent_platform: Mapped[bool] = mapped_column(default=True)
    consent_stopncii: Mapped[bool] = mapped_column(default=False)
    #: ``not_requested``, ``pending`` (to be shared by the exchange client), ``shared``,
    #: ``withdrawal_pending`` (shared, withdrawal to be sent), ``cancelled`` (withdrawn before
    #: it was shared).
    stopncii_state: Mapped[str] = mapped_column(String(32), default="not_requested")
    #: The language the person used (``en``, ``es``), for later messages.
    language: Mapped[str] = mapped_column(String(8), default="en")
    withdrawn_at: Mapped[datetime | None]
    #: Why sharing waits (no StopNCII exchange configured, the last attempt failed); migration
    #: 0015.
    stopncii_note: Mapped[str | None] = mapped_column(Text)


class VictimShare(Base):
    """One hash of a victim case to share through StopNCII (migration 0015): what was sent,
    to which exchange, when, and whether its withdrawal reached the exchange.

    ``state``: ``pending`` (to be submitted), ``shared``, ``withdrawal_pending`` (shared, the
    withdrawal to be sent), ``withdrawn`` (the withdrawal reached the exchange), ``cancelled``
    (withdrawn before it was sent), ``not_sent`` (a type StopNCII does not take)."""

    __tablename__ = "victim_share"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    case_id: Mapped[int] = mapped_column(
        ForeignKey("victim_case.id", ondelete="CASCADE"), index=True
    )
    item_number: Mapped[int] = mapped_column(Integer)
    signal_type: Mapped[str] = mapped_column(String(32))
    value: Mapped[str] = mapped_column(SealedText())  # sealed at rest, as the banks' values
    state: Mapped[str] = mapped_column(String(24), default="pending")
    #: The configured exchange it was submitted to.
    exchange_name: Mapped[str | None] = mapped_column(String(64))
    shared_at: Mapped[datetime | None]
    withdrawn_at: Mapped[datetime | None]


class VictimItem(Base):
    """One protected photo or video of a victim case: one bank entry, held by the external id
    ``<case number>/<number>``."""

    __tablename__ = "victim_item"
    __table_args__ = (UniqueConstraint("case_id", "number"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    case_id: Mapped[int] = mapped_column(
        ForeignKey("victim_case.id", ondelete="CASCADE"), index=True
    )
    #: 1, 2, ... in the order the person chose the files.
    number: Mapped[int] = mapped_column(Integer)
    #: ``photo`` or ``video``.
    kind: Mapped[str] = mapped_column(String(16))
    entry_id: Mapped[int | None] = mapped_column(
        ForeignKey("bank_entry.id", ondelete="SET NULL"), index=True
    )
    #: Hashes banked for it (its own and its variants).
    signal_count: Mapped[int] = mapped_column(Integer, default=0)
    #: ``active`` or ``withdrawn``.
    status: Mapped[str] = mapped_column(String(16), default="active")
    withdrawn_at: Mapped[datetime | None]
