"""A small OpenID Connect provider on loopback that speaks the real protocol: the discovery
document, a JWKS, an authorization endpoint that redirects back with a code (the person who
"signs in" there is :attr:`FakeProvider.person`), and a token endpoint that checks the client's
credentials, the redirect URI and the PKCE verifier, and returns an RS256-signed id token with
the nonce of the authorization request.

Misbehaviours for the refusal tests: :attr:`FakeProvider.tamper` changes the id token's claims
before signing (a wrong nonce, audience, issuer, an expired token), :attr:`sign_with_other_key`
signs with a key that is not in the JWKS.
"""

from __future__ import annotations

import base64
import hashlib
import json
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from types import TracebackType
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

from joserfc import jwt
from joserfc.jwk import KeySet, RSAKey

from fake_server import FakeServer, Reply, Request

CLIENT_ID = "shieldwall-console"
CLIENT_SECRET = "client-secret-for-tests"


@dataclass
class _Grant:
    client_id: str
    redirect_uri: str
    nonce: str
    challenge: str
    claims: dict[str, Any]


@dataclass
class FakeProvider:
    """``with FakeProvider() as provider: provider.issuer``."""

    #: The claims of the person who signs in at the provider next (``sub``, ``email``, ...).
    person: dict[str, Any] = field(
        default_factory=lambda: {
            "sub": "248289761001",
            "email": "jane@example.org",
            "email_verified": True,
            "name": "Jane Lead",
            "groups": ["tns-leads"],
        }
    )
    #: Changes the id token's claims before signing.
    tamper: Callable[[dict[str, Any]], None] | None = None
    sign_with_other_key: bool = False
    token_requests: list[dict[str, str]] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.key = RSAKey.generate_key(2048, parameters={"kid": "k1"}, private=True)
        self.other_key = RSAKey.generate_key(2048, parameters={"kid": "k1"}, private=True)
        self._grants: dict[str, _Grant] = {}
        self._server = FakeServer(self._respond)

    @property
    def issuer(self) -> str:
        return self._server.url("").rstrip("/")

    def __enter__(self) -> FakeProvider:
        self._server.__enter__()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self._server.__exit__(exc_type, exc, tb)

    def _json(self, status: int, data: object) -> Reply:
        return Reply(status, json.dumps(data).encode())

    def _respond(self, request: Request) -> Reply:
        url = urlsplit(request.path)
        query = {k: v[0] for k, v in parse_qs(url.query).items()}
        if url.path == "/.well-known/openid-configuration":
            return self._json(
                200,
                {
                    "issuer": self.issuer,
                    "authorization_endpoint": f"{self.issuer}/authorize",
                    "token_endpoint": f"{self.issuer}/token",
                    "jwks_uri": f"{self.issuer}/jwks",
                    "response_types_supported": ["code"],
                    "subject_types_supported": ["public"],
                    "id_token_signing_alg_values_supported": ["RS256"],
                    "code_challenge_methods_supported": ["S256"],
                    "token_endpoint_auth_methods_supported": ["client_secret_basic"],
                },
            )
        if url.path == "/jwks":
            return self._json(200, KeySet([self.key]).as_dict(private=False))
        if url.path == "/authorize":
            return self._authorize(query)
        if url.path == "/token" and request.method == "POST":
            return self._token(request)
        return self._json(404, {"error": "not_found"})

    def _authorize(self, query: dict[str, str]) -> Reply:
        if query.get("response_type") != "code" or query.get("code_challenge_method") != "S256":
            return self._json(400, {"error": "invalid_request"})
        if "openid" not in query.get("scope", "").split():
            return self._json(400, {"error": "invalid_scope"})
        code = secrets.token_urlsafe(16)
        self._grants[code] = _Grant(
            query["client_id"],
            query["redirect_uri"],
            query["nonce"],
            query["code_challenge"],
            dict(self.person),
        )
        target = query["redirect_uri"] + "?" + urlencode({"code": code, "state": query["state"]})
        return Reply(302, b"", {"Location": target, "Content-Type": "text/plain"})

    def _token(self, request: Request) -> Reply:
        form = {k: v[0] for k, v in parse_qs(request.body.decode()).items()}
        self.token_requests.append(form)
        expected = base64.b64encode(f"{CLIENT_ID}:{CLIENT_SECRET}".encode()).decode()
        if request.headers.get("authorization") != f"Basic {expected}":
            return self._json(401, {"error": "invalid_client"})
        grant = self._grants.pop(form.get("code", ""), None)
        if grant is None or form.get("grant_type") != "authorization_code":
            return self._json(400, {"error": "invalid_grant"})
        verifier = form.get("code_verifier", "")
        digest = hashlib.sha256(verifier.encode()).digest()
        challenge = base64.urlsafe_b64encode(digest).rstrip(b"=").decode()
        if challenge != grant.challenge or form.get("redirect_uri") != grant.redirect_uri:
            return self._json(400, {"error": "invalid_grant", "error_description": "PKCE"})
        now = int(time.time())
        claims = {
            "iss": self.issuer,
            "aud": grant.client_id,
            "iat": now,
            "exp": now + 300,
            "nonce": grant.nonce,
            **grant.claims,
        }
        if self.tamper is not None:
            self.tamper(claims)
        key = self.other_key if self.sign_with_other_key else self.key
        id_token = jwt.encode({"alg": "RS256", "kid": "k1"}, claims, key)
        return self._json(
            200,
            {
                "access_token": secrets.token_urlsafe(16),
                "token_type": "Bearer",
                "id_token": id_token,
            },
        )
