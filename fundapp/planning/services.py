"""The annual plan: the accountant prepares a draft for a year, edits it, and the director
(another person) approves it; an approved plan no longer changes. Every change is audited.

The plan's lines are fixed (``LINES``): what the fund plans in its financial plan, its
revenue and cost plan and its sources and uses of funds (Circular 52/2022/TT-BTC Phụ lục
3–6; docs/rules.md#annual-plan). An amount is whole đồng ≥ 0; a ratio is basis points
(1/100 of a percent), 0 … 10 000.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from flask_babel import gettext as _
from sqlalchemy import select

from fundapp import audit
from fundapp.core.security import Role, has_role
from fundapp.domain.dates import utcnow
from fundapp.domain.errors import N_, Conflict, PermissionDenied, ValidationFailed
from fundapp.domain.money import MoneyError, parse_dong
from fundapp.extensions import db
from fundapp.planning.models import AnnualPlan, PlanLine

MONEY, BASIS_POINTS = "money", "bp"
MAX_BASIS_POINTS = 10_000
MIN_YEAR, MAX_YEAR = 2000, 2100


@dataclass(frozen=True)
class LineDef:
    code: str
    section: str
    label: str  # the Vietnamese source text; shown through gettext
    unit: str = MONEY


LINES: tuple[LineDef, ...] = (
    LineDef("disbursed", "lending", N_("Doanh số cho vay trong năm")),
    LineDef("principal_collected", "lending", N_("Thu nợ gốc trong năm")),
    LineDef("outstanding", "lending", N_("Dư nợ cho vay cuối năm")),
    LineDef("bad_debt_ratio", "lending", N_("Tỷ lệ nợ xấu tối đa"), BASIS_POINTS),
    LineDef("charter_capital", "sources", N_("Vốn điều lệ cuối năm")),
    LineDef("interest_income", "income", N_("Thu lãi cho vay")),
    LineDef("other_income", "income", N_("Thu nhập khác")),
    LineDef("provision_expense", "expense", N_("Chi phí dự phòng rủi ro")),
    LineDef("operating_costs", "expense", N_("Chi phí hoạt động khác")),
)
BY_CODE = {line.code: line for line in LINES}


def _require(actor: Any, role: str, message: str) -> None:
    if not has_role(actor, role):
        raise PermissionDenied(message)


def _plan_year(raw: Any, errors: dict[str, str]) -> int:
    text = str(raw).strip() if raw is not None and not isinstance(raw, bool) else ""
    if not (text.isascii() and text.isdigit()) or not MIN_YEAR <= int(text) <= MAX_YEAR:
        errors["year"] = _("Năm kế hoạch là số nguyên từ %(a)s đến %(b)s.", a=MIN_YEAR, b=MAX_YEAR)
        return 0
    return int(text)


def _line_value(line: LineDef, raw: Any, errors: dict[str, str]) -> int | None:
    """The amount of ``line`` from a form string or a JSON integer; None when not given."""
    if raw is None or (isinstance(raw, str) and not raw.strip()):
        return None
    if isinstance(raw, (bool, float)) or not isinstance(raw, (int, str)):
        errors[line.code] = _("Phải là số nguyên, không có phần thập phân.")
        return None
    text = str(raw).strip()
    if text.startswith("-"):
        errors[line.code] = _("Không được là số âm.")
        return None
    if line.unit == BASIS_POINTS:
        if not (text.isascii() and text.isdigit()) or int(text) > MAX_BASIS_POINTS:
            errors[line.code] = _(
                "Tỷ lệ ghi bằng phần vạn (điểm cơ bản), số nguyên từ 0 đến %(n)s; "
                "ví dụ 300 là 3 %%.",
                n=MAX_BASIS_POINTS,
            )
            return None
        return int(text)
    try:
        return parse_dong(raw)
    except MoneyError:
        errors[line.code] = _(
            "Số tiền là số nguyên đồng không âm, chỉ gồm các chữ số 0–9 "
            "(có thể ngăn cách hàng nghìn, ví dụ 1.500.000)."
        )
        return None


def _amounts(raw: Mapping[str, Any], errors: dict[str, str]) -> dict[str, int]:
    for key in raw:
        if key not in BY_CODE:
            errors[str(key)[:40]] = _("Dòng kế hoạch không tồn tại.")
    out = {}
    for line in LINES:
        value = _line_value(line, raw.get(line.code), errors)
        if value is not None:
            out[line.code] = value
    return out


def _note(raw: Any, errors: dict[str, str]) -> str:
    note = "" if raw is None else str(raw).strip()
    if len(note) > 2000:
        errors["note"] = _("Tối đa %(n)s ký tự.", n=2000)
    return note


def _fail(errors: dict[str, str]) -> None:
    if errors:
        raise ValidationFailed(_("Dữ liệu chưa hợp lệ, xin kiểm tra lại."), errors)


def snapshot(plan: AnnualPlan) -> dict[str, Any]:
    return {
        "year": plan.year,
        "status": plan.status,
        "note": plan.note,
        "lines": {line.code: line.amount for line in plan.lines},
    }


def amounts_of(plan: AnnualPlan) -> dict[str, int]:
    """Every line's amount, 0 for a line the plan does not hold."""
    held = {line.code: line.amount for line in plan.lines}
    return {line.code: held.get(line.code, 0) for line in LINES}


def plan_for_year(year: int) -> AnnualPlan | None:
    return db.session.scalar(select(AnnualPlan).where(AnnualPlan.year == year))


def all_plans() -> list[AnnualPlan]:
    return list(db.session.scalars(select(AnnualPlan).order_by(AnnualPlan.year.desc())))


def _set_lines(plan: AnnualPlan, amounts: Mapping[str, int]) -> None:
    held = {line.code: line for line in plan.lines}
    for code, amount in amounts.items():
        line = BY_CODE[code]
        if code in held:
            held[code].amount = amount
        else:
            plan.lines.append(
                PlanLine(section=line.section, code=code, label=line.label, amount=amount)
            )


def create(actor: Any, year: Any, amounts: Mapping[str, Any], note: Any = "") -> AnnualPlan:
    """A draft plan for ``year``; a line not given is 0. Flushes."""
    _require(actor, Role.ACCOUNTANT, _("Chỉ kế toán lập kế hoạch năm."))
    errors: dict[str, str] = {}
    plan_year = _plan_year(year, errors)
    values, text = _amounts(amounts, errors), _note(note, errors)
    _fail(errors)
    if plan_for_year(plan_year) is not None:
        message = _("Đã có kế hoạch năm %(y)s; xin sửa kế hoạch đó.", y=plan_year)
        raise Conflict(message, {"year": message})
    plan = AnnualPlan(year=plan_year, status="draft", note=text, prepared_by_id=actor.id)
    _set_lines(plan, {line.code: values.get(line.code, 0) for line in LINES})
    db.session.add(plan)
    db.session.flush()
    audit.record(actor, "plan.create", "annual_plan", plan.id, after=snapshot(plan))
    return plan


def update(
    actor: Any, plan: AnnualPlan, amounts: Mapping[str, Any], note: Any = None
) -> AnnualPlan:
    """Change the lines given (and the note) of a draft plan. Flushes."""
    _require(actor, Role.ACCOUNTANT, _("Chỉ kế toán sửa kế hoạch năm."))
    if plan.status != "draft":
        raise Conflict(_("Kế hoạch đã được phê duyệt; không sửa được."))
    errors: dict[str, str] = {}
    values = _amounts(amounts, errors)
    text = plan.note if note is None else _note(note, errors)
    _fail(errors)
    before = snapshot(plan)
    _set_lines(plan, values)
    plan.note = text
    plan.prepared_by_id = actor.id
    db.session.flush()
    old, new = audit.diff(before, snapshot(plan))
    if new:
        audit.record(actor, "plan.update", "annual_plan", plan.id, before=old, after=new)
    return plan


def approve(actor: Any, plan: AnnualPlan) -> AnnualPlan:
    """The director approves a draft prepared by someone else. Flushes."""
    _require(actor, Role.DIRECTOR, _("Chỉ giám đốc phê duyệt kế hoạch năm."))
    if plan.status != "draft":
        raise Conflict(_("Kế hoạch đã được phê duyệt."))
    if plan.prepared_by_id == actor.id:
        raise PermissionDenied(
            _("Người lập kế hoạch không được tự phê duyệt; cần một giám đốc khác.")
        )
    plan.status = "approved"
    plan.approved_by_id = actor.id
    plan.approved_at = utcnow()
    db.session.flush()
    audit.record(
        actor,
        "plan.approve",
        "annual_plan",
        plan.id,
        before={"status": "draft"},
        after={"status": "approved"},
    )
    return plan
