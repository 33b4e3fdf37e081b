"""Sharing a victim case's hashes through StopNCII, and their withdrawal, as queued jobs.

A person who consents to StopNCII on ``/protect`` (or ``shieldwall protect --stopncii``) gets
``victim_share`` rows, one per PDQ and MD5 hash of their items, and a ``victim.stopncii_share``
job (:mod:`shieldwall.cases.victims`). The job submits the rows still ``pending`` to the
StopNCII exchange (``protect_stopncii_exchange``, or the only exchange of kind ``stopncii``)
with ``SubmitHashes`` (hashes only: no image, no file name, no case number) and marks them
``shared`` with the exchange's name and the time. Withdrawing a shared item queues a
``victim.stopncii_withdraw`` job, which tells each exchange the hashes went to
(``SubmitFeedback`` ``Withdrawn``, StopNCII's closest documented call) and marks them
``withdrawn``.

A failed request, or no StopNCII exchange to send to, fails the job (the reason is kept on the
case for its status page), and the queue retries it with its backoff; a job dead-lettered
because no exchange was configured is sent once one is, by ``shieldwall jobs requeue``.
"""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import select

from shieldwall.cases import victims
from shieldwall.config import Settings
from shieldwall.errors import ExchangeError, NotFound, ShieldwallError
from shieldwall.exchange.base import ExchangeContext, RemoteSignal, SignalExchange, Submission
from shieldwall.exchange.exchanges import context_for, exchange_row, plugin_for
from shieldwall.jobs import Handler, Job, job_record
from shieldwall.net import Resolver
from shieldwall.net.policy import AddressPolicy
from shieldwall.store import Database
from shieldwall.store.models import ExchangeRecord, VictimCase, VictimShare, utcnow

__all__ = [
    "share_case",
    "stopncii_exchange",
    "victim_share_handlers",
    "withdraw_case_shares",
]


def stopncii_exchange(db: Database, settings: Settings) -> tuple[str | None, str]:
    """The name of the StopNCII exchange victim cases are shared through, or ``None`` and
    why not."""
    with db.session() as session:
        names = list(
            session.scalars(
                select(ExchangeRecord.name)
                .where(ExchangeRecord.kind == "stopncii")
                .order_by(ExchangeRecord.name)
            )
        )
    wanted = settings.protect_stopncii_exchange
    if wanted:
        if wanted in names:
            return wanted, ""
        return None, (
            f"SHIELDWALL_PROTECT_STOPNCII_EXCHANGE names {wanted!r}, "
            "which is not a configured StopNCII exchange"
        )
    if not names:
        return None, "no StopNCII exchange is configured here yet"
    if len(names) > 1:
        return None, (
            f"several StopNCII exchanges are configured ({', '.join(names)}): "
            "SHIELDWALL_PROTECT_STOPNCII_EXCHANGE must name one"
        )
    return names[0], ""


def _note(db: Database, case_number: str, note: str | None) -> None:
    with db.transaction() as session:
        case = session.scalar(select(VictimCase).where(VictimCase.case_number == case_number))
        if case is not None:
            case.stopncii_note = note


def _plugin(db: Database, name: str, context: ExchangeContext) -> SignalExchange:
    with db.session() as session:
        return plugin_for(exchange_row(session, name), context)


def _submissions(plugin: SignalExchange, rows: Sequence[tuple[int, str, str]]) -> list[Submission]:
    out = []
    for _, signal_type, value in rows:
        remote = plugin.remote_name(signal_type)
        if remote is None:  # pragma: no cover - only StopNCII's types are recorded pending
            raise ExchangeError(f"{plugin.name}: no name for {signal_type} hashes")
        out.append(Submission(RemoteSignal(remote, value)))
    return out


def share_case(
    db: Database, settings: Settings, case_number: str, *, context: ExchangeContext | None = None
) -> int:
    """Submit the case's pending hashes to the StopNCII exchange; returns how many were sent.
    No exchange to send to, or a failed request, raises :class:`ExchangeError` after keeping
    the reason on the case (nothing is marked shared)."""
    name, why = stopncii_exchange(db, settings)
    if name is None:
        _note(db, case_number, f"Waiting: {why}.")
        raise ExchangeError(f"case {case_number}: cannot share through StopNCII: {why}")
    with db.session() as session:
        case_id = session.scalar(select(VictimCase.id).where(VictimCase.case_number == case_number))
        if case_id is None:
            return 0  # the case is gone
        rows = [
            (i, t, v)
            for i, t, v in session.execute(
                select(VictimShare.id, VictimShare.signal_type, VictimShare.value)
                .where(VictimShare.case_id == case_id, VictimShare.state == "pending")
                .order_by(VictimShare.id)
            )
        ]
    if not rows:
        return 0
    plugin = _plugin(db, name, context or context_for(settings))
    if not plugin.can_submit:
        raise ExchangeError(f"the {plugin.kind} exchange {name!r} takes no submissions")
    try:
        plugin.submit(_submissions(plugin, rows))
    except ShieldwallError as exc:
        _note(db, case_number, f"Waiting: the last attempt failed ({exc.message}); retrying.")
        raise
    now = utcnow()
    with db.transaction() as session:
        case = session.get(VictimCase, case_id)
        if case is None:  # pragma: no cover - deleted while sending
            return len(rows)
        late = 0
        for share in session.scalars(
            select(VictimShare).where(VictimShare.id.in_([r[0] for r in rows]))
        ):
            share.exchange_name, share.shared_at = name, now
            if share.state == "cancelled":  # withdrawn while it was being sent
                share.state = "withdrawal_pending"
                late += 1
            else:
                share.state = "shared"
        if late:
            session.add(
                job_record(
                    victims.WITHDRAW_JOB,
                    {"case": case_number},
                    max_attempts=settings.job_max_attempts,
                )
            )
        case.stopncii_note = None
        session.flush()
        victims.refresh_stopncii_state(session, case)
    return len(rows)


def withdraw_case_shares(
    db: Database, settings: Settings, case_number: str, *, context: ExchangeContext | None = None
) -> int:
    """Tell each exchange the case's withdrawn hashes went to that they are withdrawn; returns
    how many. A failed request raises its :class:`ExchangeError` (the rows stay
    ``withdrawal_pending``); an exchange removed since cannot be told (kept on the case)."""
    with db.session() as session:
        case_id = session.scalar(select(VictimCase.id).where(VictimCase.case_number == case_number))
        if case_id is None:
            return 0
        rows = list(
            session.execute(
                select(
                    VictimShare.id,
                    VictimShare.signal_type,
                    VictimShare.value,
                    VictimShare.exchange_name,
                )
                .where(VictimShare.case_id == case_id, VictimShare.state == "withdrawal_pending")
                .order_by(VictimShare.id)
            )
        )
    by_exchange: dict[str, list[tuple[int, str, str]]] = {}
    for share_id, signal_type, value, name in rows:
        by_exchange.setdefault(name or "", []).append((share_id, signal_type, value))
    context = context or context_for(settings)
    done = 0
    for name, group in sorted(by_exchange.items()):
        try:
            plugin = _plugin(db, name, context)
        except NotFound:
            _note(
                db,
                case_number,
                f"The StopNCII exchange {name!r} is no longer configured here: "
                "the withdrawal could not be sent to it.",
            )
            continue
        if not plugin.can_withdraw:
            raise ExchangeError(f"the {plugin.kind} exchange {name!r} takes no withdrawals")
        plugin.withdraw(_submissions(plugin, group))
        now = utcnow()
        with db.transaction() as session:
            for share in session.scalars(
                select(VictimShare).where(VictimShare.id.in_([g[0] for g in group]))
            ):
                share.state, share.withdrawn_at = "withdrawn", now
            session.flush()
            case = session.get(VictimCase, case_id)
            if case is not None:
                victims.refresh_stopncii_state(session, case)
        done += len(group)
    return done


def victim_share_handlers(
    settings: Settings, *, resolver: Resolver | None = None
) -> dict[str, Handler]:
    """Kind -> handler: ``victim.stopncii_share`` and ``victim.stopncii_withdraw``."""

    def _context() -> ExchangeContext:
        policy = AddressPolicy.from_networks(settings.outbound_allowed_networks, resolver)
        return context_for(settings, policy)

    def share(db: Database, job: Job) -> None:
        share_case(db, settings, str(job.payload.get("case", "")), context=_context())

    def withdraw(db: Database, job: Job) -> None:
        withdraw_case_shares(db, settings, str(job.payload.get("case", "")), context=_context())

    return {victims.SHARE_JOB: share, victims.WITHDRAW_JOB: withdraw}
