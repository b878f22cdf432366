"""Accrued interest (lãi dự thu): the pure arithmetic (Circular 52/2022, Art. 5–6;
docs/rules.md#income-recognition).

Interest of a group-1 loan is income as it is earned, not only when it is billed. At each
month end the close of day recognises, per loan, the in-term interest earned since the last
billing up to that month end. Each month's piece is actual/365 on the balance of each day,
first day counted, last not, and rounded half-up once (``domain.money.round_dong``). When
the instalment's interest is billed the accrual of its period is reversed in the same entry
that bills it, so the income of the period is exactly the billed interest.

Everything here is a *target*: what the accrued-interest account should hold for a loan on
a date, from the schedule. The database side (many loans from the stored schedules, the
month-end posting) is ``servicing.accrual``; the doubtful interest of earlier years reads
the journal in ``loans.posting``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal, localcontext
from typing import Any

from fundapp.domain import accounts as acc
from fundapp.domain.money import interest_exact, round_dong
from fundapp.domain.schedule import _balance_days


@dataclass(frozen=True)
class AccrualRow:
    """What the accrual needs of one instalment: its interest span and what is settled."""

    due_date: date
    interest_from: date | None
    principal: int
    interest: int
    settled: int  # interest paid (or waived) on the row


def month_start(day: date) -> date:
    return day.replace(day=1)


def next_month(day: date) -> date:
    return (day.replace(day=28) + timedelta(days=4)).replace(day=1)


def horizon_of(book_date: date) -> date:
    """The end (exclusive) of the days accrued on the books after the close of
    ``book_date``: the first day of its month (the last month end is posted)."""
    return month_start(book_date)


def month_pieces(
    annual_rate: Decimal,
    events: Sequence[tuple[date, int]],
    start: date,
    end: date,
) -> list[tuple[date, int]]:
    """The interest of ``[start, end)`` cut at month ends: (month end, đồng) per month,
    each rounded half-up once (one accrual posting per month)."""
    out = []
    a = start
    while a < end:
        b = min(next_month(a), end)
        with localcontext() as ctx:
            ctx.prec = 50
            amount = round_dong(interest_exact(_balance_days(events, a, b), annual_rate, 1))
        out.append((next_month(a) - timedelta(days=1), amount))
        a = b
    return out


def accrued(
    annual_rate: Decimal,
    rows: Iterable[AccrualRow],
    tranches: Iterable[tuple[date, int]],
    prepayments: Iterable[tuple[date, int]],
    billed_before: date,
    horizon: date,
) -> int:
    """Interest earned and not yet billed, up to ``horizon`` (exclusive).

    Rows due before ``billed_before`` are billed (the close of day has moved them); each
    other row with an interest span contributes the month pieces of
    ``[interest_from, min(horizon, due))``, less what is already paid on it (never below 0:
    a row paid in full before its due date has nothing left to accrue)."""
    rows = list(rows)
    events = [(d, a) for d, a in tranches]
    events += [(d, -a) for d, a in prepayments]
    events += [(r.due_date, -r.principal) for r in rows if r.principal]
    total = 0
    for row in rows:
        if row.due_date < billed_before or row.interest_from is None:
            continue
        end = min(horizon, row.due_date)
        if row.interest_from >= end:
            continue
        earned = sum(a for _d, a in month_pieces(annual_rate, events, row.interest_from, end))
        total += max(earned - row.settled, 0)
    return total


def accrued_of_state(state: Any, billed_before: date, horizon: date) -> int:
    """:func:`accrued` of a loan from its replayed state (``domain.replay.LoanState``)."""
    closed = any(r.interest_supported for r in state.rows) and state.is_settled()
    rows = [
        AccrualRow(
            r.plan.due_date,
            r.plan.interest_from,
            r.plan.principal,
            r.plan.interest,
            # Paid or waived on the row, and the budget's share once billed (domain.support).
            r.plan.interest
            - r.interest_unpaid
            - r.interest_supported
            + r.support_billed(billed_before, closed),
        )
        for r in state.rows
    ]
    return accrued(
        state.product.terms.annual_rate,
        rows,
        [(t.date, t.amount) for t in state.tranches],
        [(p.date, p.amount) for p in state.prepayments],
        billed_before,
        horizon,
    )


# --------------------------------------------------------------------------------------
# Doubtful accrued interest: against income this year, to expense for an earlier year

RECEIVABLES = (acc.INTEREST_RECEIVABLE, acc.ACCRUED_INTEREST)


def split_doubtful(
    want: dict[str, int], have: dict[str, int], earlier_year: Callable[[int], int]
) -> dict[str, int]:
    """``want`` (the stateless targets of ``domain.posting.targets_from``) with the expense
    of doubtful interest of earlier years: income + that expense always equals the stateless
    income target, so the fund's result is the same; the expense only grows when on-balance
    receivables are reversed (the loan leaves group 1), by ``earlier_year(held)``: of the
    ``held`` receivables being reversed, the part recognised in an earlier financial year
    (``loans.posting.doubtful_charge``, read from the journal only when needed)."""
    out = dict(want)
    expensed = have.get(acc.DOUBTFUL_INTEREST_EXPENSE, 0)
    held = sum(have.get(a, 0) for a in RECEIVABLES)
    wanted = sum(want.get(a, 0) for a in RECEIVABLES)
    leaving_group_one = (
        held > 0
        and wanted == 0
        and have.get(acc.SUSPENDED_INTEREST_MEMO, 0) == 0
        and want.get(acc.SUSPENDED_INTEREST_MEMO, 0) > 0
    )
    if leaving_group_one:  # everything on-balance goes off-balance
        expensed += earlier_year(held)
    out[acc.DOUBTFUL_INTEREST_EXPENSE] = expensed
    out[acc.INTEREST_INCOME] = want[acc.INTEREST_INCOME] - expensed
    return out
