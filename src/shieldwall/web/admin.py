"""What the console's administration pages share (issue 16): the admin-only dependency, the
audit record of a change, and an error as a sentence for a page.

The pages call the same domain functions as the API's routes (:mod:`shieldwall.banks`,
:mod:`shieldwall.people`, :mod:`shieldwall.webhooks`) with the signed-in person (``user:<id>``)
as the actor: the bank functions record their audit events themselves (``by=``), in the
change's transaction; the key and webhook pages record theirs with :func:`audit` once the
change has succeeded.
"""

from __future__ import annotations

from typing import Any

from fastapi import Depends, Request

from shieldwall.audit import record_action
from shieldwall.errors import ShieldwallError
from shieldwall.people.roles import Actor, Role
from shieldwall.web.console import require_role, service_state

__all__ = ["ADMIN", "audit", "sentence"]

#: For routes: ``actor: Actor = ADMIN`` (anyone else: the 403 page).
ADMIN = Depends(require_role(Role.ADMIN))


def audit(
    request: Request, actor: Actor, action: str, subject: str, details: dict[str, Any]
) -> None:
    """Record ``action`` on ``subject`` by ``actor`` in the hash-chained audit log."""
    record_action(service_state(request).db, actor.id, action, subject, details)


def sentence(exc: ShieldwallError | str) -> str:
    """An error's message as a sentence for a page (capital first letter, a full stop)."""
    text = exc if isinstance(exc, str) else exc.message
    text = text.strip()
    if not text:
        return "That did not work."
    text = text[:1].upper() + text[1:]
    return text if text.endswith((".", "!", "?")) else text + "."
