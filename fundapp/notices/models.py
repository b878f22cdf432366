"""The record of each message sent for a notice, one row per channel and address."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import CheckConstraint, ForeignKey, Index, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from fundapp.core.db import TimestampMixin, UTCDateTime
from fundapp.extensions import db

CHANNELS = ("email", "sms", "zalo")
# queued: waits for its first attempt; sending: an attempt holds it until ``next_attempt_at``
# (a run that died mid-send gives it back then); failed: waits for a retry at
# ``next_attempt_at``, or was given up when that is NULL; sent: done, never sent again.
STATUSES = ("queued", "sending", "sent", "failed")


class OutboundMessage(TimestampMixin, db.Model):
    __tablename__ = "outbound_messages"
    __table_args__ = (
        CheckConstraint("channel IN ('email', 'sms', 'zalo')", name="channel"),
        CheckConstraint("status IN ('queued', 'sending', 'sent', 'failed')", name="status"),
        CheckConstraint("attempts >= 0", name="attempts_not_negative"),
        CheckConstraint("status <> 'sent' OR sent_at IS NOT NULL", name="sent_has_time"),
        # No message sent twice: one row per notice, channel and address, whoever queues it.
        UniqueConstraint("notice_id", "channel", "address", name="once_per_address"),
        Index("ix_outbound_messages_due", "next_attempt_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    notice_id: Mapped[int] = mapped_column(ForeignKey("notices.id", ondelete="CASCADE"))
    cooperative_id: Mapped[int | None] = mapped_column(
        ForeignKey("cooperatives.id", ondelete="CASCADE"), index=True
    )
    channel: Mapped[str] = mapped_column(String(10))
    address: Mapped[str] = mapped_column(String(254))
    kind: Mapped[str] = mapped_column(String(20))
    status: Mapped[str] = mapped_column(String(10), default="queued")
    attempts: Mapped[int] = mapped_column(default=0)
    last_error: Mapped[str] = mapped_column(String(500), default="")
    next_attempt_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    provider_id: Mapped[str] = mapped_column(String(100), default="")
