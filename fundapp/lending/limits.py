"""The rule checks of a lending decision: eligibility, own equity, the single-borrower and
related-group limits on the fund's charter capital, the cash the fund has free, and the
approver's authority. A blocking check stops an approval; a limit may be passed by the
board only, with a reason. The appraisal, the approval and the loan import read them.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any

from flask_babel import gettext as _
from sqlalchemy import func, select

from fundapp.cooperatives.models import Cooperative
from fundapp.core.formatting import decimal_text, money_filter
from fundapp.core.security import Role, has_role
from fundapp.extensions import db
from fundapp.ledger import accounts as acc
from fundapp.ledger.services import balances
from fundapp.loans.models import Application, Loan, LoanStatus
from fundapp.policy import services as policy


@dataclass(frozen=True)
class Check:
    code: str
    label: str
    passed: bool
    detail: str
    blocking: bool  # True: nobody may approve; False: a board member may override


def borrower_outstanding(cooperative_id: int) -> int:
    """Outstanding and committed (approved, not yet disbursed) to one borrower."""
    return int(
        db.session.scalar(
            select(
                func.coalesce(
                    func.sum(Loan.amount - Loan.disbursed + Loan.principal_outstanding), 0
                )
            ).where(
                Loan.cooperative_id == cooperative_id,
                Loan.status.in_([LoanStatus.APPROVED, LoanStatus.CONTRACTED, LoanStatus.ACTIVE]),
            )
        )
        or 0
    )


def committed_undisbursed() -> int:
    """Approved or contracted amounts not yet disbursed: cash the fund has promised."""
    return int(
        db.session.scalar(
            select(func.coalesce(func.sum(Loan.amount - Loan.disbursed), 0)).where(
                Loan.status.in_([LoanStatus.APPROVED, LoanStatus.CONTRACTED, LoanStatus.ACTIVE])
            )
        )
        or 0
    )


def cash_available(as_of: date | None = None) -> int:
    return balances(as_of)[acc.CASH]


def rule_checks(app: Application, amount: int, as_of: date, approver: Any = None) -> list[Check]:
    coop = app.cooperative
    checks: list[Check] = []
    kinds = policy.value("eligible_kinds", as_of)
    checks.append(
        Check(
            "eligibility",
            _("Đối tượng được vay"),
            coop.kind in kinds,
            coop.kind_label,
            True,
        )
    )
    min_equity = policy.value("min_equity_pct", as_of)
    equity_ok = Decimal(app.own_equity) * 100 >= min_equity * app.total_project_cost
    loan_cap = app.total_project_cost - app.own_equity
    share = (Decimal(app.own_equity) * 100 / app.total_project_cost).quantize(Decimal("0.1"))
    checks.append(
        Check(
            "equity",
            _("Vốn đối ứng ≥ %(p)s%% tổng mức đầu tư", p=decimal_text(min_equity)),
            equity_ok and amount <= loan_cap,
            _(
                "Vốn đối ứng %(s)s%%; số vay %(a)s, tối đa %(c)s",
                s=decimal_text(share),
                a=money_filter(amount),
                c=money_filter(loan_cap),
            ),
            True,
        )
    )
    charter = balances(as_of)[acc.CHARTER_CAPITAL]
    single_pct = policy.value("single_borrower_limit_pct", as_of)
    single_cap = int(Decimal(charter) * single_pct / 100)
    current = borrower_outstanding(coop.id)
    checks.append(
        Check(
            "single_borrower",
            _("Dư nợ một khách hàng ≤ %(p)s%% vốn điều lệ thực có", p=decimal_text(single_pct)),
            current + amount <= single_cap,
            _(
                "Dư nợ và cam kết %(c)s + khoản này %(a)s; giới hạn %(l)s; còn trống %(h)s",
                c=money_filter(current),
                a=money_filter(amount),
                l=money_filter(single_cap),
                h=money_filter(single_cap - current - amount),
            ),
            False,
        )
    )
    group_pct = policy.value("related_group_limit_pct", as_of)
    group_cap = int(Decimal(charter) * group_pct / 100)
    if coop.related_group_id:
        members = list(
            db.session.scalars(
                select(Cooperative.id).where(Cooperative.related_group_id == coop.related_group_id)
            )
        )
        group_current = sum(borrower_outstanding(m) for m in members)
    else:
        group_current = current
    checks.append(
        Check(
            "related_group",
            _(
                "Dư nợ khách hàng và người có liên quan ≤ %(p)s%% vốn điều lệ thực có",
                p=decimal_text(group_pct),
            ),
            group_current + amount <= group_cap,
            _(
                "Dư nợ nhóm %(c)s + khoản này %(a)s; giới hạn %(l)s; còn trống %(h)s",
                c=money_filter(group_current),
                a=money_filter(amount),
                l=money_filter(group_cap),
                h=money_filter(group_cap - group_current - amount),
            ),
            False,
        )
    )
    free = cash_available(as_of) - committed_undisbursed()
    checks.append(
        Check(
            "cash",
            _("Quỹ có đủ vốn để cho vay"),
            amount <= free,
            _("Vốn sẵn sàng cho vay (trừ cam kết chưa giải ngân) %(f)s", f=money_filter(free)),
            True,
        )
    )
    limit = policy.value("director_approval_limit", as_of)
    if approver is not None:
        if has_role(approver, Role.BOARD):
            ok, who = True, _("Hội đồng quản lý: không giới hạn")
        elif has_role(approver, Role.DIRECTOR):
            ok, who = amount <= limit, _("Giám đốc: đến %(l)s", l=money_filter(limit))
        else:
            ok, who = False, _("Người duyệt không có thẩm quyền")
        checks.append(Check("authority", _("Thẩm quyền phê duyệt"), ok, who, True))
    return checks
