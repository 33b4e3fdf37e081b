"""Single sign-on through an OpenID Connect provider: the authorization code flow with PKCE.

:func:`begin` reads the provider's discovery document, keeps a *flow* (state, nonce, PKCE code
verifier, where to go after) bound to the browser by a cookie, and gives the provider's
authorization URL. :func:`complete` takes the provider's answer at the callback: the flow is
used once and must be the browser's own, the state must match, the code is exchanged at the
token endpoint (with the code verifier and the client's credentials), and the id token is
checked: signature by a key of the provider's JWKS (an asymmetric algorithm the provider
declares), issuer, audience (and ``azp``), expiry, and the flow's nonce.

The provider's person becomes a console account by the settings (:func:`roles_for`): a
verified email in ``oidc_allowed_email_domains`` (roles ``oidc_domain_roles``) or a group of
``oidc_groups_claim`` named in ``oidc_group_roles``; anyone else is refused, and nothing is
created for them. An account is the provider's (issuer, subject), never an existing local
account of the same name. With ``oidc_group_roles`` set, the account's roles follow its groups
at every sign-in. Outbound requests go through :mod:`shieldwall.net.fetch` under the address
policy (a provider on a private network needs ``outbound_allowed_networks``).

Authlib makes the PKCE challenge and the random values; joserfc checks the JWT.
"""

from __future__ import annotations

import base64
import hashlib
import json
import secrets
from dataclasses import dataclass
from datetime import timedelta
from typing import Any
from urllib.parse import urlencode

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from shieldwall.audit import record_event
from shieldwall.config import Settings
from shieldwall.errors import FetchError, SignInRefused, UsageError
from shieldwall.net.fetch import request
from shieldwall.net.policy import AddressPolicy, Resolver
from shieldwall.people.accounts import SessionInfo, start_session
from shieldwall.people.roles import Role
from shieldwall.store import Database
from shieldwall.store.models import Person, SignInFlow, utcnow

__all__ = [
    "FLOW_MINUTES",
    "Provider",
    "begin",
    "complete",
    "discover",
    "roles_for",
]

#: How long the person has at the provider before the flow expires.
FLOW_MINUTES = 10.0
#: Signature algorithms accepted for id tokens (never ``none``, never a shared secret).
_ALGORITHMS = ("RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384", "EdDSA")
_TIMEOUT_SECONDS = 15.0
_MAX_BYTES = 1024 * 1024
_LEEWAY_SECONDS = 60
#: The password hash of a single sign-on account: not an argon2 hash, so it never verifies.
_NO_PASSWORD = "!sso"  # noqa: S105 - a marker, not a secret


@dataclass(frozen=True, slots=True)
class Provider:
    """What the discovery document says of the provider."""

    issuer: str
    authorization_endpoint: str
    token_endpoint: str
    jwks_uri: str
    algorithms: tuple[str, ...]
    #: ``client_secret_basic`` or ``client_secret_post``.
    client_auth: str


def _digest(token: str) -> bytes:
    return hashlib.sha256(token.encode("utf-8")).digest()


def _get_json(
    url: str,
    settings: Settings,
    resolver: Resolver | None,
    *,
    method: str = "GET",
    body: bytes | None = None,
    headers: dict[str, str] | None = None,
) -> dict[str, Any]:
    policy = AddressPolicy.from_networks(settings.outbound_allowed_networks, resolver)
    try:
        answer = request(
            url,
            method=method,
            body=body,
            headers={"Accept": "application/json", **(headers or {})},
            policy=policy,
            timeout_seconds=_TIMEOUT_SECONDS,
            max_bytes=_MAX_BYTES,
        )
    except FetchError as exc:
        raise SignInRefused(f"the sign-on provider could not be reached: {exc.message}") from exc
    try:
        data = json.loads(answer.body)
    except ValueError as exc:
        raise SignInRefused(f"the sign-on provider's answer from {url} is not JSON") from exc
    if not isinstance(data, dict):
        raise SignInRefused(f"the sign-on provider's answer from {url} is not a JSON object")
    if not 200 <= answer.status < 300:
        reason = data.get("error_description") or data.get("error") or answer.status
        raise SignInRefused(f"the sign-on provider refused: {reason}")
    return data


def _configured(settings: Settings) -> str:
    if not settings.oidc_issuer or not settings.oidc_client_id:
        raise UsageError(
            "single sign-on is not configured (SHIELDWALL_OIDC_ISSUER, SHIELDWALL_OIDC_CLIENT_ID)"
        )
    return settings.oidc_issuer


def discover(settings: Settings, *, resolver: Resolver | None = None) -> Provider:
    """The provider of the ``oidc_issuer`` setting, from its discovery document (whose issuer
    must be the configured one)."""
    issuer = _configured(settings)
    doc = _get_json(f"{issuer}/.well-known/openid-configuration", settings, resolver)
    if str(doc.get("issuer", "")).rstrip("/") != issuer:
        raise SignInRefused(
            f"the discovery document names the issuer {doc.get('issuer')!r}, not {issuer!r}"
        )
    try:
        endpoints = [str(doc[k]) for k in ("authorization_endpoint", "token_endpoint", "jwks_uri")]
    except KeyError as exc:
        raise SignInRefused(f"the discovery document lacks {exc.args[0]}") from exc
    declared = doc.get("id_token_signing_alg_values_supported") or ["RS256"]
    algorithms = tuple(a for a in declared if a in _ALGORITHMS)
    if not algorithms:
        raise SignInRefused(f"the provider signs id tokens with none of {', '.join(_ALGORITHMS)}")
    methods = doc.get("token_endpoint_auth_methods_supported") or ["client_secret_basic"]
    client_auth = (
        "client_secret_basic" if "client_secret_basic" in methods else "client_secret_post"
    )
    authorize, token, jwks = endpoints
    return Provider(str(doc["issuer"]), authorize, token, jwks, algorithms, client_auth)


def begin(
    db: Database,
    settings: Settings,
    *,
    redirect_uri: str,
    next_url: str,
    resolver: Resolver | None = None,
) -> tuple[str, str]:
    """Start a sign-on: the provider's authorization URL to send the browser to, and the
    binding token for the browser's cookie."""
    # Authlib and joserfc (with cryptography) load with the first sign-on, not in every process.
    from authlib.common.security import generate_token  # noqa: PLC0415 (loaded on first use)
    from authlib.oauth2.rfc7636 import create_s256_code_challenge  # noqa: PLC0415 (loaded on first use)

    provider = discover(settings, resolver=resolver)
    binding = secrets.token_urlsafe(32)
    state = generate_token(43)
    nonce = generate_token(43)
    verifier = generate_token(64)
    now = utcnow()
    with db.transaction() as session:
        session.execute(delete(SignInFlow).where(SignInFlow.expires_at <= now))
        session.add(
            SignInFlow(
                binding=_digest(binding),
                state=state,
                nonce=nonce,
                code_verifier=verifier,
                next_url=next_url[:500],
                expires_at=now + timedelta(minutes=FLOW_MINUTES),
            )
        )
    scopes = ["openid", *(s for s in settings.oidc_scopes if s != "openid")]
    query = urlencode(
        {
            "response_type": "code",
            "client_id": settings.oidc_client_id,
            "redirect_uri": redirect_uri,
            "scope": " ".join(scopes),
            "state": state,
            "nonce": nonce,
            "code_challenge": create_s256_code_challenge(verifier),
            "code_challenge_method": "S256",
        }
    )
    sep = "&" if "?" in provider.authorization_endpoint else "?"
    return f"{provider.authorization_endpoint}{sep}{query}", binding


def _exchange_code(
    provider: Provider,
    settings: Settings,
    *,
    code: str,
    redirect_uri: str,
    verifier: str,
    resolver: Resolver | None,
) -> str:
    form = {
        "grant_type": "authorization_code",
        "code": code,
        "redirect_uri": redirect_uri,
        "code_verifier": verifier,
    }
    headers = {"Content-Type": "application/x-www-form-urlencoded"}
    if settings.oidc_client_secret and provider.client_auth == "client_secret_basic":
        pair = f"{settings.oidc_client_id}:{settings.oidc_client_secret}".encode()
        headers["Authorization"] = "Basic " + base64.b64encode(pair).decode("ascii")
    else:
        form["client_id"] = settings.oidc_client_id
        if settings.oidc_client_secret:
            form["client_secret"] = settings.oidc_client_secret
    answer = _get_json(
        provider.token_endpoint,
        settings,
        resolver,
        method="POST",
        body=urlencode(form).encode("ascii"),
        headers=headers,
    )
    id_token = answer.get("id_token")
    if not isinstance(id_token, str):
        raise SignInRefused("the sign-on provider's token answer has no id_token")
    return id_token


def _claims(
    provider: Provider, settings: Settings, id_token: str, nonce: str, resolver: Resolver | None
) -> dict[str, Any]:
    from joserfc import jwt  # noqa: PLC0415 (loaded on first use)
    from joserfc.errors import JoseError  # noqa: PLC0415 (loaded on first use)
    from joserfc.jwk import KeySet  # noqa: PLC0415 (loaded on first use)

    keys = _get_json(provider.jwks_uri, settings, resolver)
    try:
        keyset = KeySet.import_key_set(keys)  # type: ignore[arg-type]
        token = jwt.decode(id_token, keyset, algorithms=list(provider.algorithms))
        registry = jwt.JWTClaimsRegistry(
            leeway=_LEEWAY_SECONDS,
            iss={"essential": True, "value": provider.issuer},
            sub={"essential": True},
            aud={"essential": True, "value": settings.oidc_client_id},
            exp={"essential": True},
            iat={"essential": True},
            nonce={"essential": True, "value": nonce},
        )
        registry.validate(token.claims)
    except (JoseError, ValueError, TypeError) as exc:
        raise SignInRefused(f"the id token failed a check: {exc}") from exc
    claims = dict(token.claims)
    audience = claims.get("aud")
    several = isinstance(audience, list) and len(audience) > 1
    if several and claims.get("azp") != settings.oidc_client_id:
        raise SignInRefused("the id token is for several clients and not authorised for us")
    return claims


def roles_for(claims: dict[str, Any], settings: Settings) -> frozenset[Role] | None:
    """The console roles the settings give the provider's person; ``None``: not allowed in
    (neither a verified email of an allowed domain nor a mapped group)."""
    allowed = False
    roles: set[Role] = set()
    email = claims.get("email")
    if isinstance(email, str) and "@" in email and claims.get("email_verified") is True:
        domain = email.rsplit("@", 1)[1].lower()
        if domain in settings.oidc_allowed_email_domains:
            allowed = True
            roles |= {Role(r) for r in settings.oidc_domain_roles}
    groups = claims.get(settings.oidc_groups_claim)
    if isinstance(groups, str):
        groups = [groups]
    if isinstance(groups, list):
        for group in groups:
            mapped = settings.oidc_group_roles.get(str(group))
            if mapped is not None:
                allowed = True
                roles |= {Role(r) for r in mapped}
    return frozenset(roles) if allowed else None


def _username(session: Session, claims: dict[str, Any]) -> str:
    email = claims.get("email")
    wanted = email.strip().lower() if isinstance(email, str) else ""
    taken = session.scalar(select(Person.id).where(Person.username == wanted))
    if wanted and len(wanted) <= 64 and taken is None:
        return wanted
    key = f"{claims['iss']}\n{claims['sub']}".encode()
    return "sso-" + hashlib.sha256(key).hexdigest()[:16]


def complete(
    db: Database,
    settings: Settings,
    *,
    binding: str,
    state: str,
    code: str,
    redirect_uri: str,
    resolver: Resolver | None = None,
) -> tuple[SessionInfo, str, str]:
    """Finish a sign-on at the callback: the session, its cookie token and where to go.
    Raises :class:`SignInRefused` (nothing is created) for a flow that is unknown, expired or
    another browser's, a wrong state, a failed token check, or a person not allowed in."""
    now = utcnow()
    with db.transaction() as session:
        flow = (
            session.scalar(select(SignInFlow).where(SignInFlow.binding == _digest(binding)))
            if binding
            else None
        )
        if flow is not None:
            session.delete(flow)  # used once, whatever follows
            found = (flow.state, flow.nonce, flow.code_verifier, flow.next_url, flow.expires_at)
    if flow is None:
        raise SignInRefused("the sign-on was not started in this browser (or was used already)")
    expected_state, nonce, verifier, next_url, expires_at = found
    if expires_at <= now:
        raise SignInRefused("the sign-on took too long: start again")
    if not secrets.compare_digest(expected_state.encode(), state.encode("utf-8", "replace")):
        raise SignInRefused("the sign-on's state does not match: start again")
    if not code:
        raise SignInRefused("the sign-on provider sent no authorization code")
    provider = discover(settings, resolver=resolver)
    id_token = _exchange_code(
        provider,
        settings,
        code=code,
        redirect_uri=redirect_uri,
        verifier=verifier,
        resolver=resolver,
    )
    claims = _claims(provider, settings, id_token, nonce, resolver)
    roles = roles_for(claims, settings)
    issuer, subject = str(claims["iss"]), str(claims["sub"])
    with db.transaction() as session:
        row = session.scalar(
            select(Person).where(Person.oidc_issuer == issuer, Person.oidc_subject == subject)
        )
        if roles is None or (row is not None and row.disabled):
            record_event(
                session,
                "system",
                "login.sso_refused",
                f"oidc:{subject}",
                {"issuer": issuer, "disabled": row is not None},
            )
            refused = True
        else:
            refused = False
            names = sorted(r.value for r in roles)
            if row is None:
                row = Person(
                    username=_username(session, claims),
                    display_name=str(claims.get("name") or claims.get("email") or subject)[:200],
                    roles=names,
                    password_hash=_NO_PASSWORD,
                    failed_logins=0,
                    disabled=False,
                    reveal_previews=False,
                    oidc_issuer=issuer,
                    oidc_subject=subject,
                )
                session.add(row)
                session.flush()
                record_event(
                    session,
                    "system",
                    "person.create",
                    f"user:{row.id}",
                    {"roles": names, "sso": True},
                )
            elif settings.oidc_group_roles and sorted(row.roles) != names:
                record_event(
                    session,
                    "system",
                    "person.roles",
                    f"user:{row.id}",
                    {"from": sorted(row.roles), "to": names, "sso": True},
                )
                row.roles = names
            info, token = start_session(session, row, settings)
            who = f"user:{row.id}"
            record_event(session, who, "login.success", who, {"session": info.id, "sso": issuer})
    if refused:
        raise SignInRefused(
            "your account at the sign-on provider is not allowed in this console; "
            "ask an admin to give you access"
        )
    return info, token, next_url
