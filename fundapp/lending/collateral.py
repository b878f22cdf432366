"""Collateral (tài sản bảo đảm) of a loan. Its valuation less the discount factor lowers the
base of the loan's provision, so a new item marks the loan for reclassification.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from flask_babel import gettext as _

from fundapp.core import validation
from fundapp.core.security import Role
from fundapp.domain.errors import DomainError, ValidationFailed
from fundapp.domain.money import MoneyError, parse_rate
from fundapp.lending.lifecycle import add_audited, require
from fundapp.loans.models import Collateral, Loan, LoanStatus


def add_collateral(actor: Any, loan: Loan, data: dict) -> Collateral:
    require(actor, Role.OFFICER)
    if loan.status not in (LoanStatus.APPROVED, LoanStatus.CONTRACTED, LoanStatus.ACTIVE):
        raise DomainError(_("Chỉ thêm tài sản bảo đảm cho khoản vay chưa kết thúc."))
    errors: dict[str, str] = {}
    kind = validation.text(data, "kind", 60, True, errors)
    description = validation.text(data, "description", 2000, False, errors)
    valuation = validation.amount(data, "valuation", errors)
    factor = Decimal(0)
    try:
        factor = parse_rate(data.get("discount_factor") or "0")
        if factor > 1:
            raise MoneyError("bad_rate")
    except MoneyError:
        errors["discount_factor"] = _("Hệ số khấu trừ từ 0 đến 1 (ví dụ 0,5).")
    if errors:
        raise ValidationFailed(_("Dữ liệu chưa hợp lệ, xin kiểm tra lại."), errors)
    item = Collateral(
        loan_id=loan.id,
        kind=kind,
        description=description,
        valuation=valuation,
        discount_factor=factor,
    )
    loan.reclassify = True  # the provision of its group is on principal less collateral
    add_audited(
        actor,
        item,
        "collateral.create",
        "collateral",
        {"loan": loan.contract_no, "kind": kind, "valuation": valuation, "discount_factor": factor},
    )
    return item
