"""Case handling (issue 5): notices, cases and queues, decisions. See ``docs/cases.md``.

Every function that acts takes the :class:`~shieldwall.people.Actor` who acts and enforces the
role rules itself; every decision is recorded in the hash-chained audit log in the same
transaction. A reporter's identity stays on the notice row: it never reaches banks, statements
of reasons, exports, webhooks or audit events.
"""

from __future__ import annotations

from shieldwall.cases.notices import (
    NoticeReceipt,
    NoticeStatus,
    PinGuard,
    notice_status,
    submit_notice,
    validate_notice,
)
from shieldwall.cases.queues import (
    QUEUES,
    CaseView,
    ageing,
    claim_next,
    get_case,
    list_queue,
)

__all__ = [
    "QUEUES",
    "CaseView",
    "NoticeReceipt",
    "NoticeStatus",
    "PinGuard",
    "ageing",
    "claim_next",
    "get_case",
    "list_queue",
    "notice_status",
    "submit_notice",
    "validate_notice",
]
