"""Cases for the transparency report page's tests, made through the library: notices from a
person and a trusted flagger (one of them a suspected minor, one synthetic), decisions on two
grounds (one removal late, one in time), an upheld appeal, and a notice from before the default
period."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from case_helpers import valid_notice
from shieldwall.cases import decide_appeal, decide_case, file_appeal, submit_notice
from shieldwall.config import Settings
from shieldwall.people import Actor, Role
from shieldwall.store import Database
from shieldwall.store.models import CaseItem, Notice

#: The trusted flagger the services of these tests know (``trusted_flaggers`` setting).
TRUSTED_FLAGGERS = {"Helpline": "tf-token"}

_CS = Actor("user:cs", frozenset({Role.CHILD_SAFETY_REVIEWER, Role.REVIEWER}))
_SENIOR = Actor("user:senior", frozenset({Role.SENIOR_REVIEWER}))


def _age(db: Database, case_id: int, delta: timedelta) -> None:
    """Move a case and its notice ``delta`` into the past."""
    with db.transaction() as session:
        case = session.get(CaseItem, case_id)
        assert case is not None and case.notice_id is not None
        case.received_at -= delta
        notice = session.get(Notice, case.notice_id)
        assert notice is not None
        notice.received_at -= delta


def seed(db: Database, settings: Settings) -> None:
    """Four notices: three in the last 30 days, decided (a late and an in-time removal on the
    law, no action on the terms; the late removal appealed and reversed), one 40 days old and
    still open."""
    late = submit_notice(db, settings, valid_notice())
    flagged = submit_notice(
        db,
        settings,
        valid_notice(source="trusted_flagger", trusted_flagger_token="tf-token"),
    )
    minor = submit_notice(db, settings, valid_notice(possible_minor=True, content_kind="synthetic"))
    old = submit_notice(db, settings, valid_notice(content_kind="unknown"))
    _age(db, late.case_id, timedelta(hours=60))
    _age(db, old.case_id, timedelta(days=40))
    law: dict[str, Any] = {"ground": "law", "legal_ground": "s.66B", "reason": "NCII."}
    decision = decide_case(db, settings, _CS, late.case_id, action="remove", **law)
    decide_case(db, settings, _CS, flagged.case_id, action="remove", **law)
    decide_case(db, settings, _CS, minor.case_id, action="no_action", ground="terms", reason="No.")
    appeal = file_appeal(db, reason="Not me.", appeal_token=decision.appeal_token)
    decide_appeal(db, settings, _SENIOR, appeal.id, uphold=True, reason="Wrong.")
