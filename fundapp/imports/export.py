"""The fund's loan book in the import format: terms, tranches and repayments of each loan,
so that importing the file into a fresh fund with the same capital rebuilds every loan."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any

from flask_babel import gettext as _
from sqlalchemy import select

from fundapp.areas import services as areas
from fundapp.domain.dates import add_months
from fundapp.extensions import db
from fundapp.imports.template import pairs_text
from fundapp.loans.models import (
    ApprovalStatus,
    Disbursement,
    DisbursementStatus,
    Instalment,
    Loan,
    LoanStatus,
    Repayment,
    Restructuring,
)

KIND_CODES = {
    "cooperative": "htx",
    "union": "lien_hiep",
    "coop_member": "thanh_vien_htx",
    "group_member": "thanh_vien_tht",
}


@dataclass(frozen=True)
class LoanBook:
    rows: list[dict[str, Any]]
    notes: list[str]  # loans whose history the format cannot carry whole


def loan_book(statuses: Sequence[str] = (LoanStatus.ACTIVE,)) -> LoanBook:
    loans = list(
        db.session.scalars(select(Loan).where(Loan.status.in_(statuses)).order_by(Loan.id))
    )
    ids = [loan.id for loan in loans]
    tranches = _dated(
        select(Disbursement.loan_id, Disbursement.value_date, Disbursement.amount)
        .where(Disbursement.loan_id.in_(ids), Disbursement.status == DisbursementStatus.POSTED)
        .order_by(Disbursement.loan_id, Disbursement.value_date, Disbursement.id)
    )
    payments = _dated(
        select(Repayment.loan_id, Repayment.value_date, Repayment.amount)
        .where(Repayment.loan_id.in_(ids), Repayment.reversed.is_(False))
        .order_by(Repayment.loan_id, Repayment.value_date, Repayment.id)
    )
    restructured = set(
        db.session.scalars(
            select(Restructuring.loan_id).where(
                Restructuring.loan_id.in_(ids), Restructuring.status == ApprovalStatus.APPROVED
            )
        )
    )
    rows: list[dict[str, Any]] = []
    notes: list[str] = []
    for loan in loans:
        row = _row(loan, tranches[loan.id], payments[loan.id])
        restructured_loan = loan.id in restructured or loan.restructure_count
        if restructured_loan and not _current_terms(loan, row, tranches[loan.id]):
            notes.append(
                _(
                    "%(c)s đã cơ cấu lại; lịch hiện tại không ghi được bằng lịch tự nhập "
                    "(nhiều đợt giải ngân hoặc đã trả trước gốc), xuất theo điều kiện ban đầu.",
                    c=loan.contract_no,
                )
            )
        rows.append(row)
    return LoanBook(rows, notes)


def _dated(query: Any) -> defaultdict[int, list[tuple[date, int]]]:
    out: defaultdict[int, list[tuple[date, int]]] = defaultdict(list)
    for loan_id, when, amount in db.session.execute(query):
        out[loan_id].append((when, int(amount)))
    return out


def _commune_then(unit_id: int | None, day: date | None) -> str:
    """The code of the borrower's commune as it was on ``day`` (the file's codes are read
    on the first disbursement's date); blank when the address was entered after it."""
    ix = areas.index()
    unit = ix.units.get(unit_id) if unit_id else None
    if unit is None or day is None:
        return ""
    then, _doubtful = ix.current(unit, day)
    return then.code if then is not None else ""


def _row(loan: Loan, tranches: list[tuple[date, int]], payments: list[tuple[date, int]]) -> dict:
    coop = loan.cooperative
    first = tranches[0][0] if tranches else loan.first_disbursement_date
    single = len(tranches) == 1 and tranches[0][1] == loan.amount
    return {
        "cooperative_name": coop.name,
        "cooperative_kind": KIND_CODES.get(coop.kind, coop.kind),
        "registration_no": coop.registration_no,
        "tax_code": coop.tax_code,
        "district": coop.former_district_code or "",
        "commune_code": _commune_then(coop.commune_unit_id, first),
        "sector": coop.sector,
        "contract_no": loan.contract_no,
        "project_name": loan.project_name,
        "amount": loan.amount,
        "disbursement_date": first,
        "term_months": loan.term_months,
        "annual_rate": format(Decimal(loan.annual_rate).normalize(), "f"),
        "principal_method": loan.principal_method,
        "principal_every_months": loan.principal_every_months,
        "interest_every_months": loan.interest_every_months,
        "grace_months": loan.grace_months,
        "custom_schedule": pairs_text(
            (date.fromisoformat(d), int(a)) for d, a in loan.custom_schedule or []
        ),
        "tranches": "" if single else pairs_text(tranches),
        "payments": pairs_text(payments),
        "extensions": loan.extensions,
        "term_adjustments": loan.term_adjustments,
        "repayment_order": loan.repayment_order,
    }


def _current_terms(loan: Loan, row: dict[str, Any], tranches: list[tuple[date, int]]) -> bool:
    """A restructured loan as its current schedule: the principal of each instalment as a
    custom plan up to the current maturity. Only exact for one full tranche and no principal
    prepaid ahead (then the plan sums to the amount and replays to the same instalments)."""
    plan = [
        (due, int(principal))
        for due, principal in db.session.execute(
            select(Instalment.due_date, Instalment.principal)
            .where(Instalment.loan_id == loan.id, Instalment.principal > 0)
            .order_by(Instalment.no)
        )
    ]
    if len(tranches) != 1 or tranches[0][1] != loan.amount or not plan:
        return False
    if sum(a for _d, a in plan) != loan.amount:
        return False
    first, maturity = tranches[0][0], loan.maturity_date
    if maturity is None or plan[-1][0] > maturity:
        return False
    months = (maturity.year - first.year) * 12 + maturity.month - first.month
    if add_months(first, months) != maturity:
        return False
    row.update(
        term_months=months,
        principal_method="custom",
        principal_every_months=loan.principal_every_months,
        grace_months=0,
        custom_schedule=pairs_text(plan),
    )
    return True
