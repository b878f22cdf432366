"""The interest support schemes, and the claims sent to the paying agency."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import JSON, CheckConstraint, ForeignKey, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from fundapp.core.db import Money, Rate, TimestampMixin, UTCDateTime
from fundapp.extensions import db

CLAIM_STATUSES = ("submitted", "paid")


class SupportScheme(TimestampMixin, db.Model):
    """A province's interest support: who is eligible, the share of in-term interest the
    budget pays, the due dates it covers and the most it pays on one loan."""

    __tablename__ = "support_schemes"
    __table_args__ = (
        CheckConstraint("cap_per_loan IS NULL OR cap_per_loan > 0", name="cap_positive"),
        CheckConstraint("last_due IS NULL OR last_due >= first_due", name="dates_in_order"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(40), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    # The act that grants it (e.g. "Nghị quyết 24/2018/NQ-HĐND tỉnh Bắc Giang").
    legal_basis: Mapped[str] = mapped_column(String(255))
    # Who pays the claims (e.g. "Sở Tài chính").
    paying_agency: Mapped[str] = mapped_column(String(200))
    # % of in-term interest, above 0 and at most 100 (checked by the service; stored as text).
    share: Mapped[Decimal] = mapped_column(Rate)
    first_due: Mapped[date]
    last_due: Mapped[date | None]
    cap_per_loan: Mapped[int | None] = mapped_column(Money)
    # Eligible borrower kinds (domain.cooperatives.CooperativeKind); empty: all.
    borrower_kinds: Mapped[list] = mapped_column(JSON, default=list)
    # Words one of which the loan's purpose must contain (folded); empty: any purpose.
    purposes: Mapped[list] = mapped_column(JSON, default=list)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))


class SupportClaim(db.Model):
    """One claim to the paying agency: the budget's share of the supported instalments
    billed up to ``period_to`` not claimed before, line by line; paid once."""

    __tablename__ = "support_claims"
    __table_args__ = (
        CheckConstraint("status IN ('submitted', 'paid')", name="status"),
        CheckConstraint("amount > 0", name="amount_positive"),
        CheckConstraint("(status = 'paid') = (paid_on IS NOT NULL)", name="paid_when_dated"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    scheme_id: Mapped[int] = mapped_column(
        ForeignKey("support_schemes.id", ondelete="RESTRICT"), index=True
    )
    reference: Mapped[str] = mapped_column(String(40), unique=True)
    period_from: Mapped[date]
    period_to: Mapped[date]
    amount: Mapped[int] = mapped_column(Money)
    status: Mapped[str] = mapped_column(String(10), default="submitted")
    submitted_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    submitted_at: Mapped[datetime] = mapped_column(UTCDateTime)
    paid_on: Mapped[date | None]
    paid_reference: Mapped[str] = mapped_column(String(80), default="")
    paid_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    paid_entry_id: Mapped[int | None] = mapped_column(
        ForeignKey("journal_entries.id", ondelete="RESTRICT")
    )
    note: Mapped[str] = mapped_column(Text, default="")

    scheme: Mapped[SupportScheme] = relationship(lazy="joined")
    lines: Mapped[list[SupportClaimLine]] = relationship(
        back_populates="claim", cascade="all, delete-orphan", order_by="SupportClaimLine.id"
    )


class SupportClaimLine(db.Model):
    """What one claim asked for one instalment: the budget's share now less what earlier
    claims asked (a later change of the schedule claims, or gives back, the difference)."""

    __tablename__ = "support_claim_lines"

    id: Mapped[int] = mapped_column(primary_key=True)
    claim_id: Mapped[int] = mapped_column(
        ForeignKey("support_claims.id", ondelete="CASCADE"), index=True
    )
    loan_id: Mapped[int] = mapped_column(ForeignKey("loans.id", ondelete="RESTRICT"), index=True)
    due_date: Mapped[date]
    no: Mapped[int] = mapped_column(Integer)
    interest: Mapped[int] = mapped_column(Money)
    supported: Mapped[int] = mapped_column(Money)
    amount: Mapped[int] = mapped_column(Money)

    claim: Mapped[SupportClaim] = relationship(back_populates="lines")
