"""Lending activity for a period (TT 52 Phụ lục 1a style), grouped by area (the current
commune, the former district or the former province, as ``by`` says), sector, borrower
kind or term class.

Per group: outstanding at the start (end of the day before the period) and at the end,
what was disbursed, collected (principal, interest) and written off during it, and at the
end the overdue principal, bad debt (groups 3–5), specific provisions, projects with
outstanding and their borrowers. Opening + disbursed − principal collected − written off =
closing, row by row, and the totals equal the ledger.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, fields
from datetime import date

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from fundapp.cooperatives.models import KIND_LABELS
from fundapp.domain.cooperatives import CooperativeKind
from fundapp.funds.services import ALL, OriginFilter
from fundapp.reports import aggregates
from fundapp.reports.positions import (
    BAD_DEBT_GROUPS,
    TERM_CLASS_LABELS,
    TermClass,
    borrower_area,
    general_provision_held,
)
from fundapp.reports.tables import Column, Row, Table

GROUP_LABELS = {
    "area": _l("Địa bàn"),
    "sector": _l("Ngành nghề"),
    "borrower_kind": _l("Đối tượng vay"),
    "term_class": _l("Thời hạn cho vay"),
}
AREA_LABELS = {
    "commune": _l("Xã, phường (hiện nay)"),
    "former_district": _l("Huyện cũ"),
    "former_province": _l("Tỉnh cũ"),
}


@dataclass(frozen=True)
class ActivityRow:
    key: str
    label: str
    opening: int
    disbursed: int
    principal_collected: int
    interest_collected: int
    written_off: int
    closing: int
    overdue: int
    bad_debt: int
    provision: int
    projects: int
    cooperatives: int


@dataclass(frozen=True)
class ActivityReport:
    start: date
    end: date
    group_by: str
    by: str
    rows: tuple[ActivityRow, ...]
    total: ActivityRow
    general_provision: int
    total_provision: int


# The columns of ``reports.aggregates`` each grouping is made of.
_COLUMNS = {
    "area": ("commune_unit_id", "former_district_code"),
    "sector": ("sector",),
    "borrower_kind": ("borrower_kind",),
    "term_class": ("term_class",),
}


def _key(columns: tuple, group_by: str, by: str, as_of: date) -> tuple[str, str]:
    """(key, label) of the group the loans of ``columns`` (``_COLUMNS[group_by]``) are
    in, as ``positions.loan_dimensions`` names it."""
    if group_by == "area":
        return borrower_area(columns[0], columns[1], as_of).area(by)
    (value,) = columns
    if group_by == "sector":
        return value, value or _("(Chưa ghi ngành nghề)")
    if group_by == "borrower_kind":
        return value, str(KIND_LABELS.get(CooperativeKind(value), value))
    return value, str(TERM_CLASS_LABELS[TermClass(value)])


def _order(group_by: str) -> dict[str, int]:
    if group_by == "borrower_kind":
        return {k.value: n for n, k in enumerate(CooperativeKind)}
    if group_by == "term_class":
        return {k.value: n for n, k in enumerate(TermClass)}
    return {}


_SUMMED = (
    "opening",
    "disbursed",
    "principal_collected",
    "interest_collected",
    "written_off",
    "closing",
    "overdue",
    "bad_debt",
    "provision",
    "projects",
)


def build(
    start: date, end: date, group_by: str, by: str = "commune", origin: OriginFilter = ALL
) -> ActivityReport:
    """``origin``: one origin fund's book, or all (consolidated, the default).

    Summed in the database per borrower's commune, sector, kind or term class
    (``reports.aggregates``): the figures of ``loan_flows`` and ``loan_positions`` added
    up per group, without a row per loan."""
    columns = _COLUMNS[group_by]
    figures: dict[str, dict[str, int]] = defaultdict(lambda: dict.fromkeys(_SUMMED, 0))
    labels: dict[str, str] = {}
    borrowers: dict[str, int] = defaultdict(int)
    places: dict[tuple, str] = {}

    def group(values: tuple) -> dict[str, int]:
        if values not in places:
            key, label = _key(values, group_by, by, end)
            places[values], labels[key] = key, label
        return figures[places[values]]

    for values, flow in aggregates.flows_by(start, end, columns, origin).items():
        row = group(values)
        row["opening"] += flow.opening
        row["disbursed"] += flow.disbursed
        row["principal_collected"] += flow.principal_collected
        row["interest_collected"] += flow.interest_collected
        row["written_off"] += flow.written_off
        row["closing"] += flow.closing
    held = aggregates.book(end, (*columns, "debt_group"), origin, outstanding_only=False)
    for position in held.rows:
        row = group(tuple(getattr(position, name) for name in columns))
        row["overdue"] += position.principal_overdue
        row["provision"] += position.specific_provision
        if position.debt_group in BAD_DEBT_GROUPS:
            row["bad_debt"] += position.outstanding
    lending = aggregates.book(end, columns, origin)
    for position in lending.rows:
        values = tuple(getattr(position, name) for name in columns)
        group(values)["projects"] += position.loans
        # A borrower has one commune, sector and kind: its loans are in one row per
        # group (a term class may count it twice, as each of its loans' classes).
        borrowers[places[values]] += position.borrowers
    order = _order(group_by)
    keys = sorted(
        figures,
        key=lambda k: (order.get(k, len(order)), k if group_by == "area" else labels[k].lower()),
    )
    rows = tuple(
        ActivityRow(key=k, label=labels[k], **figures[k], cooperatives=borrowers[k])
        for k in keys
        if any(figures[k].values())
    )
    total = ActivityRow(
        key="total",
        label=_("Tổng cộng"),
        **{name: sum(getattr(r, name) for r in rows) for name in _SUMMED},
        cooperatives=lending.total.borrowers,
    )
    general = general_provision_held(end, origin)
    return ActivityReport(
        start=start,
        end=end,
        group_by=group_by,
        by=by,
        rows=rows,
        total=total,
        general_provision=general,
        total_provision=total.provision + general,
    )


def _group_label(report: ActivityReport) -> str:
    if report.group_by == "area":
        return str(AREA_LABELS[report.by])
    return str(GROUP_LABELS[report.group_by])


def tables(report: ActivityReport) -> list[Table]:
    columns = (
        Column(_group_label(report), "text", 30),
        Column(_("Dư nợ đầu kỳ"), "money", 17),
        Column(_("Doanh số cho vay"), "money", 17),
        Column(_("Thu nợ gốc"), "money", 17),
        Column(_("Thu lãi"), "money", 15),
        Column(_("Xử lý rủi ro"), "money", 15),
        Column(_("Dư nợ cuối kỳ"), "money", 17),
        Column(_("Nợ quá hạn"), "money", 16),
        Column(_("Nợ xấu (nhóm 3–5)"), "money", 16),
        Column(_("Dự phòng cụ thể"), "money", 16),
        Column(_("Số dự án"), "count", 9),
        Column(_("Số HTX, thành viên"), "count", 11),
    )

    def cells(row: ActivityRow) -> tuple:
        return tuple(getattr(row, f.name) for f in fields(row) if f.name != "key")

    main = Table(
        "activity",
        _("Tình hình cho vay theo %(g)s", g=_group_label(report).lower()),
        columns,
        tuple(Row(cells(r)) for r in report.rows),
        Row(cells(report.total)),
        sheet=_("Hoạt động cho vay"),
        wide=True,
    )
    item = Column(_("Chỉ tiêu"), "text", 40)
    provisions = Table(
        "provisions",
        _("Dự phòng rủi ro cuối kỳ"),
        (item, Column(_("Số tiền (đồng)"), "money", 20)),
        (
            Row((_("Dự phòng cụ thể"), report.total.provision)),
            Row((_("Dự phòng chung"), report.general_provision)),
        ),
        Row((_("Tổng dự phòng rủi ro"), report.total_provision)),
        sheet=_("Dự phòng"),
    )
    return [main, provisions]
