"""What a cooperative sees of its own loans and applications.

Every figure comes from the loan book (the replay behind the staff loan page and
``GET /api/v1/loans/{id}``) or from the stored schedule and repayments; nothing is
recomputed here. Objects of another cooperative are "not found", so ids cannot be probed.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from flask_babel import gettext as _
from sqlalchemy import select

from fundapp.cooperatives import services as cooperatives
from fundapp.cooperatives.models import Cooperative
from fundapp.domain.errors import DomainError, NotFound
from fundapp.domain.replay import Balances, LoanState
from fundapp.extensions import db
from fundapp.loans import store as book
from fundapp.loans.models import (
    Application,
    ApplicationDocument,
    ApplicationStatus,
    Disbursement,
    DisbursementStatus,
    Instalment,
    Loan,
    LoanStatus,
    LoanTransition,
    Repayment,
)

# Loans whose balances come from the replay, as on the staff loan page.
REPLAYED = (LoanStatus.ACTIVE, LoanStatus.CLOSED)
# Approved, signed or being repaid: what the home page is about.
CURRENT = (LoanStatus.APPROVED, LoanStatus.CONTRACTED, LoanStatus.ACTIVE)
# The contact details a cooperative keeps up to date itself; the rest is registered by
# the fund from the cooperative's papers.
CONTACT_FIELDS = ("phone", "email", "address")
OPEN_APPLICATIONS = (
    ApplicationStatus.DRAFT,
    ApplicationStatus.SUBMITTED,
    ApplicationStatus.APPRAISED,
)


# --- own objects -----------------------------------------------------------------------------


def own_loan(cooperative_id: int, loan_id: int) -> Loan:
    loan = db.session.get(Loan, loan_id)
    if loan is None or loan.cooperative_id != cooperative_id:
        raise NotFound(_("Không tìm thấy khoản vay."))
    return loan


def own_application(cooperative_id: int, application_id: int) -> Application:
    app = db.session.get(Application, application_id)
    if app is None or app.cooperative_id != cooperative_id:
        raise NotFound(_("Không tìm thấy hồ sơ vay."))
    return app


def own_document(cooperative_id: int, application_id: int, doc_id: int) -> ApplicationDocument:
    app = own_application(cooperative_id, application_id)
    doc = db.session.get(ApplicationDocument, doc_id)
    if doc is None or doc.application_id != app.id:
        raise NotFound(_("Không tìm thấy tài liệu."))
    return doc


# --- a loan's position -----------------------------------------------------------------------


@dataclass(frozen=True)
class NextDue:
    """The next instalment not yet paid, falling due today or later: what is left on it."""

    no: int
    due_date: date
    principal: int
    interest: int
    total: int


@dataclass(frozen=True)
class LoanPosition:
    loan: Loan
    balances: Balances | None = None
    debt_group: int | None = None
    next_due: NextDue | None = None
    payoff: int = 0
    error: str = ""

    @property
    def overdue(self) -> bool:
        return bool(self.balances and self.balances.days_past_due)


def _next_due(state: LoanState, as_of: date) -> NextDue | None:
    for row in state.rows:
        if row.due_date >= as_of and (row.principal_unpaid or row.interest_unpaid):
            principal, interest = row.principal_unpaid, row.interest_unpaid
            return NextDue(row.no, row.due_date, principal, interest, principal + interest)
    return None


def loan_position(loan: Loan, as_of: date) -> LoanPosition:
    if loan.status not in REPLAYED or not loan.disbursed:
        return LoanPosition(loan)
    try:
        state = book.replay(loan)
    except DomainError as exc:
        return LoanPosition(loan, error=exc.message)
    balances = state.balances(as_of)
    return LoanPosition(
        loan,
        balances,
        book.live_group(loan, state, as_of),
        _next_due(state, as_of),
        state.payoff_amount(as_of) if loan.status == LoanStatus.ACTIVE else 0,
    )


@dataclass(frozen=True)
class Totals:
    principal_outstanding: int
    principal_overdue: int
    interest_overdue: int
    penalty_due: int
    total_due: int


def totals(positions: list[LoanPosition]) -> Totals:
    figures = [p.balances for p in positions if p.balances is not None]
    return Totals(
        sum(b.principal_outstanding for b in figures),
        sum(b.principal_overdue for b in figures),
        sum(b.interest_overdue for b in figures),
        sum(b.penalty_due for b in figures),
        sum(b.total_due for b in figures),
    )


def loans_of(cooperative_id: int) -> list[Loan]:
    return list(
        db.session.scalars(
            select(Loan).where(Loan.cooperative_id == cooperative_id).order_by(Loan.id.desc())
        )
    )


def _urgency(position: LoanPosition) -> tuple[bool, date]:
    """Overdue loans first, then by the next date something falls due."""
    due = position.next_due.due_date if position.next_due else date.max
    return (not position.overdue, due)


@dataclass(frozen=True)
class Home:
    positions: list[LoanPosition]
    totals: Totals
    finished: list[Loan]
    applications: list[Application]


def home(cooperative_id: int, as_of: date) -> Home:
    loans = loans_of(cooperative_id)
    positions = sorted(
        (loan_position(loan, as_of) for loan in loans if loan.status in CURRENT),
        key=_urgency,
    )
    applications = list(
        db.session.scalars(
            select(Application)
            .where(
                Application.cooperative_id == cooperative_id,
                Application.status.in_(OPEN_APPLICATIONS),
            )
            .order_by(Application.id.desc())
        )
    )
    return Home(
        positions,
        totals(positions),
        [loan for loan in loans if loan.status not in CURRENT],
        applications,
    )


# --- a loan's page ---------------------------------------------------------------------------


@dataclass(frozen=True)
class ScheduleRow:
    no: int
    due_date: date
    principal: int
    interest: int
    total: int
    paid: int
    remaining: int
    paid_on: date | None
    status: str


def schedule_rows(loan: Loan, as_of: date) -> list[ScheduleRow]:
    rows = db.session.scalars(
        select(Instalment).where(Instalment.loan_id == loan.id).order_by(Instalment.no)
    )
    return [
        ScheduleRow(
            no=i.no,
            due_date=i.due_date,
            principal=i.principal,
            interest=i.interest,
            total=i.total,
            paid=i.principal_paid + i.interest_paid,
            remaining=i.total - i.principal_paid - i.interest_paid,
            paid_on=i.paid_on,
            status=i.status_on(as_of),
        )
        for i in rows
    ]


@dataclass(frozen=True)
class PaymentRow:
    id: int
    value_date: date
    receipt_no: str
    amount: int
    penalty: int
    interest: int
    principal: int
    prepaid: int
    reversed: bool


def payment_rows(loan: Loan) -> list[PaymentRow]:
    """Each repayment with what its latest allocation paid, by component."""
    out = []
    for r in db.session.scalars(
        select(Repayment)
        .where(Repayment.loan_id == loan.id)
        .order_by(Repayment.value_date.desc(), Repayment.id.desc())
    ):
        parts = {"penalty": 0, "interest": 0, "principal": 0}
        for line in r.allocations or []:
            parts[str(line["component"])] += int(line["amount"])
        out.append(
            PaymentRow(
                r.id,
                r.value_date,
                r.receipt_no,
                r.amount,
                parts["penalty"],
                parts["interest"],
                parts["principal"] + r.prepaid_principal,
                r.prepaid_principal,
                r.reversed,
            )
        )
    return out


def disbursements_of(loan: Loan) -> list[Disbursement]:
    return list(
        db.session.scalars(
            select(Disbursement)
            .where(
                Disbursement.loan_id == loan.id, Disbursement.status == DisbursementStatus.POSTED
            )
            .order_by(Disbursement.value_date, Disbursement.id)
        )
    )


# --- applications ----------------------------------------------------------------------------


def applications_of(cooperative_id: int) -> list[Application]:
    return list(
        db.session.scalars(
            select(Application)
            .where(Application.cooperative_id == cooperative_id)
            .order_by(Application.id.desc())
        )
    )


def status_history(app: Application) -> list[LoanTransition]:
    return list(
        db.session.scalars(
            select(LoanTransition)
            .where(LoanTransition.entity == "application", LoanTransition.entity_id == app.id)
            .order_by(LoanTransition.at, LoanTransition.id)
        )
    )


# --- profile ---------------------------------------------------------------------------------


def update_contact(actor: Any, coop: Cooperative, data: dict[str, Any]) -> Cooperative:
    """Change the contact details only, through the cooperatives' own rules and audit;
    every other registered field keeps its value whatever ``data`` holds."""
    current = {key: value for key, value in coop.to_dict().items() if key in cooperatives.FIELDS}
    changes = {key: data.get(key, "") for key in CONTACT_FIELDS}
    return cooperatives.update(actor, coop, {**current, **changes})
