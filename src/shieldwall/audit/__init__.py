"""The case audit log: append-only, hash-chained, keyed and anchored.

Every event (a preview revealed, a decision, an export, a bank change, a login...) is one row
that carries the hash of the previous row; its own hash covers its fields and that link. The
hash is an HMAC-SHA-256 with a key kept outside the database (:mod:`shieldwall.audit.keying`),
so that whoever can write the table but not read the key cannot recompute the chain; and each
event's sequence number and hash are appended to an anchor file outside the table after it
commits, so that deleting the newest rows, or the whole table, is found too.
:func:`check_chain` names what is wrong (rows missing, a row altered, the chain recomputed
without the key); :func:`verify` gives the first broken row. Appends take a lock (SQLite's
single writer; a transaction-level advisory lock on PostgreSQL), so the chain stays linear with
several writers.

Rows written before migration 0018 (and by a process with no key configured) are plain
SHA-256 (``key_id`` NULL): a legacy prefix sealed by the first keyed row after it.

Events never carry hash values or a reporter's identity: ``subject`` names the object
(``case:SW-...``, ``entry:7``) and ``details`` says what happened.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlalchemy import event as sa_event
from sqlalchemy import select
from sqlalchemy.orm import Session

from shieldwall.audit.keying import (
    AnchorLine,
    AuditConfig,
    AuditKey,
    anchor_mac_ok,
    append_anchor,
    config_from_settings,
    read_anchor,
)
from shieldwall.config import Settings
from shieldwall.store import Database, locks
from shieldwall.store.models import AuditEvent, utcnow

__all__ = [
    "GENESIS",
    "AuditConfig",
    "AuditRecord",
    "ChainReport",
    "check_chain",
    "configure",
    "event_hash",
    "list_events",
    "record_action",
    "record_event",
    "record_read",
    "verify",
]

#: The ``prev_hash`` of the first event.
GENESIS = "0" * 64
_AUDIT_LOCK = locks.AUDIT  # the advisory lock that serialises appends on PostgreSQL


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
    #: The fingerprint of the key that made ``hash``; ``None``: plain SHA-256 (legacy).
    key_id: str | None = None


_EXTENSION = "audit"


def configure(db: Database, settings: Settings | None = None, *, create: bool = True) -> None:
    """Key and anchor ``db``'s chain as ``settings`` say (the key file is made when absent,
    with ``create``). The service, the worker and the commands call it when they open the
    database; a database never configured writes unkeyed, unanchored events."""
    if settings is None:
        db.extensions.pop(_EXTENSION, None)
        return
    db.extensions[_EXTENSION] = config_from_settings(settings, create=create)


def _config(session: Session) -> AuditConfig | None:
    found = session.info.get("extensions", {}).get(_EXTENSION)
    return found if isinstance(found, AuditConfig) else None


def _body(event: AuditRecord) -> bytes:
    e = event
    fields: list[Any] = [e.prev_hash, e.seq, e.at.isoformat(), e.actor, e.action, e.subject]
    fields.append(e.details)
    if e.key_id is not None:
        fields.append(e.key_id)
    body = json.dumps(fields, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return body.encode("utf-8")


def event_hash(event: AuditRecord, key: AuditKey | None = None) -> str:
    """The hash of one event over the canonical JSON of its fields, ``prev_hash`` (and its key
    id) included, its own ``hash`` not: HMAC-SHA-256 with ``key`` for a keyed event, plain
    SHA-256 for a legacy one (``key_id`` ``None``)."""
    if event.key_id is None:
        return hashlib.sha256(_body(event)).hexdigest()
    if key is None or key.id != event.key_id:
        raise ValueError(f"event {event.seq} is keyed with {event.key_id}: that key is needed")
    return key.mac(_body(event))


def _anchor_after_commit(
    session: Session, config: AuditConfig, head: tuple[int, str, str | None]
) -> None:
    pending: list[tuple[int, str, str | None]] | None = session.info.get("audit_pending")
    if pending is None:
        pending = session.info["audit_pending"] = []

        def committed(sess: Session) -> None:
            heads = sess.info.pop("audit_pending", [])
            append_anchor(config, heads)

        def rolled_back(sess: Session) -> None:
            sess.info.pop("audit_pending", None)

        sa_event.listen(session, "after_commit", committed, once=True)
        sa_event.listen(session, "after_rollback", rolled_back, once=True)
    pending.append(head)


def record_event(
    session: Session,
    actor: str,
    action: str,
    subject: str = "",
    details: dict[str, Any] | None = None,
) -> int:
    """Append one event in the caller's transaction (it commits or rolls back with the change
    it records); returns its sequence number."""
    locks.hold(session, locks.AUDIT)  # before the signal log's, in every transaction
    last = session.execute(
        select(AuditEvent.seq, AuditEvent.hash).order_by(AuditEvent.seq.desc()).limit(1)
    ).first()
    seq = (last[0] + 1) if last else 1
    prev = last[1] if last else GENESIS
    at = utcnow()
    clean = json.loads(json.dumps(details or {}, sort_keys=True, default=str))
    config = _config(session)
    key = config.key if config else None
    key_id = key.id if key else None
    record = AuditRecord(seq, at, actor, action, subject, clean, prev, "", key_id)
    digest = event_hash(record, key)
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
            key_id=key_id,
        )
    )
    session.flush()
    if config is not None and config.anchor is not None:
        _anchor_after_commit(session, config, (seq, digest, key_id))
    return seq


def record_read(
    db: Database, actor: str, action: str, subject: str, details: dict[str, Any] | None = None
) -> int:
    """Record a read of sensitive data (``bank.read``: hash values left the system;
    ``preview.revealed``: a reviewer saw content as it is) as an event of its own transaction;
    returns its sequence number."""
    with db.transaction() as session:
        return record_event(session, actor, action, subject, details)


def record_action(
    db: Database, actor: str, action: str, subject: str, details: dict[str, Any] | None = None
) -> int:
    """Record an administrative change made through a function that keeps its own transaction
    (``bank.create``, ``key.revoke``, ``webhook.test``...) as an event of its own transaction,
    once the change has succeeded; returns its sequence number. The console and the API record
    the same actions with the same names, with the person (``user:<id>``) or the key
    (``key:<prefix>``) as the actor."""
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
                r.seq,
                r.at,
                r.actor,
                r.action,
                r.subject,
                dict(r.details),
                r.prev_hash,
                r.hash,
                r.key_id,
            )
            for r in rows
        ]


@dataclass
class ChainReport:
    """What :func:`check_chain` found: ``problems`` (the chain is not intact when any) and
    ``warnings`` (what it could not check), each a sentence naming rows."""

    events: int = 0
    last_seq: int = 0
    keyed_from: int | None = None
    anchored_head: int | None = None
    anchor: Path | None = None
    problems: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    first_broken: int | None = None

    @property
    def intact(self) -> bool:
        """No problem found."""
        return not self.problems

    def _problem(self, seq: int, message: str) -> None:
        self.problems.append(message)
        if self.first_broken is None or seq < self.first_broken:
            self.first_broken = seq


def _rows(first: int, last: int) -> str:
    return f"row {first}" if first == last else f"rows {first}-{last}"


def _load_anchor(
    report: ChainReport, anchor: Path | None, key: AuditKey | None
) -> dict[int, AnchorLine]:
    anchored: dict[int, AnchorLine] = {}
    if anchor is None:
        report.warnings.append("no anchor is configured: deleted newest rows cannot be found")
        return anchored
    if not anchor.exists():
        report.warnings.append(
            f"the anchor {anchor} does not exist: deleted newest rows cannot be found "
            "(is this the machine and SHIELDWALL_AUDIT_ANCHOR_PATH the service uses?)"
        )
        return anchored
    report.anchor = anchor
    for line in read_anchor(anchor):
        if isinstance(line, int):
            report._problem(0, f"anchor line {line} is malformed")
            continue
        ours = key is not None and line.key_id == key.id
        if ours and key is not None and not anchor_mac_ok(key, line):
            report._problem(
                line.seq,
                f"anchor line {line.line} (row {line.seq}) is forged: its MAC is not the key's",
            )
            continue
        seen = anchored.get(line.seq)
        if seen is not None and seen.hash != line.hash:
            report._problem(
                line.seq,
                f"the anchor holds two hashes for row {line.seq} "
                f"(lines {seen.line} and {line.line})",
            )
        anchored[line.seq] = line
    if anchored:
        report.anchored_head = max(anchored)
    return anchored


@dataclass
class _Walk:
    """The state of one pass over the rows."""

    report: ChainReport
    key: AuditKey | None
    anchored: dict[int, AnchorLine]
    prev: str = GENESIS
    expected: int = 1
    keyed_seen: bool = False
    missing_key_noted: bool = False

    def link(self, e: AuditRecord) -> None:
        if e.seq != self.expected:
            gap = _rows(self.expected, e.seq - 1)
            self.report._problem(
                self.expected, f"{gap} missing (row {e.seq} follows row {self.expected - 1})"
            )
        elif e.prev_hash != self.prev:
            self.report._problem(
                e.seq, f"row {e.seq} altered: its link does not match row {e.seq - 1}'s hash"
            )

    def unkeyed(self, e: AuditRecord) -> None:
        if self.keyed_seen:
            self.report._problem(
                e.seq,
                f"row {e.seq} altered: unkeyed after keyed rows (the chain was recomputed "
                "without the key)",
            )
        elif event_hash(e) != e.hash:
            self.report._problem(e.seq, f"row {e.seq} altered: its hash does not match its fields")

    def keyed(self, e: AuditRecord) -> None:
        if not self.keyed_seen:
            self.report.keyed_from = e.seq
        self.keyed_seen = True
        if self.key is None:
            if not self.missing_key_noted:
                self.report._problem(
                    e.seq,
                    f"rows from {e.seq} are keyed (key {e.key_id}) but no audit key is "
                    "configured (SHIELDWALL_AUDIT_KEY_FILE): they cannot be checked",
                )
                self.missing_key_noted = True
        elif self.key.id != e.key_id:
            self.report._problem(
                e.seq,
                f"row {e.seq} is keyed with key {e.key_id}, not the configured key {self.key.id}",
            )
        elif not hmac.compare_digest(event_hash(e, self.key), e.hash):
            self.report._problem(
                e.seq,
                f"row {e.seq} altered: its keyed hash does not match its fields (edited, or "
                "recomputed without the key)",
            )

    def against_anchor(self, e: AuditRecord) -> None:
        line = self.anchored.get(e.seq)
        if line is not None and line.hash != e.hash:
            how = (
                " and the chain recomputed without the key"
                if line.key_id is not None and e.key_id is None
                else ""
            )
            self.report._problem(
                e.seq, f"row {e.seq} altered{how}: its hash is not the one anchored"
            )

    def row(self, e: AuditRecord) -> None:
        self.report.events += 1
        self.link(e)
        if e.key_id is None:
            self.unkeyed(e)
        else:
            self.keyed(e)
        self.against_anchor(e)
        self.prev = e.hash
        self.expected = e.seq + 1
        self.report.last_seq = e.seq


def _tail(
    report: ChainReport,
    anchored: dict[int, AnchorLine],
    walk: _Walk,
    anchor: Path | None,
) -> None:
    keyed_seen = walk.keyed_seen
    if anchor is not None and report.anchor is None and report.keyed_from is not None:
        # Keyed rows are anchored as they are written: a missing anchor was removed (or this is
        # not the machine of the service, when --anchor names the copy to use).
        report._problem(
            report.keyed_from,
            f"the anchor {anchor} is missing although rows from {report.keyed_from} were "
            "anchored as they were written: it was removed, or give the copy (--anchor FILE)",
        )
    head = report.anchored_head
    if head is not None and head > report.last_seq:
        first = report.last_seq + 1
        if report.events == 0:
            where = f": the table is empty but the anchored head is {head}"
        else:
            where = f" after row {report.last_seq}: the anchored head is {head}"
        report._problem(first, f"{_rows(first, head)} missing{where}")
    elif report.events and anchored and (head or 0) < report.last_seq:
        report.warnings.append(
            f"{_rows((head or 0) + 1, report.last_seq)} not anchored yet (written after the "
            "anchor's last line, or while it could not be written)"
        )
    if report.events and not keyed_seen:
        report.warnings.append(
            "the chain is not keyed: a rewrite with the chain recomputed can be found only "
            "against the anchor (set SHIELDWALL_AUDIT_KEY_FILE)"
        )


def check_chain(
    db: Database,
    *,
    key: AuditKey | None = None,
    anchor: Path | None = None,
    batch: int = 10_000,
) -> ChainReport:
    """Check the whole chain, and the table against the anchor: which rows are missing
    (a gap, or rows the anchor holds after the table's last), which are altered (a hash that
    does not match the fields, a link that does not match the previous row, a hash other than
    the anchored one), and whether the chain was recomputed without the key (unkeyed rows after
    keyed ones, or where the anchor has keyed hashes)."""
    report = ChainReport()
    anchored = _load_anchor(report, anchor, key)
    walk = _Walk(report, key, anchored)
    after = 0
    while events := list_events(db, after_seq=after, limit=batch):
        for e in events:
            walk.row(e)
        after = events[-1].seq
    _tail(report, anchored, walk, anchor)
    return report


def verify(db: Database, *, batch: int = 10_000) -> int | None:
    """Check the whole chain with ``db``'s key and anchor (:func:`configure`); returns the
    ``seq`` of the first broken event (a row missing, altered, or recomputed without the key),
    or ``None`` when the chain is whole. :func:`check_chain` says what is wrong."""
    config = db.extensions.get(_EXTENSION)
    key = config.key if isinstance(config, AuditConfig) else None
    anchor = config.anchor if isinstance(config, AuditConfig) else None
    report = check_chain(db, key=key, anchor=anchor, batch=batch)
    return report.first_broken
