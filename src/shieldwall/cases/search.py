"""Finding cases by what a reviewer has at hand: a tracking number, a content id or a URL.

:func:`search_cases` answers the cases whose tracking number is the text (any case), whose
content ids hold it exactly, or whose notice names a URL that contains it. Restricted cases
(suspected minors) are only found by actors who :attr:`~shieldwall.people.Actor.sees_restricted`,
as everywhere else. Content ids and URLs are JSON lists on the rows: the database narrows the
candidates by the JSON text (a ``LIKE`` both SQLite and PostgreSQL answer) and the exact rule
is applied here.
"""

from __future__ import annotations

import json

from sqlalchemy import String, cast, or_, select

from shieldwall.cases.queues import CaseView
from shieldwall.errors import UsageError
from shieldwall.people import Actor
from shieldwall.store import Database
from shieldwall.store.models import CaseItem, Notice

__all__ = ["MAX_QUERY", "search_cases"]

#: The longest text searched for (a URL of the notice form may be 2,048 characters).
MAX_QUERY = 2048
_CANDIDATES = 500


def _like(text: str) -> str:
    """A ``LIKE`` pattern for ``text`` as it appears inside the JSON text of a list (``\\``
    is the escape character)."""
    inner = json.dumps(text)[1:-1]
    escaped = inner.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


def search_cases(db: Database, actor: Actor, text: str, *, limit: int = 50) -> list[CaseView]:
    """Cases matching ``text`` (surrounding spaces ignored), newest first: its tracking number
    (case-insensitive), one of its content ids (exactly) or a URL of its notice that contains
    it. Empty text is a :class:`UsageError`; so is text longer than :data:`MAX_QUERY`."""
    wanted = text.strip()
    if not wanted:
        raise UsageError("give a tracking number, a content id or a URL to search for")
    if len(wanted) > MAX_QUERY:
        raise UsageError(f"the search text may be at most {MAX_QUERY} characters long")
    pattern = _like(wanted)
    with db.session() as session:
        query = (
            select(CaseItem, Notice.urls)
            .outerjoin(Notice, Notice.id == CaseItem.notice_id)
            .where(
                or_(
                    CaseItem.tracking_number == wanted.upper(),
                    cast(CaseItem.content_ids, String).like(pattern, escape="\\"),
                    cast(Notice.urls, String).like(pattern, escape="\\"),
                )
            )
        )
        if not actor.sees_restricted:
            query = query.where(CaseItem.queue != "restricted")
        rows = session.execute(query.order_by(CaseItem.id.desc()).limit(_CANDIDATES))
        found: list[CaseView] = []
        for case, urls in rows:
            if (
                case.tracking_number == wanted.upper()
                or wanted in case.content_ids
                or any(wanted in url for url in urls or [])
            ):
                found.append(CaseView.of(case))
            if len(found) >= limit:
                break
        return found
