"""Plan against actual (docs/rules.md#annual-plan): for a year and a date of that year,
each line of the fund's annual plan (``fundapp.planning``) beside what the ledger shows.

Every actual is a figure of the operations report (Phụ lục 2a, ``reports.operations``) of
the period from 1 January to the date, so both reports always agree: the year's
disbursements and principal collected are the loans' flows (``aggregates.flow_totals``),
the outstanding is the principal outstanding at the date, the bad-debt ratio is groups 3–5
over the outstanding, the charter capital is the charter account's balance, and income
and expenses are what their accounts moved since 1 January. ``ACTUALS`` says which figure
each line reads.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from flask_babel import gettext as _

from fundapp.core import validation
from fundapp.domain.dates import format_date
from fundapp.domain.errors import ValidationFailed
from fundapp.ledger import accounts as acc
from fundapp.planning import services as planning
from fundapp.reports import operations, params
from fundapp.reports.operations import OperationsReport
from fundapp.reports.tables import Column, Row, Table, ratio


def _moved(report: OperationsReport, kind: str, codes: set[str], inside: bool) -> int:
    amounts = report.result.income if kind == "income" else report.result.expenses
    return sum(a.amount for a in amounts if (a.code in codes) == inside)


INTEREST = {acc.INTEREST_INCOME, acc.OVERDUE_INTEREST_INCOME}
PROVISION = {acc.PROVISION_EXPENSE}

# Line code → its actual in the operations report of [1 January, as_of].
ACTUALS: dict[str, Callable[[OperationsReport], int]] = {
    "disbursed": lambda r: r.lending.disbursed,
    "principal_collected": lambda r: r.lending.principal_collected,
    "outstanding": lambda r: r.lending.closing,
    # the report's ratio is a percent to two decimals: × 100 is basis points, exactly
    "bad_debt_ratio": lambda r: int(r.quality.bad_debt_ratio * 100),
    "charter_capital": lambda r: r.closing.sources.charter_capital,
    "interest_income": lambda r: _moved(r, "income", INTEREST, True),
    "other_income": lambda r: _moved(r, "income", INTEREST, False),
    "provision_expense": lambda r: _moved(r, "expense", PROVISION, True),
    "operating_costs": lambda r: _moved(r, "expense", PROVISION, False),
}


@dataclass(frozen=True)
class PlanFigure:
    section: str
    code: str
    label: str
    unit: str  # "money" (đồng) or "bp" (basis points)
    plan: int
    actual: int
    difference: int
    achieved: Decimal | None  # actual as a percent of plan; None when the plan is 0


@dataclass(frozen=True)
class PlanActualReport:
    year: int
    as_of: date
    plan_id: int
    status: str
    lines: tuple[PlanFigure, ...]
    result: PlanFigure


def _fail(key: str, message: str) -> None:
    raise ValidationFailed(message, {key: message})


def filters(args: Mapping[str, str], today: date) -> tuple[int, date]:
    """``year`` (default: the year of ``as_of``) and ``as_of`` (default: 31 December of
    the year, or the business date if that is earlier), a date of that year."""
    raw = (args.get("year") or "").strip()
    if not raw:
        day = params.as_of(args, today)
        return day.year, day
    if not (validation.digits(raw) and planning.MIN_YEAR <= int(raw) <= planning.MAX_YEAR):
        _fail(
            "year",
            _(
                "Năm kế hoạch là số nguyên từ %(a)s đến %(b)s.",
                a=planning.MIN_YEAR,
                b=planning.MAX_YEAR,
            ),
        )
    year = int(raw)
    day = params.report_date(args, "as_of", today, min(today, date(year, 12, 31)))
    if day.year != year:
        _fail("as_of", _("Ngày báo cáo %(d)s không thuộc năm %(y)s.", d=format_date(day), y=year))
    return year, day


def _figure(section: str, code: str, label: str, unit: str, plan: int, actual: int) -> PlanFigure:
    achieved = ratio(actual, plan) if plan else None
    return PlanFigure(section, code, label, unit, plan, actual, actual - plan, achieved)


def build(year: int, as_of: date) -> PlanActualReport:
    """The plan of ``year`` against the ledger from 1 January to ``as_of``."""
    plan = planning.plan_for_year(year)
    if plan is None:
        message = _("Chưa có kế hoạch năm %(y)s.", y=year)
        raise ValidationFailed(message, {"year": message})
    ops = operations.build(date(year, 1, 1), as_of)
    planned = planning.amounts_of(plan)
    lines = tuple(
        _figure(d.section, d.code, _(d.label), d.unit, planned[d.code], ACTUALS[d.code](ops))
        for d in planning.LINES
    )

    def total(section: str, field: str) -> int:
        return sum(getattr(f, field) for f in lines if f.section == section)

    result = _figure(
        "result",
        "result",
        _("Kết quả hoạt động (thu nhập − chi phí)"),
        planning.MONEY,
        total("income", "plan") - total("expense", "plan"),
        ops.result.result,
    )
    return PlanActualReport(year, as_of, plan.id, plan.status, lines, result)


def _row(f: PlanFigure, strong: bool = False) -> Row:
    if f.unit == planning.BASIS_POINTS:
        cells = (f.label, *(Decimal(v) / 100 for v in (f.plan, f.actual, f.difference)))
        return Row((*cells, f.achieved), strong=strong, kinds=("text",) + ("ratio",) * 4)
    return Row((f.label, f.plan, f.actual, f.difference, f.achieved), strong=strong)


def tables(report: PlanActualReport) -> list[Table]:
    columns = (
        Column(_("Chỉ tiêu"), "text", 40),
        Column(_("Kế hoạch năm %(y)s", y=report.year), "money", 20),
        Column(_("Thực hiện đến %(d)s", d=format_date(report.as_of)), "money", 20),
        Column(_("Chênh lệch (thực hiện − kế hoạch)"), "money", 20),
        Column(_("Tỷ lệ thực hiện"), "ratio", 14),
    )
    titles = {
        "lending": _("I. Hoạt động cho vay"),
        "sources": _("II. Nguồn vốn"),
        "income": _("III. Thu nhập"),
        "expense": _("IV. Chi phí"),
    }
    out = [
        Table(
            section,
            title,
            columns,
            tuple(_row(f) for f in report.lines if f.section == section),
            _row(report.result, strong=True) if section == "expense" else None,
            note=_(
                "Tỷ lệ nợ xấu ghi bằng phần trăm; kế hoạch là mức tối đa. Thực hiện lấy từ "
                "sổ kế toán từ ngày 01/01 đến ngày báo cáo, như báo cáo Phụ lục 2a."
            )
            if section == "lending"
            else "",
            sheet=title[:31],
        )
        for section, title in titles.items()
    ]
    return out
