"""The outbox of messages: each notice becomes one message per channel the recipient takes
(:func:`enqueue`), and a delivery run sends the messages that are due (:func:`send_due`).

No message is sent twice. The unique key (notice, channel, address) keeps one row per
message however many runs queue it. A run first claims a row by a guarded UPDATE
(status and due time unchanged since it read them) committed before the send: a second
run at the same time finds the row taken and skips it. The claim holds the row for
:data:`LEASE`; a run that dies mid-send gives it back then (the one case a message could
go twice, the provider's idempotency reference aside). A sent row is never due again.

A failed send is retried after 1, 5, 30 then 120 minutes; after :data:`MAX_ATTEMPTS`, or a
failure retrying cannot mend (no template for the kind), the row stays "failed" with its
last error and is not due any more.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import String, and_, cast, exists, or_, select, update

from fundapp.cooperatives.models import Cooperative
from fundapp.core.db import upsert
from fundapp.domain.dates import utcnow
from fundapp.extensions import db
from fundapp.loans.days import Notice
from fundapp.notices.channels import chosen
from fundapp.notices.models import OutboundMessage
from fundapp.notices.senders import Message, Sender, SendResult

log = logging.getLogger("fundapp.messages")

BACKOFF = (
    timedelta(minutes=1),
    timedelta(minutes=5),
    timedelta(minutes=30),
    timedelta(minutes=120),
)
MAX_ATTEMPTS = len(BACKOFF) + 1
LEASE = timedelta(minutes=10)
# A notice older than this is not queued any more: a channel chosen today does not bring
# last month's notices, and a first run after a long stop does not flood anyone.
QUEUE_WINDOW = timedelta(days=7)
PHONE_CHANNELS = ("sms", "zalo")


def retry_delay(attempts: int) -> timedelta | None:
    """How long after the ``attempts``-th failed attempt the next one is due; None: give up."""
    if attempts >= MAX_ATTEMPTS:
        return None
    return BACKOFF[max(attempts, 1) - 1]


def plan(notice: Notice, coop: Cooperative | None) -> list[tuple[str, str]]:
    """(channel, address) of each message of ``notice``: an officer's notice by e-mail; a
    cooperative's by the channels it chose, e-mail to the notice's address, SMS and Zalo
    to the cooperative's phone."""
    if notice.cooperative_id is None:
        return [("email", notice.email_to)] if notice.email_to else []
    channels = chosen(coop)
    out = []
    if "email" in channels and notice.email_to:
        out.append(("email", notice.email_to))
    phone = coop.phone if coop is not None else ""
    out += [(c, phone) for c in PHONE_CHANNELS if c in channels and phone]
    return out


def _takes(channel: str) -> Any:
    # The JSON list as text ('["email", "sms"]' on both databases): the choice in SQL, so
    # only notices that will have a message are read (none left to read again each run).
    return cast(Cooperative.message_channels, String).like(f'%"{channel}"%')


def enqueue(*where: Any, limit: int, now: datetime | None = None) -> int:
    """Queue the messages of the notices (matching ``where``) that have none yet, oldest
    first; committed. Returns how many rows were written."""
    now = now or utcnow()
    by_email = and_(Notice.email_to != "", or_(Notice.cooperative_id.is_(None), _takes("email")))
    by_phone = and_(Cooperative.phone != "", or_(*[_takes(c) for c in PHONE_CHANNELS]))
    found = db.session.execute(
        select(Notice, Cooperative)
        .outerjoin(Cooperative, Cooperative.id == Notice.cooperative_id)
        .where(
            Notice.emailed_at.is_(None),
            Notice.created_at >= now - QUEUE_WINDOW,
            ~exists().where(OutboundMessage.notice_id == Notice.id),
            or_(by_email, by_phone),
            *where,
        )
        .order_by(Notice.id)
        .limit(limit)
    ).all()
    rows = [
        {
            "notice_id": notice.id,
            "cooperative_id": notice.cooperative_id,
            "channel": channel,
            "address": address[:254],
            "kind": notice.kind,
            "status": "queued",
            "attempts": 0,
            "last_error": "",
            "next_attempt_at": now,
            "sent_at": None,
            "provider_id": "",
            "created_at": now,
        }
        for notice, coop in found
        for channel, address in plan(notice, coop)
    ]
    written = upsert(
        OutboundMessage,
        rows,
        ["notice_id", "channel", "address"],
        returning=OutboundMessage.__table__.c.id,
    )
    db.session.commit()
    return len(written)


def message_of(row: OutboundMessage, notice: Notice) -> Message:
    """The message of ``row``: the notice's title and text, its figures for the template."""
    data = {k: v for k, v in (notice.data or {}).items() if isinstance(v, str | int | float)}
    return Message(
        reference=f"notice-{row.notice_id}-{row.channel}-{row.id}",
        channel=row.channel,
        to=row.address,
        kind=row.kind,
        subject=notice.title,
        text=notice.body,
        params=data,
    )


def _due(now: datetime) -> Any:
    return and_(
        OutboundMessage.status.in_(("queued", "sending", "failed")),
        OutboundMessage.next_attempt_at.is_not(None),
        OutboundMessage.next_attempt_at <= now,
    )


def claim(row_id: int, attempts: int, now: datetime) -> bool:
    """Take the row for one attempt; False when another run took or finished it since it
    was read. Committed, so that run sees the claim."""
    result = db.session.execute(
        update(OutboundMessage)
        .where(OutboundMessage.id == row_id, OutboundMessage.attempts == attempts, _due(now))
        .values(status="sending", attempts=attempts + 1, next_attempt_at=now + LEASE)
        .execution_options(synchronize_session=False)
    )
    db.session.commit()
    return bool(result.rowcount)


def _finish(row_id: int, attempt: int, result: SendResult, now: datetime) -> None:
    """Record the attempt's outcome, only if the row is still this attempt's."""
    if result.ok:
        values: dict[str, Any] = {
            "status": "sent",
            "sent_at": now,
            "next_attempt_at": None,
            "provider_id": result.provider_id[:100],
            "last_error": "",
        }
    else:
        delay = retry_delay(attempt) if result.retry else None
        values = {
            "status": "failed",
            "next_attempt_at": now + delay if delay is not None else None,
            "last_error": result.error[:500],
        }
    db.session.execute(
        update(OutboundMessage)
        .where(
            OutboundMessage.id == row_id,
            OutboundMessage.attempts == attempt,
            OutboundMessage.status == "sending",
        )
        .values(**values)
        .execution_options(synchronize_session=False)
    )


@dataclass(frozen=True)
class Sent:
    row_id: int
    notice_id: int
    channel: str


def send_due(
    senders: Mapping[str, Sender],
    *where: Any,
    limit: int,
    now: datetime | None = None,
    build: Callable[[OutboundMessage, Notice], Message] = message_of,
    on_sent: Callable[[Sent], None] | None = None,
) -> int:
    """Send the messages due (of the notices matching ``where``), oldest first, each
    committed on its own; returns how many were sent."""
    now = now or utcnow()
    due = db.session.execute(
        select(OutboundMessage, Notice)
        .join(Notice, Notice.id == OutboundMessage.notice_id)
        .where(_due(now), *where)
        .order_by(OutboundMessage.id)
        .limit(limit)
    ).all()
    todo = [(row.id, row.attempts, row.channel, row.notice_id) for row, _n in due]
    loaded = {row.id: (row, notice) for row, notice in due}
    sent = 0
    for row_id, attempts, channel, notice_id in todo:
        if not claim(row_id, attempts, now):
            continue
        row, notice = loaded[row_id]
        sender = senders.get(channel)
        try:
            if sender is None:
                result = SendResult.failed(f"no sender for {channel!r}", retry=False)
            else:
                result = sender.send(build(row, notice))
        except Exception as exc:  # a sender's or a document's bug fails this message only
            log.exception("message %s (%s) failed", row_id, channel)
            db.session.rollback()  # the claim is committed already; keep the session usable
            result = SendResult.failed(f"{type(exc).__name__}: {exc}")
        if not result.ok:
            log.warning("message %s (%s) failed: %s", row_id, channel, result.error)
        _finish(row_id, attempts + 1, result, now)
        if result.ok:
            sent += 1
            if on_sent is not None:
                on_sent(Sent(row_id, notice_id, channel))
        db.session.commit()  # each message once, even if a later one fails
    return sent
