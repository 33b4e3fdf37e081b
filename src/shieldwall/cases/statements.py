"""Statements of reasons (DSA Art. 17) and the EU Transparency Database export.

Both are generated from the decided case and its notice's *non-personal* fields (source,
content kind, possible minor). Nothing here reads the reporter's name, email or signature:
the notifier is never named.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any
from urllib.parse import urlencode

from sqlalchemy import select

from shieldwall.audit import record_event
from shieldwall.config import Settings
from shieldwall.errors import Conflict, NotFound, NotPermitted
from shieldwall.people import Actor
from shieldwall.store import Database
from shieldwall.store.models import CaseItem, Notice

__all__ = [
    "TDB_BATCH_MAX",
    "appeal_link",
    "case_statement",
    "statement_of_reasons",
    "tdb_statement",
    "transparency_export",
]

#: The Transparency Database takes at most this many statements per request.
TDB_BATCH_MAX = 100
_VISIBILITY = {
    "remove": "DECISION_VISIBILITY_CONTENT_REMOVED",
    "restrict": "DECISION_VISIBILITY_CONTENT_DISABLED",
    "label": "DECISION_VISIBILITY_CONTENT_LABELLED",
}
_WHAT = {
    "remove": "The content was removed.",
    "restrict": "Access to the content was disabled.",
    "label": "The content was labelled.",
}
_FACTS_MAX = 5000


def _source(case: CaseItem, notice: Notice | None) -> tuple[str, str]:
    """(TDB ``source_type``, the fact in words)."""
    if notice is None and case.kind == "match":
        return (
            "SOURCE_VOLUNTARY",
            "The content was found on our own initiative: its hashes matched hashes shared "
            "with us by a hash exchange (a hash-sharing programme or a partner platform).",
        )
    if notice is None:
        return (
            "SOURCE_VOLUNTARY",
            "The content was found on our own initiative: its hashes matched content removed "
            "in an earlier decision.",
        )
    if notice.source == "trusted_flagger":
        return (
            "SOURCE_TRUSTED_FLAGGER",
            "The content was reported in a notice by a trusted flagger (DSA Art. 22).",
        )
    return ("SOURCE_ARTICLE_16", "The content was reported in a notice (DSA Art. 16).")


def _load(session: Any, actor: Actor | None, case_id: int) -> tuple[CaseItem, Notice | None]:
    case = session.get(CaseItem, case_id)
    if case is None or (
        actor is not None and case.queue == "restricted" and not actor.sees_restricted
    ):
        raise NotFound(f"no case {case_id}")
    if case.state != "decided" or case.action not in _VISIBILITY:
        raise Conflict(
            f"case {case_id} has no statement of reasons: it restricted no content "
            "(undecided, or decided no_action)"
        )
    notice = session.get(Notice, case.notice_id) if case.notice_id is not None else None
    return case, notice


def _facts(case: CaseItem, notice: Notice | None) -> str:
    _, source_text = _source(case, notice)
    if case.automated and case.kind == "match":
        detected = (
            "It was detected by automated hash matching and removed by automated means, "
            "without a person's review: its file hash is identical to content a partner "
            "platform we trust for automated removal decided to remove."
        )
    elif case.automated:
        detected = (
            "It was detected by automated hash matching and removed by automated means, "
            "without a person's review of this copy: its file hash is identical to content "
            "a person decided to remove."
        )
    elif notice is None:
        detected = "It was detected by automated hash matching; a person reviewed it."
    else:
        detected = "It was reviewed by a person; no automated means decided it."
    text = f"{source_text} {detected} {_WHAT[case.action or 'remove']} {case.reason or ''}"
    return text.strip()[:_FACTS_MAX]


def _scope(case: CaseItem) -> str:
    """What the decision covers, as it is: copies are blocked only when hashes were banked
    (by this removal, or earlier for the content this one copies)."""
    only = "only the content identified by these content ids"
    if case.action != "remove":
        return only
    if case.block_entry_id is not None:
        types = ", ".join((case.banking or {}).get("signal_types", []))
        hashes = f"its hashes ({types})" if types else "its hashes"
        return (
            f"the content identified by these content ids, and copies of it: {hashes} were "
            "added to our block bank, so copies on the platform are searched for and new "
            "uploads of it are blocked"
        )
    if case.banking is None and (case.parent_id is not None or case.kind == "match"):
        return (
            "the content identified by these content ids; its hashes were already in our "
            "block bank, so copies with the same hashes are blocked too"
        )
    return f"{only}: no hashes of it could be added to our block bank, so copies are not blocked"


def _ground(case: CaseItem, settings: Settings) -> tuple[str, str]:
    if case.ground == "law":
        return "law", case.legal_ground or ""
    return "terms", case.legal_ground or settings.cases_terms_ground


def appeal_link(settings: Settings, appeal_token: str) -> str:
    """The uploader's appeal link: ``<cases_appeal_url>?code=<token>``."""
    separator = "&" if "?" in settings.cases_appeal_url else "?"
    return f"{settings.cases_appeal_url}{separator}{urlencode({'code': appeal_token})}"


def statement_of_reasons(
    case: CaseItem, notice: Notice | None, settings: Settings, appeal_token: str | None = None
) -> dict[str, Any]:
    """The DSA Art. 17 statement for the uploader of the case's content; with
    ``appeal_token``, its ``redress.internal_complaint`` carries the token (the appeal code)
    and the appeal ``link``."""
    kind, reference = _ground(case, settings)
    appeal: dict[str, Any] = {
        "url": settings.cases_appeal_url,
        "until": "6 months after the decision",
        "how": "POST /v1/appeals/file with the appeal token given with this statement, or "
        "follow the appeal link",
    }
    if appeal_token is not None:
        appeal["token"] = appeal_token
        appeal["link"] = appeal_link(settings, appeal_token)
    decided = case.decided_at
    return {
        "case": case.tracking_number,
        "content_ids": list(case.content_ids),
        "decided_at": decided.isoformat() if decided else None,
        "decision": {
            "action": case.action,
            "what": _WHAT[case.action or "remove"],
            "scope": _scope(case),
            "duration": "indefinite, unless reversed on appeal",
        },
        "facts": _facts(case, notice),
        "source": "own_initiative" if notice is None else "notice",
        "notice_type": None if notice is None else notice.source,
        "automated_detection": notice is None,
        "automated_decision": bool(case.automated),
        "ground": {"type": kind, "reference": reference, "explanation": case.reason},
        "redress": {
            "internal_complaint": appeal,
            "out_of_court_settlement": "a certified out-of-court dispute settlement body "
            "(DSA Art. 21)",
            "courts": "the courts of the Member State where you live",
        },
    }


def tdb_statement(case: CaseItem, notice: Notice | None, settings: Settings) -> dict[str, Any]:
    """The case as one EU Transparency Database statement (field names and enums of
    ``POST /api/v1/statement``). No personal data."""
    kind, reference = _ground(case, settings)
    source_type, _ = _source(case, notice)
    synthetic = notice is not None and notice.content_kind == "synthetic"
    minor = case.queue == "restricted"
    out: dict[str, Any] = {
        "decision_visibility": [_VISIBILITY[case.action or "remove"]],
        "content_type": ["CONTENT_TYPE_IMAGE"]
        + (["CONTENT_TYPE_SYNTHETIC_MEDIA"] if synthetic else []),
        "category": (
            "STATEMENT_CATEGORY_PROTECTION_OF_MINORS"
            if minor
            else "STATEMENT_CATEGORY_CYBER_VIOLENCE"
        ),
        "content_date": case.received_at.date().isoformat(),
        "application_date": (case.decided_at or case.received_at).date().isoformat(),
        "decision_facts": _facts(case, notice),
        "source_type": source_type,
        "automated_detection": "Yes" if notice is None else "No",
        "automated_decision": (
            "AUTOMATED_DECISION_FULLY" if case.automated else "AUTOMATED_DECISION_NOT_AUTOMATED"
        ),
        "puid": f"{case.tracking_number}-{case.id}",
    }
    if minor:
        if synthetic:
            out["category_specification"] = ["KEYWORD_CHILD_SEXUAL_ABUSE_MATERIAL_DEEPFAKE"]
    else:
        out["category_specification"] = [
            "KEYWORD_NON_CONSENSUAL_MATERIAL_DEEPFAKE"
            if synthetic
            else "KEYWORD_NON_CONSENSUAL_IMAGE_SHARING"
        ]
    if kind == "law":
        out["decision_ground"] = "DECISION_GROUND_ILLEGAL_CONTENT"
        out["illegal_content_legal_ground"] = reference
        out["illegal_content_explanation"] = case.reason or ""
    else:
        out["decision_ground"] = "DECISION_GROUND_INCOMPATIBLE_CONTENT"
        out["incompatible_content_ground"] = reference
        out["incompatible_content_explanation"] = case.reason or ""
    return out


def case_statement(
    db: Database, settings: Settings, actor: Actor, case_id: int
) -> tuple[dict[str, Any], dict[str, Any]]:
    """(statement of reasons, Transparency Database statement) of a decided case; audited
    (``statement.read``)."""
    if not actor.roles:
        raise NotPermitted("this actor has no case role")
    with db.transaction() as session:
        case, notice = _load(session, actor, case_id)
        record_event(session, actor.id, "statement.read", f"case:{case.tracking_number}", {})
        return statement_of_reasons(case, notice, settings), tdb_statement(case, notice, settings)


def transparency_export(
    db: Database,
    settings: Settings,
    actor: Actor,
    *,
    start: datetime,
    end: datetime,
    after_id: int = 0,
    limit: int = TDB_BATCH_MAX,
) -> tuple[list[dict[str, Any]], int | None]:
    """A batch (at most 100) of Transparency Database statements of the cases decided in
    ``[start, end)`` with an action, after case ``after_id``; returns the statements and the
    ``after_id`` of the next batch (``None`` when done). Restricted cases are included only for
    actors who see them. Audited (``export.transparency_database``)."""
    if not actor.roles:
        raise NotPermitted("this actor has no case role")
    limit = max(1, min(limit, TDB_BATCH_MAX))
    with db.transaction() as session:
        query = (
            select(CaseItem)
            .where(
                CaseItem.state == "decided",
                CaseItem.action.in_(tuple(_VISIBILITY)),
                CaseItem.decided_at >= start,
                CaseItem.decided_at < end,
                CaseItem.id > after_id,
            )
            .order_by(CaseItem.id)
            .limit(limit)
        )
        if not actor.sees_restricted:
            query = query.where(CaseItem.queue != "restricted")
        cases = list(session.scalars(query))
        out = []
        for case in cases:
            notice = session.get(Notice, case.notice_id) if case.notice_id is not None else None
            out.append(tdb_statement(case, notice, settings))
        record_event(
            session,
            actor.id,
            "export.transparency_database",
            "export:tdb",
            {"from": start.isoformat(), "to": end.isoformat(), "count": len(out)},
        )
    return out, (cases[-1].id if len(cases) == limit else None)
