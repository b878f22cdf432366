"""Notices by e-mail: the close of day's (with the notice's PDF attached) and the
notifications of work, through the configured backend ("log" by default, or SMTP).

E-mails go out after the unit of work that wrote the notices has committed, each one
once: a notice is marked e-mailed and committed as soon as its message is sent. A mail
server that is down never undoes anything: the notice stays in the app and its e-mail is
retried at the next delivery. Sending sits above the close of day (it renders documents),
so the app factory hands :func:`deliver_pending` to ``servicing.close_day``.
"""

from __future__ import annotations

import logging
import smtplib
from email.message import EmailMessage
from typing import Any

from flask import current_app
from sqlalchemy import select

from fundapp.documents.notice_pdf import notice_filename, render_notice
from fundapp.domain.dates import utcnow
from fundapp.extensions import db
from fundapp.loans.days import Notice

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


def _attach_document(message: EmailMessage, notice: Notice) -> None:
    """The notice's PDF; a document that cannot be rendered never holds the e-mail back."""
    if notice.kind not in WITH_DOCUMENT:
        return
    try:
        data = render_notice(notice)
    except Exception:
        log.exception("notice %s: the PDF could not be attached", notice.id)
        return
    message.add_attachment(
        data, maintype="application", subtype="pdf", filename=notice_filename(notice)
    )


def deliver(*where: Any, limit: int) -> int:
    """E-mail the notices not yet e-mailed (of those matching ``where``), oldest first."""
    backend = current_app.config.get("MAIL_BACKEND", "log")
    sent = 0
    pending = db.session.scalars(
        select(Notice)
        .where(Notice.email_to != "", Notice.emailed_at.is_(None), *where)
        .order_by(Notice.id)
        .limit(limit)
    ).all()
    for notice in pending:
        message = EmailMessage()
        message["From"] = current_app.config["MAIL_SENDER"]
        message["To"] = notice.email_to
        message["Subject"] = notice.title
        message.set_content(notice.body)
        _attach_document(message, notice)
        try:
            send(backend, message)
        except (OSError, smtplib.SMTPException) as exc:
            log.warning("mail to %s failed: %s", notice.email_to, exc)
            continue
        notice.emailed_at = utcnow()
        db.session.commit()  # each e-mail once, even if a later one fails
        sent += 1
    return sent


def deliver_pending(limit: int = 500) -> int:
    """Send the e-mails of notices not yet e-mailed (after the run has committed)."""
    return deliver(limit=limit)
