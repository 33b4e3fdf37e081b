"""Sharing hashes with an exchange (a person's own hashes, given with consent: the victim
portal calls it)."""

from __future__ import annotations

from collections.abc import Sequence

from shieldwall.errors import UsageError
from shieldwall.exchange.base import ExchangeContext, RemoteSignal, Submission
from shieldwall.exchange.exchanges import context_for, exchange_row, plugin_for
from shieldwall.signals import Signal
from shieldwall.store import Database

__all__ = ["submit_hashes"]


def submit_hashes(
    db: Database,
    name: str,
    signals: Sequence[Signal],
    *,
    refs: Sequence[str] = (),
    context: ExchangeContext | None = None,
) -> int:
    """Submit ``signals`` to exchange ``name``; returns how many were sent. A type the
    exchange has no name for, or an exchange that takes no submissions, is a
    :class:`UsageError`; a failed request raises its
    :class:`~shieldwall.errors.ExchangeError`."""
    with db.session() as session:
        plugin = plugin_for(exchange_row(session, name), context or context_for())
    if not plugin.can_submit:
        raise UsageError(f"the {plugin.kind} exchange takes no submissions")
    out: list[Submission] = []
    for s in signals:
        remote = plugin.remote_name(s.type)
        if remote is None:
            raise UsageError(f"the {plugin.kind} exchange has no name for {s.type} hashes")
        out.append(Submission(RemoteSignal(remote, s.value), tuple(refs)))
    if out:
        plugin.submit(out)
    return len(out)
