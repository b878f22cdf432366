"""Applications, loans and the facts of their history.

The facts (disbursements, repayments, reversals, restructurings) are append-only rows. The
schedule (``instalments``) and each repayment's allocation are what the replay engine
derives from them, stored so pages and reports read them with plain SQL.
"""

from __future__ import annotations

import enum
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import (
    JSON,
    CheckConstraint,
    ForeignKey,
    Index,
    String,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy import true as sa_true
from sqlalchemy.orm import Mapped, mapped_column, relationship

from fundapp.core.db import Money, Rate, TimestampMixin, UTCDateTime, trigram_index
from fundapp.core.lists import SearchKeyMixin
from fundapp.domain.terms import DEFAULT_LATE_RATE, DEFAULT_OVERDUE_MULTIPLIER, METHODS
from fundapp.extensions import db

# An instalment with something still owed on it: principal, interest or overdue interest.
UNSETTLED = (
    "principal_paid < principal OR interest_paid < interest OR penalty_accrued > penalty_paid"
)


def in_values(column: str, values: Any) -> str:
    """A CHECK condition: ``column`` holds one of ``values`` (the database enforces the
    enumerations of the models)."""
    return f"{column} IN (" + ", ".join(f"'{v}'" for v in values) + ")"


def pending_index(table: str) -> Index:
    """The rows waiting for a decision, which every loan page counts: a small index."""
    return Index(
        f"ix_{table}_pending",
        "id",
        postgresql_where=text("status = 'pending'"),
        sqlite_where=text("status = 'pending'"),
    )


class ApplicationStatus(enum.StrEnum):
    DRAFT = "draft"
    SUBMITTED = "submitted"
    APPRAISED = "appraised"
    APPROVED = "approved"
    REJECTED = "rejected"
    WITHDRAWN = "withdrawn"


class LoanStatus(enum.StrEnum):
    APPROVED = "approved"
    CONTRACTED = "contracted"
    ACTIVE = "active"
    CLOSED = "closed"
    WRITTEN_OFF = "written_off"  # risk handled (xử lý rủi ro): off-balance, still tracked
    REMOVED = "removed"  # removed from off-balance tracking (xuất toán), 5 years on at least
    CANCELLED = "cancelled"


ORDERS = ("standard", "principal_first")
PREPAYMENT_MODES = ("keep_maturity", "shorten_term")


class TermsMixin:
    """The schedule terms, proposed on an application and fixed on the contract."""

    term_months: Mapped[int]
    annual_rate: Mapped[Decimal] = mapped_column(Rate)
    principal_method: Mapped[str] = mapped_column(String(20), default="equal_principal")
    principal_every_months: Mapped[int] = mapped_column(default=1)
    interest_every_months: Mapped[int] = mapped_column(default=1)
    grace_months: Mapped[int] = mapped_column(default=0)
    # [["YYYY-MM-DD", amount], …] for the custom (harvest-linked) method
    custom_schedule: Mapped[list | None] = mapped_column(JSON)


class Application(SearchKeyMixin, TermsMixin, TimestampMixin, db.Model):
    __tablename__ = "applications"
    __table_args__ = (
        CheckConstraint(in_values("status", [s.value for s in ApplicationStatus]), name="status"),
        CheckConstraint("requested_amount > 0", name="requested_positive"),
        CheckConstraint("total_project_cost > 0", name="cost_positive"),
        CheckConstraint("own_equity >= 0", name="equity_not_negative"),
        CheckConstraint("term_months > 0", name="term_positive"),
        CheckConstraint(in_values("principal_method", METHODS), name="method"),
    )
    search_fields = ("project_name",)

    id: Mapped[int] = mapped_column(primary_key=True)
    cooperative_id: Mapped[int] = mapped_column(
        ForeignKey("cooperatives.id", ondelete="RESTRICT"), index=True
    )
    project_name: Mapped[str] = mapped_column(String(200))
    description: Mapped[str] = mapped_column(Text, default="")
    purpose: Mapped[str] = mapped_column(String(255), default="")
    total_project_cost: Mapped[int] = mapped_column(Money)
    own_equity: Mapped[int] = mapped_column(Money)
    requested_amount: Mapped[int] = mapped_column(Money)
    collateral_offered: Mapped[str] = mapped_column(Text, default="")
    status: Mapped[str] = mapped_column(String(20), default=ApplicationStatus.DRAFT, index=True)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    officer_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    submitted_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # appraisal
    appraised_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    appraised_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    recommended_amount: Mapped[int | None] = mapped_column(Money)
    appraisal_note: Mapped[str] = mapped_column(Text, default="")
    appraisal_checks: Mapped[list | None] = mapped_column(JSON)
    # decision
    decided_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    decision_note: Mapped[str] = mapped_column(Text, default="")
    override_reason: Mapped[str] = mapped_column(Text, default="")

    cooperative = relationship("Cooperative", lazy="joined")
    created_by = relationship("User", foreign_keys=[created_by_id], lazy="joined")
    appraised_by = relationship("User", foreign_keys=[appraised_by_id], lazy="joined")
    decided_by = relationship("User", foreign_keys=[decided_by_id], lazy="joined")
    documents: Mapped[list[ApplicationDocument]] = relationship(
        back_populates="application", lazy="selectin", order_by="ApplicationDocument.id"
    )
    loan: Mapped[Loan | None] = relationship(back_populates="application", uselist=False)


class ApplicationDocument(TimestampMixin, db.Model):
    __tablename__ = "application_documents"

    id: Mapped[int] = mapped_column(primary_key=True)
    application_id: Mapped[int] = mapped_column(
        ForeignKey("applications.id", ondelete="CASCADE"), index=True
    )
    original_name: Mapped[str] = mapped_column(String(255))
    stored_name: Mapped[str] = mapped_column(String(80), unique=True)
    content_type: Mapped[str] = mapped_column(String(100))
    size: Mapped[int]
    uploaded_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    application: Mapped[Application] = relationship(back_populates="documents")


class Loan(SearchKeyMixin, TermsMixin, TimestampMixin, db.Model):
    __tablename__ = "loans"
    __table_args__ = (
        CheckConstraint(in_values("status", [s.value for s in LoanStatus]), name="status"),
        CheckConstraint("amount > 0", name="amount_positive"),
        CheckConstraint("term_months > 0", name="term_positive"),
        CheckConstraint(in_values("principal_method", METHODS), name="method"),
        CheckConstraint(in_values("repayment_order", ORDERS), name="order"),
        CheckConstraint(in_values("prepayment_mode", PREPAYMENT_MODES), name="prepayment_mode"),
        CheckConstraint("principal_outstanding >= 0", name="outstanding_not_negative"),
        CheckConstraint("interest_reliefs >= 0", name="interest_reliefs_not_negative"),
        # The loan list's search box: a contract number or words of the project's name.
        trigram_index("ix_loans_contract_no_trgm", "upper", "contract_no"),
        trigram_index("ix_loans_project_name_trgm", "lower", "project_name"),
        trigram_index("ix_loans_search_key_trgm", "lower", "search_key"),
        # A page of the list finds a district's loans (by borrower, and status) or walks a
        # status's loans newest first from an index alone, never reading the wide loan rows.
        Index("ix_loans_cooperative_id_status", "cooperative_id", "status", "id"),
        Index("ix_loans_status_id", "status", "id"),
        # Contract numbers are unique per origin fund: a book taken over keeps its own
        # numbers, which may repeat this fund's (NULL origin: this fund, its own index).
        UniqueConstraint("origin_fund_id", "contract_no"),
        Index(
            "uq_loans_own_contract_no",
            "contract_no",
            unique=True,
            postgresql_where=text("origin_fund_id IS NULL"),
            sqlite_where=text("origin_fund_id IS NULL"),
        ),
    )
    search_fields = ("contract_no", "project_name")

    id: Mapped[int] = mapped_column(primary_key=True)
    contract_no: Mapped[str] = mapped_column(String(40))
    # The fund whose book the loan came from; NULL: this fund (fundapp.funds).
    origin_fund_id: Mapped[int | None] = mapped_column(
        ForeignKey("funds.id", ondelete="RESTRICT"), index=True
    )
    application_id: Mapped[int | None] = mapped_column(
        ForeignKey("applications.id", ondelete="RESTRICT"), unique=True
    )
    cooperative_id: Mapped[int] = mapped_column(ForeignKey("cooperatives.id", ondelete="RESTRICT"))
    officer_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL"), index=True
    )
    project_name: Mapped[str] = mapped_column(String(200))
    purpose: Mapped[str] = mapped_column(String(255), default="")
    amount: Mapped[int] = mapped_column(Money)
    status: Mapped[str] = mapped_column(String(20), default=LoanStatus.APPROVED)
    repayment_order: Mapped[str] = mapped_column(String(20), default="standard")
    prepayment_mode: Mapped[str] = mapped_column(String(20), default="keep_maturity")
    overdue_multiplier: Mapped[Decimal] = mapped_column(Rate, default=DEFAULT_OVERDUE_MULTIPLIER)
    late_rate: Mapped[Decimal] = mapped_column(Rate, default=DEFAULT_LATE_RATE)
    policy_snapshot: Mapped[dict] = mapped_column(JSON, default=dict)
    # The interest support the loan is enrolled on (fundapp.support), its terms snapshotted:
    # {"scheme_id", "share", "first_due", "last_due", "cap"}; NULL: none.
    support_terms: Mapped[dict | None] = mapped_column(JSON)
    approved_on: Mapped[date]
    contract_date: Mapped[date | None]
    first_disbursement_date: Mapped[date | None]
    maturity_date: Mapped[date | None]
    closed_on: Mapped[date | None]
    term_adjustments: Mapped[int] = mapped_column(default=0)
    extensions: Mapped[int] = mapped_column(default=0)
    # Approved exemptions or reductions of interest because the borrower could not pay
    # (Circular 14/2024 Art. 5: group 3 at least); counted by the relief workflow.
    interest_reliefs: Mapped[int] = mapped_column(default=0, server_default=text("0"))
    # Cached from the last replay, for lists and reports; the replay is the truth.
    disbursed: Mapped[int] = mapped_column(Money, default=0)
    principal_outstanding: Mapped[int] = mapped_column(Money, default=0)
    principal_paid: Mapped[int] = mapped_column(Money, default=0)
    interest_paid: Mapped[int] = mapped_column(Money, default=0)
    penalty_paid: Mapped[int] = mapped_column(Money, default=0)
    written_off: Mapped[int] = mapped_column(Money, default=0)
    # The debt group, kept current by the close of day; 1 until then.
    debt_group: Mapped[int] = mapped_column(default=1)
    # Something that can move the classification or the provision changed since the last
    # close of day (a replay, new collateral): the next run examines the loan.
    reclassify: Mapped[bool] = mapped_column(default=True, server_default=sa_true())

    application: Mapped[Application | None] = relationship(back_populates="loan")
    cooperative = relationship("Cooperative", lazy="joined")
    officer = relationship("User", foreign_keys=[officer_id], lazy="joined")
    instalments: Mapped[list[Instalment]] = relationship(
        back_populates="loan", order_by="Instalment.no", cascade="all, delete-orphan"
    )

    @property
    def restructure_count(self) -> int:
        return self.term_adjustments + self.extensions

    @property
    def support(self) -> dict[str, Any] | None:
        """The interest support terms the loan keeps, read for display (share as a Decimal,
        dates as dates); None: no support."""
        terms = self.support_terms
        if not terms:
            return None
        last = terms.get("last_due")
        return {
            "scheme_id": terms["scheme_id"],
            "share": Decimal(str(terms["share"])),
            "share_label": f"{format(Decimal(str(terms['share'])).normalize(), 'f')} %",
            "first_due": date.fromisoformat(terms["first_due"]),
            "last_due": date.fromisoformat(last) if last else None,
            "cap": terms.get("cap"),
        }


class Instalment(db.Model):
    """One row of the loan's current schedule, with what has been paid on it."""

    __tablename__ = "instalments"
    __table_args__ = (
        UniqueConstraint("loan_id", "no", name="loan_no"),
        CheckConstraint("principal >= 0 AND interest >= 0", name="amounts_not_negative"),
        CheckConstraint(
            "principal_paid >= 0 AND principal_paid <= principal "
            "AND interest_paid >= 0 AND interest_paid <= interest AND penalty_paid >= 0",
            name="paid_within_due",
        ),
        # Only what is unsettled: the close of day finds the late instalments by a range
        # scan of this index (due before D) without reading the settled history.
        Index(
            "ix_instalments_due_unsettled",
            "due_date",
            "loan_id",
            postgresql_where=text(UNSETTLED),
            sqlite_where=text(UNSETTLED),
        ),
        # What falls due month by month (the dashboard's collections chart) from the index
        # alone, on PostgreSQL.
        Index(
            "ix_instalments_due_date_amounts",
            "due_date",
            postgresql_include=["principal", "interest"],
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    loan_id: Mapped[int] = mapped_column(ForeignKey("loans.id", ondelete="CASCADE"), index=True)
    no: Mapped[int]
    due_date: Mapped[date]
    interest_from: Mapped[date | None]
    principal_due_date: Mapped[bool] = mapped_column(default=True)
    opening_principal: Mapped[int] = mapped_column(Money)
    principal: Mapped[int] = mapped_column(Money)
    interest: Mapped[int] = mapped_column(Money)
    principal_paid: Mapped[int] = mapped_column(Money, default=0)
    interest_paid: Mapped[int] = mapped_column(Money, default=0)
    penalty_paid: Mapped[int] = mapped_column(Money, default=0)
    # Of the paid columns above, what an approved interest relief waived (miễn, giảm lãi):
    # settled, but not money received. ``interest - interest_paid`` stays what is owed.
    interest_waived: Mapped[int] = mapped_column(Money, default=0, server_default=text("0"))
    penalty_waived: Mapped[int] = mapped_column(Money, default=0, server_default=text("0"))
    # Of ``interest_paid``, the budget's share under interest support (fundapp.support):
    # settled on the due date by the budget, not owed by the borrower.
    interest_supported: Mapped[int] = mapped_column(Money, default=0, server_default=text("0"))
    paid_on: Mapped[date | None]
    # Overdue state as of the last close of day, advanced one day per run in SQL:
    # Σ unpaid principal × days and Σ unpaid interest × days since the due date, and the
    # overdue interest they make, rounded once.
    principal_balance_days: Mapped[int] = mapped_column(Money, default=0)
    interest_balance_days: Mapped[int] = mapped_column(Money, default=0)
    penalty_accrued: Mapped[int] = mapped_column(Money, default=0)

    loan: Mapped[Loan] = relationship(back_populates="instalments")

    @property
    def total(self) -> int:
        return self.principal + self.interest

    def status_on(self, as_of: date) -> str:
        if self.principal_paid == self.principal and self.interest_paid == self.interest:
            return "paid"
        if self.due_date < as_of:
            return "overdue"
        if self.due_date == as_of:
            return "due"
        # The budget's share under interest support is no payment of the borrower's.
        if self.principal_paid or self.interest_paid - self.interest_supported:
            return "partial"
        return "scheduled"


class DisbursementStatus(enum.StrEnum):
    PENDING = "pending"
    POSTED = "posted"
    REJECTED = "rejected"


class Disbursement(TimestampMixin, db.Model):
    """A tranche with its debt receipt (khế ước nhận nợ); posts when the director approves."""

    __tablename__ = "disbursements"
    __table_args__ = (
        CheckConstraint("amount > 0", name="amount_positive"),
        CheckConstraint(in_values("status", [s.value for s in DisbursementStatus]), name="status"),
        pending_index("disbursements"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    loan_id: Mapped[int] = mapped_column(ForeignKey("loans.id", ondelete="RESTRICT"), index=True)
    amount: Mapped[int] = mapped_column(Money)
    value_date: Mapped[date]
    reference: Mapped[str] = mapped_column(String(80), default="")
    receipt_no: Mapped[str] = mapped_column(String(40), unique=True)
    status: Mapped[str] = mapped_column(String(20), default=DisbursementStatus.PENDING)
    recorded_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    approved_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    journal_entry_id: Mapped[int | None] = mapped_column(
        ForeignKey("journal_entries.id", ondelete="RESTRICT")
    )

    loan: Mapped[Loan] = relationship(lazy="joined")
    recorded_by = relationship("User", foreign_keys=[recorded_by_id], lazy="joined")
    approved_by = relationship("User", foreign_keys=[approved_by_id], lazy="joined")


class Repayment(TimestampMixin, db.Model):
    """Money received on a loan. Never edited or deleted; a mistake is reversed."""

    __tablename__ = "repayments"
    __table_args__ = (CheckConstraint("amount > 0", name="amount_positive"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    loan_id: Mapped[int] = mapped_column(ForeignKey("loans.id", ondelete="RESTRICT"), index=True)
    amount: Mapped[int] = mapped_column(Money)
    value_date: Mapped[date]
    method: Mapped[str] = mapped_column(String(20), default="bank")
    reference: Mapped[str] = mapped_column(String(80), default="")
    receipt_no: Mapped[str] = mapped_column(String(40), unique=True)
    recorded_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    reversed: Mapped[bool] = mapped_column(default=False)
    # What the latest replay allocated: [{"no", "component", "amount"}]
    allocations: Mapped[list] = mapped_column(JSON, default=list)
    prepaid_principal: Mapped[int] = mapped_column(Money, default=0)
    journal_entry_id: Mapped[int | None] = mapped_column(
        ForeignKey("journal_entries.id", ondelete="RESTRICT")
    )

    loan: Mapped[Loan] = relationship(lazy="joined")
    recorded_by = relationship("User", lazy="joined")


class ApprovalStatus(enum.StrEnum):
    PENDING = "pending"
    APPROVED = "approved"
    REJECTED = "rejected"


class Reversal(TimestampMixin, db.Model):
    __tablename__ = "reversals"
    __table_args__ = (
        CheckConstraint(in_values("status", [s.value for s in ApprovalStatus]), name="status"),
        pending_index("reversals"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    repayment_id: Mapped[int] = mapped_column(
        ForeignKey("repayments.id", ondelete="RESTRICT"), index=True
    )
    reason: Mapped[str] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(20), default=ApprovalStatus.PENDING)
    requested_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    approved_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    journal_entry_id: Mapped[int | None] = mapped_column(
        ForeignKey("journal_entries.id", ondelete="RESTRICT")
    )

    repayment: Mapped[Repayment] = relationship(lazy="joined")
    requested_by = relationship("User", foreign_keys=[requested_by_id], lazy="joined")
    approved_by = relationship("User", foreign_keys=[approved_by_id], lazy="joined")


class Restructuring(TimestampMixin, db.Model):
    """Term adjustment (điều chỉnh kỳ hạn) or extension (gia hạn nợ), Decree 45 Art. 27."""

    __tablename__ = "restructurings"
    __table_args__ = (
        CheckConstraint(in_values("kind", ["term_adjustment", "extension"]), name="kind"),
        CheckConstraint(in_values("status", [s.value for s in ApprovalStatus]), name="status"),
        pending_index("restructurings"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    loan_id: Mapped[int] = mapped_column(ForeignKey("loans.id", ondelete="RESTRICT"), index=True)
    kind: Mapped[str] = mapped_column(String(20))
    effective_date: Mapped[date]
    new_maturity: Mapped[date | None]
    # [["YYYY-MM-DD", amount or null], …]; empty = the engine's default spread
    principal_plan: Mapped[list] = mapped_column(JSON, default=list)
    reason: Mapped[str] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(20), default=ApprovalStatus.PENDING)
    requested_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    approved_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    loan: Mapped[Loan] = relationship(lazy="joined")
    requested_by = relationship("User", foreign_keys=[requested_by_id], lazy="joined")
    approved_by = relationship("User", foreign_keys=[approved_by_id], lazy="joined")


class WriteOff(TimestampMixin, db.Model):
    """Risk handling (xử lý rủi ro): a group-5 loan's principal absorbed by the provision and
    tracked off-balance. Removal from that tracking is ``OffBalanceRemoval`` (xuất toán)."""

    __tablename__ = "write_offs"
    __table_args__ = (
        CheckConstraint(in_values("status", [s.value for s in ApprovalStatus]), name="status"),
        pending_index("write_offs"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    loan_id: Mapped[int] = mapped_column(ForeignKey("loans.id", ondelete="RESTRICT"), index=True)
    amount: Mapped[int] = mapped_column(Money, default=0)
    reason: Mapped[str] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(20), default=ApprovalStatus.PENDING)
    proposed_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    approved_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    journal_entry_id: Mapped[int | None] = mapped_column(
        ForeignKey("journal_entries.id", ondelete="RESTRICT")
    )

    loan: Mapped[Loan] = relationship(lazy="joined")


class Collateral(TimestampMixin, db.Model):
    __tablename__ = "collaterals"
    __table_args__ = (CheckConstraint("valuation >= 0", name="valuation_not_negative"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    loan_id: Mapped[int] = mapped_column(ForeignKey("loans.id", ondelete="CASCADE"), index=True)
    kind: Mapped[str] = mapped_column(String(60))
    description: Mapped[str] = mapped_column(Text, default="")
    valuation: Mapped[int] = mapped_column(Money)
    # Share of the valuation counted against provisions (e.g. 0.5 for land use rights).
    discount_factor: Mapped[Decimal] = mapped_column(Rate, default=Decimal("0"))


class Inspection(TimestampMixin, db.Model):
    """Loan-use inspection (kiểm tra sử dụng vốn vay)."""

    __tablename__ = "inspections"
    __table_args__ = (
        CheckConstraint(in_values("finding", ["proper", "partial", "improper"]), name="finding"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    loan_id: Mapped[int] = mapped_column(ForeignKey("loans.id", ondelete="CASCADE"), index=True)
    inspected_on: Mapped[date]
    inspector_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    finding: Mapped[str] = mapped_column(String(20))
    notes: Mapped[str] = mapped_column(Text, default="")

    inspector = relationship("User", lazy="joined")


class LoanTransition(db.Model):
    """Every status change of an application or a loan: who, when, from, to, why."""

    __tablename__ = "loan_transitions"

    id: Mapped[int] = mapped_column(primary_key=True)
    entity: Mapped[str] = mapped_column(String(20))  # application | loan
    entity_id: Mapped[int] = mapped_column(index=True)
    from_status: Mapped[str] = mapped_column(String(20))
    to_status: Mapped[str] = mapped_column(String(20))
    at: Mapped[datetime] = mapped_column(UTCDateTime)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    reason: Mapped[str] = mapped_column(Text, default="")

    user = relationship("User", lazy="joined")


class Counter(db.Model):
    """Gap-free document numbers per series and year (receipts, contracts, debt receipts).
    Incremented under a row lock."""

    __tablename__ = "counters"

    series: Mapped[str] = mapped_column(String(40), primary_key=True)
    value: Mapped[int] = mapped_column(default=0)
