"""Portfolio at risk and ageing as of a date.

PAR n = outstanding principal of the loans at least n days past due ÷ total outstanding
principal (the whole loan counts, not only its overdue part). Ageing puts each loan in one
bucket by its days past due: current (0), 1–30, 31–90, 91–180, 181–360, over 360.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from flask_babel import gettext as _

from fundapp.funds.services import ALL, OriginFilter
from fundapp.reports.positions import loan_positions
from fundapp.reports.tables import Column, Row, Table, ratio

PAR_THRESHOLDS = (1, 30, 90)
# (key, first day, last day or None)
BUCKETS = (
    ("current", 0, 0),
    ("1_30", 1, 30),
    ("31_90", 31, 90),
    ("91_180", 91, 180),
    ("181_360", 181, 360),
    ("over_360", 361, None),
)


@dataclass(frozen=True)
class ParLine:
    days: int
    loans: int
    outstanding: int
    ratio: Decimal


@dataclass(frozen=True)
class AgeBucket:
    key: str
    first_day: int
    last_day: int | None
    loans: int
    outstanding: int
    principal_overdue: int
    share: Decimal


@dataclass(frozen=True)
class ParReport:
    as_of: date
    loans: int
    outstanding: int
    principal_overdue: int
    par: tuple[ParLine, ...]
    buckets: tuple[AgeBucket, ...]


def build(as_of: date, origin: OriginFilter = ALL) -> ParReport:
    """``origin``: one origin fund's book, or all (consolidated, the default)."""
    positions = [p for p in loan_positions(as_of, origin) if p.outstanding > 0]
    total = sum(p.outstanding for p in positions)
    par = []
    for days in PAR_THRESHOLDS:
        late = [p for p in positions if p.days_past_due >= days]
        amount = sum(p.outstanding for p in late)
        par.append(ParLine(days, len(late), amount, ratio(amount, total)))
    buckets = []
    for key, first, last in BUCKETS:
        inside = [
            p
            for p in positions
            if p.days_past_due >= first and (last is None or p.days_past_due <= last)
        ]
        amount = sum(p.outstanding for p in inside)
        buckets.append(
            AgeBucket(
                key=key,
                first_day=first,
                last_day=last,
                loans=len(inside),
                outstanding=amount,
                principal_overdue=sum(p.principal_overdue for p in inside),
                share=ratio(amount, total),
            )
        )
    return ParReport(
        as_of=as_of,
        loans=len(positions),
        outstanding=total,
        principal_overdue=sum(p.principal_overdue for p in positions),
        par=tuple(par),
        buckets=tuple(buckets),
    )


def bucket_label(bucket: AgeBucket) -> str:
    if bucket.last_day == 0:
        return _("Trong hạn (chưa quá hạn)")
    if bucket.last_day is None:
        return _("Quá hạn trên %(n)s ngày", n=bucket.first_day - 1)
    return _("Quá hạn %(a)s–%(b)s ngày", a=bucket.first_day, b=bucket.last_day)


def tables(report: ParReport) -> list[Table]:
    par = Table(
        "par",
        _("I. Danh mục cho vay có rủi ro (PAR)"),
        (
            Column(_("Chỉ tiêu"), "text", 40),
            Column(_("Số khoản vay"), "count", 12),
            Column(_("Dư nợ gốc (đồng)"), "money", 20),
            Column(_("Tỷ lệ / tổng dư nợ"), "ratio", 14),
        ),
        tuple(
            Row(
                (
                    _("PAR %(n)s: quá hạn từ %(n)s ngày trở lên", n=line.days),
                    line.loans,
                    line.outstanding,
                    line.ratio,
                )
            )
            for line in report.par
        ),
        Row(
            (
                _("Tổng dư nợ"),
                report.loans,
                report.outstanding,
                ratio(report.outstanding, report.outstanding),
            )
        ),
        sheet="PAR",
    )
    ageing = Table(
        "ageing",
        _("II. Phân tích tuổi nợ"),
        (
            Column(_("Số ngày quá hạn"), "text", 32),
            Column(_("Số khoản vay"), "count", 12),
            Column(_("Dư nợ gốc (đồng)"), "money", 20),
            Column(_("Trong đó nợ gốc quá hạn"), "money", 20),
            Column(_("Tỷ trọng"), "ratio", 10),
        ),
        tuple(
            Row((bucket_label(b), b.loans, b.outstanding, b.principal_overdue, b.share))
            for b in report.buckets
        ),
        Row(
            (
                _("Tổng cộng"),
                report.loans,
                report.outstanding,
                report.principal_overdue,
                ratio(report.outstanding, report.outstanding),
            )
        ),
        sheet=_("Tuổi nợ"),
    )
    return [par, ageing]
