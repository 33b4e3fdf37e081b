"""What an API key may do: its scopes, and which scope each route needs."""

from __future__ import annotations

from enum import StrEnum

__all__ = ["Scope", "parse_scopes"]


class Scope(StrEnum):
    """A permission of an API key. ``admin`` implies every other scope."""

    #: Hash uploaded content (``/v1/hash``).
    HASH = "hash"
    #: Look content or signals up in the banks (``/v1/lookup``).
    MATCH = "match"
    #: Manage banks, entries and signals, withdraw cases, record the ledger, run sweeps.
    CURATE = "curate"
    #: Read stored matches (review work).
    REVIEW = "review"
    #: Scan code for face-swap deepfake jobs (``/v1/scan``; compute providers).
    SCAN = "scan"
    #: Manage keys and webhooks; implies every other scope.
    ADMIN = "admin"
    #: See match distances in answers (trusted reviewers only: distances help evasion).
    READ_DISTANCES = "read-distances"
    #: Read the signed feeds of the banks shared with partner instances (a partner's key).
    FEDERATE = "federate"


def parse_scopes(text: str | list[str]) -> list[Scope]:
    """Scopes from ``"match,curate"`` or a list; an unknown name is a ``ValueError`` naming the
    known ones. The result is sorted and without duplicates."""
    names = text.split(",") if isinstance(text, str) else text
    out: set[Scope] = set()
    for raw in names:
        name = raw.strip()
        if not name:
            continue
        try:
            out.add(Scope(name))
        except ValueError:
            known = ", ".join(s.value for s in Scope)
            raise ValueError(f"unknown scope {name!r} (known: {known})") from None
    return sorted(out, key=lambda s: s.value)
