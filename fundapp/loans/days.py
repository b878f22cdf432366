"""Close of day: one run per business date, debt-group history, provisions, notices."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import (
    JSON,
    CheckConstraint,
    ForeignKey,
    Index,
    String,
    Text,
    UniqueConstraint,
    func,
    select,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from fundapp.core.db import Money, TimestampMixin, UTCDateTime
from fundapp.extensions import db


class CloseDayRun(db.Model):
    """The close of day of one business date. The unique date makes a second run of the
    same date impossible; a failed run leaves no row (its transaction rolls back) and is
    retried on the next tick."""

    __tablename__ = "close_day_runs"

    id: Mapped[int] = mapped_column(primary_key=True)
    business_date: Mapped[date] = mapped_column(unique=True)
    started_at: Mapped[datetime] = mapped_column(UTCDateTime)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    duration_ms: Mapped[int] = mapped_column(default=0)
    trigger: Mapped[str] = mapped_column(String(20), default="scheduler")  # scheduler|cli|api
    counts: Mapped[dict] = mapped_column(JSON, default=dict)
    journal_entry_id: Mapped[int | None] = mapped_column(
        ForeignKey("journal_entries.id", ondelete="RESTRICT")
    )


def last_run_date() -> date | None:
    """The business date of the last close of day (None before the first): the books are
    closed for the days before it, so the overdue state and the ledger targets of every
    loan are as of this date."""
    return db.session.scalar(select(func.max(CloseDayRun.business_date)))


class CloseDayFailure(db.Model):
    """A run that failed and was rolled back, kept so staff can see the error."""

    __tablename__ = "close_day_failures"

    id: Mapped[int] = mapped_column(primary_key=True)
    business_date: Mapped[date] = mapped_column(index=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime)
    error: Mapped[str] = mapped_column(Text)


class DebtGroupHistory(db.Model):
    """Debt group of a loan or a borrower from a business date on (a row per change)."""

    __tablename__ = "debt_group_history"
    __table_args__ = (
        CheckConstraint("kind IN ('loan', 'borrower')", name="kind"),
        CheckConstraint("debt_group BETWEEN 1 AND 5", name="group_range"),
        UniqueConstraint("kind", "ref_id", "business_date", name="one_per_day"),
        Index("ix_debt_group_history_ref", "kind", "ref_id", "business_date"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(10))
    ref_id: Mapped[int]
    business_date: Mapped[date]
    days_past_due: Mapped[int] = mapped_column(default=0)
    debt_group: Mapped[int]
    previous_group: Mapped[int | None]


class Notice(TimestampMixin, db.Model):
    """A notice to a cooperative or an officer, once per event (the unique key)."""

    __tablename__ = "notices"
    __table_args__ = (
        # decision, coop_application, coop_document: notifications of work (fundapp/work).
        CheckConstraint(
            "kind IN ('due_soon', 'overdue_transfer', 'group_change', 'decision', "
            "'coop_application', 'coop_document')",
            name="kind",
        ),
        UniqueConstraint("kind", "event_key", "recipient_key", name="once_per_event"),
        Index("ix_notices_user_unread", "user_id", "read_at"),
        Index("ix_notices_cooperative_unread", "cooperative_id", "read_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(20))
    # e.g. "loan:12:inst:3:2026-02-15"; with recipient_key "coop:4" or "user:7"
    event_key: Mapped[str] = mapped_column(String(120))
    recipient_key: Mapped[str] = mapped_column(String(40))
    business_date: Mapped[date] = mapped_column(index=True)
    loan_id: Mapped[int | None] = mapped_column(
        ForeignKey("loans.id", ondelete="CASCADE"), index=True
    )
    cooperative_id: Mapped[int | None] = mapped_column(
        ForeignKey("cooperatives.id", ondelete="CASCADE")
    )
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    title: Mapped[str] = mapped_column(String(255))
    body: Mapped[str] = mapped_column(Text, default="")
    # Figures for the notice's document (amounts in đồng, dates ISO, rate as string).
    data: Mapped[dict] = mapped_column(JSON, default=dict)
    read_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    emailed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    email_to: Mapped[str] = mapped_column(String(254), default="")

    loan = relationship("Loan", lazy="joined")


class LoanDay(db.Model):
    """A loan's classification and provision as set by the close of day of
    ``business_date``, the last date they changed (days past due and accrued overdue
    interest as of that date)."""

    __tablename__ = "loan_days"

    loan_id: Mapped[int] = mapped_column(
        ForeignKey("loans.id", ondelete="CASCADE"), primary_key=True
    )
    business_date: Mapped[date]
    days_past_due: Mapped[int] = mapped_column(default=0)
    group_by_days: Mapped[int] = mapped_column(default=1)
    debt_group: Mapped[int] = mapped_column(default=1)
    specific_provision: Mapped[int] = mapped_column(Money, default=0)
    penalty_accrued: Mapped[int] = mapped_column(Money, default=0)
    # While the loan waits to move to a better group after its arrears were cleared
    # (the upgrade rule): the first business date the close of day found it clear.
    cured_on: Mapped[date | None]
