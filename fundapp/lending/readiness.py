"""The readiness check: before applying, which lending conditions a borrower meets and which
it lacks, with the figures and what to bring. The cooperative runs it in the portal on the
amounts it types; an officer sees it on an application, on the application's amounts.

The conditions are Decree 45/2021 Art. 22's (docs/rules.md#readiness-check): legal status
and eligible kind, a project, own equity of at least the policy's share of the project
cost, no bad debt at the fund, and collateral as the fund's rules ask. Eligibility and the
equity arithmetic are the lending decision's own checks (``limits.rule_checks``); this
module adds the amount of equity missing and the papers that prove each condition.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import ROUND_CEILING, Decimal
from typing import Any

from flask_babel import gettext as _
from sqlalchemy import func, select

from fundapp.cooperatives.models import Cooperative
from fundapp.core import validation
from fundapp.core.formatting import decimal_text, money_filter
from fundapp.domain.errors import ValidationFailed
from fundapp.extensions import db
from fundapp.lending import limits
from fundapp.loans.models import Application, Loan, LoanStatus
from fundapp.policy import services as policy

DECREE_45 = "Nghị định 45/2021/NĐ-CP"
MONEY_FIELDS = ("total_project_cost", "own_equity", "requested_amount")
PURPOSE_MAX = 255


@dataclass(frozen=True)
class Amounts:
    """What the borrower means to apply for: the project's cost and purpose, its own
    equity, the loan it asks for and whether it offers collateral."""

    total_project_cost: int
    own_equity: int
    requested_amount: int
    collateral: bool
    purpose: str = ""


@dataclass(frozen=True)
class Condition:
    code: str
    label: str
    passed: bool
    detail: str
    bring: str  # the papers that prove it ("" when nothing is to be brought)
    basis: str
    missing: int = 0  # đồng still lacking (own equity), 0 when none

    def to_dict(self) -> dict[str, Any]:
        return {
            "code": self.code,
            "label": self.label,
            "passed": self.passed,
            "detail": self.detail,
            "bring": self.bring,
            "basis": self.basis,
            "missing": self.missing,
        }


def read_amounts(data: dict[str, Any]) -> Amounts:
    """The amounts typed in a form or a query (``1.500.000.000``), checked; the collateral
    answer is ``yes`` or ``no`` (or a boolean)."""
    errors: dict[str, str] = {}
    money = {key: validation.amount(data, key, errors) for key in MONEY_FIELDS}
    purpose = validation.text(data, "purpose", PURPOSE_MAX, False, errors)
    offered = data.get("collateral")
    if isinstance(offered, str):
        offered = {"yes": True, "no": False, "": False}.get(offered.strip().lower())
        if offered is None:
            errors["collateral"] = _("Chọn có hoặc không.")
    if errors:
        raise ValidationFailed(_("Dữ liệu chưa hợp lệ, xin kiểm tra lại."), errors)
    return Amounts(**money, collateral=bool(offered), purpose=purpose)


def amounts_of(app: Application) -> Amounts:
    """An application's own amounts: the loan as recommended once appraised, else as
    asked (the amount the lending checks of its page use)."""
    return Amounts(
        total_project_cost=app.total_project_cost,
        own_equity=app.own_equity,
        requested_amount=app.recommended_amount or app.requested_amount,
        collateral=bool((app.collateral_offered or "").strip()),
        purpose=app.purpose or "",
    )


def check(
    cooperative: Cooperative,
    amounts: Amounts,
    as_of: date,
    rule_checks: list[limits.Check] | None = None,
) -> list[Condition]:
    """The conditions, in the order of the law. ``rule_checks``: the lending checks already
    made on these amounts (the application page has them); computed otherwise."""
    if rule_checks is None:
        draft = Application(
            cooperative=cooperative,
            total_project_cost=amounts.total_project_cost,
            own_equity=amounts.own_equity,
        )
        rule_checks = limits.rule_checks(draft, amounts.requested_amount, as_of)
    by_code = {c.code: c for c in rule_checks}
    return [
        _legal(cooperative, by_code["eligibility"]),
        _project(amounts),
        _equity(amounts, by_code["equity"], as_of),
        _bad_debt(cooperative, as_of),
        _collateral(amounts),
    ]


def check_application(
    app: Application, as_of: date, rule_checks: list[limits.Check] | None = None
) -> list[Condition]:
    return check(app.cooperative, amounts_of(app), as_of, rule_checks)


def _legal(coop: Cooperative, eligibility: limits.Check) -> Condition:
    registered = bool((coop.registration_no or "").strip() and (coop.tax_code or "").strip())
    detail = _(
        "Số đăng ký %(r)s; mã số thuế %(t)s; loại hình: %(k)s",
        r=coop.registration_no or "—",
        t=coop.tax_code or "—",
        k=eligibility.detail,
    )
    if not eligibility.passed:
        detail += " — " + _("loại hình này không thuộc đối tượng được vay theo chính sách.")
    return Condition(
        "legal_status",
        _("Tư cách pháp lý, đối tượng được vay"),
        registered and eligibility.passed,
        detail,
        _("Giấy chứng nhận đăng ký hợp tác xã, Điều lệ, nghị quyết đại hội thành viên về vay vốn"),
        f"{DECREE_45}, Điều 20, Điều 22",
    )


def _project(amounts: Amounts) -> Condition:
    purpose = amounts.purpose.strip()
    if purpose:
        detail = _(
            "Tổng mức đầu tư %(c)s; mục đích: %(p)s",
            c=money_filter(amounts.total_project_cost),
            p=purpose,
        )
    else:
        detail = _(
            "Tổng mức đầu tư %(c)s; chưa ghi mục đích sử dụng vốn",
            c=money_filter(amounts.total_project_cost),
        )
    return Condition(
        "project",
        _("Dự án, phương án sản xuất kinh doanh khả thi"),
        amounts.total_project_cost > 0 and bool(purpose),
        detail,
        _("Dự án hoặc phương án sản xuất kinh doanh: tổng mức đầu tư, nguồn vốn, mục đích"),
        f"{DECREE_45}, Điều 22",
    )


def equity_needed(total_project_cost: int, min_equity_pct: Decimal) -> int:
    """The least own equity meeting ``min_equity_pct`` of the cost, up to the whole đồng
    (a share that needs 1 đồng more is not met by rounding down)."""
    needed = Decimal(total_project_cost) * min_equity_pct / 100
    return int(needed.to_integral_value(rounding=ROUND_CEILING))


def _equity(amounts: Amounts, equity: limits.Check, as_of: date) -> Condition:
    min_pct = policy.value("min_equity_pct", as_of)
    needed = equity_needed(amounts.total_project_cost, min_pct)
    missing = max(needed - amounts.own_equity, 0)
    if missing:
        head = _(
            "Vốn đối ứng %(e)s; cần tối thiểu %(n)s (%(p)s%% của %(c)s); còn thiếu %(m)s.",
            e=money_filter(amounts.own_equity),
            n=money_filter(needed),
            p=decimal_text(min_pct),
            c=money_filter(amounts.total_project_cost),
            m=money_filter(missing),
        )
    else:
        head = _(
            "Vốn đối ứng %(e)s; cần tối thiểu %(n)s.",
            e=money_filter(amounts.own_equity),
            n=money_filter(needed),
        )
    return Condition(
        "equity",
        equity.label,
        equity.passed,
        f"{head} {equity.detail}",
        _("Chứng từ vốn đối ứng: báo cáo tài chính, sao kê tài khoản, biên bản góp vốn"),
        f"{DECREE_45}, Điều 22",
        missing,
    )


def debt_group_of(cooperative_id: int) -> int | None:
    """The worst debt group of the borrower's loans still owed, on the books or written
    off (None: it owes the fund nothing). Read from the loans: the borrower's
    classification history is the servicing package's, a sibling layer lending may not
    import."""
    return db.session.scalar(
        select(func.max(Loan.debt_group)).where(
            Loan.cooperative_id == cooperative_id,
            Loan.status.in_((LoanStatus.ACTIVE, LoanStatus.WRITTEN_OFF)),
        )
    )


def _bad_debt(coop: Cooperative, as_of: date) -> Condition:
    bad_from = int(policy.value("bad_debt_from_group", as_of))
    group = debt_group_of(coop.id)
    if group is None:
        detail = _("Không có khoản vay đang dư nợ tại Quỹ.")
    else:
        detail = _("Nhóm nợ hiện tại: %(g)s; nợ xấu từ nhóm %(b)s.", g=group, b=bad_from)
    passed = group is None or group < bad_from
    return Condition(
        "no_bad_debt",
        _("Không có nợ xấu tại Quỹ"),
        passed,
        detail,
        "" if passed else _("Chứng từ đã trả hết số nợ quá hạn"),
        f"{DECREE_45}, Điều 22; nợ xấu: Điều 2",
    )


def _collateral(amounts: Amounts) -> Condition:
    if amounts.collateral:
        detail = _("Có tài sản bảo đảm, theo quy chế của Quỹ.")
    else:
        detail = _("Chưa có tài sản bảo đảm; theo quy chế của Quỹ, khoản vay cần tài sản bảo đảm.")
    return Condition(
        "collateral",
        _("Tài sản bảo đảm theo quy chế của Quỹ"),
        amounts.collateral,
        detail,
        _("Giấy tờ sở hữu, quyền sử dụng tài sản bảo đảm và hồ sơ định giá"),
        _("Quy chế nội bộ của Quỹ (%(d)s, Điều 22)", d=DECREE_45),
    )
