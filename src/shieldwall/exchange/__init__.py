"""Hash exchanges: StopNCII, NCMEC and other sources of hashes, as plug-ins that feed a bank
of their own incrementally from a checkpoint, follow withdrawals, and take feedback and
submissions (docs/exchanges.md).

    >>> add_exchange(db, "stopncii", "stopncii", settings={...})       # doctest: +SKIP
    >>> sync_exchange(db, "stopncii")                                   # doctest: +SKIP
    SyncReport(exchange='stopncii', pages=3, added=2400, withdrawn=12, ...)

The plug-in interface is :class:`SignalExchange` (:mod:`shieldwall.exchange.base`); built-in
exchanges are registered the way a third party's are (:mod:`shieldwall.exchange.registry`),
and each passes :class:`shieldwall.exchange.contract.ExchangeContract`.
"""

from shieldwall.exchange.base import (
    BadRecord,
    Checkpoint,
    ExchangeContext,
    Feedback,
    FeedbackItem,
    FetchPage,
    HashRecord,
    RemoteSignal,
    SignalExchange,
    Submission,
    read_secret,
)
from shieldwall.exchange.exchanges import (
    SYNC_JOB,
    ExchangeInfo,
    add_exchange,
    context_for,
    get_exchange,
    list_exchanges,
    plugin_for,
    remove_exchange,
)
from shieldwall.exchange.feedback import collect_feedback, send_feedback
from shieldwall.exchange.jobs import job_handlers, job_schedules, queue_sync, schedule_next
from shieldwall.exchange.registry import (
    DEFAULT_EXCHANGES,
    ENTRY_POINT_GROUP,
    all_exchange_kinds,
    get_exchange_kind,
    register,
    unregister,
)
from shieldwall.exchange.submit import submit_hashes
from shieldwall.exchange.sync import SyncReport, sync_exchange
from shieldwall.exchange.transparency import (
    TDB_JOB,
    TransparencyReport,
    TransparencyState,
    queue_transparency,
    submit_statements,
    transparency_state,
    transparency_states,
)
from shieldwall.exchange.victim_share import share_case, stopncii_exchange, withdraw_case_shares

__all__ = [
    "DEFAULT_EXCHANGES",
    "ENTRY_POINT_GROUP",
    "SYNC_JOB",
    "TDB_JOB",
    "BadRecord",
    "Checkpoint",
    "ExchangeContext",
    "ExchangeInfo",
    "Feedback",
    "FeedbackItem",
    "FetchPage",
    "HashRecord",
    "RemoteSignal",
    "SignalExchange",
    "Submission",
    "SyncReport",
    "TransparencyReport",
    "TransparencyState",
    "add_exchange",
    "all_exchange_kinds",
    "collect_feedback",
    "context_for",
    "get_exchange",
    "get_exchange_kind",
    "job_handlers",
    "job_schedules",
    "list_exchanges",
    "plugin_for",
    "queue_sync",
    "queue_transparency",
    "read_secret",
    "register",
    "remove_exchange",
    "schedule_next",
    "send_feedback",
    "share_case",
    "stopncii_exchange",
    "submit_hashes",
    "submit_statements",
    "sync_exchange",
    "transparency_state",
    "transparency_states",
    "unregister",
    "withdraw_case_shares",
]
