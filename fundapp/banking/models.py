"""Bank statements of the collection account: each import, its credit lines with the loan
each was matched to, and the column mapping saved per bank."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import CheckConstraint, ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from fundapp.core.db import Money, TimestampMixin, UTCDateTime
from fundapp.extensions import db
from fundapp.loans.models import in_values

METHODS = ("reference", "contract", "borrower", "amount", "manual", "none")
LINE_STATUSES = ("matched", "unmatched", "confirmed", "ignored", "duplicate", "posted")
BATCH_STATUSES = ("pending", "posted", "rejected")
# Statuses of a line still waiting for the accountant (the "unmatched credits" list holds
# the unmatched ones; a matched one waits for confirmation).
OPEN_STATUSES = ("matched", "unmatched")


class BankStatement(db.Model):
    """One statement file imported: who, when, its fingerprint and what it held. The same
    file (same bank, same SHA-256) is imported once."""

    __tablename__ = "bank_statements"
    __table_args__ = (
        UniqueConstraint("bank", "sha256"),
        CheckConstraint(
            "rows_read >= 0 AND credits >= 0 AND debits >= 0 AND duplicates >= 0 "
            "AND matched >= 0 AND unmatched >= 0",
            name="counts_not_negative",
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    bank: Mapped[str] = mapped_column(String(20))
    filename: Mapped[str] = mapped_column(String(255))
    sha256: Mapped[str] = mapped_column(String(64))
    uploaded_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    uploaded_at: Mapped[datetime] = mapped_column(UTCDateTime)
    first_date: Mapped[date | None]
    last_date: Mapped[date | None]
    # Transaction rows read; of them the credits stored, the debits skipped, and the credits
    # already stored (by an earlier import or earlier in this file); the stored credits as
    # first matched or left unmatched.
    rows_read: Mapped[int] = mapped_column(default=0)
    credits: Mapped[int] = mapped_column(default=0)
    debits: Mapped[int] = mapped_column(default=0)
    duplicates: Mapped[int] = mapped_column(default=0)
    matched: Mapped[int] = mapped_column(default=0)
    unmatched: Mapped[int] = mapped_column(default=0)

    lines: Mapped[list[BankLine]] = relationship(
        back_populates="statement", order_by="BankLine.line_no"
    )


class BankLine(TimestampMixin, db.Model):
    """One credit of the statement. ``(bank, txn_id)`` is the bank's own identity of the
    transaction: a line is stored once whatever files repeat it."""

    __tablename__ = "bank_lines"
    __table_args__ = (
        UniqueConstraint("bank", "txn_id"),
        CheckConstraint("amount > 0", name="amount_positive"),
        CheckConstraint(in_values("method", METHODS), name="method"),
        CheckConstraint(in_values("status", LINE_STATUSES), name="status"),
        CheckConstraint("confidence >= 0 AND confidence <= 100", name="confidence_range"),
        # A loan goes with a method; an unmatched line names none, a matched or confirmed
        # one always names one.
        CheckConstraint("(loan_id IS NULL) = (method = 'none')", name="loan_with_method"),
        CheckConstraint(
            "status NOT IN ('matched', 'confirmed', 'posted') OR loan_id IS NOT NULL",
            name="matched_has_loan",
        ),
        # A posted line is its repayment, and only a posted line has one.
        CheckConstraint(
            "(status = 'posted') = (repayment_id IS NOT NULL)", name="posted_has_repayment"
        ),
        CheckConstraint("status <> 'unmatched' OR loan_id IS NULL", name="unmatched_no_loan"),
        Index("ix_bank_lines_status_value_date", "status", "value_date"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    statement_id: Mapped[int] = mapped_column(
        ForeignKey("bank_statements.id", ondelete="RESTRICT"), index=True
    )
    bank: Mapped[str] = mapped_column(String(20))
    txn_id: Mapped[str] = mapped_column(String(80))
    # The row of the file it came from (as a spreadsheet numbers it).
    line_no: Mapped[int]
    value_date: Mapped[date]
    amount: Mapped[int] = mapped_column(Money)
    description: Mapped[str] = mapped_column(Text, default="")
    payer_name: Mapped[str] = mapped_column(String(200), default="")
    payer_account: Mapped[str] = mapped_column(String(40), default="")
    loan_id: Mapped[int | None] = mapped_column(
        ForeignKey("loans.id", ondelete="RESTRICT"), index=True
    )
    instalment_no: Mapped[int | None]
    method: Mapped[str] = mapped_column(String(10), default="none")
    confidence: Mapped[int] = mapped_column(default=0)
    reason: Mapped[str] = mapped_column(Text, default="")
    status: Mapped[str] = mapped_column(String(10), default="unmatched")
    # The accountant's last correction: who, when, why (ignoring a line needs a reason).
    handled_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    handled_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    note: Mapped[str] = mapped_column(String(500), default="")
    # Posting: the batch that holds the line (while it waits for the director, and once
    # posted), the repayment it became (once: UNIQUE) and why the last posting left it
    # unposted (the loan no longer active, an overpayment...).
    batch_id: Mapped[int | None] = mapped_column(
        ForeignKey("bank_batches.id", ondelete="RESTRICT"), index=True
    )
    repayment_id: Mapped[int | None] = mapped_column(
        ForeignKey("repayments.id", ondelete="RESTRICT"), unique=True
    )
    post_error: Mapped[str] = mapped_column(String(500), default="")

    statement: Mapped[BankStatement] = relationship(back_populates="lines")


class BankBatch(db.Model):
    """The confirmed lines of a statement sent to posting at once by an accountant (the
    maker): posted at once, or, above the policy's ``bank_batch_approval_above``, once the
    director (the checker, never the maker) approves it."""

    __tablename__ = "bank_batches"
    __table_args__ = (
        CheckConstraint(in_values("status", BATCH_STATUSES), name="status"),
        CheckConstraint(
            "lines >= 0 AND total >= 0 AND posted >= 0 AND posted_total >= 0 AND failed >= 0 "
            "AND posted + failed <= lines AND posted_total <= total",
            name="counts",
        ),
        CheckConstraint("decided_by_id IS NULL OR decided_by_id <> made_by_id", name="four_eyes"),
        CheckConstraint("status = 'pending' OR decided_at IS NOT NULL", name="decided"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    statement_id: Mapped[int] = mapped_column(
        ForeignKey("bank_statements.id", ondelete="RESTRICT"), index=True
    )
    status: Mapped[str] = mapped_column(String(10), default="pending")
    needs_approval: Mapped[bool] = mapped_column(default=False)
    made_by_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="RESTRICT"))
    made_at: Mapped[datetime] = mapped_column(UTCDateTime)
    decided_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="RESTRICT"))
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    note: Mapped[str] = mapped_column(String(500), default="")
    # The lines and their total when made; of them, those posted and those left confirmed.
    lines: Mapped[int] = mapped_column(default=0)
    total: Mapped[int] = mapped_column(Money, default=0)
    posted: Mapped[int] = mapped_column(default=0)
    posted_total: Mapped[int] = mapped_column(Money, default=0)
    failed: Mapped[int] = mapped_column(default=0)


class BankMapping(TimestampMixin, db.Model):
    """How to read one bank's statement: the header of each column, the date format and
    the row of the headers. A saved mapping takes precedence over the built-in preset."""

    __tablename__ = "bank_mappings"
    __table_args__ = (CheckConstraint("header_row >= 1 AND header_row <= 50", name="header_row"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    bank: Mapped[str] = mapped_column(String(20), unique=True)
    date_column: Mapped[str] = mapped_column(String(80))
    # The credit column; with no debit column, a signed amount (a debit is negative).
    credit_column: Mapped[str] = mapped_column(String(80))
    debit_column: Mapped[str] = mapped_column(String(80), default="")
    description_column: Mapped[str] = mapped_column(String(80))
    txn_id_column: Mapped[str] = mapped_column(String(80), default="")
    payer_column: Mapped[str] = mapped_column(String(80), default="")
    payer_account_column: Mapped[str] = mapped_column(String(80), default="")
    date_format: Mapped[str] = mapped_column(String(20), default="%d/%m/%Y")
    header_row: Mapped[int] = mapped_column(default=1)
    updated_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
