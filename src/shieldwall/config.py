"""The one settings object.

Settings are read once, from (highest priority first) keyword arguments, the environment
(``SHIELDWALL_<NAME>``; for any setting, ``SHIELDWALL_<NAME>_FILE`` names a file whose content is
the value, for secrets), and an optional TOML file named by ``SHIELDWALL_CONFIG``. A bad value
fails at start with :class:`~shieldwall.errors.ConfigError`; a ``SHIELDWALL_*`` variable that is
no setting (a misspelling) is logged as a warning naming the nearest setting. No other module
reads ``os.environ``.

The table of settings, with their defaults and meaning, is ``docs/configuration.md``; a test
keeps the two in step.
"""

from __future__ import annotations

import difflib
import ipaddress
import logging
import os
from collections.abc import Mapping
from functools import lru_cache
from pathlib import Path
from typing import Any, Literal
from urllib.parse import urlsplit

import platformdirs
from pydantic import Field, SecretStr, ValidationError, ValidationInfo, field_validator
from pydantic.fields import FieldInfo
from pydantic_settings import (
    BaseSettings,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
    TomlConfigSettingsSource,
)

from shieldwall.errors import ConfigError

__all__ = ["Settings", "get_settings", "unknown_variables"]

ENV_PREFIX = "SHIELDWALL_"
#: Variables with the prefix that are read but are not settings: the TOML file's name, the
#: index's choice of kernels, and the test suite's own switches (tests/conftest.py,
#: tests/web/conftest.py).
OTHER_VARIABLES = frozenset(
    {
        f"{ENV_PREFIX}CONFIG",
        f"{ENV_PREFIX}TEST_DATABASE_URL",
        f"{ENV_PREFIX}KEEP_SCREENSHOTS",
        # the accessibility checks' axe-core (make test sets both)
        f"{ENV_PREFIX}AXE_JS",
        f"{ENV_PREFIX}REQUIRE_AXE",
        # which kernels the Hamming index runs, read when it is imported (index/_kernels.py)
        f"{ENV_PREFIX}INDEX_KERNELS",
    }
)

log = logging.getLogger("shieldwall.config")


class _FileSecretsSource(PydanticBaseSettingsSource):
    """``SHIELDWALL_<NAME>_FILE=/path`` sets ``<name>`` to that file's content."""

    def get_field_value(self, field: FieldInfo, field_name: str) -> tuple[Any, str, bool]:
        path = os.environ.get(f"{ENV_PREFIX}{field_name.upper()}_FILE")
        if path is None:
            return None, field_name, False
        try:
            return Path(path).read_text(encoding="utf-8").rstrip("\n"), field_name, False
        except OSError as exc:
            raise ConfigError(
                f"{ENV_PREFIX}{field_name.upper()}_FILE={path}: cannot read: {exc.strerror}"
            ) from exc

    def __call__(self) -> dict[str, Any]:
        values: dict[str, Any] = {}
        for name, field in self.settings_cls.model_fields.items():
            value, key, _ = self.get_field_value(field, name)
            if value is not None:
                values[key] = value
        return values


#: The console's role names (``shieldwall.people.Role``; a test keeps the two in step).
ROLE_NAMES = ("admin", "reviewer", "senior_reviewer", "child_safety_reviewer", "auditor")


def _check_role_names(names: list[str]) -> None:
    unknown = [n for n in names if n not in ROLE_NAMES]
    if unknown:
        valid = ", ".join(ROLE_NAMES)
        raise ValueError(f"unknown role(s) {', '.join(unknown)}; roles are: {valid}")


class Settings(BaseSettings):
    """Every setting of Shieldwall, typed and validated."""

    model_config = SettingsConfigDict(env_prefix=ENV_PREFIX, extra="forbid", frozen=True)

    data_dir: Path = Field(
        default_factory=lambda: Path(platformdirs.user_data_dir("shieldwall")),
        description="Where Shieldwall keeps its database and index snapshots.",
    )
    max_media_bytes: int = Field(
        default=64 * 1024 * 1024, gt=0, description="Largest image file accepted, in bytes."
    )
    max_image_pixels: int = Field(
        default=80_000_000,
        gt=0,
        description="Largest image accepted, in pixels (width x height); guards against "
        "decompression bombs.",
    )
    max_image_dimension: int = Field(
        default=30_000, gt=0, description="Largest image side accepted, in pixels."
    )
    max_decode_bytes: int = Field(
        default=512 * 1024**2,
        gt=0,
        description="Most memory one image or video decode may take at its peak, in bytes, "
        "estimated from the header before decoding (docs/media.md); content over it is refused "
        "(413). Must not exceed decode_memory_budget.",
    )
    decode_memory_budget: int = Field(
        default=1024**3,
        gt=0,
        description="Most memory the decodes in progress in one process may take together, in "
        "bytes: a decode waits while others hold the budget (docs/security.md).",
    )
    decode_wait_seconds: float = Field(
        default=30.0,
        ge=0,
        description="How long a decode waits for the decode budget before the request is "
        "refused as busy (503).",
    )
    max_video_bytes: int = Field(
        default=4 * 1024**3, gt=0, description="Largest video file accepted, in bytes."
    )
    max_video_seconds: float = Field(
        default=4 * 3600.0,
        gt=0,
        description="Longest video accepted, in seconds (from the header).",
    )
    max_video_frames: int = Field(
        default=1_000_000, gt=0, description="Most frames a video may have."
    )
    max_video_dimension: int = Field(
        default=8192, gt=0, description="Largest video frame side accepted, in pixels."
    )
    workers: int = Field(
        default=0, ge=0, description="Processes for batch hashing; 0 means one per core."
    )
    database_url: str | None = Field(
        default=None,
        description="SQLAlchemy URL of the database (sqlite:///... or "
        "postgresql+psycopg://...); default: a SQLite file shieldwall.db in the data directory. "
        "Migrated automatically on first use.",
    )
    at_rest_keys_file: Path | None = Field(
        default=None,
        description="Opt-in: a file of keys (one '<key id> <base64 32 bytes>' a line, the "
        "last one current) that seal bank signal values in the database, index snapshots and "
        "backups (docs/security.md, 'Hashes at rest'; `shieldwall at-rest new-key` makes one).",
    )
    database_busy_timeout_ms: int = Field(
        default=10_000,
        ge=0,
        description="SQLite: how long a connection waits for the writer's lock before failing.",
    )
    flood_max_contents: int = Field(
        default=100,
        ge=1,
        description="A bank signal that matches more distinct contents than this within "
        "the flood window is quarantined pending review.",
    )
    flood_window_seconds: int = Field(
        default=3600,
        ge=1,
        description="The window, in seconds, over which flood protection counts matches.",
    )
    match_dihedral: bool = Field(
        default=True,
        description="Also match the 8 rotations and flips of each PDQ hash of uploaded content "
        "(from the hash's own DCT: no second decode).",
    )
    bank_variants: bool = Field(
        default=True,
        description="Photos banked from the image (bank add, uploads to a bank) also bank "
        "the PDQ of their crops from each side and the centre, and videos a frame set of "
        "each frame's crops, so that a cropped copy lands within the threshold.",
    )
    match_normalise: bool = Field(
        default=True,
        description="Also match the PDQ of each uploaded photo with its borders trimmed, "
        "without a caption bar, and of the photo found inside a screenshot; and each sampled "
        "frame of an uploaded video with its borders trimmed.",
    )
    match_local_features: bool = Field(
        default=True,
        description="Describe each uploaded photo by its local features (ORB keypoints) and "
        "match them, when some bank holds local features (banks opt in: local_features).",
    )
    match_rotations: list[float] = Field(
        default=[-8.0, -5.0, -3.0, 3.0, 5.0, 8.0],
        description="Small rotations (degrees) undone on each uploaded photo, each cropped to "
        "its inner rectangle, and matched too; empty: none.",
    )
    video_bank_seconds_per_hash: float = Field(
        default=0.0,
        ge=0,
        description="Videos added to a bank are hashed (vpdq) one frame every this many "
        "seconds; 0 means every frame (dense, so that clips cut at any offset match).",
    )
    video_query_seconds_per_hash: float = Field(
        default=1.0,
        ge=0,
        description="Videos matched against the banks are hashed one frame every this many "
        "seconds; 0 means every frame.",
    )
    video_match_query_share: float = Field(
        default=0.8,
        gt=0,
        le=1,
        description="A video matches a banked video when at least this share of its usable "
        "frames match a frame of the banked one (a bank's vpdq threshold, 0..100, can loosen "
        "or tighten it per bank: it is the largest share of unmatched query frames, in %).",
    )
    video_match_bank_share: float = Field(
        default=0.0,
        ge=0,
        le=1,
        description="... and when at least this share of the banked video's usable frames "
        "are matched (0: a short clip of a long banked video matches).",
    )
    video_frame_distance: int = Field(
        default=31,
        ge=0,
        le=256,
        description="Largest PDQ distance at which a query frame matches a banked frame.",
    )
    video_frame_quality_floor: int = Field(
        default=50,
        ge=0,
        le=100,
        description="Video frames of lower PDQ quality are ignored when matching videos "
        "(takes effect when a matcher starts).",
    )

    service_role: str = Field(
        default="all",
        pattern="^(all|api|matcher|worker)$",
        description="What a `shieldwall serve` process serves (`--role` overrides): all, api, "
        "matcher or worker.",
    )
    api_host: str = Field(default="127.0.0.1", description="Address `shieldwall serve` listens on.")
    api_port: int = Field(
        default=8000, ge=0, le=65535, description="Port `shieldwall serve` listens on."
    )
    api_max_body_bytes: int = Field(
        default=1024 * 1024 * 1024,
        gt=0,
        description="Largest request body the service accepts, in bytes (uploads included; "
        "images are further limited by max_media_bytes, videos by max_video_bytes).",
    )
    api_max_json_bytes: int = Field(
        default=16 * 1024 * 1024,
        gt=0,
        description="Largest JSON request body the service accepts, in bytes.",
    )
    api_request_timeout_seconds: float = Field(
        default=120.0,
        gt=0,
        description="A request that runs longer is answered 504 (request_timeout).",
    )
    api_rate_limit: float = Field(
        default=100.0,
        gt=0,
        description="Requests per second an API key may make unless the key sets its own "
        "(bursts of twice as many are allowed); over it the answer is 429 with Retry-After.",
    )
    rate_limit_window_seconds: float = Field(
        default=2.0,
        gt=0,
        description="The moving window of the rate limits: a key (or a client address on the "
        "public routes) may make rate x window requests (at least one) in any window this "
        "long, so bursts of twice the rate by default.",
    )
    api_key_cache_seconds: float = Field(
        default=2.0,
        ge=0,
        description="How long a process trusts what it read about a key (scopes, revoked); "
        "without redis_url a revocation takes effect in every other process within this "
        "time (with it, as soon as Redis tells them).",
    )
    redis_url: str | None = Field(
        default=None,
        description="Redis that the replicas share their rate limits, wrong-PIN and sign-in "
        "throttles and API key revocations through (redis://[:password@]host:6379/0, "
        "rediss:// for TLS; a secret when it holds a password); unset: each process keeps "
        "its own, in memory (one machine, one process).",
    )
    redis_key_prefix: str = Field(
        default="shieldwall",
        min_length=1,
        pattern=r"^[A-Za-z0-9_.:-]+$",
        description="Prefix of every Redis key and channel Shieldwall uses (several "
        "deployments may share one Redis, each with its own prefix).",
    )
    follow_interval_seconds: float = Field(
        default=0.2,
        gt=0,
        description="How often a matcher process reads the signal log for changes made by "
        "other processes.",
    )
    ready_max_lag_seconds: float = Field(
        default=5.0,
        gt=0,
        description="/readyz answers 503 when the index last caught up with the signal log "
        "longer ago than this.",
    )
    log_format: str = Field(
        default="json",
        pattern="^(json|text)$",
        description="Format of the service's logs on stderr: json (one object per line) or text.",
    )

    job_max_attempts: int = Field(
        default=8,
        ge=1,
        description="How many times a background job is tried before it is dead-lettered.",
    )
    job_backoff_seconds: float = Field(
        default=5.0,
        gt=0,
        description="Delay before the first retry of a failed job; doubles with each attempt "
        "(with random jitter), up to job_backoff_max_seconds.",
    )
    job_backoff_max_seconds: float = Field(
        default=3600.0, gt=0, description="Longest delay between two attempts of a job."
    )
    job_lease_seconds: float = Field(
        default=300.0,
        gt=0,
        description="How long a worker holds a claimed job before another may take it over "
        "(the worker renews the lease while the job runs).",
    )
    worker_poll_seconds: float = Field(
        default=1.0, gt=0, description="How long an idle worker sleeps between polls."
    )
    notice_rate_limit: float = Field(
        default=0.2,
        gt=0,
        description="Requests per second one client address may make to the public notice "
        "routes (bursts of twice as many, at least one); over it the answer is 429.",
    )
    notice_pin_max_failures: int = Field(
        default=5,
        ge=1,
        description="Wrong PINs (per tracking number, and per client address) within "
        "notice_pin_window_seconds after which the notice status route answers 429.",
    )
    notice_pin_window_seconds: float = Field(
        default=900.0, gt=0, description="The window over which wrong PINs are counted."
    )
    trusted_flaggers: dict[str, str] = Field(
        default_factory=dict,
        description="Trusted flaggers (DSA Art. 22): organisation name -> token it presents "
        "in a notice's trusted_flagger_token (JSON object in the environment).",
    )
    protect_bank: str = Field(
        default="victim-protected",
        description="The bank the hashes people protect (/protect, shieldwall protect) go to "
        "(created, of kind protect_bank_kind, when missing); entries have provenance victim.",
    )
    protect_bank_kind: Literal["review", "block"] = Field(
        default="review",
        description="What a match against protected hashes does when the bank is created: "
        "review (queue the upload for a person) or block.",
    )
    protect_max_items: int = Field(
        default=50, ge=1, description="Most photos and videos one protection case may hold."
    )
    protect_stopncii_exchange: str | None = Field(
        default=None,
        description="The configured StopNCII exchange that hashes people consent to share go "
        "to; unset: the only exchange of kind stopncii (none or several: sharing waits).",
    )
    protect_max_body_bytes: int = Field(
        default=4 * 1024 * 1024,
        gt=0,
        description="Largest protection submission accepted (hashes only, JSON), in bytes.",
    )
    platform_name: str = Field(
        default="Shieldwall",
        description="The platform's name as the public pages show it.",
    )
    platform_logo_url: str | None = Field(
        default=None,
        description="The platform's logo on the public pages: a path on this service (the "
        "pages load nothing from elsewhere), e.g. /static/logo.svg; unset: the name only.",
    )
    platform_helplines: dict[str, str] = Field(
        default_factory=lambda: {
            "Revenge Porn Helpline (UK)": "https://revengepornhelpline.org.uk/",
            "Cyber Civil Rights Initiative (US)": "https://cybercivilrights.org/ccri-safety-center/",
        },
        description="Helplines the public pages point people to: name -> URL (JSON object in "
        "the environment).",
    )
    trusted_proxies: list[str] = Field(
        default_factory=list,
        description="Networks (CIDR) of reverse proxies whose client_address_header is "
        "believed: a request from one is limited by the address the header names (the last one "
        "not itself a trusted proxy); empty: the connection's address always.",
    )
    client_address_header: str = Field(
        default="X-Forwarded-For",
        description="The header a trusted proxy puts the client's address in.",
    )
    cases_block_bank: str = Field(
        default="ncii-removed",
        description="The block bank a removal decision adds the content's signals to "
        "(created when missing).",
    )
    cases_appeal_url: str = Field(
        default="https://shieldwall.example/appeal",
        description="Where uploaders and notifiers appeal a case decision (statements of "
        "reasons name it).",
    )
    cases_terms_ground: str = Field(
        default="Terms of service: non-consensual intimate imagery and sexual deepfakes",
        description="The terms clause a decision on ground terms cites when it names none.",
    )
    cases_auto_remove_exact_copies: bool = Field(
        default=True,
        description="Decide copy tasks whose content is an exact (md5/sha256) copy of content "
        "a person removed: removed by the system on the removal's grounds, recorded as "
        "automated. PDQ (near) copies always wait for a person.",
    )
    cases_detector_threshold: float = Field(
        default=0.8,
        ge=0,
        le=1,
        description="A platform's detector score (POST /v1/scores) at or above this counts as "
        "detector evidence for the cases holding the content id (below exact and PDQ matches).",
    )
    smtp_host: str | None = Field(
        default=None,
        description="SMTP server that tells reporters about their notice (receipt, decision, "
        "appeal outcome); unset: no email, the status page only.",
    )
    smtp_port: int = Field(default=25, ge=1, le=65535, description="The SMTP server's port.")
    smtp_from: str = Field(
        default="shieldwall@localhost", description="Sender address of the emails to reporters."
    )
    smtp_timeout_seconds: float = Field(
        default=10.0, gt=0, description="Time limit of one SMTP conversation."
    )
    case_deadline_hours: float = Field(
        default=48.0,
        gt=0,
        description="A case's deadline after its notice is received (TAKE IT DOWN: 48 hours).",
    )
    case_claim_minutes: float = Field(
        default=30.0,
        gt=0,
        description="How long a reviewer's claim on a case holds: an older claim no longer "
        "does (claim_next gives the case to the next reviewer; another reviewer may decide it).",
    )
    fetch_allowed_hosts: list[str] = Field(
        default_factory=list,
        description="Host names (or *.domain) that hashing by URL may fetch from; empty "
        "disables fetching by URL.",
    )
    fetch_max_bytes: int = Field(
        default=64 * 1024 * 1024, gt=0, description="Largest body fetched by URL, in bytes."
    )
    fetch_timeout_seconds: float = Field(
        default=30.0, gt=0, description="Total time limit of one fetch by URL, redirects included."
    )
    fetch_max_redirects: int = Field(
        default=5, ge=0, description="Most redirects followed by one fetch by URL."
    )
    outbound_allowed_networks: list[str] = Field(
        default_factory=list,
        description="Networks (CIDR) that URL fetches and webhook deliveries may reach even "
        "though they are private, loopback or link-local; empty: none.",
    )
    webhook_timeout_seconds: float = Field(
        default=10.0, gt=0, description="Total time limit of one webhook delivery attempt."
    )
    webhook_max_attempts: int = Field(
        default=10,
        ge=1,
        description="How many times a webhook delivery is tried before it is dead-lettered.",
    )
    exchange_timeout_seconds: float = Field(
        default=60.0, gt=0, description="Total time limit of one request to a hash exchange."
    )
    exchange_cases_interval_seconds: float = Field(
        default=60.0,
        gt=0,
        description="Seconds between the worker's looks for new matches on the banks that "
        "exchanges feed, each of which opens a case (besides each exchange's own sync).",
    )
    exchange_backoff_seconds: float = Field(
        default=60.0,
        gt=0,
        description="Wait after an exchange's first failed sync, doubled after each further one.",
    )
    exchange_backoff_max_seconds: float = Field(
        default=21600.0, gt=0, description="Longest wait between failed syncs of an exchange."
    )
    tdb_url: str | None = Field(
        default=None,
        description="The EU Transparency Database API "
        "(https://transparency.dsa.ec.europa.eu/api/v1, or the sandbox); unset: statements are "
        "not submitted.",
    )
    tdb_token: str | None = Field(
        default=None, description="The Transparency Database API's bearer token (a secret)."
    )
    tdb_interval_seconds: float = Field(
        default=3600.0, gt=0, description="Seconds between submissions of new statements."
    )
    federation_banks: list[str] = Field(
        default_factory=list,
        description="Banks served as signed feeds to partner instances (keys with the "
        "federate scope); empty: none.",
    )
    federation_signing_key: str | None = Field(
        default=None,
        description="This instance's Ed25519 signing key for federation feeds: the 32-byte "
        "seed in base64 (a secret).",
    )
    preview_url_template: str | None = Field(
        default=None,
        description="Where the review console fetches a content's preview from the platform: "
        "a URL with {content_id} (URL-quoted), e.g. https://cdn.internal/review/{content_id}. "
        "Previews are fetched into memory for each view and never stored; unset: no previews.",
    )
    preview_authorization: str | None = Field(
        default=None,
        description="Authorization header value sent with preview fetches (e.g. 'Bearer ...'), "
        "if the platform's preview endpoint needs one.",
    )
    preview_max_bytes: int = Field(
        default=20 * 1024 * 1024, gt=0, description="Largest preview fetched, in bytes."
    )
    preview_timeout_seconds: float = Field(
        default=10.0, gt=0, description="Total time limit of one preview fetch."
    )
    audit_key: SecretStr | None = Field(
        default=None,
        description="The audit chain's HMAC key (64 hex digits; a secret: give it as "
        "SHIELDWALL_AUDIT_KEY_FILE; `shieldwall audit keygen FILE` makes one). Keep it outside "
        "the database and its backups. Unset: the key in <data_dir>/audit.key, created on "
        "first use.",
    )
    audit_anchor_path: Path | None = Field(
        default=None,
        description="The append-only file each audit event's sequence number and hash are "
        "anchored in after it commits (`audit verify` checks the table against it). Keep it "
        "off the database's machine or ship it to a log store. Unset: "
        "<data_dir>/audit-anchor.jsonl.",
    )

    @field_validator("outbound_allowed_networks", "trusted_proxies")
    @classmethod
    def _valid_networks(cls, value: list[str]) -> list[str]:
        for net in value:
            try:
                ipaddress.ip_network(net, strict=False)
            except ValueError as exc:
                raise ValueError(f"{net!r} is not a network (CIDR): {exc}") from exc
        return value

    @field_validator("decode_memory_budget")
    @classmethod
    def _budget_holds_one_decode(cls, value: int, info: ValidationInfo) -> int:
        per_decode = info.data.get("max_decode_bytes")
        if per_decode is not None and value < per_decode:
            raise ValueError(
                f"must be at least max_decode_bytes ({per_decode}): one decode must fit"
            )
        return value

    @field_validator("platform_logo_url")
    @classmethod
    def _local_logo(cls, value: str | None) -> str | None:
        if value is not None and (not value.startswith("/") or value.startswith("//")):
            raise ValueError(
                f"{value!r} must be a path on this service (starting with one /): the public "
                "pages load nothing from other sites"
            )
        return value

    @field_validator("preview_url_template")
    @classmethod
    def _preview_template(cls, value: str | None) -> str | None:
        if value is None:
            return value
        parts = urlsplit(value.replace("{content_id}", "x"))
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ValueError(f"{value!r} must be an http or https URL with a host")
        if "{content_id}" not in value:
            raise ValueError(
                f"{value!r} has no {{content_id}}: every case would show the same preview"
            )
        return value

    @field_validator("match_rotations")
    @classmethod
    def _small_angles(cls, value: list[float]) -> list[float]:
        for angle in value:
            if not 0 < abs(angle) <= 30:
                raise ValueError(f"rotation {angle} must be a small non-zero angle (0 < |a| <= 30)")
        return value

    @field_validator("fetch_allowed_hosts")
    @classmethod
    def _lower_hosts(cls, value: list[str]) -> list[str]:
        return [h.strip().lower().rstrip(".") for h in value if h.strip()]

    @field_validator("oidc_issuer")
    @classmethod
    def _issuer_url(cls, value: str | None) -> str | None:
        if value is None or value == "":
            return None
        if not value.startswith(("https://", "http://")):
            raise ValueError("the issuer must be an http(s) URL")
        return value.rstrip("/")

    @field_validator("oidc_allowed_email_domains")
    @classmethod
    def _lower_domains(cls, value: list[str]) -> list[str]:
        return [d.strip().lower().lstrip("@") for d in value if d.strip()]

    @field_validator("oidc_domain_roles")
    @classmethod
    def _known_roles(cls, value: list[str]) -> list[str]:
        _check_role_names(value)
        return value

    @field_validator("oidc_group_roles")
    @classmethod
    def _known_group_roles(cls, value: dict[str, list[str]]) -> dict[str, list[str]]:
        for roles in value.values():
            _check_role_names(roles)
        return value

    @field_validator("password_hash_parallelism")
    @classmethod
    def _argon2_memory_per_lane(cls, value: int, info: ValidationInfo) -> int:
        memory = info.data.get("password_hash_memory_kib")
        if memory is not None and memory < 8 * value:
            raise ValueError(
                f"argon2 needs at least 8 KiB of password_hash_memory_kib ({memory}) per lane"
            )
        return value

    def resolved_audit_anchor_path(self) -> Path:
        """``audit_anchor_path``, or ``audit-anchor.jsonl`` in ``data_dir``."""
        return self.audit_anchor_path or self.data_dir / "audit-anchor.jsonl"

    def resolved_database_url(self) -> str:
        """``database_url``, or the default SQLite file in ``data_dir``."""
        if self.database_url:
            return self.database_url
        return f"sqlite:///{self.data_dir / 'shieldwall.db'}"

    codescan_policy_name: str = Field(
        default="Face-swap deepfake creation is not allowed on this service",
        description="Name of the policy that code-scan verdicts cite in their message.",
    )
    codescan_policy_url: str = Field(
        default="https://shieldwall.example/policy/deepfakes",
        description="Where the policy cited by code-scan verdicts can be read.",
    )
    codescan_appeal_url: str = Field(
        default="https://shieldwall.example/appeal",
        description="Where a user whose code was warned about or blocked can appeal.",
    )
    codescan_max_file_bytes: int = Field(
        default=32 * 1024 * 1024,
        gt=0,
        description="Largest text file (notebook, script, requirements) the code scanner "
        "parses; larger ones are only fingerprinted.",
    )
    codescan_max_files: int = Field(
        default=100_000, gt=0, description="Most files the code scanner visits in one scan."
    )
    codescan_max_archive_members: int = Field(
        default=10_000, gt=0, description="Most members the code scanner reads from one archive."
    )
    codescan_max_archive_bytes: int = Field(
        default=256 * 1024 * 1024,
        gt=0,
        description="Most uncompressed bytes the code scanner reads from one archive.",
    )
    codescan_max_compression_ratio: int = Field(
        default=200,
        gt=0,
        description="Largest uncompressed/compressed ratio of an archive member (zip bombs).",
    )
    codescan_max_archive_depth: int = Field(
        default=3, ge=0, description="How deep the code scanner follows archives inside archives."
    )
    codescan_max_decode_depth: int = Field(
        default=8,
        ge=1,
        description="How many layers of encoding (base64 in base64, exec in exec) the code "
        "scanner undoes before it stops and reports the limit.",
    )
    codescan_max_model_bytes: int = Field(
        default=1024 * 1024 * 1024,
        gt=0,
        description="Largest ONNX or pickle file whose structure the code scanner reads.",
    )
    codescan_max_scan_seconds: float = Field(
        default=120.0,
        ge=0,
        description="Time budget of one scan: inputs not read when it is spent are named in "
        "the report (scan_budget_exceeded) and not scanned.",
    )
    codescan_max_scan_bytes: int = Field(
        default=4 * 1024 * 1024 * 1024,
        ge=0,
        description="Byte budget of one scan (bytes of files and archive members read); "
        "inputs past it are named in the report and not scanned.",
    )
    codescan_guard_min_file_bytes: int = Field(
        default=1024 * 1024,
        ge=0,
        description="The runtime guard fingerprints model files opened that are at least "
        "this large.",
    )

    password_min_length: int = Field(
        default=12,
        ge=8,
        description="Shortest password a console user may have.",
    )
    password_hash_time_cost: int = Field(
        default=3,
        ge=1,
        description="argon2id passes over memory when hashing a console password or a notice "
        "PIN (argon2-cffi's default; stored hashes keep their own cost and are rehashed at "
        "the next login when it changes).",
    )
    password_hash_memory_kib: int = Field(
        default=65536,
        ge=8,
        description="argon2id memory per password or PIN hash, in KiB (64 MiB; at least 8 "
        "per lane of password_hash_parallelism).",
    )
    password_hash_parallelism: int = Field(
        default=4, ge=1, description="argon2id lanes per password or PIN hash."
    )
    login_max_failures: int = Field(
        default=5,
        ge=1,
        description="Wrong passwords in a row after which a console account is locked.",
    )
    login_lockout_minutes: float = Field(
        default=15.0,
        gt=0,
        description="How long a console account stays locked after too many wrong passwords.",
    )
    session_idle_minutes: float = Field(
        default=480.0,
        gt=0,
        description="A console session ends after this long without a request (each request "
        "extends it).",
    )
    session_cookie_secure: bool = Field(
        default=False,
        description="Mark the console's session cookie Secure (sent over https only); it is "
        "also marked Secure whenever the request itself came over https.",
    )
    metrics_duty_cache_seconds: float = Field(
        default=15.0,
        ge=0,
        description="/metrics reads the duty's figures (cases, deadlines, appeals, exchange "
        "and job lag) from the database at most this often; 0: at every scrape.",
    )
    session_max_hours: float = Field(
        default=12.0,
        gt=0,
        description="A console session ends this long after sign-in, however busy it is "
        "(absolute expiry; the idle expiry applies too).",
    )
    totp_required: bool = Field(
        default=False,
        description="Every local console account must sign in with a TOTP code; one without "
        "two-factor is led through enrolment before it reaches the console. Single sign-on "
        "accounts are left to the provider.",
    )
    totp_issuer: str = Field(
        default="Shieldwall",
        description="The issuer name an authenticator app shows beside the console's codes.",
    )
    oidc_issuer: str | None = Field(
        default=None,
        description="Single sign-on: the OpenID Connect provider's issuer URL (its discovery "
        "document is <issuer>/.well-known/openid-configuration); unset: no single sign-on.",
    )
    oidc_client_id: str = Field(
        default="", description="Single sign-on: the console's client id at the provider."
    )
    oidc_client_secret: str = Field(
        default="",
        description="Single sign-on: the console's client secret (use "
        "SHIELDWALL_OIDC_CLIENT_SECRET_FILE).",
    )
    oidc_redirect_url: str | None = Field(
        default=None,
        description="Single sign-on: the callback URL registered at the provider; default: "
        "<the request's own origin>/login/sso/callback.",
    )
    oidc_scopes: list[str] = Field(
        default_factory=lambda: ["openid", "email", "profile"],
        description="Single sign-on: the scopes asked for (openid is always added).",
    )
    oidc_allowed_email_domains: list[str] = Field(
        default_factory=list,
        description="Single sign-on: a person whose verified email is in one of these domains "
        "may sign in (with oidc_domain_roles).",
    )
    oidc_domain_roles: list[str] = Field(
        default_factory=list,
        description="Single sign-on: the roles a new account of an allowed email domain gets.",
    )
    oidc_groups_claim: str = Field(
        default="groups", description="Single sign-on: the id token claim that lists groups."
    )
    oidc_group_roles: dict[str, list[str]] = Field(
        default_factory=dict,
        description="Single sign-on: provider group -> console roles (JSON object in the "
        "environment); a member of a listed group may sign in, and when this is set the "
        "account's roles follow its groups at every sign-in.",
    )
    oidc_label: str = Field(
        default="single sign-on",
        description="Single sign-on: the provider's name on the sign-in button.",
    )

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        sources: list[PydanticBaseSettingsSource] = [
            init_settings,
            env_settings,
            _FileSecretsSource(settings_cls),
        ]
        toml_path = os.environ.get(f"{ENV_PREFIX}CONFIG")
        if toml_path:
            if not Path(toml_path).is_file():
                raise ConfigError(f"{ENV_PREFIX}CONFIG={toml_path}: no such file")
            sources.append(TomlConfigSettingsSource(settings_cls, toml_file=toml_path))
        return tuple(sources)

    @classmethod
    def load(cls, **overrides: Any) -> Settings:
        """Read and validate the settings; any invalid value raises :class:`ConfigError`. A
        ``SHIELDWALL_*`` variable that is no setting is logged as a warning
        (:func:`unknown_variables`)."""
        for message in unknown_variables():
            log.warning("%s", message)
        try:
            return cls(**overrides)
        except ValidationError as exc:
            problems = "; ".join(
                f"{ENV_PREFIX}{'.'.join(str(p) for p in err['loc']).upper()}: {err['msg']}"
                for err in exc.errors()
            )
            raise ConfigError(f"invalid settings: {problems}") from exc


def unknown_variables(environ: Mapping[str, str] | None = None) -> list[str]:
    """A message for each ``SHIELDWALL_*`` variable of ``environ`` (default: the environment)
    that is neither a setting, nor a setting's ``_FILE`` form, nor one of
    :data:`OTHER_VARIABLES`, naming the nearest real one when there is one::

        SHIELDWALL_DATABSE_URL is not a setting; did you mean SHIELDWALL_DATABASE_URL?
    """
    known = {name.upper() for name in Settings.model_fields}
    known |= {f"{name}_FILE" for name in known}
    known |= {name.removeprefix(ENV_PREFIX) for name in OTHER_VARIABLES}
    messages = []
    for variable in sorted(os.environ if environ is None else environ):
        name = variable.upper()  # the environment source matches names in any case
        if not name.startswith(ENV_PREFIX) or name.removeprefix(ENV_PREFIX) in known:
            continue
        nearest = difflib.get_close_matches(name.removeprefix(ENV_PREFIX), known, n=1)
        hint = (
            f"did you mean {ENV_PREFIX}{nearest[0]}?"
            if nearest
            else "docs/configuration.md lists the settings"
        )
        messages.append(f"{variable} is not a setting; {hint}")
    return messages


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """The process-wide settings, read on first use."""
    return Settings.load()
