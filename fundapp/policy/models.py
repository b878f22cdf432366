from __future__ import annotations

import enum
from datetime import date, datetime

from sqlalchemy import CheckConstraint, ForeignKey, Index, String, Text, UniqueConstraint, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from fundapp.core.db import TimestampMixin, UTCDateTime
from fundapp.domain.dates import utcnow
from fundapp.extensions import db


class PolicyParameter(TimestampMixin, db.Model):
    """One version of one lending parameter, in force from ``effective_from``.

    Rows are never updated: a change is a new row with a later date, so the history and
    every contract's snapshot stay explainable. Beyond the legal defaults, a row is only
    written when a second board member approves a ``PolicyChange``.
    """

    __tablename__ = "policy_parameters"
    __table_args__ = (UniqueConstraint("key", "effective_from", name="key_effective"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    key: Mapped[str] = mapped_column(String(60), index=True)
    value: Mapped[str] = mapped_column(String(255))
    effective_from: Mapped[date]
    legal_reference: Mapped[str] = mapped_column(String(255), default="")
    note: Mapped[str] = mapped_column(Text, default="")
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_by = relationship("User", lazy="joined")


class PolicyChangeStatus(enum.StrEnum):
    PENDING = "pending"
    APPROVED = "approved"
    REJECTED = "rejected"
    WITHDRAWN = "withdrawn"


STATUSES = ", ".join(f"'{s.value}'" for s in PolicyChangeStatus)


class PolicyChange(db.Model):
    """A board member's proposal of a new version of a parameter (maker/checker).

    It becomes a ``PolicyParameter`` row only when another board member approves it; it
    may instead be rejected (by another board member, with a reason) or withdrawn (by its
    proposer). Only a pending change is ever updated, and only once, by its decision.
    """

    __tablename__ = "policy_changes"
    __table_args__ = (
        CheckConstraint(f"status IN ({STATUSES})", name="status"),
        # The checker is never the maker (a withdrawal is the maker's own, so it records none).
        CheckConstraint("decided_by_id <> proposed_by_id", name="maker_checker"),
        # A decided change says when; a pending one has no decision at all.
        CheckConstraint("(status = 'pending') = (decided_at IS NULL)", name="decided"),
        CheckConstraint(
            "(status = 'approved') = (policy_parameter_id IS NOT NULL)", name="version"
        ),
        Index(
            "ix_policy_changes_pending",
            "key",
            postgresql_where=text("status = 'pending'"),
            sqlite_where=text("status = 'pending'"),
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    key: Mapped[str] = mapped_column(String(60))
    value: Mapped[str] = mapped_column(String(255))
    effective_from: Mapped[date]
    legal_reference: Mapped[str] = mapped_column(String(255))
    reason: Mapped[str] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(20), default=PolicyChangeStatus.PENDING)
    proposed_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    proposed_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    decided_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    decision_note: Mapped[str] = mapped_column(Text, default="")
    # The version the approval wrote.
    policy_parameter_id: Mapped[int | None] = mapped_column(
        ForeignKey("policy_parameters.id", ondelete="RESTRICT")
    )

    proposed_by = relationship("User", foreign_keys=[proposed_by_id], lazy="joined")
    decided_by = relationship("User", foreign_keys=[decided_by_id], lazy="joined")
