"""The case audit log: append-only and hash-chained.

Every event (a preview revealed, a decision, an export, a bank read, a login...) is one row that
carries the SHA-256 of the previous row; its own hash covers its fields and that link. Changing,
removing or reordering any row breaks the chain from that row on, and :func:`verify` names the
first broken row. Appends take a lock (SQLite's single writer; a transaction-level advisory lock
on PostgreSQL), so the chain stays linear with several writers.

Events never carry hash values or a reporter's identity: ``subject`` names the object
(``case:SW-...``, ``entry:7``) and ``details`` says what happened.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select, text
from sqlalchemy.orm import Session

from shieldwall.store import Database
from shieldwall.store.models import AuditEvent, utcnow

__all__ = [
    "GENESIS",
    "AuditRecord",
    "event_hash",
    "list_events",
    "record_event",
    "record_read",
    "verify",
]

#: The ``prev_hash`` of the first event.
GENESIS = "0" * 64
_AUDIT_LOCK = 0x5357_4155  # "SWAU": the advisory lock that serialises appends on PostgreSQL


@dataclass(frozen=True, slots=True)
class AuditRecord:
    """One event of the chain."""

    seq: int
    at: datetime
    actor: str
    action: str
    subject: str
    details: dict[str, Any]
    prev_hash: str
    hash: str


def event_hash(event: AuditRecord) -> str:
    """The hash of one event: SHA-256 over the canonical JSON of its fields, ``prev_hash``
    included (its own ``hash`` is not)."""
    e = event
    body = json.dumps(
        [e.prev_hash, e.seq, e.at.isoformat(), e.actor, e.action, e.subject, e.details],
        sort_keys=True,
        separators=(",", ":"),
        ensure_ascii=False,
    )
    return hashlib.sha256(body.encode("utf-8")).hexdigest()


def record_event(
    session: Session,
    actor: str,
    action: str,
    subject: str = "",
    details: dict[str, Any] | None = None,
) -> int:
    """Append one event in the caller's transaction (it commits or rolls back with the change
    it records); returns its sequence number."""
    if session.get_bind().dialect.name == "postgresql" and not session.info.get("audit_locked"):
        session.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": _AUDIT_LOCK})
        session.info["audit_locked"] = True
    last = session.execute(
        select(AuditEvent.seq, AuditEvent.hash).order_by(AuditEvent.seq.desc()).limit(1)
    ).first()
    seq = (last[0] + 1) if last else 1
    prev = last[1] if last else GENESIS
    at = utcnow()
    clean = json.loads(json.dumps(details or {}, sort_keys=True, default=str))
    digest = event_hash(AuditRecord(seq, at, actor, action, subject, clean, prev, ""))
    session.add(
        AuditEvent(
            seq=seq,
            at=at,
            actor=actor,
            action=action,
            subject=subject,
            details=clean,
            prev_hash=prev,
            hash=digest,
        )
    )
    session.flush()
    return seq


def record_read(
    db: Database, actor: str, action: str, subject: str, details: dict[str, Any] | None = None
) -> int:
    """Record a read of sensitive data (``bank.read``: hash values left the system;
    ``preview.revealed``: a reviewer saw content as it is) as an event of its own transaction;
    returns its sequence number."""
    with db.transaction() as session:
        return record_event(session, actor, action, subject, details)


def list_events(db: Database, *, after_seq: int = 0, limit: int = 100) -> list[AuditRecord]:
    """Events in order after ``after_seq``."""
    with db.session() as session:
        rows = session.scalars(
            select(AuditEvent)
            .where(AuditEvent.seq > after_seq)
            .order_by(AuditEvent.seq)
            .limit(limit)
        )
        return [
            AuditRecord(
                r.seq, r.at, r.actor, r.action, r.subject, dict(r.details), r.prev_hash, r.hash
            )
            for r in rows
        ]


def verify(db: Database, *, batch: int = 10_000) -> int | None:
    """Check the whole chain; returns the ``seq`` of the first broken event (its hash does not
    match its fields, its link does not match the previous event's hash, or a sequence number
    is missing), or ``None`` when the chain is whole."""
    prev = GENESIS
    expected = 1
    after = 0
    while True:
        events = list_events(db, after_seq=after, limit=batch)
        if not events:
            return None
        for e in events:
            if e.seq != expected or e.prev_hash != prev:
                return e.seq if e.seq == expected else expected
            if event_hash(e) != e.hash:
                return e.seq
            prev = e.hash
            expected += 1
        after = events[-1].seq
