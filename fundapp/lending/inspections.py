"""Inspections of the use of a loan (kiểm tra sử dụng vốn vay): dated from the first
disbursement to the business date, with a finding (proper, partial, improper use).
"""

from __future__ import annotations

from datetime import date
from typing import Any

from flask_babel import gettext as _

from fundapp.core import validation
from fundapp.core.security import Role
from fundapp.domain.errors import N_, DomainError, ValidationFailed
from fundapp.lending.lifecycle import add_audited, require
from fundapp.loans.models import Inspection, Loan, LoanStatus

FINDINGS = {
    "proper": N_("Đúng mục đích"),
    "partial": N_("Sử dụng một phần"),
    "improper": N_("Sai mục đích"),
}


def add_inspection(actor: Any, loan: Loan, data: dict, as_of: date) -> Inspection:
    require(actor, Role.OFFICER)
    if loan.status not in (LoanStatus.ACTIVE, LoanStatus.CLOSED):
        raise DomainError(_("Chỉ kiểm tra sử dụng vốn khi đã giải ngân."))
    errors: dict[str, str] = {}
    when = validation.iso_date(data, "inspected_on", errors)
    if when and (
        when > as_of or (loan.first_disbursement_date and when < loan.first_disbursement_date)
    ):
        errors["inspected_on"] = _("Ngày kiểm tra từ ngày giải ngân đến ngày làm việc hiện tại.")
    finding = str(data.get("finding") or "")
    if finding not in FINDINGS:
        errors["finding"] = _("Chọn kết quả kiểm tra.")
    notes = validation.text(data, "notes", 5000, False, errors)
    if errors:
        raise ValidationFailed(_("Dữ liệu chưa hợp lệ, xin kiểm tra lại."), errors)
    item = Inspection(
        loan_id=loan.id, inspected_on=when, inspector_id=actor.id, finding=finding, notes=notes
    )
    add_audited(
        actor,
        item,
        "inspection.create",
        "inspection",
        {"loan": loan.contract_no, "finding": finding, "date": when},
    )
    return item
