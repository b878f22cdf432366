"""The chart series of the fund's book: outstanding by month-end, by area, by debt group,
and what fell due against what was collected, month by month.

Plain data read from the journal and the book's sums (``reports.aggregates``), shared by
the dashboard page and the fund balance report's charts (fundapp/reports/charts.py), which
is why it sits in reports, below the dashboard.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from sqlalchemy import and_, case, extract, func, select

from fundapp.domain.dates import add_months
from fundapp.extensions import db
from fundapp.funds.services import ALL, OriginFilter
from fundapp.ledger import accounts as acc
from fundapp.ledger.models import JournalEntry, JournalLine, LedgerDayTotal
from fundapp.loans import dues
from fundapp.loans.models import Instalment, Loan
from fundapp.reports import aggregates
from fundapp.reports.aggregates import AREA_AND_GROUP, Book

PRINCIPAL_ACCOUNTS = (acc.LOANS_IN_TERM, acc.LOANS_OVERDUE)
SERIES_MONTHS = 24
COLLECTION_MONTHS = 12


def month_start(day: date) -> date:
    return day.replace(day=1)


def month_end(day: date) -> date:
    return add_months(month_start(day), 1) - timedelta(days=1)


# --- chart series ----------------------------------------------------------------------------


@dataclass(frozen=True)
class MonthCollection:
    month: date  # the first day of the month
    due: int
    collected: int


@dataclass(frozen=True)
class AreaAmount:
    code: str
    name: str
    outstanding: int


@dataclass(frozen=True)
class ChartSeries:
    as_of: date
    # (month-end, or ``as_of`` for its own month; outstanding principal at the end of it)
    outstanding_by_month: list[tuple[date, int]]
    # Outstanding per area: current commune, former district or former province (``area_by``).
    by_area: list[AreaAmount]
    debt_groups: dict[int, int]
    collections: list[MonthCollection]
    area_by: str = "commune"


def _month_key(column: object) -> tuple[object, object]:
    return extract("year", column), extract("month", column)


def _of_origin(query: Any, loan_id: Any, origin: OriginFilter) -> Any:
    """``query`` kept to the loans of one origin fund's book (all: unchanged)."""
    if origin.origin is None:
        return query
    return query.where(loan_id.in_(origin.apply(select(Loan.id), Loan.origin_fund_id)))


def outstanding_by_month(
    as_of: date, months: int = SERIES_MONTHS, origin: OriginFilter = ALL
) -> list[tuple[date, int]]:
    """Outstanding principal at each of the last ``months`` month-ends, the last point
    being ``as_of`` itself: one GROUP BY over the journal by month and a running sum."""
    if origin.origin is None:
        # The whole book: the journal's day totals.
        year, month = _month_key(LedgerDayTotal.entry_date)
        query = (
            select(year, month, func.sum(LedgerDayTotal.debit - LedgerDayTotal.credit))
            .where(
                LedgerDayTotal.account.in_(PRINCIPAL_ACCOUNTS),
                LedgerDayTotal.entry_date <= as_of,
            )
            .group_by(year, month)
        )
    else:
        year, month = _month_key(JournalEntry.entry_date)
        query = (
            select(year, month, func.sum(JournalLine.debit - JournalLine.credit))
            .join(JournalEntry, JournalEntry.id == JournalLine.entry_id)
            .where(
                JournalLine.account.in_(PRINCIPAL_ACCOUNTS),
                JournalEntry.entry_date <= as_of,
            )
            .group_by(year, month)
        )
        query = _of_origin(query, JournalLine.loan_id, origin)
    moved = {(int(y), int(m)): int(total) for y, m, total in db.session.execute(query)}
    first = add_months(month_start(as_of), -(months - 1))
    running = sum(total for key, total in moved.items() if key < (first.year, first.month))
    points = []
    for index in range(months):
        start = add_months(first, index)
        running += moved.get((start.year, start.month), 0)
        points.append((min(month_end(start), as_of), running))
    return points


def collections_by_month(
    as_of: date, months: int = COLLECTION_MONTHS, origin: OriginFilter = ALL
) -> list[MonthCollection]:
    """For the last ``months`` months up to ``as_of``'s: principal and interest falling
    due in the month (the loans' schedules) and the cash collected on loans in it."""
    first = add_months(month_start(as_of), -(months - 1))
    last = month_end(as_of)
    if origin.origin is None and not dues.pending():
        due = dues.months(first, last)  # the whole book: the months kept (loans.dues)
    else:
        year, month = _month_key(Instalment.due_date)
        due_query = (
            select(year, month, func.sum(Instalment.principal + Instalment.interest))
            .where(Instalment.due_date >= first, Instalment.due_date <= last)
            .group_by(year, month)
        )
        due = {
            (int(y), int(m)): int(total)
            for y, m, total in db.session.execute(_of_origin(due_query, Instalment.loan_id, origin))
        }
    if origin.origin is None:
        collected = _collected_by_month(first, as_of)
    else:
        collected = _origin_collected_by_month(first, as_of, origin)
    out = []
    for index in range(months):
        start = add_months(first, index)
        key = (start.year, start.month)
        out.append(MonthCollection(start, due.get(key, 0), collected.get(key, 0)))
    return out


def _collected_by_month(first: date, as_of: date) -> dict[tuple[int, int], int]:
    """The cash collected on loans per month from ``first`` to ``as_of``: the journal's day
    totals of the cash lines of a loan, disbursements left out."""
    year, month = _month_key(LedgerDayTotal.entry_date)
    query = (
        select(year, month, func.sum(LedgerDayTotal.debit - LedgerDayTotal.credit))
        .where(
            LedgerDayTotal.loan_line,
            LedgerDayTotal.account == acc.CASH,
            LedgerDayTotal.kind != "disbursement",
            LedgerDayTotal.entry_date >= first,
            LedgerDayTotal.entry_date <= as_of,
        )
        .group_by(year, month)
    )
    return {(int(y), int(m)): int(total or 0) for y, m, total in db.session.execute(query)}


def _origin_collected_by_month(
    first: date, as_of: date, origin: OriginFilter
) -> dict[tuple[int, int], int]:
    """``_collected_by_month`` of one origin fund's loans, from their journal lines."""
    year, month = _month_key(JournalEntry.entry_date)
    collected_cash = case(
        (
            and_(JournalLine.account == acc.CASH, JournalEntry.kind != "disbursement"),
            JournalLine.debit - JournalLine.credit,
        ),
        else_=0,
    )
    collected_query = (
        select(year, month, func.sum(collected_cash))
        .join(JournalEntry, JournalEntry.id == JournalLine.entry_id)
        .where(
            JournalLine.loan_id.is_not(None),
            JournalLine.account == acc.CASH,
            JournalEntry.entry_date >= first,
            JournalEntry.entry_date <= as_of,
        )
        .group_by(year, month)
    )
    return {
        (int(y), int(m)): int(total or 0)
        for y, m, total in db.session.execute(
            _of_origin(collected_query, JournalLine.loan_id, origin)
        )
    }


def by_area(book: Book, by: str = "commune") -> list[AreaAmount]:
    """Outstanding per area (``by``: commune, former_district, former_province), largest
    first; the areas add up to the whole book whichever grouping."""
    totals = aggregates.by_area(book.rows, by, book.as_of)
    rows = [AreaAmount(code, name, amount) for (code, name), amount in totals.items()]
    return sorted(rows, key=lambda r: (-r.outstanding, r.code))


def by_debt_group(book: Book) -> dict[int, int]:
    return {group: amount for group, (_n, amount) in aggregates.by_debt_group(book.rows).items()}


def chart_series(
    as_of: date,
    book: Book | None = None,
    by: str = "commune",
    origin: OriginFilter = ALL,
) -> ChartSeries:
    """``book``: ``aggregates.book(as_of, AREA_AND_GROUP, origin)`` when the caller has it."""
    book = (
        aggregates.book(as_of, AREA_AND_GROUP, origin, row_borrowers=False)
        if book is None
        else book
    )
    return ChartSeries(
        as_of=as_of,
        outstanding_by_month=outstanding_by_month(as_of, origin=origin),
        by_area=by_area(book, by),
        debt_groups=by_debt_group(book),
        collections=collections_by_month(as_of, origin=origin),
        area_by=by,
    )
