"""The one exception tree of Shieldwall.

Every error raised by Shieldwall's own code is a :class:`ShieldwallError`. Each class carries
the HTTP status and the CLI exit code it maps to, and a stable machine-readable ``code``; the
HTTP layer and the CLI translate them to an answer in exactly one place each. Errors of lower
libraries (Pillow, SQLAlchemy, ...) are translated once, at the boundary, with
``raise ... from exc``.

    ShieldwallError
    ├── ConfigError              invalid settings                       exit 2
    ├── UsageError               invalid arguments             400      exit 2
    ├── MediaError               content that cannot be hashed 422      exit 1
    │   ├── EmptyMedia           zero bytes
    │   ├── UnsupportedMedia     not a format we decode        415
    │   ├── CorruptMedia         truncated or damaged
    │   ├── MediaTooLarge        over a byte/pixel/dimension/decode-memory limit  413
    │   └── MediaBusy            the process's decode budget stayed full 503
    ├── SignalError              a hash that cannot be used    422      exit 1
    │   ├── UnknownSignalType    no such signal type
    │   ├── MalformedSignal      wrong length, not hex, ...
    │   └── LowQualitySignal     below the quality floor
    ├── NotFound                 no such thing                 404      exit 1
    ├── Conflict                 state forbids it              409      exit 1
    ├── SnapshotError            index snapshot unusable       500      exit 1
    ├── SealError                a value or file sealed at rest does not open 500 exit 2
    ├── BackupError              a backup file that cannot be restored 422 exit 1
    ├── StoreError               the database failed           503      exit 2
    ├── ImportFormatError        a line of an import file      422      exit 1
    ├── FetchError               fetching a URL failed         422      exit 1
    │   ├── FetchRefused         the URL policy forbids it     403
    │   ├── FetchTooLarge        over the byte limit           413
    │   └── FetchTimeout         over the time limit           504
    ├── ExchangeError            a hash exchange failed        502      exit 1
    │   ├── ExchangeRefused      it refused our keys (401, 403)
    │   ├── ExchangeUnavailable  429, 5xx, a timeout, unreachable (``retry_after``)  503
    │   └── ExchangeProtocolError an answer we cannot read
    ├── WebhookError             a webhook failed              502      exit 1
    │   ├── WebhookDeliveryFailed the receiver did not answer 2xx
    │   └── WebhookSignatureError bad or stale signature    401
    └── ScanError                code scanning failed          422      exit 2
        ├── RuleError            invalid rule or allow-list file 400
        ├── ScanInputError       an input that cannot be scanned
        │   ├── CorruptInput     malformed notebook, archive, model
        │   ├── UnsupportedInput binary or unknown content   415
        │   ├── InputTooLarge    over a size/count/ratio limit 413
        │   └── ScanBudgetExceeded the scan's time or byte budget is spent 413
        └── ScanBlocked          the runtime guard stopped an action 403  exit 3
    ServiceError                 the HTTP service refused a request
    ├── RequestTooLarge          the request body is over its limit 413
    ├── InvalidText              NUL characters in the request's text 422
    ├── RequestTimeout           the request ran past its time limit 504
    ├── Unauthenticated          no key, unknown or revoked key 401
    │   ├── LoginFailed          wrong username or password (never which) 401
    │   ├── AccountLocked        too many wrong passwords; locked for a time 401
    │   ├── SignInRefused        single sign-on refused (unknown person, bad answer) 401
    │   └── LoginRequired        a console page without a live session (redirects to /login)
    ├── Forbidden                the key lacks the scope        403
    ├── MethodNotAllowed         the path has no such method    405 (Allow)
    ├── RateLimited              too many requests              429 (Retry-After)
    └── NotServed                this process's role does not serve the route 503
    CaseError                    case handling refused an action (shieldwall.cases)
    ├── InvalidNotice            a notice lacks or has an invalid field 422 (with ``fields``)
    ├── InvalidDecision          a decision lacks or has an invalid field 422 (with ``fields``)
    ├── InvalidScores            a detector score has an invalid field 422 (with ``fields``)
    ├── InvalidProtection        a protection submission is malformed 422 (with ``fields``)
    ├── NotPermitted             the actor's roles do not allow it 403
    ├── AppealWindowClosed       an appeal filed more than 6 months after the decision 409
    └── SweepPending             a removal's sweep has not finished (the copies job retries)
"""

from __future__ import annotations

from typing import Any, ClassVar

__all__ = [
    "AccountLocked",
    "AppealWindowClosed",
    "BackupError",
    "CaseError",
    "ConfigError",
    "Conflict",
    "CorruptInput",
    "CorruptMedia",
    "EmptyMedia",
    "ExchangeError",
    "ExchangeProtocolError",
    "ExchangeRefused",
    "ExchangeUnavailable",
    "FetchError",
    "FetchRefused",
    "FetchTimeout",
    "FetchTooLarge",
    "Forbidden",
    "ImportFormatError",
    "InputTooLarge",
    "InvalidDecision",
    "InvalidNotice",
    "InvalidProtection",
    "InvalidScores",
    "InvalidText",
    "LoginFailed",
    "LoginRequired",
    "LowQualitySignal",
    "MalformedSignal",
    "MediaBusy",
    "MediaError",
    "MediaTooLarge",
    "MethodNotAllowed",
    "NotFound",
    "NotPermitted",
    "NotServed",
    "RateLimited",
    "RequestTimeout",
    "RequestTooLarge",
    "RuleError",
    "ScanBlocked",
    "ScanBudgetExceeded",
    "ScanError",
    "ScanInputError",
    "SealError",
    "ServiceError",
    "ShieldwallError",
    "SignInRefused",
    "SignalError",
    "SnapshotError",
    "StoreError",
    "SweepPending",
    "Unauthenticated",
    "UnknownSignalType",
    "UnsupportedInput",
    "UnsupportedMedia",
    "UsageError",
    "WebhookDeliveryFailed",
    "WebhookError",
    "WebhookSignatureError",
]


class ShieldwallError(Exception):
    """Base of every error Shieldwall raises on purpose.

    ``message`` is written for the person who reads it: it says what is wrong with what.
    """

    http_status: ClassVar[int] = 500
    exit_code: ClassVar[int] = 2
    code: ClassVar[str] = "internal_error"

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message

    def to_dict(self) -> dict[str, str]:
        """The one JSON error shape: ``{"error": code, "message": text}``."""
        return {"error": self.code, "message": self.message}

    def __reduce__(self) -> tuple[Any, ...]:
        # Results carry their error across processes (hashing on every core): pickled with its
        # class and attributes (``retry_after``, ``fields``, ...), whatever its __init__ takes.
        return (_restore, (type(self), self.message, dict(vars(self))))


def _restore(cls: type[ShieldwallError], message: str, state: dict[str, Any]) -> ShieldwallError:
    error = cls.__new__(cls)
    Exception.__init__(error, message)
    vars(error).update(state)
    return error


class ConfigError(ShieldwallError):
    """A setting is missing or invalid; raised at start, before any work is done."""

    code = "config_error"


class UsageError(ShieldwallError):
    """The caller asked for something that makes no sense (bad option, bad combination)."""

    http_status = 400
    code = "usage_error"


class MediaError(ShieldwallError):
    """Content could not be decoded into pixels or frames."""

    http_status = 422
    exit_code = 1
    code = "media_error"


class EmptyMedia(MediaError):
    """The content has zero bytes."""

    code = "empty_media"


class UnsupportedMedia(MediaError):
    """The bytes are not in a format Shieldwall decodes."""

    http_status = 415
    code = "unsupported_media"


class CorruptMedia(MediaError):
    """The format was recognised but the data is truncated or damaged."""

    code = "corrupt_media"


class MediaTooLarge(MediaError):
    """Over a configured limit on bytes, pixels (decompression bombs) or dimensions."""

    http_status = 413
    code = "media_too_large"


class MediaBusy(MediaError):
    """The process's decode memory budget stayed in use by other decodes for longer than the
    wait allowed: nothing is wrong with the content; try again later."""

    http_status = 503
    code = "media_busy"


class SignalError(ShieldwallError):
    """A signal (hash) value that cannot be used."""

    http_status = 422
    exit_code = 1
    code = "signal_error"


class UnknownSignalType(SignalError):
    """No signal type is registered under that name."""

    code = "unknown_signal_type"


class MalformedSignal(SignalError):
    """The string form of a signal is invalid (length, alphabet, range)."""

    code = "malformed_signal"


class LowQualitySignal(SignalError):
    """The signal is valid but below the quality floor, so it must not be banked or matched."""

    code = "low_quality_signal"


class NotFound(ShieldwallError):
    """The thing asked for does not exist (or the caller may not know that it does)."""

    http_status = 404
    exit_code = 1
    code = "not_found"


class Conflict(ShieldwallError):
    """The current state forbids the operation."""

    http_status = 409
    exit_code = 1
    code = "conflict"


class SealError(ShieldwallError):
    """A value or file sealed at rest does not open: its key is not configured, the key is
    wrong, or the sealed bytes were changed or cut (docs/security.md, "Hashes at rest")."""

    code = "seal_error"


class BackupError(ShieldwallError):
    """A backup file cannot be restored: not a backup, damaged, of another schema, or the
    target database is not empty."""

    http_status = 422
    exit_code = 1
    code = "backup_error"


class StoreError(ShieldwallError):
    """The database cannot be opened, migrated or written (unreachable, locked too long, ...)."""

    http_status = 503
    code = "store_error"


class ImportFormatError(ShieldwallError):
    """A record of a bank import file cannot be read (bad JSON, missing column, unknown form)."""

    http_status = 422
    exit_code = 1
    code = "import_format_error"


class FetchError(ShieldwallError):
    """A URL could not be fetched: the connection failed or the server answered an error."""

    http_status = 422
    exit_code = 1
    code = "fetch_error"


class FetchRefused(FetchError):
    """The URL policy forbids the fetch (scheme, host not allowed, an address that is private,
    loopback, link-local, ..., too many redirects); nothing was sent to the address refused."""

    http_status = 403
    code = "fetch_refused"


class FetchTooLarge(FetchError):
    """The body is larger than the byte limit (announced or streamed); nothing is kept."""

    http_status = 413
    code = "fetch_too_large"


class FetchTimeout(FetchError):
    """The fetch took longer than its total time limit; nothing is kept."""

    http_status = 504
    code = "fetch_timeout"


class ExchangeError(ShieldwallError):
    """A hash exchange (StopNCII, NCMEC, a partner) failed or refused a request; the sync
    records it on the exchange and tries again after a backoff."""

    http_status = 502
    exit_code = 1
    code = "exchange_error"


class ExchangeRefused(ExchangeError):
    """The exchange refused our credentials (401 or 403): fix the keys; retrying will not
    help until then."""

    code = "exchange_refused"


class ExchangeUnavailable(ExchangeError):
    """The exchange is rate-limiting us (429), failing (5xx), slow (a timeout) or unreachable.
    ``retry_after`` is the wait it asked for, in seconds, when it said."""

    http_status = 503
    code = "exchange_unavailable"

    def __init__(self, message: str, *, retry_after: float | None = None) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class ExchangeProtocolError(ExchangeError):
    """The exchange answered something we cannot read (not JSON or XML, a missing field)."""

    code = "exchange_protocol_error"


class WebhookError(ShieldwallError):
    """A webhook could not be delivered or verified."""

    http_status = 502
    exit_code = 1
    code = "webhook_error"


class WebhookDeliveryFailed(WebhookError):
    """The receiver answered other than 2xx or could not be reached (the delivery is retried),
    or the address policy refused its URL (``retryable`` false: dead-lettered at once)."""

    code = "webhook_delivery_failed"

    def __init__(self, message: str, *, retryable: bool = True) -> None:
        super().__init__(message)
        self.retryable = retryable


class WebhookSignatureError(WebhookError):
    """A received webhook's signature is missing, wrong, or its timestamp is outside the
    tolerance (a replay)."""

    http_status = 401
    code = "webhook_signature_error"


class SnapshotError(ShieldwallError):
    """An index snapshot file cannot be used: missing, truncated, corrupt (checksum mismatch) or
    of an unknown format version. The caller rebuilds the index from the signal log instead."""

    exit_code = 1
    code = "snapshot_error"


class ScanError(ShieldwallError):
    """Code scanning (``shieldwall.codescan``) could not do what was asked."""

    http_status = 422
    exit_code = 2
    code = "scan_error"


class RuleError(ScanError):
    """A rule or allow-list file is invalid; the message names the file and the rule."""

    http_status = 400
    code = "rule_error"


class ScanInputError(ScanError):
    """One input could not be scanned; a scan of many inputs records it and goes on."""

    code = "scan_input_error"


class CorruptInput(ScanInputError):
    """The input claims a format (notebook, zip, ONNX, pickle) but its content is damaged."""

    code = "corrupt_input"


class UnsupportedInput(ScanInputError):
    """The input is binary or of a kind the scanner does not read."""

    http_status = 415
    code = "unsupported_input"


class InputTooLarge(ScanInputError):
    """Over a configured limit: bytes, archive members, compression ratio, nesting depth."""

    http_status = 413
    code = "input_too_large"


class ScanBudgetExceeded(ScanInputError):
    """The scan's time or byte budget (``codescan_max_scan_seconds``,
    ``codescan_max_scan_bytes``) is spent: the inputs not read yet are named, not scanned."""

    http_status = 413
    code = "scan_budget_exceeded"


class ScanBlocked(ScanError):
    """The runtime guard stopped an action because the scan verdict was ``block``.

    ``message`` carries the whole explanation: the evidence, the policy and the appeal route.
    """

    http_status = 403
    exit_code = 3
    code = "scan_blocked"


class ServiceError(ShieldwallError):
    """The HTTP service refused a request before doing its work."""

    http_status = 400
    code = "service_error"


class RequestTooLarge(ServiceError):
    """The request body is over ``api_max_body_bytes`` (``api_max_json_bytes`` for JSON),
    declared or counted as it arrives."""

    http_status = 413
    code = "request_too_large"


class InvalidText(ServiceError):
    """Text in the request (a JSON string, the query) contains NUL characters, which no field
    needs and PostgreSQL cannot store."""

    http_status = 422
    code = "invalid_text"


class RequestTimeout(ServiceError):
    """The request ran past ``api_request_timeout_seconds``."""

    http_status = 504
    code = "request_timeout"


class Unauthenticated(ServiceError):
    """No API key, or one that is unknown or revoked (the answer does not say which)."""

    http_status = 401
    code = "unauthenticated"


class LoginFailed(Unauthenticated):
    """A console login failed: the message never says whether the username exists."""

    exit_code = 1
    code = "login_failed"


class AccountLocked(Unauthenticated):
    """Too many wrong passwords in a row: the account refuses logins for a time."""

    exit_code = 1
    code = "account_locked"


class SignInRefused(Unauthenticated):
    """Single sign-on refused: the provider's person maps to no console account, or the
    provider's answer failed a check (state, nonce, signature, issuer, audience, expiry)."""

    exit_code = 1
    code = "sign_in_refused"


class LoginRequired(Unauthenticated):
    """A console page was asked for without a live session; the console answers with a
    redirect to its login page."""

    code = "login_required"


class Forbidden(ServiceError):
    """The key is valid but lacks the scope the route needs."""

    http_status = 403
    code = "forbidden"


class MethodNotAllowed(ServiceError):
    """The path exists but not with this method; ``allow`` lists the methods it has."""

    http_status = 405
    code = "method_not_allowed"

    def __init__(self, message: str, allow: list[str]) -> None:
        super().__init__(message)
        self.allow = allow


class RateLimited(ServiceError):
    """The key made more requests than its rate allows; retry after ``retry_after`` seconds."""

    http_status = 429
    code = "rate_limited"

    def __init__(self, message: str, retry_after: float) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class NotServed(ServiceError):
    """This process's role does not serve the route (send it to a process that does)."""

    http_status = 503
    code = "not_served"


class CaseError(ShieldwallError):
    """Case handling (notices, cases, decisions, appeals) refused an action."""

    http_status = 400
    exit_code = 1
    code = "case_error"


class InvalidNotice(CaseError):
    """A notice lacks a required field or has an invalid one; ``fields`` names each
    (``[{"field": name, "message": text}]``) and nothing was saved."""

    http_status = 422
    code = "validation_error"

    def __init__(self, message: str, fields: list[dict[str, Any]]) -> None:
        super().__init__(message)
        self.fields = fields


class InvalidDecision(InvalidNotice):
    """A decision lacks a required field or has an invalid one (``fields`` names each)."""


class InvalidScores(InvalidNotice):
    """A reported detector score has an invalid field (``fields`` names each item and field,
    ``items.<index>.<field>``); none of the scores was saved."""


class InvalidProtection(InvalidNotice):
    """A person's protection submission (``/protect``, ``shieldwall protect``) is malformed:
    ``fields`` names each problem (``items.<index>.<field>``) and nothing was saved."""


class NotPermitted(CaseError):
    """The actor's roles do not allow the action (an auditor deciding, a reviewer opening the
    restricted queue, a decider ruling on the appeal against their own decision)."""

    http_status = 403
    code = "forbidden"


class SweepPending(CaseError):
    """A removal's sweep has not finished yet; the job that opens copy tasks retries later."""

    http_status = 409
    code = "sweep_pending"


class AppealWindowClosed(CaseError):
    """An appeal filed after the appeal window (6 months after the decision) closed."""

    http_status = 409
    code = "appeal_window_closed"
