"""Checks of a production deployment: what ``shieldwall check`` names before an operator goes
live (docs/deployment.md).

:func:`check_settings` looks at the settings alone (and what the operator says about the
deployment that the settings cannot tell: how many replicas, whether a reverse proxy is in
front); :func:`check_services` also reaches the database and Redis. Each finding is a
:class:`Problem` with a stable ``code``, the setting it is about and what to do::

    problems = check_deployment(Settings.load(), Deployment(replicas=3, behind_proxy=True))
"""

from __future__ import annotations

import ipaddress
import os
from dataclasses import dataclass
from urllib.parse import urlsplit

from shieldwall.config import Settings
from shieldwall.errors import ShieldwallError
from shieldwall.net.policy import address_problem, check_saved_url
from shieldwall.replicas import SharedStore

__all__ = [
    "DEMO_BANK",
    "DEMO_KEY",
    "DEMO_USER",
    "Deployment",
    "Problem",
    "check_deployment",
    "check_services",
    "check_settings",
]

#: What ``shieldwall serve --demo`` makes: a bank, an admin key and a console user.
DEMO_BANK = "demo-ncii"
DEMO_KEY = "demo"
DEMO_USER = "demo"

#: Secrets nobody should keep: the examples of documentation and compose files.
_WEAK_SECRETS = frozenset(
    {"", "admin", "changeme", "change-me", "password", "postgres", "secret", "shieldwall", "test"}
)
#: Shortest secret token accepted without a remark.
_MIN_SECRET = 16
_PLACEHOLDER_HOST = "shieldwall.example"


@dataclass(frozen=True, slots=True)
class Deployment:
    """What the settings cannot tell about a deployment.

    ``replicas``: how many service processes share this database and serve requests (every
    ``shieldwall serve`` of any role, each of its ``--workers`` counted); ``behind_proxy``:
    whether a reverse proxy (TLS, load balancer) is in front of them.
    """

    replicas: int = 1
    behind_proxy: bool = False


@dataclass(frozen=True, slots=True)
class Problem:
    """One thing wrong with a deployment: a stable ``code``, the ``setting`` it is about (its
    environment variable, or ``None``) and a ``message`` that says what to do."""

    code: str
    setting: str | None
    message: str

    def as_dict(self) -> dict[str, str | None]:
        """The problem as JSON (``shieldwall check --json``)."""
        return {"code": self.code, "setting": self.setting, "message": self.message}


def _var(name: str) -> str:
    return f"SHIELDWALL_{name.upper()}"


def _is_sqlite(settings: Settings) -> bool:
    return settings.resolved_database_url().startswith("sqlite")


def _password(url: str | None) -> str | None:
    if not url:
        return None
    try:
        return urlsplit(url.replace("+psycopg", "")).password
    except ValueError:
        return None


def check_settings(settings: Settings, deployment: Deployment | None = None) -> list[Problem]:
    """What is wrong with ``settings`` for ``deployment`` (default: one replica, no proxy),
    without reaching anything."""
    deployment = deployment or Deployment()
    problems: list[Problem] = []
    several = deployment.replicas > 1
    if several and _is_sqlite(settings):
        problems.append(
            Problem(
                "sqlite_with_replicas",
                _var("database_url"),
                f"{deployment.replicas} replicas on SQLite: one machine's file serialises every "
                "write and cannot be shared between hosts; use PostgreSQL "
                "(postgresql+psycopg://user@host:5432/db)",
            )
        )
    if several and not settings.redis_url:
        problems.append(
            Problem(
                "no_redis_with_replicas",
                _var("redis_url"),
                f"{deployment.replicas} replicas without Redis: each keeps its own rate limits "
                "and PIN and sign-in throttles (a guesser gets them "
                f"{deployment.replicas} times) and learns of a revoked key only after "
                "api_key_cache_seconds; set SHIELDWALL_REDIS_URL",
            )
        )
    problems += _proxy_problems(settings, deployment)
    problems += _secret_problems(settings)
    problems += _outbound_problems(settings)
    for name in ("cases_appeal_url", "codescan_policy_url", "codescan_appeal_url"):
        value = getattr(settings, name)
        if urlsplit(value).hostname == _PLACEHOLDER_HOST:
            problems.append(
                Problem(
                    "placeholder_url",
                    _var(name),
                    f"{value} is the placeholder: statements and verdicts would send people "
                    "there; set your platform's own page",
                )
            )
    return problems


def _proxy_problems(settings: Settings, deployment: Deployment) -> list[Problem]:
    problems: list[Problem] = []
    everyone = [n for n in settings.trusted_proxies if ipaddress.ip_network(n).prefixlen == 0]
    if everyone:
        problems.append(
            Problem(
                "trusted_proxy_everyone",
                _var("trusted_proxies"),
                f"{', '.join(everyone)} trusts every client's {settings.client_address_header}: "
                "anyone can pick the address they are limited by; name the proxy's own "
                "addresses",
            )
        )
    if deployment.behind_proxy and not settings.trusted_proxies:
        problems.append(
            Problem(
                "proxy_not_trusted",
                _var("trusted_proxies"),
                "behind a reverse proxy with no trusted_proxies: every client is limited as the "
                "proxy's one address (one guesser throttles everyone); set the proxy's "
                "addresses, e.g. SHIELDWALL_TRUSTED_PROXIES='[\"10.0.0.5/32\"]'",
            )
        )
    if deployment.behind_proxy and not settings.session_cookie_secure:
        problems.append(
            Problem(
                "cookie_not_secure",
                _var("session_cookie_secure"),
                "behind a TLS proxy the service sees plain http, so console session cookies "
                "are not marked Secure; set SHIELDWALL_SESSION_COOKIE_SECURE=true",
            )
        )
    return problems


def _secret_problems(settings: Settings) -> list[Problem]:
    problems: list[Problem] = []
    for name in ("database_url", "redis_url"):
        password = _password(getattr(settings, name))
        if password is not None and password.lower() in _WEAK_SECRETS:
            problems.append(
                Problem(
                    "default_secret",
                    _var(name),
                    f"the password in {_var(name)} is a well-known default; set a random one "
                    f"(and pass the URL as {_var(name)}_FILE)",
                )
            )
    tokens: list[tuple[str, str | None]] = [
        ("tdb_token", settings.tdb_token),
        ("preview_authorization", settings.preview_authorization),
    ]
    tokens += [("trusted_flaggers", token) for token in settings.trusted_flaggers.values()]
    for name, token in tokens:
        if token is None:
            continue
        secret = token.split(" ", 1)[-1]  # "Bearer xyz"
        if secret.lower() in _WEAK_SECRETS or len(secret) < _MIN_SECRET:
            problems.append(
                Problem(
                    "default_secret",
                    _var(name),
                    f"a secret of {_var(name)} is a default or shorter than {_MIN_SECRET} "
                    "characters; use a long random one",
                )
            )
    return problems


def _outbound_problems(settings: Settings) -> list[Problem]:
    problems: list[Problem] = []
    for text in settings.outbound_allowed_networks:
        network = ipaddress.ip_network(text, strict=False)
        why = address_problem(network.network_address) or address_problem(network.broadcast_address)
        if network.prefixlen == 0:
            why = "every address, internal ones included"
        if why is not None:
            problems.append(
                Problem(
                    "outbound_private",
                    _var("outbound_allowed_networks"),
                    f"{network} ({why}) may be reached by URL fetches and webhook deliveries: "
                    "a webhook or fetch URL can then reach internal services (the cloud "
                    "metadata address among them); allow only the hosts that need it",
                )
            )
    return problems


def check_services(settings: Settings) -> list[Problem]:
    """Reach the database (its schema at this version's revision, no demo data left) and Redis,
    and try writing to the data directory (index snapshots and uploads go there)."""
    problems: list[Problem] = []
    problems += _database_problems(settings)
    if settings.redis_url:
        try:
            SharedStore.from_settings(settings).ping()
        except ShieldwallError as exc:
            problems.append(Problem("redis_unreachable", _var("redis_url"), exc.message))
    if settings.preview_url_template:  # the address the console fetches previews from
        try:
            check_saved_url(
                settings.preview_url_template.replace("{content_id}", "content-id"),
                settings.outbound_allowed_networks,
                "the preview source",
            )
        except ShieldwallError as exc:
            problems.append(
                Problem(
                    "preview_source_refused",
                    _var("preview_url_template"),
                    f"{exc.message}: every preview fetch would be refused (the service does "
                    "not start); allow its network in SHIELDWALL_OUTBOUND_ALLOWED_NETWORKS",
                )
            )
    folder = settings.data_dir
    try:
        folder.mkdir(parents=True, exist_ok=True)
        probe = folder / f".check-{os.getpid()}"
        probe.write_bytes(b"")
        probe.unlink()
    except OSError as exc:
        problems.append(
            Problem(
                "data_dir_unwritable",
                _var("data_dir"),
                f"cannot write to {folder}: {exc.strerror}",
            )
        )
    return problems


def _database_problems(settings: Settings) -> list[Problem]:
    from shieldwall.banks import list_banks  # noqa: PLC0415 - the database layer when used
    from shieldwall.people.accounts import list_people  # noqa: PLC0415
    from shieldwall.people.keys import list_keys  # noqa: PLC0415
    from shieldwall.store import Database  # noqa: PLC0415

    setting = _var("database_url")
    try:
        db = Database(
            settings.resolved_database_url(),
            busy_timeout_ms=settings.database_busy_timeout_ms,
            migrate=False,
        )
    except ShieldwallError as exc:
        return [Problem("database_unreachable", setting, exc.message)]
    try:
        try:
            current = db.current_revision()
        except Exception as exc:  # SQLAlchemy's errors: refused, unknown host, bad password
            first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
            return [Problem("database_unreachable", setting, f"{db!r}: {first[:300]}")]
        head = Database.head_revision()
        if current != head:
            return [
                Problem(
                    "schema_not_current",
                    setting,
                    f"the database schema is at {current or 'nothing (empty)'}, this version "
                    f"needs {head}: run `shieldwall migrate` (docs/deployment.md, upgrades)",
                )
            ]
        problems: list[Problem] = []
        demo = [f"bank {DEMO_BANK!r}" for b in list_banks(db) if b.name == DEMO_BANK]
        demo += [
            f"API key {k.prefix} ({DEMO_KEY!r})"
            for k in list_keys(db, include_revoked=False)
            if k.name == DEMO_KEY
        ]
        demo += [
            f"console user {DEMO_USER!r}"
            for p in list_people(db)
            if p.username == DEMO_USER and not p.disabled
        ]
        if demo:
            problems.append(
                Problem(
                    "demo_data",
                    setting,
                    f"demo data of `serve --demo` is in the database: {', '.join(demo)}; "
                    "revoke the key (shieldwall key revoke), disable the user "
                    "(shieldwall user disable) and delete the bank",
                )
            )
        return problems
    finally:
        db.dispose()


def check_deployment(
    settings: Settings, deployment: Deployment | None = None, *, reach: bool = True
) -> list[Problem]:
    """:func:`check_settings`, then (``reach``) :func:`check_services`."""
    problems = check_settings(settings, deployment)
    if reach:
        problems += check_services(settings)
    return problems
