"""Notices by e-mail, SMS and Zalo: the close of day's (the e-mail with the notice's PDF
attached) and the notifications of work. E-mail goes through the configured backend
("log" by default, or SMTP); SMS and Zalo through their senders (``notices.senders``).

Messages go out after the unit of work that wrote the notices has committed: each notice
is queued as one message per channel its recipient takes (``notices.outbox``), and each
message is sent once, retried with a growing delay when it fails. A mail server or a
gateway that is down never undoes anything: the notice stays in the app. A notice's
``emailed_at`` is set when its e-mail has gone. Sending sits above the close of day (it
renders documents), so the app factory hands :func:`deliver_pending` to
``servicing.close_day``.
"""

from __future__ import annotations

import logging
import smtplib
from dataclasses import replace
from datetime import datetime
from email.message import EmailMessage
from typing import Any

from flask import current_app
from sqlalchemy import update

from fundapp.documents.notice_pdf import notice_filename, render_notice
from fundapp.domain.dates import utcnow
from fundapp.extensions import db
from fundapp.loans.days import Notice
from fundapp.notices import outbox
from fundapp.notices.models import OutboundMessage
from fundapp.notices.senders import Message, Sender, SendResult, phone_sender

log = logging.getLogger("fundapp.mail")

# The notices whose e-mail carries the notice's PDF.
WITH_DOCUMENT = ("due_soon", "overdue_transfer")


def send(backend: str, message: EmailMessage) -> None:
    """One message through ``backend``: "smtp", or anything else to the log."""
    if backend != "smtp":
        body = message.get_body(("plain",))
        files = ", ".join(str(part.get_filename()) for part in message.iter_attachments())
        log.info(
            "mail to %s: %s | %s%s",
            message["To"],
            message["Subject"],
            body.get_content() if body is not None else "",
            f" | attached: {files}" if files else "",
        )
        return
    config = current_app.config
    with smtplib.SMTP(config["MAIL_SERVER"], config["MAIL_PORT"], timeout=30) as smtp:
        if config.get("MAIL_USE_TLS"):
            smtp.starttls()
        if config.get("MAIL_USERNAME"):
            smtp.login(config["MAIL_USERNAME"], config["MAIL_PASSWORD"])
        smtp.send_message(message)


def _document(notice: Notice) -> tuple[tuple[str, bytes], ...]:
    """The notice's PDF; a document that cannot be rendered never holds the e-mail back."""
    if notice.kind not in WITH_DOCUMENT:
        return ()
    try:
        data = render_notice(notice)
    except Exception:
        log.exception("notice %s: the PDF could not be attached", notice.id)
        return ()
    return ((notice_filename(notice), data),)


class EmailSender:
    """The e-mail channel: the notice's message (and PDF) through the backend of
    MAIL_BACKEND, by :func:`send`."""

    def __init__(self, backend: str) -> None:
        self.backend = backend

    def send(self, message: Message) -> SendResult:
        email = EmailMessage()
        email["From"] = current_app.config["MAIL_SENDER"]
        email["To"] = message.to
        email["Subject"] = message.subject
        email.set_content(message.text)
        for filename, data in message.attachments:
            email.add_attachment(data, maintype="application", subtype="pdf", filename=filename)
        try:
            send(self.backend, email)
        except (OSError, smtplib.SMTPException) as exc:
            log.warning("mail to %s failed: %s", message.to, exc)
            return SendResult.failed(f"{type(exc).__name__}: {exc}")
        return SendResult(True)


def senders() -> dict[str, Sender]:
    config = current_app.config
    return {
        "email": EmailSender(config.get("MAIL_BACKEND", "log")),
        "sms": phone_sender("sms", config),
        "zalo": phone_sender("zalo", config),
    }


def _build(row: OutboundMessage, notice: Notice) -> Message:
    message = outbox.message_of(row, notice)
    if row.channel != "email":
        return message
    return replace(message, attachments=_document(notice))


def _emailed(sent: outbox.Sent) -> None:
    if sent.channel == "email":
        db.session.execute(
            update(Notice)
            .where(Notice.id == sent.notice_id, Notice.emailed_at.is_(None))
            .values(emailed_at=utcnow())
            .execution_options(synchronize_session=False)
        )


def deliver(*where: Any, limit: int, now: datetime | None = None) -> int:
    """Queue the messages of the notices (matching ``where``) not yet queued, then send the
    messages due, oldest first; returns how many were sent."""
    outbox.enqueue(*where, limit=limit, now=now)
    return outbox.send_due(senders(), *where, limit=limit, now=now, build=_build, on_sent=_emailed)


def deliver_pending(limit: int = 500, now: datetime | None = None) -> int:
    """Send the messages of notices not yet sent, and the retries due (after the run has
    committed)."""
    return deliver(limit=limit, now=now)
