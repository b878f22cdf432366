"""Each loan's position as of a date, from the ledger and the loan's history.

Every figure here is what the books said at the end of ``as_of``: journal lines of entries
dated on or before it (journal lines carry the loan), the debt group recorded by the close
of day in force on that date, and the instalments' due and paid-off dates. Nothing is read
from a loan's cached balances, so a report for last March shows last March.

All queries are set-based (a handful of GROUP BY statements for the whole book), but the
result is one Python object per loan: for the reports that list loans one by one. Figures
of the whole book (totals by group, area, days past due) are summed in the database by
``reports.aggregates``, the same figures without a row per loan.
"""

from __future__ import annotations

import enum
from collections import defaultdict
from dataclasses import dataclass
from datetime import date, timedelta

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import and_, case, func, or_, select

from fundapp.areas import services as areas
from fundapp.cooperatives.models import KIND_LABELS, Cooperative
from fundapp.domain.cooperatives import CooperativeKind
from fundapp.domain.provisioning import discounted_value
from fundapp.extensions import db
from fundapp.funds.services import ALL, OriginFilter
from fundapp.ledger import accounts as acc
from fundapp.ledger.models import JournalEntry, JournalLine, LoanBalance
from fundapp.loans.models import Collateral, Instalment, Loan
from fundapp.policy import services as policy
from fundapp.servicing.debt_groups import latest_groups

POSITION_ACCOUNTS = (
    acc.LOANS_IN_TERM,
    acc.LOANS_OVERDUE,
    acc.INTEREST_RECEIVABLE,
    acc.PROVISION,
)


class TermClass(enum.StrEnum):
    SHORT = "short"
    MEDIUM = "medium"
    LONG = "long"


TERM_CLASS_LABELS = {
    TermClass.SHORT: _l("Ngắn hạn"),
    TermClass.MEDIUM: _l("Trung hạn"),
    TermClass.LONG: _l("Dài hạn"),
}

DEBT_GROUP_LABELS = {
    1: _l("Nhóm 1 – Nợ đủ tiêu chuẩn"),
    2: _l("Nhóm 2 – Nợ cần chú ý"),
    3: _l("Nhóm 3 – Nợ dưới tiêu chuẩn"),
    4: _l("Nhóm 4 – Nợ nghi ngờ"),
    5: _l("Nhóm 5 – Nợ có khả năng mất vốn"),
}
BAD_DEBT_GROUPS = (3, 4, 5)


@dataclass(frozen=True)
class LoanDimensions:
    """Who borrowed and for what: the columns reports group by."""

    loan_id: int
    contract_no: str
    project_name: str
    cooperative_id: int
    cooperative_name: str
    # Where the borrower is on the report's date: its current commune, and the district
    # and province it lay in before 01/07/2025.
    commune_code: str
    commune_name: str
    former_district_code: str
    former_district_name: str
    former_province_code: str
    former_province_name: str
    sector: str
    borrower_kind: str
    borrower_kind_label: str
    term_months: int
    term_class: str
    term_class_label: str
    # The fund whose book the loan came from; None: this fund (fundapp.funds).
    origin_fund_id: int | None

    @property
    def district_code(self) -> str:
        return self.former_district_code

    @property
    def district_name(self) -> str:
        return self.former_district_name

    def area(self, by: str) -> tuple[str, str]:
        """(code, name) of the borrower's area: ``commune`` (current), ``former_district``
        or ``former_province``."""
        return _area(self, by)


@dataclass(frozen=True)
class BorrowerArea:
    """Where a borrower is on a date, as reports name it (``LoanDimensions``' area)."""

    commune_code: str
    commune_name: str
    former_district_code: str
    former_district_name: str
    former_province_code: str
    former_province_name: str

    def area(self, by: str) -> tuple[str, str]:
        return _area(self, by)


def _area(where: LoanDimensions | BorrowerArea, by: str) -> tuple[str, str]:
    if by == "former_district":
        return where.former_district_code, where.former_district_name
    if by == "former_province":
        return where.former_province_code, where.former_province_name
    return where.commune_code, where.commune_name


def borrower_area(
    commune_unit_id: int | None, former_district_code: str | None, as_of: date
) -> BorrowerArea:
    """The area of a borrower recorded in ``commune_unit_id`` and ``former_district_code``
    on ``as_of``; what is unknown is named so (the reports' rows still add up)."""
    area = areas.area_of(commune_unit_id, former_district_code, as_of)
    return BorrowerArea(
        commune_code=area.commune_code or "",
        commune_name=area.commune_name or _("(Chưa có xã, phường)"),
        former_district_code=area.former_district_code or "",
        former_district_name=area.former_district_name or _("(Chưa rõ huyện cũ)"),
        former_province_code=area.former_province_code or "",
        former_province_name=area.former_province_name or _("(Chưa rõ tỉnh cũ)"),
    )


@dataclass(frozen=True)
class LoanPosition(LoanDimensions):
    """One loan as of a date (all money in đồng, all as of the end of that date).

    - ``principal_in_term``: balance of loans in term (2111) for the loan;
    - ``principal_overdue``: balance of loans overdue (2112): instalments due before the
      date and unpaid, transferred by the close of day;
    - ``interest_receivable``: interest and overdue interest billed and not yet paid, on
      the balance sheet (3941; group-1 loans only, others hold it off-balance);
    - ``debt_group``: 1–5, as classified by the last close of day on or before the date
      (1 when the loan had not been classified yet);
    - ``days_past_due``: the date − the oldest due date before it whose principal or
      interest was still unpaid at the end of the date (0 when none);
    - ``specific_provision``: the loan's specific provision held in the ledger (2191);
    - ``collateral_value``: Σ valuation of the loan's collateral as recorded;
    - ``discounted_collateral``: Σ valuation × discount factor, the part the close of day
      deducts before applying the group's provision rate;
    - ``term_class``: short / medium / long by contract term, with the fund's policy
      bounds (short ≤ ``short_term_max_months``, medium ≤ ``medium_term_max_months``).

    A loan appears when it had something on the books that day: principal, interest
    receivable or a specific provision. Loans disbursed later, or settled or written off
    earlier, do not.
    """

    principal_in_term: int
    principal_overdue: int
    interest_receivable: int
    debt_group: int
    days_past_due: int
    specific_provision: int
    collateral_value: int
    discounted_collateral: int

    @property
    def outstanding(self) -> int:
        return self.principal_in_term + self.principal_overdue


def term_class(term_months: int, short_max: int, medium_max: int) -> TermClass:
    if term_months <= short_max:
        return TermClass.SHORT
    if term_months <= medium_max:
        return TermClass.MEDIUM
    return TermClass.LONG


def loan_account_balances(as_of: date, accounts: tuple[str, ...]) -> dict[int, dict[str, int]]:
    """Signed balance (debit − credit) per loan and account, entries dated up to ``as_of``.

    Read as the running balances kept with every posting (``flask fund check`` verifies
    they equal the lines) less the lines dated after ``as_of``: a report for a recent date
    reads only the last few days of the journal.
    """
    out: dict[int, dict[str, int]] = defaultdict(dict)
    for loan_id, account, balance in db.session.execute(
        select(LoanBalance.loan_id, LoanBalance.account, LoanBalance.balance).where(
            LoanBalance.account.in_(accounts), LoanBalance.balance != 0
        )
    ):
        out[loan_id][account] = int(balance)
    later = (
        select(
            JournalLine.loan_id,
            JournalLine.account,
            func.sum(JournalLine.debit - JournalLine.credit),
        )
        .join(JournalEntry, JournalEntry.id == JournalLine.entry_id)
        .where(
            JournalEntry.entry_date > as_of,
            JournalLine.loan_id.is_not(None),
            JournalLine.account.in_(accounts),
        )
        .group_by(JournalLine.loan_id, JournalLine.account)
    )
    for loan_id, account, moved in db.session.execute(later):
        out[loan_id][account] = out[loan_id].get(account, 0) - int(moved)
    return {
        loan_id: {a: v for a, v in balances.items() if v}
        for loan_id, balances in out.items()
        if any(balances.values())
    }


def loan_dimensions(loan_ids: set[int] | None, as_of: date) -> dict[int, LoanDimensions]:
    """Borrower and term of the given loans (all loans when ``loan_ids`` is None)."""
    short_max = policy.value("short_term_max_months", as_of)
    medium_max = policy.value("medium_term_max_months", as_of)
    query = select(
        Loan.id.label("loan_id"),
        Loan.contract_no,
        Loan.project_name,
        Loan.term_months,
        Loan.origin_fund_id,
        Cooperative.id.label("cooperative_id"),
        Cooperative.name,
        Cooperative.commune_unit_id,
        Cooperative.former_district_code,
        Cooperative.sector,
        Cooperative.kind,
    ).join(Cooperative, Cooperative.id == Loan.cooperative_id)
    out: dict[int, LoanDimensions] = {}
    # Places and labels are the same for every loan of a commune or a kind: worked out once
    # each, not per loan (translating a label or placing a commune costs more than a row).
    places: dict[tuple[int | None, str | None], BorrowerArea] = {}
    kind_labels: dict[str, str] = {}
    term_labels = {tc: str(label) for tc, label in TERM_CLASS_LABELS.items()}
    for row in db.session.execute(query):
        loan_id = row.loan_id
        if loan_ids is not None and loan_id not in loan_ids:
            continue
        tc = term_class(row.term_months, short_max, medium_max)
        kind = row.kind
        if kind not in kind_labels:
            kind_labels[kind] = str(KIND_LABELS.get(CooperativeKind(kind), kind))
        place = (row.commune_unit_id, row.former_district_code)
        if place not in places:
            places[place] = borrower_area(*place, as_of)
        area = places[place]
        out[loan_id] = LoanDimensions(
            loan_id=loan_id,
            contract_no=row.contract_no,
            project_name=row.project_name,
            cooperative_id=row.cooperative_id,
            cooperative_name=row.name,
            **vars(area),
            sector=row.sector or "",
            borrower_kind=kind,
            borrower_kind_label=kind_labels[kind],
            term_months=row.term_months,
            term_class=tc.value,
            term_class_label=term_labels[tc],
            origin_fund_id=row.origin_fund_id,
        )
    return out


def debt_groups(as_of: date) -> dict[int, int]:
    """Each loan's debt group from the last close of day on or before ``as_of``."""
    return latest_groups("loan", as_of=as_of)


def oldest_unpaid_due_dates(as_of: date) -> dict[int, date]:
    """Per loan, the oldest due date before ``as_of`` of an instalment not paid off by the
    end of ``as_of`` (``paid_on`` is the value date that cleared it)."""
    query = (
        select(Instalment.loan_id, func.min(Instalment.due_date))
        .where(
            Instalment.due_date < as_of,
            or_(
                Instalment.paid_on.is_(None),
                Instalment.paid_on > as_of,
            ),
            or_(Instalment.principal > 0, Instalment.interest > 0),
        )
        .group_by(Instalment.loan_id)
    )
    return dict(db.session.execute(query).tuples().all())


def collateral_values(loan_ids: set[int]) -> dict[int, tuple[int, int]]:
    """(valuation, discounted valuation) per loan, discounted as the close of day does."""
    out: dict[int, tuple[int, int]] = {}
    for loan_id, valuation, factor in db.session.execute(
        select(Collateral.loan_id, Collateral.valuation, Collateral.discount_factor)
    ):
        if loan_id not in loan_ids:
            continue
        total, discounted = out.get(loan_id, (0, 0))
        out[loan_id] = (
            total + int(valuation),
            discounted + discounted_value(valuation, factor),
        )
    return out


def origin_loan_ids(origin: OriginFilter) -> set[int] | None:
    """The loans of one origin fund's book; None for every origin (consolidated)."""
    if origin.origin is None:
        return None
    return set(db.session.scalars(origin.apply(select(Loan.id), Loan.origin_fund_id)))


def loan_positions(as_of: date, origin: OriginFilter = ALL) -> list[LoanPosition]:
    """Every loan on the books at the end of ``as_of`` (of one origin fund's book, or of
    all), ordered by contract number (then id: books taken over may repeat a number)."""
    balances = loan_account_balances(as_of, POSITION_ACCOUNTS)
    ids = set(balances)
    kept = origin_loan_ids(origin)
    if kept is not None:
        ids &= kept
    if not ids:
        return []
    dims = loan_dimensions(ids, as_of)
    groups = debt_groups(as_of)
    oldest = oldest_unpaid_due_dates(as_of)
    collateral = collateral_values(ids)
    out = []
    for loan_id in ids:
        bal = balances[loan_id]
        dim = dims[loan_id]
        due = oldest.get(loan_id)
        value, discounted = collateral.get(loan_id, (0, 0))
        out.append(
            LoanPosition(
                **vars(dim),
                principal_in_term=bal.get(acc.LOANS_IN_TERM, 0),
                principal_overdue=bal.get(acc.LOANS_OVERDUE, 0),
                interest_receivable=bal.get(acc.INTEREST_RECEIVABLE, 0),
                debt_group=groups.get(loan_id, 1),
                days_past_due=(as_of - due).days if due else 0,
                specific_provision=-bal.get(acc.PROVISION, 0),
                collateral_value=value,
                discounted_collateral=discounted,
            )
        )
    out.sort(key=lambda p: (p.contract_no, p.loan_id))
    return out


@dataclass(frozen=True)
class LoanFlow:
    """What moved on one loan's books during a period (entries dated in it), in đồng.

    - ``disbursed``: cash paid out by disbursement entries;
    - ``collected``: cash received on the loan (repayments less reversed repayments);
    - ``written_off``: principal removed by write-off entries;
    - ``principal_collected``: the fall in outstanding principal not explained by a
      write-off: opening + disbursed − written off − closing;
    - ``interest_collected``: collected − principal collected (interest and overdue
      interest received in cash).
    """

    loan_id: int
    opening: int
    disbursed: int
    collected: int
    written_off: int
    closing: int

    @property
    def principal_collected(self) -> int:
        return self.opening + self.disbursed - self.written_off - self.closing

    @property
    def interest_collected(self) -> int:
        return self.collected - self.principal_collected


_PRINCIPAL = (acc.LOANS_IN_TERM, acc.LOANS_OVERDUE)


def loan_flows(start: date, end: date, origin: OriginFilter = ALL) -> dict[int, LoanFlow]:
    """Per loan, its movements over ``[start, end]`` and its outstanding either side (of
    one origin fund's book, or of all)."""
    kind = JournalEntry.kind
    is_cash = JournalLine.account == acc.CASH
    is_principal = JournalLine.account.in_(_PRINCIPAL)
    net_debit = JournalLine.debit - JournalLine.credit
    net_credit = JournalLine.credit - JournalLine.debit
    query = (
        select(
            JournalLine.loan_id,
            func.sum(
                case(
                    (and_(is_cash, kind == "disbursement"), net_credit),
                    else_=0,
                )
            ),
            func.sum(
                case(
                    (and_(is_cash, kind != "disbursement"), net_debit),
                    else_=0,
                )
            ),
            func.sum(
                case(
                    (
                        and_(is_principal, kind == "write_off"),
                        JournalLine.credit - JournalLine.debit,
                    ),
                    else_=0,
                )
            ),
        )
        .join(JournalEntry, JournalEntry.id == JournalLine.entry_id)
        .where(
            JournalLine.loan_id.is_not(None),
            JournalEntry.entry_date >= start,
            JournalEntry.entry_date <= end,
            JournalLine.account.in_((acc.CASH, *_PRINCIPAL)),
        )
        .group_by(JournalLine.loan_id)
    )
    moved = {
        row[0]: (int(row[1] or 0), int(row[2] or 0), int(row[3] or 0))
        for row in db.session.execute(query)
    }
    opening = _outstanding(start - timedelta(days=1))
    closing = _outstanding(end)
    out = {}
    ids = set(moved) | set(opening) | set(closing)
    kept = origin_loan_ids(origin)
    if kept is not None:
        ids &= kept
    for loan_id in ids:
        disbursed, collected, written_off = moved.get(loan_id, (0, 0, 0))
        out[loan_id] = LoanFlow(
            loan_id=loan_id,
            opening=opening.get(loan_id, 0),
            disbursed=disbursed,
            collected=collected,
            written_off=written_off,
            closing=closing.get(loan_id, 0),
        )
    return out


def _outstanding(as_of: date) -> dict[int, int]:
    balances = loan_account_balances(as_of, _PRINCIPAL)
    return {i: sum(b.values()) for i, b in balances.items() if sum(b.values())}


def general_provision_held(as_of: date, origin: OriginFilter = ALL) -> int:
    """The general provision in the ledger (provision lines without a loan), as of a date.

    It is the fund's, held against its whole book: per origin it counts under this fund
    (as ``reports.origin_book.line_origin`` counts its lines), 0 under a fund taken over."""
    if origin.origin is not None and not origin.origin.is_own:
        return 0
    total = db.session.scalar(
        select(func.coalesce(func.sum(JournalLine.credit - JournalLine.debit), 0))
        .join(JournalEntry, JournalEntry.id == JournalLine.entry_id)
        .where(
            JournalLine.account == acc.PROVISION,
            JournalLine.loan_id.is_(None),
            JournalEntry.entry_date <= as_of,
        )
    )
    return int(total or 0)
