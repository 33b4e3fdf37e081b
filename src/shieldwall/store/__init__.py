"""Storage: SQLAlchemy models, Alembic migrations (run on first use), the signal log.

The database is chosen by ``SHIELDWALL_DATABASE_URL`` (default: a SQLite file in the data
directory); :func:`open_database` opens and migrates it.
"""

from shieldwall.store.database import MIGRATIONS, Database, close_databases, open_database
from shieldwall.store.models import (
    Bank,
    BankEntry,
    BankSignal,
    BankSignalValue,
    Base,
    DatabaseInstance,
    EntryExternalId,
    JobRecord,
    LedgerItem,
    LedgerSignal,
    MatchRecord,
    SignalLogRecord,
    SweepState,
    WebhookRecord,
    utcnow,
)
from shieldwall.store.signal_log import LogEntry, LogOp

__all__ = [
    "MIGRATIONS",
    "Bank",
    "BankEntry",
    "BankSignal",
    "BankSignalValue",
    "Base",
    "Database",
    "DatabaseInstance",
    "EntryExternalId",
    "JobRecord",
    "LedgerItem",
    "LedgerSignal",
    "LogEntry",
    "LogOp",
    "MatchRecord",
    "SignalLogRecord",
    "SweepState",
    "WebhookRecord",
    "close_databases",
    "open_database",
    "utcnow",
]
