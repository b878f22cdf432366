"""The claim of interest support to the paying agency (bảng kê đề nghị cấp bù hỗ trợ lãi
suất): per supported instalment billed, its interest, the borrower's share and the budget's,
what earlier claims asked and what this one asks; with the budget's receivable
(docs/rules.md#interest-support).

Filters: ``scheme`` (its code; the first scheme by default), ``to`` (the claim's last day;
the day before the business date by default) and ``claim`` (a submitted claim's reference:
that claim's stored lines instead of what is not yet claimed).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal

from flask_babel import gettext as _
from sqlalchemy import select

from fundapp.core import validation
from fundapp.core.formatting import format_date
from fundapp.documents.words import amount_in_words
from fundapp.domain.errors import ValidationFailed
from fundapp.extensions import db
from fundapp.loans.models import Loan
from fundapp.reports.tables import Column, Row, Table
from fundapp.support import services
from fundapp.support.models import SupportClaim, SupportScheme


@dataclass(frozen=True)
class ClaimReport:
    scheme: str  # the scheme's code
    scheme_name: str
    legal_basis: str
    paying_agency: str
    share: Decimal  # % of in-term interest
    first_due: date
    last_due: date | None
    period_from: date
    period_to: date
    claim: str | None  # a submitted claim's reference; None: what is not yet claimed
    status: str  # draft | submitted | paid
    lines: list[services.ClaimLine]
    total: int
    total_in_words: str
    receivable: services.Receivable


def _report(
    chosen: SupportScheme,
    period: tuple[date, date],
    lines: list[services.ClaimLine],
    claim: SupportClaim | None,
    receivable: services.Receivable,
) -> ClaimReport:
    total = sum(line.amount for line in lines)
    return ClaimReport(
        chosen.code,
        chosen.name,
        chosen.legal_basis,
        chosen.paying_agency,
        chosen.share,
        chosen.first_due,
        chosen.last_due,
        period[0],
        period[1],
        claim.reference if claim else None,
        claim.status if claim else "draft",
        lines,
        total,
        amount_in_words(max(total, 0)),
        receivable,
    )


def filters(args: Mapping[str, str], today: date) -> tuple[SupportScheme, date, str]:
    errors: dict[str, str] = {}
    code = str(args.get("scheme") or "").strip().upper()
    query = select(SupportScheme).order_by(SupportScheme.id)
    if code:
        query = select(SupportScheme).where(SupportScheme.code == code)
    chosen = db.session.scalars(query).first()
    if chosen is None:
        errors["scheme"] = (
            _("Không có chương trình hỗ trợ lãi suất mã %(c)s.", c=code[:40])
            if code
            else _("Chưa có chương trình hỗ trợ lãi suất nào.")
        )
    to = validation.iso_date(dict(args), "to", errors, required=False) or today - timedelta(days=1)
    reference = str(args.get("claim") or "").strip()[:40]
    if errors:
        raise ValidationFailed(_("Bộ lọc không hợp lệ."), errors)
    assert chosen is not None
    return chosen, to, reference


def build(chosen: SupportScheme, to: date, reference: str, today: date) -> ClaimReport:
    receivable = services.receivable(today)
    if reference:
        claim = db.session.scalar(
            select(SupportClaim).where(
                SupportClaim.reference == reference, SupportClaim.scheme_id == chosen.id
            )
        )
        if claim is None:
            raise ValidationFailed(
                _("Bộ lọc không hợp lệ."),
                {"claim": _("Không tìm thấy hồ sơ %(r)s của chương trình này.", r=reference)},
            )
        period = (claim.period_from, claim.period_to)
        return _report(chosen, period, _stored(claim), claim, receivable)
    draft = services.preview(chosen, to)
    return _report(chosen, (draft.period_from, to), draft.lines, None, receivable)


def _stored(claim: SupportClaim) -> list[services.ClaimLine]:
    loans = {
        loan.id: loan
        for loan in db.session.scalars(
            select(Loan).where(Loan.id.in_([line.loan_id for line in claim.lines]))
        )
    }
    return [
        services.ClaimLine(
            line.loan_id,
            loans[line.loan_id].contract_no,
            loans[line.loan_id].cooperative.name,
            line.no,
            line.due_date,
            line.interest,
            line.supported,
            line.interest - line.supported,
            line.supported - line.amount,
            line.amount,
        )
        for line in claim.lines
    ]


def tables(report: ClaimReport) -> list[Table]:
    columns = (
        Column(_("Hợp đồng"), "text", 16),
        Column(_("Khách hàng vay"), "text", 34),
        Column(_("Kỳ"), "count", 6),
        Column(_("Ngày đến hạn"), "date", 13),
        Column(_("Lãi trong hạn"), "money", 16),
        Column(_("Khách hàng trả"), "money", 16),
        Column(_("Ngân sách hỗ trợ"), "money", 16),
        Column(_("Đã đề nghị trước"), "money", 16),
        Column(_("Đề nghị cấp bù kỳ này"), "money", 18),
    )
    rows = tuple(
        Row(
            (
                line.contract_no,
                line.cooperative,
                line.no,
                line.due_date,
                line.interest,
                line.borrower_share,
                line.supported,
                line.claimed,
                line.amount,
            )
        )
        for line in report.lines
    )
    total = Row(
        (
            _("Cộng"),
            "",
            len(rows),
            None,
            sum(line.interest for line in report.lines),
            sum(line.borrower_share for line in report.lines),
            sum(line.supported for line in report.lines),
            sum(line.claimed for line in report.lines),
            report.total,
        ),
        strong=True,
        kinds=("text", "text", "count", "text", "money", "money", "money", "money", "money"),
    )
    claim_table = Table(
        "lines",
        _("Bảng kê đề nghị cấp bù hỗ trợ lãi suất"),
        columns,
        rows,
        total,
        note=_(
            "%(n)s, %(b)s. Ngân sách hỗ trợ %(s)s lãi trong hạn của các kỳ đến hạn từ %(f)s"
            "%(t)s; kỳ đã đến hạn hoặc khách hàng đã trả trước hạn.",
            n=report.scheme_name,
            b=report.legal_basis,
            s=services.share_label(report.share),
            f=format_date(report.first_due),
            t=_(" đến %(d)s", d=format_date(report.last_due)) if report.last_due else "",
        ),
        sheet=_("Bảng kê"),
        wide=True,
    )
    receivable = report.receivable
    money = ("text", "money")
    summary = Table(
        "receivable",
        _("Phải thu ngân sách hỗ trợ lãi suất đến ngày %(d)s", d=format_date(receivable.as_of)),
        (Column(_("Khoản mục"), "text", 50), Column(_("Số tiền"), "money", 20)),
        (
            Row((_("Số dư phải thu trên sổ kế toán"), receivable.balance), kinds=money),
            Row((_("Trong đó: đã đề nghị, chờ cấp bù"), receivable.claimed_unpaid), level=1),
            Row((_("Trong đó: chưa đề nghị cấp bù"), receivable.not_claimed), level=1),
        ),
        sheet=_("Phải thu"),
    )
    return [claim_table, summary]


def subtitle(report: ClaimReport) -> str:
    head = _(
        "%(s)s — kỳ từ %(a)s đến %(b)s, gửi %(g)s",
        s=report.scheme,
        a=format_date(report.period_from),
        b=format_date(report.period_to),
        g=report.paying_agency,
    )
    if report.claim is not None:
        status = _(services.CLAIM_STATUS_LABELS[report.status])
        return f"{head} · {_('Hồ sơ %(r)s', r=report.claim)} · {status}"
    return f"{head} · {_('Dự kiến, chưa gửi')}"
