"""Interest relief (miễn, giảm lãi) and removal from off-balance tracking (xuất toán).

Both are maker/checker decisions on a loan, append-only once decided. An approved relief is
an event of the loan's history: the replay applies it on its effective date, like a
repayment, so the schedule, the balances and the ledger agree with it.
"""

from __future__ import annotations

import enum
from datetime import date, datetime

from sqlalchemy import JSON, CheckConstraint, ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from fundapp.core.db import Money, TimestampMixin, UTCDateTime
from fundapp.extensions import db
from fundapp.loans.models import in_values, pending_index


class ReliefKind(enum.StrEnum):
    EXEMPTION = "exemption"  # miễn: the whole of what is due of a component
    REDUCTION = "reduction"  # giảm: a part of it


class ReliefReason(enum.StrEnum):
    # The borrower could not pay (financial difficulty): counts towards the debt group
    # (Circular 14/2024/TT-NHNN, group 3 at least;
    # docs/rules.md#debt-classification-and-provisions).
    UNABLE_TO_PAY = "unable_to_pay"
    OTHER = "other"


STATUSES = ("pending", "approved", "rejected")


class InterestRelief(TimestampMixin, db.Model):
    """A request to exempt or reduce a loan's interest, and its decision."""

    __tablename__ = "interest_reliefs"
    __table_args__ = (
        CheckConstraint(in_values("kind", [k.value for k in ReliefKind]), name="kind"),
        CheckConstraint(
            in_values("reason_code", [r.value for r in ReliefReason]), name="reason_code"
        ),
        CheckConstraint(in_values("status", STATUSES), name="status"),
        CheckConstraint(
            "interest >= 0 AND penalty >= 0 AND interest + penalty > 0", name="amount_positive"
        ),
        # Maker ≠ checker, in the database too.
        CheckConstraint(
            "approved_by_id IS NULL OR approved_by_id <> requested_by_id", name="maker_checker"
        ),
        pending_index("interest_reliefs"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    loan_id: Mapped[int] = mapped_column(ForeignKey("loans.id", ondelete="RESTRICT"), index=True)
    kind: Mapped[str] = mapped_column(String(20))
    reason_code: Mapped[str] = mapped_column(String(20))
    # In-term interest billed and unpaid, and overdue interest (penalty), to waive.
    interest: Mapped[int] = mapped_column(Money, default=0)
    penalty: Mapped[int] = mapped_column(Money, default=0)
    reason: Mapped[str] = mapped_column(Text)
    evidence: Mapped[str] = mapped_column(Text, default="")
    requested_on: Mapped[date]
    status: Mapped[str] = mapped_column(String(20), default="pending")
    requested_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    approved_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    decision_note: Mapped[str] = mapped_column(Text, default="")
    # The business date of the approval: the relief's date in the loan's history.
    effective_date: Mapped[date | None]
    # What the latest replay waived: [{"no", "component", "amount"}]
    allocations: Mapped[list] = mapped_column(JSON, default=list)
    journal_entry_id: Mapped[int | None] = mapped_column(
        ForeignKey("journal_entries.id", ondelete="RESTRICT")
    )

    loan = relationship("Loan", lazy="joined")
    requested_by = relationship("User", foreign_keys=[requested_by_id], lazy="joined")
    approved_by = relationship("User", foreign_keys=[approved_by_id], lazy="joined")

    @property
    def total(self) -> int:
        return self.interest + self.penalty


class OffBalanceRemoval(TimestampMixin, db.Model):
    """Removal of a risk-handled (written-off) loan from off-balance tracking (xuất toán),
    proposed and approved on its own, no earlier than five years after the risk handling."""

    __tablename__ = "off_balance_removals"
    __table_args__ = (
        CheckConstraint(in_values("status", STATUSES), name="status"),
        CheckConstraint("amount >= 0", name="amount_not_negative"),
        CheckConstraint(
            "approved_by_id IS NULL OR approved_by_id <> proposed_by_id", name="maker_checker"
        ),
        pending_index("off_balance_removals"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    loan_id: Mapped[int] = mapped_column(ForeignKey("loans.id", ondelete="RESTRICT"), index=True)
    write_off_id: Mapped[int] = mapped_column(ForeignKey("write_offs.id", ondelete="RESTRICT"))
    amount: Mapped[int] = mapped_column(Money, default=0)
    reason: Mapped[str] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(20), default="pending")
    proposed_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    approved_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    decision_note: Mapped[str] = mapped_column(Text, default="")
    removed_on: Mapped[date | None]
    journal_entry_id: Mapped[int | None] = mapped_column(
        ForeignKey("journal_entries.id", ondelete="RESTRICT")
    )

    loan = relationship("Loan", lazy="joined")
    proposed_by = relationship("User", foreign_keys=[proposed_by_id], lazy="joined")
    approved_by = relationship("User", foreign_keys=[approved_by_id], lazy="joined")
