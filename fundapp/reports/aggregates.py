"""Whole-book figures as of a date, summed in the database.

The totals a reader shows for the whole book (outstanding by debt group, by area, by days
past due, loans and borrowers with outstanding, a period's flows) are sums of the loans'
running balances (``ledger.models.LoanBalance``, kept by every posting) less the journal
lines dated after the date, grouped by the columns the reader needs. The database returns
one row per combination of those columns (a few thousand at most, whatever the size of the
book), never one per loan; Python maps them (a commune to its current area once per
commune, not per loan).

The figures are those of ``reports.positions.loan_positions`` summed, to the đồng: the
same balances as of the end of the date, the same debt group (the one in force on it),
the same oldest unpaid due date. ``loan_positions`` stays for the reports that list loans
one by one.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field, fields
from datetime import date
from typing import Any

from sqlalchemy import and_, case, cast, func, literal, literal_column, null, or_, select, union_all

from fundapp.cooperatives.models import Cooperative
from fundapp.extensions import db
from fundapp.funds.services import ALL, OriginFilter
from fundapp.ledger import accounts as acc
from fundapp.ledger.models import JournalEntry, JournalLine, LedgerDayTotal, LoanBalance
from fundapp.loans import book as kept
from fundapp.loans.days import last_run_date
from fundapp.loans.models import Instalment, Loan
from fundapp.policy import services as policy
from fundapp.reports.positions import POSITION_ACCOUNTS, borrower_area
from fundapp.servicing.debt_groups import latest_groups_query

PRINCIPAL_ACCOUNTS = (acc.LOANS_IN_TERM, acc.LOANS_OVERDUE)
# What the dashboard and the fund balance report group by: their debt-group table and
# their area chart (whichever grouping of areas) from one set of rows.
AREA_AND_GROUP = ("debt_group", "commune_unit_id", "former_district_code")


@dataclass(frozen=True)
class BookRow:
    """The loans sharing one value of each column asked for (the others are None), with
    their sums as of the date, in đồng (as in ``reports.positions.LoanPosition``)."""

    loans: int
    # None when not counted per row (``book(row_borrowers=False)``).
    borrowers: int | None
    principal_in_term: int
    principal_overdue: int
    interest_receivable: int
    specific_provision: int
    debt_group: int | None = None
    commune_unit_id: int | None = None
    former_district_code: str | None = None
    term_class: str | None = None
    officer_id: int | None = None
    origin_fund_id: int | None = None
    status: str | None = None
    borrower_kind: str | None = None
    sector: str | None = None
    # The oldest due date before the date of an instalment still unpaid at its end.
    oldest_due: date | None = None

    @property
    def outstanding(self) -> int:
        return self.principal_in_term + self.principal_overdue


DIMENSIONS = tuple(f.name for f in fields(BookRow))[6:]
_SUMS = ("principal_in_term", "principal_overdue", "interest_receivable", "specific_provision")


@dataclass(frozen=True)
class Book:
    """The rows of ``book`` and their total (the borrowers counted once over all rows)."""

    as_of: date
    by: tuple[str, ...]
    rows: tuple[BookRow, ...]
    total: BookRow = field(default_factory=lambda: BookRow(0, 0, 0, 0, 0, 0))


def _balances(as_of: date, accounts: tuple[str, ...]) -> Any:
    """(loan_id, account, amount) whose sum per loan and account is its balance at the end
    of ``as_of``: the running balances less the lines dated after it (a report for a
    recent date reads only the last days of the journal)."""
    current = select(
        LoanBalance.loan_id.label("loan_id"),
        LoanBalance.account.label("account"),
        LoanBalance.balance.label("amount"),
    ).where(LoanBalance.account.in_(accounts))
    later = (
        select(
            JournalLine.loan_id,
            JournalLine.account,
            (JournalLine.credit - JournalLine.debit).label("amount"),
        )
        .join(JournalEntry, JournalEntry.id == JournalLine.entry_id)
        .where(
            JournalEntry.entry_date > as_of,
            JournalLine.loan_id.is_not(None),
            JournalLine.account.in_(accounts),
        )
    )
    return union_all(current, later).subquery("moves")


_BALANCES = {
    "principal_in_term": acc.LOANS_IN_TERM,
    "principal_overdue": acc.LOANS_OVERDUE,
    "interest_receivable": acc.INTEREST_RECEIVABLE,
    "specific_provision": acc.PROVISION,
}


def _per_loan(as_of: date) -> Any:
    """One row per loan with something on the books at the end of ``as_of``: its running
    balances less its lines dated after the date.

    Two GROUP BY loan_id joined, not one over a union of both: the database estimates the
    loans of one table from its statistics, where a union's groups are a blind guess that
    sends it into nested loops. Every line of a loan has its running balance row (the
    posting keeps it, ``flask fund check`` verifies it), so the balances find every loan."""

    def pivot(account: Any, amount: Any) -> list[Any]:
        return [
            func.sum(case((account == code, amount), else_=0)).label(name)
            for name, code in _BALANCES.items()
        ]

    kept = (
        select(LoanBalance.loan_id, *pivot(LoanBalance.account, LoanBalance.balance))
        .where(LoanBalance.account.in_(POSITION_ACCOUNTS))
        .group_by(LoanBalance.loan_id)
        .subquery("kept")
    )
    later = (
        select(
            JournalLine.loan_id, *pivot(JournalLine.account, JournalLine.debit - JournalLine.credit)
        )
        .join(JournalEntry, JournalEntry.id == JournalLine.entry_id)
        .where(
            JournalEntry.entry_date > as_of,
            JournalLine.loan_id.is_not(None),
            JournalLine.account.in_(POSITION_ACCOUNTS),
        )
        .group_by(JournalLine.loan_id)
        .subquery("later")
    )
    balances = {name: kept.c[name] - func.coalesce(later.c[name], 0) for name in _BALANCES}
    # The provision account holds a credit balance: the provision is its opposite.
    balances["specific_provision"] = -balances["specific_provision"]
    return (
        select(kept.c.loan_id, *(value.label(name) for name, value in balances.items()))
        .outerjoin(later, later.c.loan_id == kept.c.loan_id)
        .where(or_(*(value != 0 for value in balances.values())))
        .subquery("per_loan")
    )


def _group_history(as_of: date) -> Any:
    """Each loan's group from its latest classification on or before ``as_of``
    (``servicing.debt_groups.latest_groups``): a subquery (ref_id, debt_group) to join."""
    return latest_groups_query("loan", as_of=as_of).subquery("group_history")


def _oldest_unpaid(as_of: date) -> Any:
    """Per loan, the oldest due date before ``as_of`` of an instalment not paid off by the
    end of it (``reports.positions.oldest_unpaid_due_dates``), as a subquery."""
    return (
        select(Instalment.loan_id, func.min(Instalment.due_date).label("due"))
        .where(
            Instalment.due_date < as_of,
            or_(Instalment.paid_on.is_(None), Instalment.paid_on > as_of),
            or_(Instalment.principal > 0, Instalment.interest > 0),
        )
        .group_by(Instalment.loan_id)
        .subquery("oldest")
    )


_BORROWER_COLUMNS = {"commune_unit_id", "former_district_code", "borrower_kind", "sector"}


def _with_loan_columns(query: Any, by: tuple[str, ...], as_of: date) -> tuple[Any, dict]:
    """``query`` (over loans) joined to the borrowers when ``by`` needs them, and the
    columns of the loan and its borrower it may group by."""
    columns: dict[str, Any] = {
        "officer_id": Loan.officer_id,
        "origin_fund_id": Loan.origin_fund_id,
        "status": Loan.status,
    }
    if _BORROWER_COLUMNS & set(by):
        query = query.join(Cooperative, Cooperative.id == Loan.cooperative_id)
        columns.update(
            commune_unit_id=Cooperative.commune_unit_id,
            former_district_code=Cooperative.former_district_code,
            borrower_kind=Cooperative.kind,
            # As the reports name it: no sector recorded is the empty one.
            sector=func.coalesce(Cooperative.sector, ""),
        )
    if "term_class" in by:
        short_max = policy.value("short_term_max_months", as_of)
        medium_max = policy.value("medium_term_max_months", as_of)
        columns["term_class"] = case(
            (Loan.term_months <= short_max, literal("short")),
            (Loan.term_months <= medium_max, literal("medium")),
            else_=literal("long"),
        )
    return query, columns


def book(
    as_of: date,
    by: tuple[str, ...] = (),
    origin: OriginFilter = ALL,
    *,
    outstanding_only: bool = True,
    row_borrowers: bool = True,
) -> Book:
    """The loans on the books at the end of ``as_of`` (of one origin fund's book, or of
    all), summed per combination of the ``by`` columns (``DIMENSIONS``), and in total.

    ``outstanding_only``: only the loans with principal outstanding, as the dashboard and
    the reports count "projects with outstanding"; otherwise every loan with a balance
    (interest receivable or a provision without principal too), as ``loan_positions``.

    As of the business date (nothing dated after it, every debt group current), grouped
    by the kept dimensions (``KEPT_DIMENSIONS``), the figures are the kept totals
    (``loans.book``): a few thousand rows, however large the book. ``row_borrowers``:
    count the borrowers of each row too (from the kept loans); otherwise only the total's
    are counted and the rows' are None.

    Otherwise one statement: the per-loan sums are a common table expression read twice,
    by the grouped rows and by the total (borrowers are counted once, not per row)."""
    unknown = set(by) - set(DIMENSIONS)
    if unknown:
        raise ValueError(f"unknown book dimensions: {sorted(unknown)}")
    if outstanding_only and set(by) <= KEPT_DIMENSIONS and _totals_hold(as_of):
        return _kept_book(as_of, by, origin, row_borrowers)
    per_loan = _per_loan(as_of)
    query = select(per_loan, Loan.cooperative_id.label("cooperative_id")).join(
        Loan, Loan.id == per_loan.c.loan_id
    )
    query, columns = _with_loan_columns(query, by, as_of)
    if "debt_group" in by:
        last = last_run_date()
        if last is None or as_of >= last:
            # Every classification is on or before the last run, so the latest one is the
            # loan's current group, which the close of day keeps on the loan.
            columns["debt_group"] = Loan.debt_group
        else:
            history = _group_history(as_of)
            query = query.outerjoin(history, history.c.ref_id == Loan.id)
            columns["debt_group"] = func.coalesce(history.c.debt_group, 1)
    if "oldest_due" in by:
        oldest = _oldest_unpaid(as_of)
        query = query.outerjoin(oldest, oldest.c.loan_id == Loan.id)
        columns["oldest_due"] = oldest.c.due
    query = query.add_columns(*(columns[name].label(name) for name in by))
    if outstanding_only:
        query = query.where(per_loan.c.principal_in_term + per_loan.c.principal_overdue > 0)
    pos = origin.apply(query, Loan.origin_fund_id).cte("pos")

    def figures() -> list[Any]:
        return [
            func.count().label("loans"),
            func.count(pos.c.cooperative_id.distinct()).label("borrowers"),
            *(func.coalesce(func.sum(pos.c[name]), 0).label(name) for name in _SUMS),
        ]

    keys = [pos.c[name] for name in by]
    grouped = select(literal_column("0").label("is_total"), *figures(), *keys).group_by(*keys)
    total = select(
        literal_column("1").label("is_total"),
        *figures(),
        *(cast(null(), pos.c[name].type).label(name) for name in by),
    )
    rows: list[BookRow] = []
    whole = BookRow(0, 0, 0, 0, 0, 0)
    # Without columns the grouped rows would be the total again.
    statement = union_all(grouped, total) if by else total
    for row in db.session.execute(statement).mappings():
        made = BookRow(
            loans=int(row["loans"]),
            borrowers=int(row["borrowers"]),
            **{name: int(row[name]) for name in _SUMS},
            **{name: row[name] for name in by},
        )
        if row["is_total"]:
            whole = made
        else:
            rows.append(made)
    return Book(as_of, tuple(by), tuple(rows), whole)


# The dimensions ``loans.book`` keeps its totals by.
KEPT_DIMENSIONS = frozenset(
    {
        "debt_group",
        "commune_unit_id",
        "former_district_code",
        "officer_id",
        "origin_fund_id",
        "status",
    }
)


def _totals_hold(as_of: date) -> bool:
    """Whether the kept totals are the book as of ``as_of``: no journal entry is dated
    after it, no close of day ran for a later date (the loans' groups are current), and
    this transaction has changed no loan (its totals are refreshed when it commits)."""
    last = last_run_date()  # (a query: the session's pending changes are flushed first)
    if (last is not None and as_of < last) or kept.pending():
        return False
    latest = db.session.scalar(select(func.max(LedgerDayTotal.entry_date)))
    return latest is None or latest <= as_of


def _kept_book(as_of: date, by: tuple[str, ...], origin: OriginFilter, row_borrowers: bool) -> Book:
    """``book`` from the kept totals (``loans.book``)."""
    summed = {
        tuple(row[name] for name in by): [row["held_loans"], *(row[name] for name in _SUMS)]
        for row in kept.totals(by, origin)
    }
    counted: dict[tuple, int] = {}
    if row_borrowers and by:
        counted = kept.borrowers_by(by, origin)
    rows = tuple(
        BookRow(
            loans=figures[0],
            borrowers=counted.get(key, 0) if row_borrowers else None,
            **dict(zip(_SUMS, figures[1:], strict=True)),
            **dict(zip(by, key, strict=True)),
        )
        for key, figures in summed.items()
        if figures[0]
    )
    total = BookRow(
        loans=sum(r.loans for r in rows),
        borrowers=kept.borrowers(origin),
        **{name: sum(getattr(r, name) for r in rows) for name in _SUMS},
    )
    if not by:
        rows = ()
    return Book(as_of, tuple(by), rows, total)


def by_area(rows: tuple[BookRow, ...], by: str, as_of: date) -> dict[tuple[str, str], int]:
    """Outstanding per area (``by``: commune, former_district, former_province) of rows
    grouped by ``commune_unit_id`` and ``former_district_code``, each borrower placed as
    ``reports.positions.loan_dimensions`` places it (once per commune, not per loan)."""
    totals: dict[tuple[str, str], int] = defaultdict(int)
    places: dict[tuple[Any, Any], tuple[str, str]] = {}
    for row in rows:
        if not row.outstanding:
            continue
        key = (row.commune_unit_id, row.former_district_code)
        if key not in places:
            places[key] = borrower_area(*key, as_of).area(by)
        totals[places[key]] += row.outstanding
    return dict(totals)


def by_debt_group(rows: tuple[BookRow, ...]) -> dict[int, tuple[int, int]]:
    """(loans, outstanding) per debt group 1–5 of rows grouped by ``debt_group``."""
    out = {group: (0, 0) for group in range(1, 6)}
    for row in rows:
        if row.debt_group is None:
            continue
        loans, amount = out[row.debt_group]
        out[row.debt_group] = (loans + row.loans, amount + row.outstanding)
    return out


# --- flows over a period ---------------------------------------------------------------------


@dataclass(frozen=True)
class FlowTotals:
    """What moved on the loans over ``[start, end]`` (``reports.positions.LoanFlow``
    summed over the book): the principal collected is the fall in outstanding not
    explained by a write-off, the rest of the cash collected is interest."""

    start: date
    end: date
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


def principal_outstanding(as_of: date, origin: OriginFilter = ALL) -> int:
    """Σ loans' principal (in term and overdue) at the end of ``as_of``."""
    if origin.origin is None:
        return int(
            db.session.scalar(
                select(
                    func.coalesce(func.sum(LedgerDayTotal.debit - LedgerDayTotal.credit), 0)
                ).where(
                    LedgerDayTotal.loan_line,
                    LedgerDayTotal.account.in_(PRINCIPAL_ACCOUNTS),
                    LedgerDayTotal.entry_date <= as_of,
                )
            )
            or 0
        )
    moves = _balances(as_of, PRINCIPAL_ACCOUNTS)
    query = select(func.coalesce(func.sum(moves.c.amount), 0))
    if origin.origin is not None:
        query = origin.apply(query.join(Loan, Loan.id == moves.c.loan_id), Loan.origin_fund_id)
    return int(db.session.scalar(query) or 0)


def flow_totals(start: date, end: date, origin: OriginFilter = ALL) -> FlowTotals:
    """The period's disbursements, collections and write-offs on the loans (of one origin
    fund's book, or of all)."""
    return flows_since((start,), end, origin)[0]


def flows_since(
    starts: tuple[date, ...], end: date, origin: OriginFilter = ALL
) -> list[FlowTotals]:
    """``flow_totals(start, end)`` for each of ``starts`` (the month and the year to date),
    in one pass over the journal lines dated from the earliest start.

    The opening is the closing less the principal lines dated in the period: the same
    lines the per-loan opening leaves out, so the figures are ``loan_flows`` summed."""
    # The whole book: the journal's day totals; one origin fund's: its loans' lines.
    whole = origin.origin is None
    table: Any = LedgerDayTotal if whole else JournalLine
    kind = LedgerDayTotal.kind if whole else JournalEntry.kind
    entry_date = LedgerDayTotal.entry_date if whole else JournalEntry.entry_date
    is_cash = table.account == acc.CASH
    is_principal = table.account.in_(PRINCIPAL_ACCOUNTS)
    net_debit = table.debit - table.credit

    def total(condition: Any, amount: Any) -> Any:
        return func.coalesce(func.sum(case((condition, amount), else_=0)), 0)

    columns = []
    for start in starts:
        dated = entry_date >= start
        columns += [
            total(and_(dated, is_cash, kind == "disbursement"), -net_debit),
            total(and_(dated, is_cash, kind != "disbursement"), net_debit),
            total(and_(dated, is_principal, kind == "write_off"), -net_debit),
            total(and_(dated, is_principal), net_debit),
        ]
    query = select(*columns).where(
        LedgerDayTotal.loan_line if whole else JournalLine.loan_id.is_not(None),
        entry_date >= min(starts),
        entry_date <= end,
        table.account.in_((acc.CASH, *PRINCIPAL_ACCOUNTS)),
    )
    if not whole:
        query = query.join(JournalEntry, JournalEntry.id == JournalLine.entry_id)
        query = origin.apply(query.join(Loan, Loan.id == JournalLine.loan_id), Loan.origin_fund_id)
    sums = [int(value) for value in db.session.execute(query).one()]
    closing = principal_outstanding(end, origin)
    out = []
    for n, start in enumerate(starts):
        disbursed, collected, written_off, principal_moved = sums[4 * n : 4 * n + 4]
        out.append(
            FlowTotals(
                start=start,
                end=end,
                opening=closing - principal_moved,
                disbursed=disbursed,
                collected=collected,
                written_off=written_off,
                closing=closing,
            )
        )
    return out


def flows_by(
    start: date, end: date, by: tuple[str, ...], origin: OriginFilter = ALL
) -> dict[tuple, FlowTotals]:
    """``flow_totals`` per combination of the ``by`` columns of the loan and its borrower
    (not ``debt_group`` nor ``oldest_due``, which are of a date), as of ``end``: the lines
    dated in the period and the principal at its end, each grouped once."""
    if set(by) & {"debt_group", "oldest_due"} or set(by) - set(DIMENSIONS):
        raise ValueError(f"flows cannot be grouped by {sorted(by)}")
    kind = JournalEntry.kind
    is_cash = JournalLine.account == acc.CASH
    is_principal = JournalLine.account.in_(PRINCIPAL_ACCOUNTS)
    net_debit = JournalLine.debit - JournalLine.credit

    def total(condition: Any, amount: Any) -> Any:
        return func.coalesce(func.sum(case((condition, amount), else_=0)), 0)

    lines = select().select_from(JournalLine).join(Loan, Loan.id == JournalLine.loan_id)
    lines, columns = _with_loan_columns(lines, by, end)
    keys = [columns[name] for name in by]
    moved_query = (
        lines.add_columns(
            *keys,
            total(and_(is_cash, kind == "disbursement"), -net_debit),
            total(and_(is_cash, kind != "disbursement"), net_debit),
            total(and_(is_principal, kind == "write_off"), -net_debit),
            total(is_principal, net_debit),
        )
        .join(JournalEntry, JournalEntry.id == JournalLine.entry_id)
        .where(
            JournalEntry.entry_date >= start,
            JournalEntry.entry_date <= end,
            JournalLine.account.in_((acc.CASH, *PRINCIPAL_ACCOUNTS)),
        )
        .group_by(*keys)
    )
    moved = {
        tuple(row[: len(by)]): [int(v) for v in row[len(by) :]]
        for row in db.session.execute(origin.apply(moved_query, Loan.origin_fund_id))
    }
    moves = _balances(end, PRINCIPAL_ACCOUNTS)
    held = select().select_from(moves).join(Loan, Loan.id == moves.c.loan_id)
    held, columns = _with_loan_columns(held, by, end)
    keys = [columns[name] for name in by]
    held = held.add_columns(*keys, func.coalesce(func.sum(moves.c.amount), 0)).group_by(*keys)
    closing = {
        tuple(row[: len(by)]): int(row[len(by)])
        for row in db.session.execute(origin.apply(held, Loan.origin_fund_id))
    }
    out = {}
    for key in moved.keys() | closing.keys():
        disbursed, collected, written_off, principal_moved = moved.get(key, (0, 0, 0, 0))
        if not (closing.get(key) or any(moved.get(key, ()))):
            continue  # loans with a running balance but nothing on or by these dates
        out[key] = FlowTotals(
            start=start,
            end=end,
            opening=closing.get(key, 0) - principal_moved,
            disbursed=disbursed,
            collected=collected,
            written_off=written_off,
            closing=closing.get(key, 0),
        )
    return out
