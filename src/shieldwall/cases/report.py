"""The transparency report (DSA Art. 15 and 24; issue 5 point 9) per period, as JSON and CSV."""

from __future__ import annotations

import csv
import io
import statistics
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import func, select

from shieldwall.audit import record_event
from shieldwall.errors import NotPermitted
from shieldwall.people import Actor
from shieldwall.store import Database
from shieldwall.store.models import Appeal, CaseItem, Notice, TransparencySubmission

__all__ = ["report_csv", "transparency_report"]

_DEADLINE = timedelta(hours=48)


def _hours(delta: timedelta) -> float:
    return round(delta.total_seconds() / 3600, 3)


def transparency_report(
    db: Database, actor: Actor, *, start: datetime, end: datetime
) -> dict[str, Any]:
    """The figures of ``[start, end)``: notices (received in the period) by source and
    category; decisions (made in the period) by ground and action, automated vs human, median
    time to action, share of removals within 48 hours; appeals (filed in the period), their
    outcomes, reversal rate and median handling time; the statements of reasons owed to the
    EU Transparency Database and where they stand. Counts only: no personal data.
    Audited (``report.transparency``)."""
    if not actor.roles:
        raise NotPermitted("this actor has no case role")
    with db.transaction() as session:
        notices = session.execute(
            select(Notice.source, Notice.possible_minor, Notice.content_kind).where(
                Notice.received_at >= start, Notice.received_at < end
            )
        ).all()
        decided = list(
            session.scalars(
                select(CaseItem).where(
                    CaseItem.decided_at.is_not(None),
                    CaseItem.decided_at >= start,
                    CaseItem.decided_at < end,
                )
            )
        )
        appeals = list(
            session.scalars(select(Appeal).where(Appeal.filed_at >= start, Appeal.filed_at < end))
        )
        by_source: dict[str, int] = {"person": 0, "trusted_flagger": 0}
        by_category: dict[str, int] = {"cyber_violence": 0, "protection_of_minors": 0}
        by_kind: dict[str, int] = {"real": 0, "synthetic": 0, "unknown": 0}
        for source, minor, kind in notices:
            by_source[source] = by_source.get(source, 0) + 1
            category = "protection_of_minors" if minor else "cyber_violence"
            by_category[category] += 1
            by_kind[kind] = by_kind.get(kind, 0) + 1
        by_ground: dict[str, dict[str, int]] = {
            g: dict.fromkeys(("remove", "restrict", "label", "no_action"), 0)
            for g in ("law", "terms")
        }
        for c in decided:
            by_ground[c.ground or "terms"][c.action or "no_action"] += 1
        acted = [c for c in decided if c.action != "no_action" and c.decided_at is not None]
        times = [_hours(c.decided_at - c.received_at) for c in acted if c.decided_at is not None]
        removals = [c for c in acted if c.action == "remove" and c.decided_at is not None]
        in_time = [
            c for c in removals if c.decided_at and c.decided_at - c.received_at <= _DEADLINE
        ]
        ruled = [a for a in appeals if a.state != "open" and a.decided_at is not None]
        upheld = [a for a in ruled if a.state == "upheld"]
        handling = [_hours(a.decided_at - a.filed_at) for a in ruled if a.decided_at is not None]
        report: dict[str, Any] = {
            "period": {"from": start.isoformat(), "to": end.isoformat()},
            "notices": {
                "total": len(notices),
                "by_source": by_source,
                "by_category": by_category,
                "by_content_kind": by_kind,
            },
            "decisions": {
                "total": len(decided),
                "by_ground": by_ground,
                "automated_decisions": sum(1 for c in decided if c.automated),
                "human_decisions": sum(1 for c in decided if not c.automated),
                "automated_detection": sum(1 for c in decided if c.kind in ("copy", "match")),
                "median_hours_to_action": round(statistics.median(times), 3) if times else None,
                "removals": len(removals),
                "removed_within_48h": len(in_time),
                "share_removed_within_48h": (
                    round(len(in_time) / len(removals), 4) if removals else None
                ),
            },
            "appeals": {
                "filed": len(appeals),
                "decided": len(ruled),
                "upheld": len(upheld),
                "rejected": len(ruled) - len(upheld),
                "reversal_rate": round(len(upheld) / len(ruled), 4) if ruled else None,
                "median_hours_to_decide": (
                    round(statistics.median(handling), 3) if handling else None
                ),
            },
        }
        sent = dict(
            session.execute(
                select(TransparencySubmission.state, func.count())
                .join(CaseItem, CaseItem.id == TransparencySubmission.case_id)
                .where(
                    CaseItem.decided_at.is_not(None),
                    CaseItem.decided_at >= start,
                    CaseItem.decided_at < end,
                )
                .group_by(TransparencySubmission.state)
            ).all()
        )
        counts = {state: int(sent.get(state, 0)) for state in ("submitted", "existing", "failed")}
        report["transparency_database"] = {
            "statements_owed": len(acted),
            **counts,
            "not_submitted": max(0, len(acted) - sum(counts.values())),
        }
        record_event(
            session,
            actor.id,
            "report.transparency",
            "report:transparency",
            {"from": start.isoformat(), "to": end.isoformat()},
        )
    return report


def _flatten(prefix: str, value: Any, out: list[tuple[str, str]]) -> None:
    if isinstance(value, dict):
        for k, v in value.items():
            _flatten(f"{prefix}.{k}" if prefix else k, v, out)
    else:
        out.append((prefix, "" if value is None else str(value)))


def report_csv(report: dict[str, Any]) -> str:
    """The report as CSV: one ``metric,value`` row per figure (``notices.by_source.person``)."""
    rows: list[tuple[str, str]] = []
    _flatten("", report, rows)
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(["metric", "value"])
    writer.writerows(rows)
    return buffer.getvalue()
