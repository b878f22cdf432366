"""Debt classification and provisioning for a quarter, as of its last day (for the risk
committee), by the law in force that day: Circular 11/2021 until 11/08/2024, Circular
14/2024/TT-NHNN from 12/08/2024; provision rates of Decree 86/2024/NĐ-CP from its date. The
report names the versions it applies and their legal references.

Per debt group: loans, outstanding, collateral (valuation and the discounted part the close
of day deducts), the policy's provision rate, the specific provision required — rate ×
(principal − discounted collateral), per loan, as the close of day computes it — and the
provision the ledger holds; the general provision on groups 1–4; and each loan of groups
2–5.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from flask_babel import gettext as _

from fundapp.core.formatting import date_filter, money_filter
from fundapp.domain.provisioning import (
    general_provision,
    group_rate,
    in_general_base,
    specific_provision,
)
from fundapp.funds.services import ALL, OriginFilter
from fundapp.loans.standing import classification_version
from fundapp.policy import services as policy
from fundapp.policy.parameters import BY_KEY, DEFAULTS_EFFECTIVE
from fundapp.reports import aggregates
from fundapp.reports.params import Quarter
from fundapp.reports.positions import (
    DEBT_GROUP_LABELS,
    LoanPosition,
    general_provision_held,
    loan_positions,
)
from fundapp.reports.tables import Column, Row, Table, pct_filter


@dataclass(frozen=True)
class GroupRow:
    group: int
    label: str
    loans: int
    outstanding: int
    principal_overdue: int
    collateral_value: int
    discounted_collateral: int
    provision_rate: Decimal
    specific_required: int
    specific_held: int


@dataclass(frozen=True)
class ClassifiedLoan:
    loan_id: int
    contract_no: str
    cooperative_name: str
    district_name: str
    debt_group: int
    days_past_due: int
    outstanding: int
    principal_overdue: int
    collateral_value: int
    discounted_collateral: int
    provision_rate: Decimal
    specific_required: int
    specific_held: int


@dataclass(frozen=True)
class Basis:
    """A policy version the report applies: what, its value, from when, under which act."""

    label: str
    value: str
    effective_from: date
    reference: str


@dataclass(frozen=True)
class ClassificationReport:
    quarter: str
    start: date
    as_of: date
    groups: tuple[GroupRow, ...]
    total_loans: int
    total_outstanding: int
    total_specific_required: int
    total_specific_held: int
    general_rate: Decimal
    general_base: int
    general_required: int
    general_held: int
    total_required: int
    total_held: int
    loans: tuple[ClassifiedLoan, ...]
    basis: tuple[Basis, ...] = ()


def basis_on(as_of: date) -> tuple[Basis, ...]:
    """The classification version and the provision rates in force on ``as_of``, each with
    the date it took effect and its legal reference (the legal default when none is
    stored)."""
    version = classification_version(as_of)
    out = [
        Basis(
            _("Phân loại nợ: số ngày quá hạn bắt đầu nhóm 2–5"),
            ", ".join(str(n) for n in version.group_starts),
            version.effective_from,
            f"{version.reference}; {version.clauses.reference}",
        ),
        Basis(
            _("Nhóm nợ tối thiểu khi cơ cấu lại thời hạn trả nợ"),
            ", ".join(str(n) for n in version.restructure_floors),
            version.effective_from,
            version.clauses.reference,
        ),
    ]
    for key, label in (
        ("provision_rates_pct", _("Tỷ lệ trích lập dự phòng cụ thể nhóm 1–5 (%)")),
        ("general_provision_pct", _("Tỷ lệ trích lập dự phòng chung (%)")),
    ):
        row = policy.version_in_force(key, as_of)
        param = BY_KEY[key]
        if row is None:
            since = max(
                (d for d, _v, _r in param.legal_versions() if d <= as_of),
                default=DEFAULTS_EFFECTIVE,
            )
            out.append(Basis(label, param.default_on(as_of), since, param.legal_reference))
        else:
            out.append(
                Basis(
                    label,
                    row.value,
                    row.effective_from,
                    row.legal_reference or param.legal_reference,
                )
            )
    return tuple(out)


def required_specific(position: LoanPosition, rate: Decimal) -> int:
    """The close of day's rule: rate × (principal − discounted collateral), never below 0,
    rounded half-up to the đồng once (:mod:`fundapp.domain.provisioning`)."""
    return specific_provision(position.outstanding, position.discounted_collateral, rate)


def _whole_book_general_base(as_of: date) -> int:
    """Groups 1–4 principal of every origin's loans: the general provision's base."""
    rows = aggregates.book(as_of, ("debt_group",), row_borrowers=False).rows
    return sum(row.outstanding for row in rows if in_general_base(row.debt_group))


def build(quarter: Quarter, origin: OriginFilter = ALL) -> ClassificationReport:
    """``origin``: one origin fund's book, or all (consolidated, the default). The general
    provision is the fund's, on its whole book: it counts under this fund (0 under a fund
    taken over), so the per-origin reports add up to the consolidated one."""
    as_of = quarter.end
    rates = policy.value("provision_rates_pct", as_of)
    general_rate = policy.value("general_provision_pct", as_of)
    positions = [
        p for p in loan_positions(as_of, origin) if p.outstanding > 0 or p.specific_provision
    ]
    loans = []
    for p in positions:
        rate = group_rate(rates, p.debt_group)
        loans.append(
            ClassifiedLoan(
                loan_id=p.loan_id,
                contract_no=p.contract_no,
                cooperative_name=p.cooperative_name,
                district_name=p.district_name,
                debt_group=p.debt_group,
                days_past_due=p.days_past_due,
                outstanding=p.outstanding,
                principal_overdue=p.principal_overdue,
                collateral_value=p.collateral_value,
                discounted_collateral=p.discounted_collateral,
                provision_rate=rate,
                specific_required=required_specific(p, rate),
                specific_held=p.specific_provision,
            )
        )
    groups = tuple(
        _group_row(g, group_rate(rates, g), [x for x in loans if x.debt_group == g])
        for g in range(1, 6)
    )
    general_base = sum(g.outstanding for g in groups if in_general_base(g.group))
    if origin.origin is not None:
        # The general provision is the fund's, on its whole book (see the docstring).
        general_base = _whole_book_general_base(as_of) if origin.origin.is_own else 0
    general_required = general_provision(general_base, general_rate)
    general_held = general_provision_held(as_of, origin)
    specific_required = sum(g.specific_required for g in groups)
    specific_held = sum(g.specific_held for g in groups)
    return ClassificationReport(
        quarter=quarter.code,
        start=quarter.start,
        as_of=as_of,
        groups=groups,
        total_loans=sum(g.loans for g in groups),
        total_outstanding=sum(g.outstanding for g in groups),
        total_specific_required=specific_required,
        total_specific_held=specific_held,
        general_rate=general_rate,
        general_base=general_base,
        general_required=general_required,
        general_held=general_held,
        total_required=specific_required + general_required,
        total_held=specific_held + general_held,
        loans=tuple(
            sorted(
                (x for x in loans if x.debt_group >= 2),
                key=lambda x: (-x.debt_group, -x.days_past_due, x.contract_no),
            )
        ),
        basis=basis_on(as_of),
    )


def _group_row(group: int, rate: Decimal, loans: list[ClassifiedLoan]) -> GroupRow:
    return GroupRow(
        group=group,
        label=str(DEBT_GROUP_LABELS[group]),
        loans=sum(1 for x in loans if x.outstanding > 0),
        outstanding=sum(x.outstanding for x in loans),
        principal_overdue=sum(x.principal_overdue for x in loans),
        collateral_value=sum(x.collateral_value for x in loans),
        discounted_collateral=sum(x.discounted_collateral for x in loans),
        provision_rate=rate,
        specific_required=sum(x.specific_required for x in loans),
        specific_held=sum(x.specific_held for x in loans),
    )


def tables(report: ClassificationReport) -> list[Table]:
    money = "money"
    groups = Table(
        "groups",
        _("I. Phân loại nợ và trích lập dự phòng cụ thể"),
        (
            Column(_("Nhóm nợ"), "text", 34),
            Column(_("Số khoản vay"), "count", 10),
            Column(_("Dư nợ gốc"), money, 17),
            Column(_("Trong đó quá hạn"), money, 17),
            Column(_("Giá trị TSBĐ"), money, 17),
            Column(_("Giá trị TSBĐ được khấu trừ"), money, 17),
            Column(_("Tỷ lệ trích"), "ratio", 9),
            Column(_("Dự phòng cụ thể phải trích"), money, 17),
            Column(_("Dự phòng cụ thể đã trích"), money, 17),
        ),
        tuple(
            Row(
                (
                    g.label,
                    g.loans,
                    g.outstanding,
                    g.principal_overdue,
                    g.collateral_value,
                    g.discounted_collateral,
                    g.provision_rate,
                    g.specific_required,
                    g.specific_held,
                )
            )
            for g in report.groups
        ),
        Row(
            (
                _("Tổng cộng"),
                report.total_loans,
                report.total_outstanding,
                sum(g.principal_overdue for g in report.groups),
                sum(g.collateral_value for g in report.groups),
                sum(g.discounted_collateral for g in report.groups),
                None,
                report.total_specific_required,
                report.total_specific_held,
            )
        ),
        sheet=_("Phân loại nợ"),
        wide=True,
    )
    item = Column(_("Chỉ tiêu"), "text", 44)
    summary = Table(
        "provisions",
        _("II. Dự phòng chung và tổng dự phòng"),
        (item, Column(_("Phải trích"), money, 18), Column(_("Đã trích"), money, 18)),
        (
            Row((_("Dự phòng cụ thể"), report.total_specific_required, report.total_specific_held)),
            Row(
                (
                    _(
                        "Dự phòng chung (%(r)s dư nợ nhóm 1–4: %(b)s)",
                        r=pct_filter(report.general_rate),
                        b=money_filter(report.general_base),
                    ),
                    report.general_required,
                    report.general_held,
                )
            ),
        ),
        Row((_("Tổng dự phòng rủi ro"), report.total_required, report.total_held)),
        sheet=_("Dự phòng"),
    )
    detail = Table(
        "loans",
        _("III. Chi tiết các khoản vay nhóm 2–5"),
        (
            Column(_("Số hợp đồng"), "text", 15),
            Column(_("Khách hàng"), "text", 30),
            Column(_("Huyện, thành phố"), "text", 20),
            Column(_("Nhóm"), "count", 6),
            Column(_("Số ngày quá hạn"), "count", 9),
            Column(_("Dư nợ gốc"), money, 16),
            Column(_("Trong đó quá hạn"), money, 16),
            Column(_("TSBĐ được khấu trừ"), money, 16),
            Column(_("Tỷ lệ trích"), "ratio", 9),
            Column(_("Dự phòng phải trích"), money, 16),
            Column(_("Dự phòng đã trích"), money, 16),
        ),
        tuple(
            Row(
                (
                    x.contract_no,
                    x.cooperative_name,
                    x.district_name,
                    x.debt_group,
                    x.days_past_due,
                    x.outstanding,
                    x.principal_overdue,
                    x.discounted_collateral,
                    x.provision_rate,
                    x.specific_required,
                    x.specific_held,
                )
            )
            for x in report.loans
        ),
        sheet=_("Chi tiết nhóm 2–5"),
        wide=True,
    )
    basis = Table(
        "basis",
        _("IV. Căn cứ phân loại nợ và trích lập dự phòng"),
        (
            Column(_("Chỉ tiêu"), "text", 40),
            Column(_("Giá trị"), "text", 16),
            Column(_("Hiệu lực từ"), "text", 12),
            Column(_("Căn cứ pháp lý"), "text", 60),
        ),
        tuple(
            Row((b.label, b.value, date_filter(b.effective_from), b.reference))
            for b in report.basis
        ),
        sheet=_("Căn cứ"),
    )
    return [groups, summary, detail, basis]
