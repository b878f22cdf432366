"""The trial balance and the per-account ledger as reports (tables for the page, the PDF
and the Excel file), from fundapp/reports/trial_balance.py."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date

from flask_babel import gettext as _

from fundapp.domain.dates import format_date
from fundapp.domain.errors import ValidationFailed
from fundapp.ledger import accounts as acc
from fundapp.reports.tables import Column, Row, Table
from fundapp.reports.trial_balance import AccountLedger, TrialBalance, sides


def account_arg(args: Mapping[str, str]) -> str:
    """``account``: a code of the chart of accounts (default: cash at bank)."""
    code = str(args.get("account", "") or acc.CASH).strip()
    if code not in acc.ACCOUNTS:
        message = _("Tài khoản %(a)s không có trong hệ thống tài khoản.", a=code[:20])
        raise ValidationFailed(message, {"account": message})
    return code


def _period_columns(first: str, width: int = 34) -> tuple[Column, ...]:
    return (
        Column(first, "text", width),
        Column(_("Dư Nợ đầu kỳ")),
        Column(_("Dư Có đầu kỳ")),
        Column(_("Phát sinh Nợ")),
        Column(_("Phát sinh Có")),
        Column(_("Dư Nợ cuối kỳ")),
        Column(_("Dư Có cuối kỳ")),
    )


def trial_balance_tables(report: TrialBalance) -> list[Table]:
    rows = tuple(
        Row(
            (
                f"{r.code} – {r.name}",
                r.opening_debit,
                r.opening_credit,
                r.debit,
                r.credit,
                r.closing_debit,
                r.closing_credit,
            )
        )
        for r in report.rows
    )
    t = report.total
    total = Row(
        (
            _("Tổng cộng"),
            t.opening_debit,
            t.opening_credit,
            t.debit,
            t.credit,
            t.closing_debit,
            t.closing_credit,
        ),
        strong=True,
    )
    return [
        Table(
            "trial_balance",
            _("Bảng cân đối tài khoản"),
            _period_columns(_("Tài khoản")),
            rows,
            total,
            note=_("Tổng dư Nợ bằng tổng dư Có; tổng phát sinh Nợ bằng tổng phát sinh Có."),
            sheet=_("Cân đối tài khoản"),
            wide=True,
        )
    ]


def account_ledger_tables(report: AccountLedger) -> list[Table]:
    columns = (
        Column(_("Ngày ghi sổ"), "date", 12),
        Column(_("Số bút toán"), "count", 10),
        Column(_("Diễn giải"), "text", 40),
        Column(_("Hợp đồng"), "text", 16),
        Column(_("Phát sinh Nợ")),
        Column(_("Phát sinh Có")),
        Column(_("Dư Nợ")),
        Column(_("Dư Có")),
    )
    text_kinds = ("text", "text", "text", "text", "money", "money", "money", "money")
    opening = Row(
        (_("Số dư đầu kỳ"), None, "", "", None, None, *sides(report.opening)),
        strong=True,
        kinds=text_kinds,
    )
    rows = [opening]
    for line in report.lines:
        rows.append(
            Row(
                (
                    line.entry_date,
                    line.entry_id,
                    line.description or line.reference or line.kind,
                    line.contract_no,
                    line.debit,
                    line.credit,
                    line.balance_debit,
                    line.balance_credit,
                )
            )
        )
    total = Row(
        (
            _("Cộng phát sinh và số dư cuối kỳ"),
            None,
            "",
            "",
            report.debit,
            report.credit,
            *sides(report.closing),
        ),
        strong=True,
        kinds=text_kinds,
    )
    return [
        Table(
            "account_ledger",
            _("Tài khoản %(c)s – %(n)s", c=report.code, n=report.name),
            columns,
            tuple(rows),
            total,
            sheet=_("Sổ chi tiết %(c)s", c=report.code),
            wide=True,
        )
    ]


def period_subtitle(start: date, end: date) -> str:
    return _("Từ ngày %(f)s đến ngày %(t)s", f=format_date(start), t=format_date(end))
