"""The JSON of applications, loans, schedules, disbursements, repayments, reversals and
restructurings, shared by every API view that returns one of them.

Exactly the keys of the shapes in fundapp/api/shapes.py and transaction_shapes.py: rates as
strings (``"7.2"``), dates ISO, money whole đồng; a cooperative's user does not read the
fund's internals of an application.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

from sqlalchemy import select

from fundapp.api import shapes, transaction_shapes
from fundapp.api.common import current_api_user, timestamp
from fundapp.core.security import STAFF_READ, has_role
from fundapp.extensions import db
from fundapp.funds import services as funds
from fundapp.loans import standing, stored
from fundapp.loans.models import (
    Application,
    Disbursement,
    Instalment,
    Loan,
    LoanStatus,
    Repayment,
    Restructuring,
    Reversal,
)

# --- shape of JSON output ------------------------------------------------------------------


def _rate(value: Decimal | None) -> str | None:
    return None if value is None else format(Decimal(value).normalize(), "f")


def _day(value: date | None) -> str | None:
    return value.isoformat() if value else None


# What only the fund's staff read of an application: the appraisal (its rule checks hold
# the fund's cash and charter capital, and the debt of the other borrowers of a related
# group), the appraiser's note, the board's override and who handled it. A cooperative's user
# reads the status, its own figures and the decision with its reasons (as the portal shows).
STAFF_ONLY = (
    "created_by_id",
    "recommended_amount",
    "appraised_by_id",
    "appraisal_note",
    "checks",
    "decided_by_id",
    "override_reason",
)


def application_json(app: Application) -> shapes.Application | shapes.OwnApplication:
    """The application as the API's user may read it: staff whole, a cooperative without
    the fund's internals (``STAFF_ONLY``)."""
    data: dict[str, Any] = {
        "id": app.id,
        "status": app.status,
        "cooperative_id": app.cooperative_id,
        "cooperative_name": app.cooperative.name if app.cooperative else None,
        "project_name": app.project_name,
        "purpose": app.purpose,
        "description": app.description,
        "total_project_cost": app.total_project_cost,
        "own_equity": app.own_equity,
        "requested_amount": app.requested_amount,
        "term_months": app.term_months,
        "annual_rate": _rate(app.annual_rate),
        "principal_method": app.principal_method,
        "principal_every_months": app.principal_every_months,
        "interest_every_months": app.interest_every_months,
        "grace_months": app.grace_months,
        "custom_schedule": app.custom_schedule,
        "collateral_offered": app.collateral_offered,
        "created_by_id": app.created_by_id,
        "created_at": timestamp(app.created_at),
        "submitted_at": timestamp(app.submitted_at),
        "recommended_amount": app.recommended_amount,
        "appraised_by_id": app.appraised_by_id,
        "appraised_at": timestamp(app.appraised_at),
        "appraisal_note": app.appraisal_note,
        # The rule checks as they stood at appraisal; null until then.
        "checks": app.appraisal_checks,
        "decided_by_id": app.decided_by_id,
        "decided_at": timestamp(app.decided_at),
        "decision_note": app.decision_note,
        "override_reason": app.override_reason,
        "loan_id": app.loan.id if app.loan else None,
    }
    if not has_role(current_api_user(), *STAFF_READ):
        for key in STAFF_ONLY:
            del data[key]
    return data  # type: ignore[return-value]


def loan_json(loan: Loan) -> shapes.Loan:
    """The loan's terms and cached figures (cheap: no replay; lists use this)."""
    return {
        "id": loan.id,
        "contract_no": loan.contract_no,
        "application_id": loan.application_id,
        "cooperative_id": loan.cooperative_id,
        "cooperative_name": loan.cooperative.name if loan.cooperative else None,
        "project_name": loan.project_name,
        "purpose": loan.purpose,
        "status": loan.status,
        "amount": loan.amount,
        "term_months": loan.term_months,
        "annual_rate": _rate(loan.annual_rate),
        "principal_method": loan.principal_method,
        "principal_every_months": loan.principal_every_months,
        "interest_every_months": loan.interest_every_months,
        "grace_months": loan.grace_months,
        "custom_schedule": loan.custom_schedule,
        "repayment_order": loan.repayment_order,
        "prepayment_mode": loan.prepayment_mode,
        "origin_fund": funds.code_of(loan.origin_fund_id),
        "overdue_rate_pct": _rate(loan.overdue_multiplier),
        "late_interest_rate": _rate(loan.late_rate),
        "approved_on": _day(loan.approved_on),
        "contract_date": _day(loan.contract_date),
        "first_disbursement_date": _day(loan.first_disbursement_date),
        "maturity_date": _day(loan.maturity_date),
        "closed_on": _day(loan.closed_on),
        "disbursed": loan.disbursed,
        "principal_outstanding": loan.principal_outstanding,
        "principal_paid": loan.principal_paid,
        "interest_paid": loan.interest_paid,
        "penalty_paid": loan.penalty_paid,
        "written_off": loan.written_off,
        "term_adjustments": loan.term_adjustments,
        "extensions": loan.extensions,
    }


def balances_json(loan: Loan, as_of: date) -> shapes.Balances:
    state = stored.state_of(loan)
    b = state.balances(as_of)
    group = standing.live_group(loan, state, as_of)
    return {
        "as_of": as_of.isoformat(),
        "disbursed": b.disbursed,
        "principal_outstanding": max(b.principal_outstanding - loan.written_off, 0),
        "principal_overdue": b.principal_overdue,
        "principal_due": b.principal_due,
        "interest_due": b.interest_due,
        "interest_overdue": b.interest_overdue,
        "penalty_due": b.penalty_due,
        "total_due": b.total_due,
        "days_past_due": b.days_past_due,
        "oldest_unpaid_due_date": _day(b.oldest_unpaid_due_date),
        "debt_group": group,
        # As the loan page shows it: only an active loan has something to pay off (the
        # engine would count again the interest a closing repayment paid up to its date).
        "payoff_amount": state.payoff_amount(as_of) if loan.status == LoanStatus.ACTIVE else 0,
    }


def loan_detail_json(loan: Loan, as_of: date) -> shapes.LoanDetail:
    return {**loan_json(loan), "balances": balances_json(loan, as_of)}


def instalment_json(i: Instalment, as_of: date) -> shapes.Instalment:
    return {
        "no": i.no,
        "due_date": i.due_date.isoformat(),
        "principal": i.principal,
        "interest": i.interest,
        "total": i.total,
        "principal_paid": i.principal_paid,
        # Money received; what an interest relief waived is shown apart.
        "interest_paid": i.interest_paid - i.interest_waived - i.interest_supported,
        "penalty_paid": i.penalty_paid - i.penalty_waived,
        "interest_waived": i.interest_waived,
        # The budget's share under interest support (not owed by the borrower).
        "interest_supported": i.interest_supported,
        "penalty_waived": i.penalty_waived,
        "paid_on": _day(i.paid_on),
        "status": i.status_on(as_of),  # type: ignore[typeddict-item]
    }


def schedule_json(loan: Loan, as_of: date) -> shapes.Schedule:
    rows = db.session.scalars(
        select(Instalment).where(Instalment.loan_id == loan.id).order_by(Instalment.no)
    )
    return {
        "loan_id": loan.id,
        "as_of": as_of.isoformat(),
        "instalments": [instalment_json(i, as_of) for i in rows],
    }


def disbursement_json(d: Disbursement) -> transaction_shapes.Disbursement:
    return {
        "id": d.id,
        "loan_id": d.loan_id,
        "status": d.status,
        "receipt_no": d.receipt_no,
        "amount": d.amount,
        "date": _day(d.value_date),
        "reference": d.reference,
        "recorded_by_id": d.recorded_by_id,
        "approved_by_id": d.approved_by_id,
        "decided_at": timestamp(d.decided_at),
        "journal_entry_id": d.journal_entry_id,
    }


def repayment_json(r: Repayment) -> transaction_shapes.Repayment:
    lines: list[transaction_shapes.AllocationLine] = [
        {"no": a["no"], "component": a["component"], "amount": a["amount"]}
        for a in r.allocations or []
    ]
    if r.prepaid_principal:
        # The excess over what was due prepays principal: shown as its own line so the
        # allocation amounts always add up to the repayment.
        lines.append(
            {
                "no": None,
                "component": "principal",
                "amount": r.prepaid_principal,
                "prepayment": True,
            }
        )
    return {
        "id": r.id,
        "loan_id": r.loan_id,
        "receipt_no": r.receipt_no,
        "amount": r.amount,
        "date": _day(r.value_date),
        "method": r.method,
        "reference": r.reference,
        "reversed": r.reversed,
        "allocations": lines,
        "prepaid_principal": r.prepaid_principal,
        "recorded_by_id": r.recorded_by_id,
    }


def reversal_json(r: Reversal) -> transaction_shapes.Reversal:
    return {
        "id": r.id,
        "status": r.status,
        "repayment_id": r.repayment_id,
        "reason": r.reason,
        "requested_by_id": r.requested_by_id,
        "approved_by_id": r.approved_by_id,
        "decided_at": timestamp(r.decided_at),
    }


def restructuring_json(r: Restructuring) -> transaction_shapes.Restructuring:
    return {
        "id": r.id,
        "loan_id": r.loan_id,
        "status": r.status,
        "kind": r.kind,
        "effective_date": _day(r.effective_date),
        "new_maturity": _day(r.new_maturity),
        "principal_plan": r.principal_plan,
        "reason": r.reason,
        "requested_by_id": r.requested_by_id,
        "approved_by_id": r.approved_by_id,
        "decided_at": timestamp(r.decided_at),
    }
