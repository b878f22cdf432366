"""The summary report of the fund's operations for a period (báo cáo tổng hợp tình hình
hoạt động nghiệp vụ, Circular 52/2022/TT-BTC Phụ lục 2a; docs/rules.md#statutory-reports).

Sources and uses at the start (end of the day before the period) and at the end are the
ledger's balances (``reports.origin_book.fund_position``); income and expenses of the
period are each income and expense account's balance at the end less at the start; the
lending lines (disbursed, collected, written off) are the loans' lines summed as the lending
activity report sums them (``reports.aggregates.flow_totals``), and the bad debt is its
outstanding of groups 3–5 (``reports.aggregates.book``). Every figure of the period adds up:
opening outstanding + disbursed − principal collected − written off = closing outstanding,
and the result of the period = the change of the accumulated result.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal

from flask_babel import gettext as _

from fundapp.domain.dates import format_date
from fundapp.funds.services import ALL, OriginFilter
from fundapp.ledger import accounts as acc
from fundapp.ledger import services as ledger
from fundapp.ledger.services import FundPosition
from fundapp.reports import aggregates
from fundapp.reports.origin_book import fund_position, origin_scope
from fundapp.reports.positions import BAD_DEBT_GROUPS, general_provision_held
from fundapp.reports.tables import Column, Row, Table, ratio


@dataclass(frozen=True)
class Sources:
    charter_capital: int
    entrusted_capital: int
    grants: int
    other_capital: int
    total_capital: int
    accumulated_result: int
    total: int


@dataclass(frozen=True)
class Uses:
    loans_in_term: int
    loans_overdue: int
    outstanding: int
    interest_receivable: int
    accrued_interest: int
    support_receivable: int
    provision: int
    cash: int
    total: int


@dataclass(frozen=True)
class Position:
    as_of: date
    sources: Sources
    uses: Uses


@dataclass(frozen=True)
class Lending:
    opening: int
    disbursed: int
    principal_collected: int
    interest_collected: int
    written_off: int
    closing: int


@dataclass(frozen=True)
class AccountAmount:
    code: str
    name: str
    amount: int


@dataclass(frozen=True)
class Result:
    income: tuple[AccountAmount, ...]
    total_income: int
    expenses: tuple[AccountAmount, ...]
    total_expenses: int
    result: int


@dataclass(frozen=True)
class Quality:
    outstanding: int
    overdue: int
    overdue_ratio: Decimal
    bad_debt: int
    bad_debt_ratio: Decimal
    specific_provision: int
    general_provision: int
    provision: int


@dataclass(frozen=True)
class OperationsReport:
    start: date
    end: date
    opening: Position
    closing: Position
    lending: Lending
    result: Result
    quality: Quality


def _position(p: FundPosition, as_of: date) -> Position:
    return Position(
        as_of=as_of,
        sources=Sources(
            charter_capital=p.charter,
            entrusted_capital=p.entrusted,
            grants=p.grants,
            other_capital=p.other,
            total_capital=p.total_capital,
            accumulated_result=p.accumulated_result,
            total=p.total_sources,
        ),
        uses=Uses(
            loans_in_term=p.loans_in_term,
            loans_overdue=p.loans_overdue,
            outstanding=p.outstanding,
            interest_receivable=p.interest_receivable,
            accrued_interest=p.accrued_interest,
            support_receivable=p.support_receivable,
            provision=p.provision,
            cash=p.cash,
            total=p.total_uses,
        ),
    )


def _moved(kind: str, before: dict[str, int], after: dict[str, int]) -> tuple[AccountAmount, ...]:
    """Each account of ``kind`` with what it moved in the period, in the chart's order."""
    return tuple(
        AccountAmount(code, str(a.name), after[code] - before[code])
        for code, a in acc.ACCOUNTS.items()
        if a.kind == kind
    )


def build(start: date, end: date, origin: OriginFilter = ALL) -> OperationsReport:
    """The report of ``[start, end]`` of one origin fund's book, or of all (the default)."""
    eve = start - timedelta(days=1)
    scope = origin_scope(origin)
    before, after = ledger.balances(eve, scope), ledger.balances(end, scope)
    opening, closing = fund_position(eve, origin), fund_position(end, origin)
    flows = aggregates.flow_totals(start, end, origin)
    income, expenses = _moved("income", before, after), _moved("expense", before, after)
    total_income = sum(a.amount for a in income)
    total_expenses = sum(a.amount for a in expenses)
    held = aggregates.book(end, ("debt_group",), origin, outstanding_only=False)
    bad_debt = sum(r.outstanding for r in held.rows if r.debt_group in BAD_DEBT_GROUPS)
    general = general_provision_held(end, origin)
    outstanding = closing.outstanding
    return OperationsReport(
        start=start,
        end=end,
        opening=_position(opening, eve),
        closing=_position(closing, end),
        lending=Lending(
            opening=flows.opening,
            disbursed=flows.disbursed,
            principal_collected=flows.principal_collected,
            interest_collected=flows.interest_collected,
            written_off=flows.written_off,
            closing=flows.closing,
        ),
        result=Result(
            income=income,
            total_income=total_income,
            expenses=expenses,
            total_expenses=total_expenses,
            result=total_income - total_expenses,
        ),
        quality=Quality(
            outstanding=outstanding,
            overdue=closing.loans_overdue,
            overdue_ratio=ratio(closing.loans_overdue, outstanding),
            bad_debt=bad_debt,
            bad_debt_ratio=ratio(bad_debt, outstanding),
            specific_provision=closing.provision - general,
            general_provision=general,
            provision=closing.provision,
        ),
    )


def tables(report: OperationsReport) -> list[Table]:
    item = Column(_("Chỉ tiêu"), "text", 52)
    at_start = Column(_("Đầu kỳ (%(d)s)", d=format_date(report.opening.as_of)), "money", 20)
    at_end = Column(_("Cuối kỳ (%(d)s)", d=format_date(report.end)), "money", 20)
    o, c = report.opening, report.closing

    def both(label: str, name: str, part: str, level: int = 0, strong: bool = False) -> Row:
        first, last = getattr(o, part), getattr(c, part)
        return Row((label, getattr(first, name), getattr(last, name)), level, strong)

    sources = Table(
        "sources",
        _("I. Nguồn vốn"),
        (item, at_start, at_end),
        (
            both(_("Vốn hoạt động"), "total_capital", "sources", strong=True),
            both(_("Vốn điều lệ"), "charter_capital", "sources", level=1),
            both(_("Vốn nhận ủy thác"), "entrusted_capital", "sources", level=1),
            both(_("Vốn tài trợ, viện trợ"), "grants", "sources", level=1),
            both(_("Vốn khác của Quỹ"), "other_capital", "sources", level=1),
            both(_("Kết quả hoạt động lũy kế"), "accumulated_result", "sources"),
        ),
        both(_("Tổng nguồn vốn"), "total", "sources"),
        sheet=_("Nguồn vốn"),
    )
    uses = Table(
        "uses",
        _("II. Sử dụng vốn"),
        (item, at_start, at_end),
        (
            both(_("Dư nợ cho vay"), "outstanding", "uses", strong=True),
            both(_("Trong hạn"), "loans_in_term", "uses", level=1),
            both(_("Quá hạn"), "loans_overdue", "uses", level=1),
            both(_("Lãi phải thu"), "interest_receivable", "uses"),
            both(_("Lãi dự thu (đã hạch toán đến cuối tháng)"), "accrued_interest", "uses"),
            both(_("Phải thu ngân sách hỗ trợ lãi suất"), "support_receivable", "uses"),
            Row((_("Trừ: dự phòng rủi ro"), -o.uses.provision, -c.uses.provision)),
            both(_("Vốn bằng tiền (tiền gửi ngân hàng, kho bạc)"), "cash", "uses"),
        ),
        both(_("Tổng sử dụng vốn"), "total", "uses"),
        sheet=_("Sử dụng vốn"),
    )
    amount = Column(
        _("Từ %(f)s đến %(t)s", f=format_date(report.start), t=format_date(report.end)),
        "money",
        24,
    )
    ln = report.lending
    lending = Table(
        "lending",
        _("III. Hoạt động cho vay trong kỳ"),
        (item, amount),
        (
            Row((_("Dư nợ đầu kỳ"), ln.opening)),
            Row((_("Doanh số cho vay"), ln.disbursed)),
            Row((_("Thu nợ gốc"), ln.principal_collected)),
            Row((_("Thu lãi"), ln.interest_collected)),
            Row((_("Xử lý rủi ro (gốc)"), ln.written_off)),
        ),
        Row((_("Dư nợ cuối kỳ"), ln.closing)),
        sheet=_("Cho vay trong kỳ"),
    )
    r = report.result
    result = Table(
        "result",
        _("IV. Thu nhập, chi phí và kết quả hoạt động trong kỳ"),
        (item, amount),
        (
            Row((_("Tổng thu nhập"), r.total_income), strong=True),
            *(Row((f"{a.code} – {a.name}", a.amount), level=1) for a in r.income),
            Row((_("Tổng chi phí"), r.total_expenses), strong=True),
            *(Row((f"{a.code} – {a.name}", a.amount), level=1) for a in r.expenses),
        ),
        Row((_("Kết quả hoạt động (thu nhập − chi phí)"), r.result)),
        note=_(
            "Số phát sinh của từng tài khoản thu nhập, chi phí trong kỳ theo sổ kế toán "
            "(số dư cuối kỳ trừ số dư đầu kỳ)."
        ),
        sheet=_("Kết quả"),
    )
    q = report.quality
    money, pct = "money", "ratio"
    quality = Table(
        "quality",
        _("V. Chất lượng dư nợ và dự phòng rủi ro cuối kỳ"),
        (item, Column(_("Cuối kỳ (%(d)s)", d=format_date(report.end)), "money", 20)),
        (
            Row((_("Tổng dư nợ"), q.outstanding), kinds=("text", money)),
            Row((_("Nợ quá hạn"), q.overdue), kinds=("text", money)),
            Row((_("Tỷ lệ nợ quá hạn / tổng dư nợ"), q.overdue_ratio), kinds=("text", pct)),
            Row((_("Nợ xấu (nhóm 3–5)"), q.bad_debt), kinds=("text", money)),
            Row((_("Tỷ lệ nợ xấu / tổng dư nợ"), q.bad_debt_ratio), kinds=("text", pct)),
            Row((_("Dự phòng cụ thể"), q.specific_provision), kinds=("text", money)),
            Row((_("Dự phòng chung"), q.general_provision), kinds=("text", money)),
            Row((_("Tổng dự phòng rủi ro"), q.provision), kinds=("text", money)),
        ),
        sheet=_("Chất lượng dư nợ"),
    )
    return [sources, uses, lending, result, quality]
