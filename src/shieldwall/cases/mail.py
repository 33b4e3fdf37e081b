"""Telling the reporter by email (issue 5 point 10), when ``smtp_host`` is set.

A notice's events (received, decided, appeal decided) queue a ``cases.email`` job in the
caller's transaction; its payload names the notice and the event only, so the reporter's
address stays on the notice row and is read when the mail is sent. The mail never contains
the PIN (it is shown once, at filing) or the content.
"""

from __future__ import annotations

import smtplib
from email.message import EmailMessage

from sqlalchemy.orm import Session

from shieldwall.config import Settings
from shieldwall.jobs import job_record
from shieldwall.store import Database
from shieldwall.store.models import Notice

__all__ = ["EMAIL_JOB", "MESSAGES", "queue_reporter_email", "send_reporter_email"]

#: The job kind that emails a notice's reporter; payload ``{"notice_id", "event", "note"}``.
EMAIL_JOB = "cases.email"

#: Event -> (subject, body) of the email; ``{tracking}`` and ``{note}`` are filled in.
MESSAGES = {
    "received": (
        "We received your report {tracking}",
        "We received your report and will act on it within 48 hours.\n\n"
        "Tracking number: {tracking}\n"
        "Check its status with this number and the PIN you were shown when you filed it.",
    ),
    "decided": (
        "Your report {tracking} has been decided",
        "We decided on your report {tracking} ({note}).\n\n"
        "You may appeal the decision within 6 months with your tracking number and PIN.",
    ),
    "appeal_decided": (
        "The appeal on report {tracking} has been decided",
        "An appeal on report {tracking} has been decided ({note}).",
    ),
}


def queue_reporter_email(
    session: Session, settings: Settings, notice_id: int, event: str, note: str = ""
) -> None:
    """Queue the email of ``event`` to the notice's reporter (nothing when SMTP is unset)."""
    if not settings.smtp_host:
        return
    session.add(
        job_record(
            EMAIL_JOB,
            {"notice_id": notice_id, "event": event, "note": note},
            max_attempts=settings.job_max_attempts,
        )
    )


def send_reporter_email(
    db: Database, settings: Settings, notice_id: int, event: str, note: str = ""
) -> bool:
    """Send one email to the notice's reporter; ``False`` when there is nothing to send (SMTP
    unset, the notice gone). SMTP failures raise (the job retries)."""
    if not settings.smtp_host or event not in MESSAGES:
        return False
    with db.session() as session:
        notice = session.get(Notice, notice_id)
        if notice is None:
            return False
        to, tracking = notice.reporter_email, notice.tracking_number
    subject, body = MESSAGES[event]
    message = EmailMessage()
    message["From"] = settings.smtp_from
    message["To"] = to
    message["Subject"] = subject.format(tracking=tracking, note=note)
    message.set_content(body.format(tracking=tracking, note=note))
    with smtplib.SMTP(
        settings.smtp_host, settings.smtp_port, timeout=settings.smtp_timeout_seconds
    ) as smtp:
        smtp.send_message(message)
    return True
