"""Case handling (issue 5): notices, cases and queues, decisions. See ``docs/cases.md``.

Every function that acts takes the :class:`~shieldwall.people.Actor` who acts and enforces the
role rules itself; every decision is recorded in the hash-chained audit log in the same
transaction. A reporter's identity stays on the notice row: it never reaches banks, statements
of reasons, exports, webhooks or audit events.
"""

from __future__ import annotations

from shieldwall.cases.decisions import (
    ACTIONS,
    GROUNDS,
    Decision,
    decide_case,
    ledger_signals,
    open_copy_tasks,
)
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
    "ACTIONS",
    "GROUNDS",
    "QUEUES",
    "CaseView",
    "Decision",
    "NoticeReceipt",
    "NoticeStatus",
    "PinGuard",
    "ageing",
    "claim_next",
    "decide_case",
    "get_case",
    "ledger_signals",
    "list_queue",
    "notice_status",
    "open_copy_tasks",
    "submit_notice",
    "validate_notice",
]
