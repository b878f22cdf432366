"""The loan contract: the loan created from an approved application (or from a loan file
the old system approved) with the terms and the policy in force frozen in it, the
signature with the repayment order the contract chooses, that order's change before the
first disbursement, cancellation, and the maturity the contract implies.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

from flask_babel import gettext as _
from sqlalchemy import func, select

from fundapp import audit
from fundapp.core.security import Role
from fundapp.domain.dates import add_months, utcnow
from fundapp.domain.errors import N_, Conflict, DomainError, ValidationFailed
from fundapp.extensions import db
from fundapp.lending.lifecycle import require, transition
from fundapp.lending.terms import CleanTerms
from fundapp.loans import store
from fundapp.loans.models import (
    ORDERS,
    Application,
    Disbursement,
    DisbursementStatus,
    Loan,
    LoanStatus,
    LoanTransition,
)
from fundapp.policy import services as policy


def new_loan(
    actor: Any, terms: Application | CleanTerms, day: date, note: str, **columns: Any
) -> Loan:
    """A loan approved on ``day`` on ``terms`` (an application's, or an imported row's),
    with the policy in force that day frozen in it (the whole snapshot, and the overdue and
    late-interest rates the replay reads): a later change of policy never reaches a signed
    loan. ``columns`` are its other columns (number, borrower, amount…). Its first
    transition is recorded; the caller audits it."""
    snapshot = policy.snapshot(day)
    loan = Loan(
        **columns,
        status=LoanStatus.APPROVED,
        term_months=terms.term_months,
        annual_rate=terms.annual_rate,
        principal_method=terms.principal_method,
        principal_every_months=terms.principal_every_months,
        interest_every_months=terms.interest_every_months,
        grace_months=terms.grace_months,
        custom_schedule=terms.custom_schedule,
        overdue_multiplier=Decimal(snapshot["overdue_rate_pct"]),
        late_rate=Decimal(snapshot["late_interest_rate"]),
        policy_snapshot=snapshot,
        approved_on=day,
    )
    db.session.add(loan)
    db.session.flush()
    db.session.add(
        LoanTransition(
            entity="loan",
            entity_id=loan.id,
            from_status="",
            to_status=LoanStatus.APPROVED,
            at=utcnow(),
            user_id=actor.id,
            reason=note,
        )
    )
    return loan


# The order a repayment settles the parts of an instalment, chosen per contract.
REPAYMENT_ORDER_LABELS = {
    "standard": N_("Lãi phạt → lãi → gốc (mặc định)"),
    "principal_first": N_("Gốc → lãi → lãi phạt"),
}


def _clean_order(order: str | None) -> str | None:
    """None when not given; the order's code, or ValidationFailed naming the choices."""
    if order is None or order == "":
        return None
    if order not in ORDERS:
        msg = _("Thứ tự thu nợ là một trong: %(v)s.", v=", ".join(ORDERS))
        raise ValidationFailed(msg, {"repayment_order": msg})
    return order


def sign_contract(
    actor: Any, loan: Loan, contract_date: date, as_of: date, repayment_order: str | None = None
) -> None:
    """The contract is signed; ``repayment_order`` (default: the standard order) is the
    allocation order the contract chooses."""
    require(actor, Role.OFFICER, Role.DIRECTOR)
    store.lock_loan(loan.id)  # re-reads ``loan`` (the same object) under the lock
    order = _clean_order(repayment_order)
    if contract_date > as_of or contract_date < loan.approved_on:
        msg = _("Ngày ký hợp đồng từ ngày phê duyệt đến ngày làm việc hiện tại.")
        raise ValidationFailed(msg, {"contract_date": msg})
    transition(loan, LoanStatus.CONTRACTED, actor)
    loan.contract_date = contract_date
    if order is not None and order != loan.repayment_order:
        _record_order(actor, loan, order)


def set_repayment_order(actor: Any, loan: Loan, repayment_order: str) -> None:
    """Change the contract's allocation order: only before the first disbursement, since
    repayments allocated under one order must not be re-read under another."""
    require(actor, Role.OFFICER, Role.DIRECTOR)
    store.lock_loan(loan.id)
    order = _clean_order(repayment_order)
    if order is None or order == loan.repayment_order:
        return
    if loan.status not in (LoanStatus.APPROVED, LoanStatus.CONTRACTED) or loan.disbursed:
        msg = _(
            "Thứ tự thu nợ chỉ thay đổi được trước lần giải ngân đầu tiên; khoản vay đã giải "
            "ngân giữ thứ tự đã ghi trong hợp đồng."
        )
        raise Conflict(msg, {"repayment_order": msg})
    _record_order(actor, loan, order)


def _record_order(actor: Any, loan: Loan, order: str) -> None:
    before = loan.repayment_order
    loan.repayment_order = order
    audit.record(
        actor,
        "loan.repayment_order",
        "loan",
        loan.id,
        {"repayment_order": before},
        {"contract_no": loan.contract_no, "repayment_order": order},
    )


def cancel(actor: Any, loan: Loan, reason: str) -> None:
    require(actor, Role.DIRECTOR, Role.BOARD)
    if not (reason or "").strip():
        raise ValidationFailed(_("Cần ghi lý do hủy."), {"reason": _("Cần ghi lý do hủy.")})
    store.lock_loan(loan.id)
    if loan.disbursed or db.session.scalar(
        select(func.count(Disbursement.id)).where(
            Disbursement.loan_id == loan.id, Disbursement.status == DisbursementStatus.PENDING
        )
    ):
        raise DomainError(_("Khoản vay đã có giải ngân; không hủy được."))
    transition(loan, LoanStatus.CANCELLED, actor, reason)


def maturity_of(loan: Loan) -> date | None:
    if loan.maturity_date:
        return loan.maturity_date
    if loan.first_disbursement_date:
        return add_months(loan.first_disbursement_date, loan.term_months)
    return None
