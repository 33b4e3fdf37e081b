"""Cases from matches on an exchange's bank: who decides a match on hashes others shared.

Each stored match on the bank an exchange feeds (after the exchange's ``case_cursor``) opens
one case (``kind`` ``match``) per content id that has no undecided case of this exchange
already, in the transaction that advances the cursor (so never twice, nothing skipped):

- in the ``restricted`` (child-safety) queue when the plug-in declares itself
  :attr:`~shieldwall.exchange.SignalExchange.restricted` (NCMEC), else ``adult``;
- decided at once by the system (remove, recorded as automated, as an exact copy of the
  bank's own removals is: :func:`shieldwall.cases.decide_by_system`) only when the exchange is
  trusted for it (:attr:`~shieldwall.exchange.SignalExchange.auto_remove`: a federation
  partner's ``auto_remove``), the bank is a ``block`` bank, the match is exact (md5/sha256)
  and ``cases_auto_remove_exact_copies`` is on; every other match waits for a person.
"""

from __future__ import annotations

import secrets
from datetime import timedelta

from sqlalchemy import select

from shieldwall.audit import record_event
from shieldwall.cases.decisions import SYSTEM, decide_by_system
from shieldwall.config import Settings, get_settings
from shieldwall.exchange.base import SignalExchange
from shieldwall.exchange.exchanges import exchange_row
from shieldwall.signals import is_exact_evidence
from shieldwall.store import Database
from shieldwall.store.models import Bank, CaseItem, MatchRecord, utcnow

__all__ = ["open_match_cases"]

#: Matches read per call (the rest at the next).
_BATCH = 5000


def _tracking(exchange_id: int) -> str:
    return f"X{exchange_id}-{secrets.token_hex(6).upper()}"


def open_match_cases(
    db: Database, name: str, plugin: SignalExchange, *, settings: Settings | None = None
) -> list[int]:
    """Open the cases owed for the matches on exchange ``name``'s bank since its cursor (see
    the module); returns the new case ids."""
    settings = settings or get_settings()
    with db.transaction() as session:
        row = exchange_row(session, name, lock=True)
        if row.bank_id is None:
            return []
        bank = session.get(Bank, row.bank_id)
        matches = session.execute(
            select(MatchRecord.id, MatchRecord.content_id, MatchRecord.signal_type)
            .where(MatchRecord.bank_id == row.bank_id, MatchRecord.id > row.case_cursor)
            .order_by(MatchRecord.id)
            .limit(_BATCH)
        ).all()
        if not matches:
            return []
        row.case_cursor = matches[-1][0]
        types: dict[str, set[str]] = {}
        for _, cid, signal_type in matches:
            types.setdefault(cid, set()).add(signal_type)
        prefix = f"X{row.id}-"
        for (cids,) in session.execute(
            select(CaseItem.content_ids).where(
                CaseItem.kind == "match",
                CaseItem.state != "decided",
                CaseItem.tracking_number.startswith(prefix),
            )
        ):
            for cid in cids:
                types.pop(cid, None)
        automate = (
            plugin.auto_remove
            and bank is not None
            and bank.kind == "block"
            and settings.cases_auto_remove_exact_copies
        )
        queue = "restricted" if plugin.restricted else "adult"
        now = utcnow()
        created: list[CaseItem] = []
        for cid, kinds in types.items():
            exact = any(is_exact_evidence(t) for t in kinds)
            case = CaseItem(
                tracking_number=_tracking(row.id),
                kind="match",
                queue=queue,
                state="open",
                received_at=now,
                deadline=now + timedelta(hours=settings.case_deadline_hours),
                trusted=False,
                evidence=3 if exact else 2,
                content_ids=[cid],
                version=0,
                automated=False,
            )
            session.add(case)
            session.flush()
            record_event(
                session,
                SYSTEM,
                "case.opened",
                f"case:{case.tracking_number}",
                {"case_id": case.id, "exchange": name, "queue": queue, "content_id": cid},
            )
            created.append(case)
            if automate and exact:
                decide_by_system(
                    session,
                    settings,
                    case,
                    now,
                    ground="terms",
                    legal_ground=None,
                    reason=f"exact match on hashes shared by {name}, trusted for automated removal",
                    audit={"exchange": name},
                )
        return [c.id for c in created]
