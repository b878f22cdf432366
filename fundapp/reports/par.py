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
from fundapp.reports import aggregates
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
    """``origin``: one origin fund's book, or all (consolidated, the default).

    The loans with outstanding are summed in the database per oldest unpaid due date
    (``reports.aggregates``): a row per date, whatever the size of the book."""
    ages = [
        ((as_of - row.oldest_due).days if row.oldest_due else 0, row)
        for row in aggregates.book(as_of, ("oldest_due",), origin).rows
    ]
    total = sum(row.outstanding for _days, row in ages)
    par = []
    for days in PAR_THRESHOLDS:
        late = [row for age, row in ages if age >= days]
        amount = sum(row.outstanding for row in late)
        par.append(ParLine(days, sum(row.loans for row in late), amount, ratio(amount, total)))
    buckets = []
    for key, first, last in BUCKETS:
        inside = [row for age, row in ages if age >= first and (last is None or age <= last)]
        amount = sum(row.outstanding for row in inside)
        buckets.append(
            AgeBucket(
                key=key,
                first_day=first,
                last_day=last,
                loans=sum(row.loans for row in inside),
                outstanding=amount,
                principal_overdue=sum(row.principal_overdue for row in inside),
                share=ratio(amount, total),
            )
        )
    return ParReport(
        as_of=as_of,
        loans=sum(row.loans for _days, row in ages),
        outstanding=total,
        principal_overdue=sum(row.principal_overdue for _days, row in ages),
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
