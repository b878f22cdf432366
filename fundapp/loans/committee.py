"""The risk committee (Hội đồng xử lý rủi ro, Decree 45/2021/NĐ-CP Art. 29): its quarterly
meeting, with the minutes, and its decision on each risk handling proposal (``WriteOff``)
discussed. The rules are ``fundapp.lending.committee``; closing a meeting applies its
decisions and makes it read-only.
"""

from __future__ import annotations

import enum
from datetime import date, datetime

from sqlalchemy import CheckConstraint, ForeignKey, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from fundapp.core.db import TimestampMixin, UTCDateTime
from fundapp.extensions import db
from fundapp.loans.models import WriteOff, in_values


class MeetingStatus(enum.StrEnum):
    DRAFT = "draft"
    CLOSED = "closed"


class Decision(enum.StrEnum):
    APPROVE = "approve"
    REJECT = "reject"
    DEFER = "defer"  # not decided this time: the proposal stays pending


class CommitteeMeeting(TimestampMixin, db.Model):
    """One meeting per quarter (``2026-Q3``); read-only once closed."""

    __tablename__ = "committee_meetings"
    __table_args__ = (
        CheckConstraint(in_values("status", [s.value for s in MeetingStatus]), name="status"),
        CheckConstraint(
            "(status = 'closed') = (closed_at IS NOT NULL)", name="closed_when_stamped"
        ),
        UniqueConstraint("quarter", name="quarter"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    quarter: Mapped[str] = mapped_column(String(7))
    held_on: Mapped[date]
    place: Mapped[str] = mapped_column(String(200))
    members: Mapped[str] = mapped_column(Text)
    minutes: Mapped[str] = mapped_column(Text, default="")
    status: Mapped[str] = mapped_column(String(10), default=MeetingStatus.DRAFT)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    closed_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    decisions: Mapped[list[CommitteeDecision]] = relationship(
        back_populates="meeting", order_by="CommitteeDecision.id"
    )


class CommitteeDecision(TimestampMixin, db.Model):
    """The committee's decision on one proposal, with its reason; applied at the close."""

    __tablename__ = "committee_decisions"
    __table_args__ = (
        CheckConstraint(in_values("decision", [d.value for d in Decision]), name="decision"),
        UniqueConstraint("meeting_id", "write_off_id", name="meeting_write_off"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    meeting_id: Mapped[int] = mapped_column(
        ForeignKey("committee_meetings.id", ondelete="RESTRICT"), index=True
    )
    write_off_id: Mapped[int] = mapped_column(
        ForeignKey("write_offs.id", ondelete="RESTRICT"), index=True
    )
    decision: Mapped[str] = mapped_column(String(10))
    reason: Mapped[str] = mapped_column(Text)
    decided_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))

    meeting: Mapped[CommitteeMeeting] = relationship(back_populates="decisions")
    write_off: Mapped[WriteOff] = relationship(lazy="joined")
