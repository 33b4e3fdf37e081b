"""Notice intake: validation of the three laws' fields, tracking number and PIN, status.

Which law requires which field is in ``docs/cases.md``. A valid notice is saved with its case
(deadline ``case_deadline_hours`` after receipt) in one transaction; an invalid one raises
:class:`~shieldwall.errors.InvalidNotice` naming every missing or invalid field, and nothing is
saved.
"""

from __future__ import annotations

import hmac
import re
import secrets
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from shieldwall.audit import record_event
from shieldwall.cases.mail import queue_reporter_email
from shieldwall.cases.queues import evidence_strength
from shieldwall.config import Settings, get_settings
from shieldwall.errors import InvalidNotice, NotFound, RateLimited
from shieldwall.people.passwords import dummy_hash, hash_secret, verify_secret
from shieldwall.replicas import MovingWindow, SharedStore
from shieldwall.store import Database
from shieldwall.store.models import CaseItem, Notice, NoticeEvent, utcnow

__all__ = [
    "DECLARATIONS",
    "NoticeOutcome",
    "NoticeReceipt",
    "NoticeStatus",
    "PinGuard",
    "notice_status",
    "submit_notice",
    "validate_notice",
    "verify_pin",
]

#: The declarations a notice must make (each ``true``), and the law that asks for it.
DECLARATIONS: dict[str, str] = {
    "declares_good_faith_non_consent": "TAKE IT DOWN Act: good-faith belief that the image "
    "was published without consent",
    "declares_accurate_and_complete": "DSA Art. 16(2)(d): bona fide belief that the notice "
    "is accurate and complete",
    "declares_intimate_image": "UK: the content is an intimate image",
    "declares_depicted_or_acting_for_them": "UK: the reporter is the person depicted or acts "
    "for them",
    "declares_good_faith_and_true": "UK: the notice is made in good faith and is true",
}
SOURCES = ("person", "trusted_flagger")
CONTENT_KINDS = ("real", "synthetic", "unknown")

_EMAIL = re.compile(r"^[^@\s]{1,64}@[^@\s]+\.[^@\s]+$")
_URL = re.compile(r"^https?://[^\s/?#]+[^\s]*$", re.IGNORECASE)
_TRACKING_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"  # no 0/O, 1/I
_PIN_ALPHABET = "23456789"

_LIMITS = {
    "reporter_name": 200,
    "reporter_email": 320,
    "signature": 200,
    "explanation": 10_000,
    "authority_explanation": 5_000,
}


@dataclass(frozen=True, slots=True)
class NoticeReceipt:
    """What a valid notice gets: the tracking number, the PIN (shown once) and the case."""

    tracking_number: str
    pin: str
    case_id: int
    received_at: datetime
    deadline: datetime
    queue: str


@dataclass(frozen=True, slots=True)
class NoticeOutcome:
    """What was done about a decided notice, for the person who reported it."""

    #: ``remove``, ``restrict``, ``label`` or ``no_action``.
    action: str
    decided_at: datetime
    #: Copies of the content found on the platform after the removal, and how many of them
    #: were removed so far.
    copies_found: int
    copies_removed: int
    #: The decision was reversed on appeal (the content is back).
    reversed: bool = False


@dataclass(frozen=True, slots=True)
class NoticeStatus:
    """What the notice's status page shows: never the reporter's identity or the content."""

    tracking_number: str
    status: str
    received_at: datetime
    history: list[tuple[datetime, str, str]]
    outcome: NoticeOutcome | None = None


def _new_tracking_number() -> str:
    raw = "".join(secrets.choice(_TRACKING_ALPHABET) for _ in range(16))
    return "SW-" + "-".join(raw[i : i + 4] for i in range(0, 16, 4))


def _new_pin() -> str:
    return "".join(secrets.choice(_PIN_ALPHABET) for _ in range(10))


def _text(
    data: Mapping[str, Any], name: str, errors: list[dict[str, str]], *, required: bool
) -> str | None:
    value = data.get(name)
    if value is None or (isinstance(value, str) and not value.strip()):
        if required:
            errors.append({"field": name, "message": "this field is required"})
        return None
    if not isinstance(value, str):
        errors.append({"field": name, "message": "must be text"})
        return None
    if len(value) > _LIMITS.get(name, 1000):
        errors.append({"field": name, "message": f"at most {_LIMITS.get(name, 1000)} characters"})
        return None
    return value.strip()


def _strings(data: Mapping[str, Any], name: str, errors: list[dict[str, str]]) -> list[str]:
    value = data.get(name)
    if value is None:
        return []
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        errors.append({"field": name, "message": "must be a list of text"})
        return []
    if len(value) > 100:
        errors.append({"field": name, "message": "at most 100 items"})
        return []
    return [v.strip() for v in value if v.strip()]


def validate_notice(  # noqa: PLR0915 - one check per field, in the order of the form
    data: Mapping[str, Any], settings: Settings
) -> tuple[dict[str, Any], list[dict[str, str]]]:
    """Check every field of a notice; returns the clean values and the list of errors
    (``{"field", "message"}``, one per missing or invalid field)."""
    errors: list[dict[str, str]] = []
    clean: dict[str, Any] = {}
    source = data.get("source", "person") or "person"
    if source not in SOURCES:
        errors.append({"field": "source", "message": f"must be one of {', '.join(SOURCES)}"})
        source = "person"
    clean["source"] = source
    clean["trusted_flagger"] = None
    if source == "trusted_flagger":
        token = data.get("trusted_flagger_token")
        name = None
        if isinstance(token, str) and token:
            for org, expected in settings.trusted_flaggers.items():
                if hmac.compare_digest(token.encode(), expected.encode()):
                    name = org
        if name is None:
            errors.append(
                {
                    "field": "trusted_flagger_token",
                    "message": "a trusted flagger must present its configured token",
                }
            )
        clean["trusted_flagger"] = name
    minor = data.get("possible_minor", False)
    if not isinstance(minor, bool):
        errors.append({"field": "possible_minor", "message": "must be true or false"})
        minor = False
    clean["possible_minor"] = minor
    # DSA Art. 16(2)(c): name and email (the name is not required for child sexual abuse
    # material); TAKE IT DOWN: contact information, always.
    clean["reporter_name"] = _text(data, "reporter_name", errors, required=not minor) or ""
    email = _text(data, "reporter_email", errors, required=True)
    if email is not None and not _EMAIL.match(email):
        errors.append({"field": "reporter_email", "message": "not an email address"})
    clean["reporter_email"] = email or ""
    clean["signature"] = _text(data, "signature", errors, required=True) or ""
    clean["explanation"] = _text(data, "explanation", errors, required=True) or ""
    if clean["explanation"] and len(clean["explanation"]) < 10:
        errors.append(
            {"field": "explanation", "message": "explain why the content is unlawful (10+ chars)"}
        )
    urls = _strings(data, "urls", errors)
    bad = [u for u in urls if len(u) > 2048 or not _URL.match(u)]
    if bad:
        errors.append({"field": "urls", "message": f"not an exact http(s) URL: {bad[0][:100]}"})
    content_ids = _strings(data, "content_ids", errors)
    if any(len(c) > 512 for c in content_ids):
        errors.append({"field": "content_ids", "message": "a content id is over 512 characters"})
    if (
        not urls
        and not content_ids
        and not any(e["field"] in ("urls", "content_ids") for e in errors)
    ):
        errors.append(
            {"field": "urls", "message": "give the exact URL(s) or the content id(s) of the image"}
        )
    clean["urls"], clean["content_ids"] = urls, content_ids
    kind = data.get("content_kind", "unknown") or "unknown"
    if kind not in CONTENT_KINDS:
        errors.append(
            {"field": "content_kind", "message": f"must be one of {', '.join(CONTENT_KINDS)}"}
        )
        kind = "unknown"
    clean["content_kind"] = kind
    agent = data.get("authorised_agent", False)
    if not isinstance(agent, bool):
        errors.append({"field": "authorised_agent", "message": "must be true or false"})
        agent = False
    clean["authorised_agent"] = agent
    clean["authority_explanation"] = _text(data, "authority_explanation", errors, required=agent)
    for name, why in DECLARATIONS.items():
        if data.get(name) is not True:
            errors.append({"field": name, "message": f"must be true ({why})"})
    clean["declarations"] = {name: data.get(name) is True for name in DECLARATIONS}
    return clean, errors


def submit_notice(
    db: Database, settings: Settings, data: Mapping[str, Any], *, actor: str = "public"
) -> NoticeReceipt:
    """Validate and save a notice and open its case; raises :class:`InvalidNotice` (nothing
    saved) naming each missing or invalid field."""
    clean, errors = validate_notice(data, settings)
    if errors:
        names = ", ".join(dict.fromkeys(e["field"] for e in errors))
        raise InvalidNotice(f"the notice is incomplete or invalid: {names}", errors)
    pin = _new_pin()
    pin_hash = hash_secret(pin, settings)
    received = utcnow()
    deadline = received + timedelta(hours=settings.case_deadline_hours)
    queue = "restricted" if clean["possible_minor"] else "adult"
    with db.transaction() as session:
        tracking = _new_tracking_number()
        while session.scalar(select(Notice.id).where(Notice.tracking_number == tracking)):
            tracking = _new_tracking_number()  # pragma: no cover - 80 random bits
        notice = Notice(
            tracking_number=tracking,
            pin_hash=pin_hash,
            received_at=received,
            status="received",
            **clean,
        )
        session.add(notice)
        session.flush()
        session.add(NoticeEvent(notice_id=notice.id, at=received, status="received", note=""))
        case = CaseItem(
            notice_id=notice.id,
            tracking_number=tracking,
            queue=queue,
            state="open",
            received_at=received,
            deadline=deadline,
            trusted=clean["source"] == "trusted_flagger",
            evidence=evidence_strength(session, clean["content_ids"], settings),
            content_ids=clean["content_ids"],
            version=0,
        )
        session.add(case)
        session.flush()
        record_event(
            session,
            actor,
            "notice.received",
            f"case:{tracking}",
            {"source": clean["source"], "queue": queue, "case_id": case.id},
        )
        queue_reporter_email(session, settings, notice.id, "received")
        case_id = case.id
    return NoticeReceipt(tracking, pin, case_id, received, deadline, queue)


def verify_pin(pin_hash: str, pin: str) -> bool:
    """Whether ``pin`` is the one ``pin_hash`` was made from."""
    return verify_secret(pin_hash, pin)


class PinGuard:
    """Throttles wrong PINs: after ``max_failures`` within ``window`` seconds for one tracking
    number or one client address, status look-ups answer 429 until the window has passed.
    Counted in ``store`` (:class:`~shieldwall.replicas.SharedStore`): in Redis when
    ``redis_url`` is set, so that a guesser spreading attempts over the replicas is throttled
    as one; otherwise in the memory of the process."""

    def __init__(self, max_failures: int, window: float, store: SharedStore | None = None) -> None:
        self.max_failures = max_failures
        self.window = window
        self._failures = MovingWindow(
            store or SharedStore(), "pin", amount=max_failures, seconds=window
        )

    def check(self, *keys: str) -> None:
        """Raise :class:`RateLimited` when any of ``keys`` has too many recent failures."""
        for key in keys:
            wait = self._failures.wait(key)
            if wait > 0:
                raise RateLimited("too many wrong PINs; retry later", wait)

    def failed(self, *keys: str) -> None:
        """Count one failure against each of ``keys``."""
        for key in keys:
            self._failures.hit(key)


def notice_status(
    db: Database, tracking_number: str, pin: str, *, settings: Settings | None = None
) -> NoticeStatus:
    """The status and history of a notice; an unknown number and a wrong PIN both raise the
    same :class:`NotFound` after the same work (no hint whether the number exists)."""
    with db.session() as session:
        notice = session.scalar(select(Notice).where(Notice.tracking_number == tracking_number))
        stored = notice.pin_hash if notice is not None else dummy_hash(settings or get_settings())
        if not verify_secret(stored, pin) or notice is None:
            raise NotFound("no notice with this tracking number and PIN")
        events = session.scalars(
            select(NoticeEvent).where(NoticeEvent.notice_id == notice.id).order_by(NoticeEvent.id)
        )
        return NoticeStatus(
            notice.tracking_number,
            notice.status,
            notice.received_at,
            [(e.at, e.status, e.note) for e in events],
            _outcome(session, notice.id),
        )


def _outcome(session: Session, notice_id: int) -> NoticeOutcome | None:
    case = session.scalars(
        select(CaseItem).where(CaseItem.notice_id == notice_id).order_by(CaseItem.id).limit(1)
    ).first()
    if case is None or case.state not in ("decided", "reversed") or case.decided_at is None:
        return None
    copies = list(
        session.execute(
            select(CaseItem.state, CaseItem.action).where(CaseItem.parent_id == case.id)
        )
    )
    removed = sum(1 for state, action in copies if state == "decided" and action == "remove")
    return NoticeOutcome(
        case.action or "no_action",
        case.decided_at,
        len(copies),
        removed,
        case.state == "reversed",
    )
