"""Configured exchanges: add, list, show and remove them; build a configured exchange's plug-in.

>>> add_exchange(db, "stopncii", "stopncii", bank="stopncii",              # doctest: +SKIP
...              settings={"fetch_key_file": "/run/secrets/stopncii-fetch",
...                        "subscription_key_file": "/run/secrets/stopncii-sub"})
"""

from __future__ import annotations

import contextlib
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from shieldwall.banks import BankKind, create_bank
from shieldwall.banks import delete_bank as drop_bank
from shieldwall.config import Settings, get_settings
from shieldwall.errors import Conflict, NotFound, UsageError
from shieldwall.exchange.base import ExchangeContext, SignalExchange
from shieldwall.exchange.registry import get_exchange_kind
from shieldwall.jobs import job_record
from shieldwall.net import AddressPolicy
from shieldwall.net.policy import check_saved_url
from shieldwall.store import Database
from shieldwall.store.models import Bank, ExchangeFeedbackRecord, ExchangeRecord, utcnow

__all__ = [
    "SYNC_JOB",
    "ExchangeInfo",
    "add_exchange",
    "context_for",
    "get_exchange",
    "list_exchanges",
    "plugin_for",
    "remove_exchange",
]

#: The job kind of a scheduled sync (``shieldwall.exchange.job_handlers``).
SYNC_JOB = "exchange.sync"
_NAME = re.compile(r"[a-z0-9][a-z0-9_.-]{0,63}")
_HIDDEN = "********"


@dataclass(frozen=True, slots=True)
class ExchangeInfo:
    """A configured exchange as the CLI, the API and the console show it (secrets hidden)."""

    id: int
    name: str
    kind: str
    bank: str
    settings: dict[str, Any]
    enabled: bool
    interval_seconds: int
    checkpoint: dict[str, Any] | None
    added: int
    withdrawn: int
    skipped: int
    failed: int
    skipped_types: dict[str, int]
    last_sync_at: datetime | None
    last_success_at: datetime | None
    last_error: str | None
    backoff_until: datetime | None
    created_at: datetime
    #: Feedback by state (``pending``, ``sent``, ``failed``).
    feedback: dict[str, int] = field(default_factory=dict)


def _shown(kind: str, raw: Mapping[str, Any]) -> dict[str, Any]:
    secret = get_exchange_kind(kind).secret_settings
    return {k: (_HIDDEN if k in secret and v else v) for k, v in raw.items()}


def _info(session: Session, row: ExchangeRecord) -> ExchangeInfo:
    feedback: dict[str, int] = {}
    for state in session.scalars(
        select(ExchangeFeedbackRecord.state).where(ExchangeFeedbackRecord.exchange_id == row.id)
    ):
        feedback[state] = feedback.get(state, 0) + 1
    return ExchangeInfo(
        id=row.id,
        name=row.name,
        kind=row.kind,
        bank=row.bank_name,
        settings=_shown(row.kind, row.settings),
        enabled=row.enabled,
        interval_seconds=row.interval_seconds,
        checkpoint=dict(row.checkpoint) if row.checkpoint is not None else None,
        added=row.added,
        withdrawn=row.withdrawn,
        skipped=row.skipped,
        failed=row.failed,
        skipped_types=dict(row.skipped_types),
        last_sync_at=row.last_sync_at,
        last_success_at=row.last_success_at,
        last_error=row.last_error,
        backoff_until=row.backoff_until,
        created_at=row.created_at,
        feedback=feedback,
    )


def exchange_row(session: Session, name: str, *, lock: bool = False) -> ExchangeRecord:
    """The row of the exchange called ``name``, or :class:`NotFound`; with ``lock``, held
    until the transaction ends (``FOR UPDATE`` on PostgreSQL; SQLite has one writer)."""
    query = select(ExchangeRecord).where(ExchangeRecord.name == name)
    if lock:
        query = query.with_for_update()
    row = session.scalar(query)
    if row is None:
        raise NotFound(f"no exchange named {name!r}")
    return row


def add_exchange(
    db: Database,
    name: str,
    kind: str,
    *,
    bank: str | None = None,
    settings: Mapping[str, Any] | None = None,
    interval_seconds: int = 3600,
    bank_kind: BankKind | str = BankKind.BLOCK,
    schedule: bool = True,
    config: Settings | None = None,
) -> ExchangeInfo:
    """Configure exchange ``name`` of plug-in ``kind`` feeding ``bank`` (default: a bank of
    the exchange's name, created when absent, of ``bank_kind``). The settings are checked by
    the plug-in (:class:`UsageError` naming each bad field); with ``schedule`` its first sync
    is queued for the worker at once, and each sync queues the next, ``interval_seconds``
    later. A name in use is a :class:`Conflict`."""
    if not _NAME.fullmatch(name):
        raise UsageError(
            f"exchange name {name!r} must be 1-64 lower-case letters, digits, '_', '.' or '-'"
        )
    if not 60 <= interval_seconds <= 7 * 86400:
        raise UsageError(f"interval must be 60 s .. 7 days, got {interval_seconds} s")
    plugin = get_exchange_kind(kind)
    checked = plugin.validate_settings(settings or {})
    if config is not None:  # the API: addresses are checked against the outbound policy now
        for field_name, value in checked.model_dump(mode="json").items():
            if field_name.endswith("url") and isinstance(value, str):
                check_saved_url(
                    value, config.outbound_allowed_networks, f"exchange setting {field_name}"
                )
    config = config or get_settings()
    bank_name = bank or name
    with db.session() as session:
        if session.scalar(select(ExchangeRecord.id).where(ExchangeRecord.name == name)):
            raise Conflict(f"an exchange named {name!r} already exists")
        exists = session.scalar(select(Bank.id).where(Bank.name == bank_name)) is not None
    if not exists:
        create_bank(
            db, bank_name, bank_kind, source=name, description=f"hashes from the {kind} exchange"
        )
    with db.transaction() as session:
        if session.scalar(select(ExchangeRecord.id).where(ExchangeRecord.name == name)):
            raise Conflict(f"an exchange named {name!r} already exists")
        target = session.scalar(select(Bank).where(Bank.name == bank_name))
        if target is None:
            raise NotFound(f"no bank named {bank_name!r}")
        row = ExchangeRecord(
            name=name,
            kind=plugin.kind,
            settings=checked.model_dump(mode="json", exclude_none=True),
            bank_id=target.id,
            bank_name=bank_name,
            checkpoint=None,
            enabled=True,
            interval_seconds=interval_seconds,
            added=0,
            withdrawn=0,
            skipped=0,
            failed=0,
            skipped_types={},
            failures=0,
            match_cursor=0,
            created_at=utcnow(),
        )
        session.add(row)
        session.flush()
        if schedule:
            job = job_record(SYNC_JOB, {"exchange": name}, max_attempts=config.job_max_attempts)
            session.add(job)
            session.flush()
            row.sync_job_id = job.id
        return _info(session, row)


def list_exchanges(db: Database) -> list[ExchangeInfo]:
    """Every configured exchange, by name."""
    with db.session() as session:
        rows = session.scalars(select(ExchangeRecord).order_by(ExchangeRecord.name))
        return [_info(session, r) for r in rows]


def get_exchange(db: Database, name: str) -> ExchangeInfo:
    """One configured exchange; :class:`NotFound` when absent."""
    with db.session() as session:
        return _info(session, exchange_row(session, name))


def remove_exchange(db: Database, name: str, *, delete_bank: bool = False) -> None:
    """Forget exchange ``name`` (its checkpoint, counts and pending feedback); its bank stays
    unless ``delete_bank`` (then its signals are tombstoned, :func:`shieldwall.banks.delete_bank`).
    Its scheduled sync finds it gone and stops."""
    with db.transaction() as session:
        row = exchange_row(session, name)
        bank_name = row.bank_name
        session.delete(row)
    if delete_bank:
        with contextlib.suppress(NotFound):  # deleted already
            drop_bank(db, bank_name)


def context_for(
    config: Settings | None = None, policy: AddressPolicy | None = None
) -> ExchangeContext:
    """The :class:`ExchangeContext` the settings describe (``policy`` replaces the address
    policy, for tests)."""
    config = config or get_settings()
    return ExchangeContext(
        policy=policy or AddressPolicy.from_networks(config.outbound_allowed_networks),
        timeout_seconds=config.exchange_timeout_seconds,
    )


def plugin_for(row: ExchangeRecord, context: ExchangeContext) -> SignalExchange:
    """The plug-in instance of a configured exchange."""
    cls = get_exchange_kind(row.kind)
    return cls(row.name, cls.validate_settings(row.settings), context)
