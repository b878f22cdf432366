"""Fund balance report (báo cáo tình hình nguồn vốn và sử dụng vốn) as of a date
(docs/rules.md#posting-and-accounts, docs/rules.md#income-recognition).

Sources and uses are the ledger's balances as of the date (``reports.origin_book.fund_position``);
the split of outstanding by debt group and the period's flows are the loans' balances and
lines summed in the database (``reports.aggregates``).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from flask_babel import gettext as _

from fundapp.domain.dates import format_date
from fundapp.funds.services import ALL, OriginFilter
from fundapp.reports import aggregates
from fundapp.reports.aggregates import AREA_AND_GROUP, Book
from fundapp.reports.origin_book import fund_position
from fundapp.reports.positions import BAD_DEBT_GROUPS, DEBT_GROUP_LABELS, general_provision_held
from fundapp.reports.tables import Column, Row, Table, ratio
from fundapp.servicing.accrual import accrued_to_date


@dataclass(frozen=True)
class Sources:
    charter_capital: int
    entrusted_capital: int
    entrusted_by_source: dict[str, int]
    grants: int
    other_capital: int
    accumulated_result: int
    total: int


@dataclass(frozen=True)
class Uses:
    loans_in_term: int
    loans_overdue: int
    outstanding: int
    interest_receivable: int
    accrued_interest: int  # lãi dự thu posted at month ends (entries dated up to as_of)
    support_receivable: int  # the budget's share of supported interest, not yet paid
    specific_provision: int
    general_provision: int
    provision: int
    cash: int
    total: int


@dataclass(frozen=True)
class AccruedInterest:
    """Accrued interest of group-1 loans through the end of the report's date, computed
    from the schedules (a memo: not in the totals, which are the ledger's)."""

    computed: int
    posted: int
    not_posted: int


@dataclass(frozen=True)
class GroupFigure:
    group: int
    loans: int
    outstanding: int
    share: Decimal


@dataclass(frozen=True)
class PeriodFigures:
    start: date
    end: date
    disbursed: int
    principal_collected: int
    interest_collected: int


@dataclass(frozen=True)
class FundBalanceReport:
    as_of: date
    total_capital: int
    sources: Sources
    uses: Uses
    debt_groups: tuple[GroupFigure, ...]
    period: PeriodFigures
    projects: int
    cooperatives: int
    overdue_ratio: Decimal
    bad_debt: int
    bad_debt_ratio: Decimal
    accrued_to_date: AccruedInterest


def build(
    as_of: date,
    period_start: date | None = None,
    book: Book | None = None,
    origin: OriginFilter = ALL,
) -> FundBalanceReport:
    """The report as of ``as_of``; ``book`` is ``aggregates.book(as_of, AREA_AND_GROUP,
    origin)`` when the caller has it already (for the charts). ``origin``: one origin
    fund's book (its capital, its loans and their cash, income and provisions; see
    ``reports.origin_book.line_origin``), or all (consolidated, the default): the
    consolidated figures are the per-origin sums."""
    start = period_start or date(as_of.year, 1, 1)
    position = fund_position(as_of, origin)
    book = (
        aggregates.book(as_of, AREA_AND_GROUP, origin, row_borrowers=False)
        if book is None
        else book
    )
    general = general_provision_held(as_of, origin)
    outstanding = position.outstanding
    by_group = aggregates.by_debt_group(book.rows)
    flows = aggregates.flow_totals(start, as_of, origin)
    accrued = accrued_to_date(as_of)
    bad_debt = sum(by_group[g][1] for g in BAD_DEBT_GROUPS)
    return FundBalanceReport(
        as_of=as_of,
        total_capital=position.total_capital,
        sources=Sources(
            charter_capital=position.charter,
            entrusted_capital=position.entrusted,
            entrusted_by_source=position.entrusted_sources,
            grants=position.grants,
            other_capital=position.other,
            accumulated_result=position.accumulated_result,
            total=position.total_sources,
        ),
        uses=Uses(
            loans_in_term=position.loans_in_term,
            loans_overdue=position.loans_overdue,
            outstanding=outstanding,
            interest_receivable=position.interest_receivable,
            accrued_interest=position.accrued_interest,
            support_receivable=position.support_receivable,
            specific_provision=position.provision - general,
            general_provision=general,
            provision=position.provision,
            cash=position.cash,
            total=position.total_uses,
        ),
        debt_groups=tuple(
            GroupFigure(g, n, amount, ratio(amount, outstanding))
            for g, (n, amount) in by_group.items()
        ),
        period=PeriodFigures(
            start=start,
            end=as_of,
            disbursed=flows.disbursed,
            principal_collected=flows.principal_collected,
            interest_collected=flows.interest_collected,
        ),
        projects=book.total.loans,
        cooperatives=book.total.borrowers,
        overdue_ratio=ratio(position.loans_overdue, outstanding),
        bad_debt=bad_debt,
        bad_debt_ratio=ratio(bad_debt, outstanding),
        accrued_to_date=AccruedInterest(accrued.computed, accrued.posted, accrued.not_posted),
    )


def tables(report: FundBalanceReport) -> list[Table]:
    item = Column(_("Chỉ tiêu"), "text", 52)
    amount = Column(_("Số tiền (đồng)"), "money", 20)
    s, u = report.sources, report.uses
    sources = Table(
        "sources",
        _("I. Nguồn vốn"),
        (item, amount),
        (
            Row((_("Vốn hoạt động"), report.total_capital), strong=True),
            Row((_("Vốn điều lệ"), s.charter_capital), level=1),
            Row((_("Vốn nhận ủy thác"), s.entrusted_capital), level=1),
            *(Row((name, value), level=2) for name, value in s.entrusted_by_source.items()),
            Row((_("Vốn tài trợ, viện trợ"), s.grants), level=1),
            Row((_("Vốn khác của Quỹ"), s.other_capital), level=1),
            Row((_("Kết quả hoạt động lũy kế"), s.accumulated_result)),
        ),
        Row((_("Tổng nguồn vốn"), s.total)),
        sheet=_("Nguồn vốn"),
    )
    uses = Table(
        "uses",
        _("II. Sử dụng vốn"),
        (item, amount),
        (
            Row((_("Dư nợ cho vay"), u.outstanding), strong=True),
            Row((_("Trong hạn"), u.loans_in_term), level=1),
            Row((_("Quá hạn"), u.loans_overdue), level=1),
            Row((_("Lãi phải thu"), u.interest_receivable)),
            Row((_("Lãi dự thu (đã hạch toán đến cuối tháng)"), u.accrued_interest)),
            Row((_("Phải thu ngân sách hỗ trợ lãi suất"), u.support_receivable)),
            Row((_("Trừ: dự phòng rủi ro cụ thể"), -u.specific_provision)),
            Row((_("Trừ: dự phòng rủi ro chung"), -u.general_provision)),
            Row((_("Vốn bằng tiền sẵn sàng cho vay (tiền gửi ngân hàng, kho bạc)"), u.cash)),
        ),
        Row((_("Tổng sử dụng vốn"), u.total)),
        sheet=_("Sử dụng vốn"),
    )
    groups = Table(
        "debt_groups",
        _("III. Dư nợ theo nhóm nợ"),
        (
            Column(_("Nhóm nợ"), "text", 36),
            Column(_("Số khoản vay"), "count", 12),
            Column(_("Dư nợ (đồng)"), "money", 20),
            Column(_("Tỷ trọng"), "ratio", 10),
        ),
        tuple(
            Row((str(DEBT_GROUP_LABELS[g.group]), g.loans, g.outstanding, g.share))
            for g in report.debt_groups
        ),
        Row(
            (
                _("Tổng dư nợ"),
                sum(g.loans for g in report.debt_groups),
                u.outstanding,
                ratio(u.outstanding, u.outstanding),
            )
        ),
        sheet=_("Nhóm nợ"),
    )
    p = report.period
    money, count, pct = "money", "count", "ratio"
    period = Table(
        "period",
        _("IV. Hoạt động cho vay và chất lượng dư nợ"),
        (
            item,
            Column(
                _("Từ %(f)s đến %(t)s", f=format_date(p.start), t=format_date(p.end)), "money", 24
            ),
        ),
        (
            Row((_("Doanh số cho vay trong kỳ"), p.disbursed), kinds=("text", money)),
            Row((_("Doanh số thu nợ gốc trong kỳ"), p.principal_collected), kinds=("text", money)),
            Row((_("Thu lãi trong kỳ"), p.interest_collected), kinds=("text", money)),
            Row((_("Số dự án còn dư nợ"), report.projects), kinds=("text", count)),
            Row((_("Số HTX, thành viên còn dư nợ"), report.cooperatives), kinds=("text", count)),
            Row((_("Nợ quá hạn"), u.loans_overdue), kinds=("text", money)),
            Row((_("Tỷ lệ nợ quá hạn / tổng dư nợ"), report.overdue_ratio), kinds=("text", pct)),
            Row((_("Nợ xấu (nhóm 3–5)"), report.bad_debt), kinds=("text", money)),
            Row((_("Tỷ lệ nợ xấu / tổng dư nợ"), report.bad_debt_ratio), kinds=("text", pct)),
        ),
        sheet=_("Hoạt động trong kỳ"),
    )
    a = report.accrued_to_date
    accrued = Table(
        "accrued_interest",
        _("V. Lãi dự thu nợ nhóm 1 đến hết ngày %(d)s (số tính toán)", d=format_date(report.as_of)),
        (item, amount),
        (
            Row((_("Lãi dự thu tính đến hết ngày báo cáo"), a.computed), strong=True),
            Row((_("Đã hạch toán vào lãi dự thu (cuối các tháng)"), a.posted), level=1),
            Row(
                (_("Chưa hạch toán (từ cuối tháng trước đến ngày báo cáo)"), a.not_posted), level=1
            ),
        ),
        note=_(
            "Lãi trong hạn của nợ nhóm 1 đã phát sinh nhưng chưa đến kỳ thu, tính theo số ngày "
            "thực tế/365; số chưa hạch toán không cộng vào tổng nguồn vốn và sử dụng vốn."
        ),
        sheet=_("Lãi dự thu"),
    )
    return [sources, uses, groups, period, accrued]
