"""The lines of an import file checked against the fund's books before anything is
simulated: contract numbers already used, cooperatives already registered (by registration
number or tax code, with the same name), the single-borrower and related-group limits, and
the fund's cash for what the file disburses.

A refused line gets its reasons here, so the report lists every problem of the file at once.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from flask_babel import gettext as _
from sqlalchemy import func, select

from fundapp.cooperatives.models import KIND_LABELS, Cooperative
from fundapp.core.formatting import money_filter
from fundapp.domain.cooperatives import CooperativeKind
from fundapp.domain.dates import add_months
from fundapp.extensions import db
from fundapp.imports.columns import normal
from fundapp.imports.parser import CooperativeData, LoanRow, ParsedLine
from fundapp.lending import limits
from fundapp.loans.models import Loan
from fundapp.policy import services as policy


def check_against_book(lines: list[ParsedLine], origin_id: int | None = None) -> None:
    """Contract numbers already used in the same origin fund's book, cooperatives
    registered under another name, tax codes of another cooperative, borrower types the
    policy does not lend to, payments beyond anything the loan could owe."""
    contracts = {normal(i.contract_no) for i in lines if i.contract_no}
    same_book = (
        Loan.origin_fund_id.is_(None) if origin_id is None else Loan.origin_fund_id == origin_id
    )
    taken = {
        normal(no)
        for no in db.session.scalars(
            select(Loan.contract_no).where(func.lower(Loan.contract_no).in_(contracts), same_book)
        )
    }
    known = _known_cooperatives(lines)
    needs_tax = _new_registrations_without_tax(lines, known)
    for item in lines:
        if item.contract_no and normal(item.contract_no) in taken:
            item.reasons.append(_("số hợp đồng “%(c)s” đã có trong hệ thống", c=item.contract_no))
        coop = known.get(normal(item.registration_no))
        if coop is not None and item.cooperative_name:
            if normal(coop.name) != normal(item.cooperative_name):
                item.reasons.append(
                    _(
                        "số đăng ký “%(r)s” đã có trong hệ thống với tên “%(n)s”, khác tên "
                        "trong tệp",
                        r=item.registration_no,
                        n=coop.name,
                    )
                )
        elif item.line in needs_tax:
            item.reasons.append(_("thiếu mã số thuế (bắt buộc với hợp tác xã mới)"))
        if coop is None and item.tax_code:
            owner = db.session.scalar(
                select(Cooperative.name).where(Cooperative.tax_code == item.tax_code)
            )
            if owner is not None:
                item.reasons.append(
                    _(
                        "mã số thuế %(t)s đã thuộc hợp tác xã “%(n)s”",
                        t=item.tax_code,
                        n=owner,
                    )
                )
        if item.row is not None:
            kind = coop.kind if coop is not None else item.row.cooperative.kind
            _check_row(item, item.row, kind)
        if item.reasons:
            item.row = None


def _known_cooperatives(lines: list[ParsedLine]) -> dict[str, Cooperative]:
    numbers = {normal(i.registration_no) for i in lines if i.registration_no}
    return {
        normal(c.registration_no): c
        for c in db.session.scalars(
            select(Cooperative).where(func.lower(Cooperative.registration_no).in_(numbers))
        )
    }


def _new_registrations_without_tax(
    lines: list[ParsedLine], known: dict[str, Cooperative]
) -> set[int]:
    """The first line of each new cooperative when none of its lines gives a tax code."""
    first: dict[str, int] = {}
    taxed: set[str] = set()
    for item in lines:
        reg = normal(item.registration_no)
        if not reg or reg in known:
            continue
        first.setdefault(reg, item.line)
        if item.tax_code:
            taxed.add(reg)
    return {line for reg, line in first.items() if reg not in taxed}


def _check_row(item: ParsedLine, row: LoanRow, kind: str) -> None:
    kinds = policy.value("eligible_kinds", row.disbursement_date)
    if kind not in kinds:
        item.reasons.append(
            _(
                "loại hình “%(k)s” không thuộc đối tượng được vay theo chính sách",
                k=str(KIND_LABELS.get(CooperativeKind(kind), kind)),
            )
        )
    paid = sum(p.amount for p in row.payments)
    most = most_owed(row)
    if paid > most:
        item.reasons.append(
            _(
                "tổng các lần đã trả %(p)s vượt số tối đa khoản vay có thể phải trả %(m)s "
                "(gốc, lãi và lãi quá hạn)",
                p=money_filter(paid),
                m=money_filter(most),
            )
        )


def most_owed(row: LoanRow) -> int:
    """An upper bound of what the loan could ever owe by its last payment: all principal,
    interest at the overdue rate on all of it every day, and late interest on all the
    in-term interest for the whole span. A file paying more is wrong whatever the schedule."""
    first = row.disbursement_date
    end = max([add_months(first, row.terms.term_months), *(p.date for p in row.payments)])
    days = Decimal((end - first).days)
    principal = sum(t.amount for t in row.tranches)
    rate = row.terms.annual_rate / 100
    overdue = Decimal(policy.value("overdue_rate_pct", first)) / 100
    late = Decimal(policy.value("late_interest_rate", first)) / 100
    in_term = principal * rate * days / 365
    bound = principal + in_term * overdue + in_term * late * days / 365
    return int(bound) + 1


def cash_shortfall(lines: list[ParsedLine], as_of: date) -> str | None:
    """The file would leave the fund's cash below zero: one message, no simulation."""
    need = sum(
        sum(t.amount for t in item.row.tranches) - sum(p.amount for p in item.row.payments)
        for item in lines
        if item.row is not None
    )
    cash = limits.cash_available(as_of)
    if need <= cash:
        return None
    return _(
        "Quỹ không đủ vốn cho các khoản vay trong tệp: số giải ngân trừ số đã thu là %(n)s, "
        "tiền của Quỹ hiện có %(c)s. Hãy ghi nhận các nguồn vốn (với ngày nhận thực tế) "
        "trước khi nhập.",
        n=money_filter(need),
        c=money_filter(cash),
    )


def group_cooperatives(lines: list[ParsedLine]) -> dict[str, CooperativeData]:
    """Per registration number, what a new cooperative is created with: the first line's
    name, kind, district and sector, and the first tax code given."""
    out: dict[str, CooperativeData] = {}
    for item in lines:
        assert item.row is not None
        data = item.row.cooperative
        reg = normal(data.registration_no)
        known = out.get(reg)
        if known is None:
            out[reg] = data
        elif not known.tax_code and data.tax_code:
            out[reg] = CooperativeData(
                known.name,
                known.kind,
                known.registration_no,
                data.tax_code,
                known.district_code,
                known.sector,
                known.commune_code,
                known.commune_on,
            )
    return out
