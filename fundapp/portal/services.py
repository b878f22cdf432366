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
from fundapp.domain.errors import NotFound
from fundapp.extensions import db
from fundapp.loans.models import (
    Application,
    ApplicationDocument,
    ApplicationStatus,
    Loan,
    LoanStatus,
    Repayment,
)
from fundapp.loans.queries import LoanPosition, loan_position

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


# --- the home page ---------------------------------------------------------------------------


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


# --- applications ----------------------------------------------------------------------------


def applications_of(cooperative_id: int) -> list[Application]:
    return list(
        db.session.scalars(
            select(Application)
            .where(Application.cooperative_id == cooperative_id)
            .order_by(Application.id.desc())
        )
    )


# --- profile ---------------------------------------------------------------------------------


def update_contact(actor: Any, coop: Cooperative, data: dict[str, Any]) -> Cooperative:
    """Change the contact details only, through the cooperatives' own rules and audit;
    every other registered field keeps its value whatever ``data`` holds."""
    current = {key: value for key, value in coop.to_dict().items() if key in cooperatives.FIELDS}
    changes = {key: data.get(key, "") for key in CONTACT_FIELDS}
    return cooperatives.update(actor, coop, {**current, **changes})
