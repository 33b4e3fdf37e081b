"""Case handling (issue 5): notices, cases and queues, decisions. See ``docs/cases.md``.

Every function that acts takes the :class:`~shieldwall.people.Actor` who acts and enforces the
role rules itself; every decision is recorded in the hash-chained audit log in the same
transaction. A reporter's identity stays on the notice row: it never reaches banks, statements
of reasons, exports, webhooks or audit events.
"""

from __future__ import annotations

from shieldwall.cases.appeals import (
    APPEAL_WINDOW,
    AppealDetail,
    AppealView,
    decide_appeal,
    file_appeal,
    get_appeal,
    list_appeals,
)
from shieldwall.cases.decisions import (
    ACTIONS,
    COPIES_JOB,
    GROUNDS,
    Decision,
    decide_case,
    ledger_signals,
    open_copy_tasks,
)
from shieldwall.cases.evidence import (
    CaseDetail,
    ContentEvidence,
    EvidenceMatch,
    case_detail,
    case_matches,
)
from shieldwall.cases.jobs import job_handlers
from shieldwall.cases.mail import EMAIL_JOB
from shieldwall.cases.notices import (
    DECLARATIONS,
    NoticeOutcome,
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
    release_claim,
)
from shieldwall.cases.removal import Banking
from shieldwall.cases.report import report_csv, transparency_report
from shieldwall.cases.scores import ScoreView, record_scores, scores_for
from shieldwall.cases.search import search_cases
from shieldwall.cases.statements import (
    TDB_BATCH_MAX,
    case_statement,
    statement_of_reasons,
    tdb_statement,
    transparency_export,
)

__all__ = [
    "ACTIONS",
    "APPEAL_WINDOW",
    "COPIES_JOB",
    "DECLARATIONS",
    "EMAIL_JOB",
    "GROUNDS",
    "QUEUES",
    "TDB_BATCH_MAX",
    "AppealDetail",
    "AppealView",
    "Banking",
    "CaseDetail",
    "CaseView",
    "ContentEvidence",
    "Decision",
    "EvidenceMatch",
    "NoticeOutcome",
    "NoticeReceipt",
    "NoticeStatus",
    "PinGuard",
    "ScoreView",
    "ageing",
    "case_detail",
    "case_matches",
    "case_statement",
    "claim_next",
    "decide_appeal",
    "decide_case",
    "file_appeal",
    "get_appeal",
    "get_case",
    "job_handlers",
    "ledger_signals",
    "list_appeals",
    "list_queue",
    "notice_status",
    "open_copy_tasks",
    "record_scores",
    "release_claim",
    "report_csv",
    "scores_for",
    "search_cases",
    "statement_of_reasons",
    "submit_notice",
    "tdb_statement",
    "transparency_export",
    "transparency_report",
    "validate_notice",
]
