"""Accrued interest (lãi dự thu) and doubtful accrued interest (Circular 52/2022, Art. 5–6).

Interest of a group-1 loan is income as it is earned, not only when it is billed. At each
month end the close of day (the run for D, the first day of a month, covers the month
ending D − 1) recognises, per loan, the in-term interest earned since the last billing up
to that month end: Dr accrued interest (3942) / Cr interest income. Each month's piece is
actual/365 on the balance of each day, first day counted, last not, and rounded half-up
once (``core.money.round_dong``). When the instalment's interest is billed (close of the
day after its due date, or a payment of it) the accrual of its period is reversed in the
same entry that bills it, so the income of the period is exactly the billed interest.

Everything here is a *target*: what the accrued-interest account should hold for a loan on
a date, from the schedule. The postings are differences from what the ledger holds, so a
date run twice posts nothing the second time and a back-dated change corrects itself.

For groups 2–5 nothing is accrued on-balance: the same amount is held off-balance with the
suspended interest (``book.targets_from``). When a loan leaves group 1, what it had on its
receivable accounts is reversed: against income for what was recognised this financial
year, to an expense (8091) for what was recognised in an earlier one
(:func:`doubtful_charge`).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal, localcontext
from typing import Any

from flask_babel import gettext as _
from sqlalchemy import func, select

from fundapp.domain.money import interest_exact, round_dong
from fundapp.domain.schedule import _balance_days
from fundapp.extensions import db
from fundapp.ledger import accounts as acc
from fundapp.ledger.models import JournalEntry, JournalLine, LoanBalance
from fundapp.ledger.services import Line, post
from fundapp.loans.models import (
    Disbursement,
    DisbursementStatus,
    Instalment,
    Loan,
    LoanStatus,
    Repayment,
)

CHUNK = 5000


# --------------------------------------------------------------------------------------
# Pure arithmetic


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


# --------------------------------------------------------------------------------------
# From the engine's replayed state (a service that replays a loan)


def accrued_of_state(state: Any, billed_before: date, horizon: date) -> int:
    rows = [
        AccrualRow(
            r.plan.due_date,
            r.plan.interest_from,
            r.plan.principal,
            r.plan.interest,
            r.plan.interest - r.interest_unpaid,
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
# From the stored schedule, for many loans at once (close of day, reports)


def _chunks(ids: list[int]) -> list[list[int]]:
    return [ids[n : n + CHUNK] for n in range(0, len(ids), CHUNK)]


def accrued_of_loans(
    loan_ids: list[int],
    billed_before: date,
    horizon: date,
    paid_until: date | None = None,
) -> dict[int, int]:
    """:func:`accrued` of each loan from its stored schedule, with a few queries per
    5 000 loans (no replay). ``paid_until``: count only payments with a value date up to
    it (a report on an earlier date); by default the stored paid amounts."""
    out: dict[int, int] = {}
    for part in _chunks(sorted(set(loan_ids))):
        rates = dict(
            db.session.execute(select(Loan.id, Loan.annual_rate).where(Loan.id.in_(part))).all()
        )
        rows: dict[int, list[tuple]] = defaultdict(list)
        for loan_id, no, due, since, principal, interest, paid in db.session.execute(
            select(
                Instalment.loan_id,
                Instalment.no,
                Instalment.due_date,
                Instalment.interest_from,
                Instalment.principal,
                Instalment.interest,
                Instalment.interest_paid,
            ).where(Instalment.loan_id.in_(part))
        ):
            rows[loan_id].append((no, due, since, int(principal), int(interest), int(paid)))
        tranches: dict[int, list[tuple[date, int]]] = defaultdict(list)
        for loan_id, when, amount in db.session.execute(
            select(Disbursement.loan_id, Disbursement.value_date, Disbursement.amount).where(
                Disbursement.loan_id.in_(part), Disbursement.status == DisbursementStatus.POSTED
            )
        ):
            tranches[loan_id].append((when, int(amount)))
        prepaid: dict[int, list[tuple[date, int]]] = defaultdict(list)
        paid_by_row: dict[tuple[int, int], int] = defaultdict(int)
        query = select(
            Repayment.loan_id,
            Repayment.value_date,
            Repayment.prepaid_principal,
            Repayment.allocations,
        ).where(Repayment.loan_id.in_(part), Repayment.reversed.is_(False))
        if paid_until is None:  # only the prepayments are needed: few rows
            query = query.where(Repayment.prepaid_principal > 0)
        for loan_id, when, amount, allocations in db.session.execute(query):
            if amount:
                prepaid[loan_id].append((when, int(amount)))
            if paid_until is not None and when <= paid_until:
                for line in allocations or []:
                    if line.get("component") == "interest":
                        paid_by_row[(loan_id, int(line["no"]))] += int(line["amount"])
        for loan_id in part:
            if loan_id not in rates or not tranches.get(loan_id):
                continue
            plan = [
                AccrualRow(
                    due,
                    since,
                    principal,
                    interest,
                    paid if paid_until is None else paid_by_row.get((loan_id, no), 0),
                )
                for no, due, since, principal, interest, paid in rows.get(loan_id, [])
            ]
            out[loan_id] = accrued(
                Decimal(rates[loan_id]),
                plan,
                tranches[loan_id],
                prepaid.get(loan_id, []),
                billed_before,
                horizon,
            )
    return out


# --------------------------------------------------------------------------------------
# The month-end step of the close of day


def month_end(day: date) -> dict[str, int]:
    """The close of ``day`` (the first of a month): post the interest earned in the month
    ending ``day`` − 1 by every active loan, dated that month end. Group 1: Dr accrued
    interest / Cr interest income, to what the schedule says; groups 2–5: the same
    month's interest off-balance (suspended interest memo). One entry; a second run of the
    same date finds nothing to post. Cost: a few queries per 5 000 active loans, once a
    month."""
    if day.day != 1:
        return {}
    month_end_day = day - timedelta(days=1)
    ids = list(
        db.session.scalars(
            select(Loan.id).where(Loan.status == LoanStatus.ACTIVE).order_by(Loan.id)
        )
    )
    if not ids:
        return {"accrual_loans": 0, "accrual_amount": 0}
    # Billing as of the run before this one (instalments due on the month end are billed
    # by this run, after this step, in the entry dated ``day`` that reverses their accrual).
    target = accrued_of_loans(ids, month_end_day, day)
    before = accrued_of_loans(ids, month_end_day, month_start(month_end_day))
    groups: dict[int, tuple[int, int]] = {}
    for part in _chunks(ids):
        for loan_id, group, coop in db.session.execute(
            select(Loan.id, Loan.debt_group, Loan.cooperative_id).where(Loan.id.in_(part))
        ):
            groups[loan_id] = (group, coop)
    held: dict[int, int] = {}
    for part in _chunks(ids):
        for loan_id, balance in db.session.execute(
            select(LoanBalance.loan_id, LoanBalance.balance).where(
                LoanBalance.loan_id.in_(part), LoanBalance.account == acc.ACCRUED_INTEREST
            )
        ):
            held[loan_id] = int(balance)
    lines: list[Line] = []
    loans = amount = 0
    for loan_id, want in target.items():
        group, coop = groups[loan_id]
        if group == 1:
            delta = want - held.get(loan_id, 0)
            debit_account, credit_account = acc.ACCRUED_INTEREST, acc.INTEREST_INCOME
        else:
            delta = want - before.get(loan_id, 0)
            debit_account, credit_account = acc.SUSPENDED_INTEREST_MEMO, acc.MEMO_CONTRA
        if not delta:
            continue
        loans += 1
        amount += delta if group == 1 else 0
        if delta < 0:
            debit_account, credit_account, delta = credit_account, debit_account, -delta
        lines += [
            Line(debit_account, debit=delta, cooperative_id=coop, loan_id=loan_id),
            Line(credit_account, credit=delta, cooperative_id=coop, loan_id=loan_id),
        ]
    if lines:
        post(
            month_end_day,
            "accrual",
            lines,
            reference=month_end_day.isoformat(),
            description=_("Dự thu lãi đến hết ngày %(d)s", d=month_end_day.strftime("%d/%m/%Y")),
        )
    return {"accrual_loans": loans, "accrual_amount": amount}


# --------------------------------------------------------------------------------------
# Doubtful accrued interest: against income this year, to expense for an earlier year


RECEIVABLES = (acc.INTEREST_RECEIVABLE, acc.ACCRUED_INTEREST)


def doubtful_charge(loan_id: int, receivable_now: int, day: date) -> int:
    """Of ``receivable_now`` (billed, accrued and overdue interest the loan holds
    on-balance, now being reversed), the part recognised as income in an earlier
    financial year (calendar year): what the loan held on its receivable accounts at the
    end of the previous year, less the interest and overdue interest collected since
    (payments settle the oldest first) and less what was already charged to expense this
    year (it was then re-recognised as this year's income)."""
    year_start = date(day.year, 1, 1)
    held_at_year_end = int(
        db.session.scalar(
            select(func.coalesce(func.sum(JournalLine.debit - JournalLine.credit), 0))
            .join(JournalEntry)
            .where(
                JournalLine.loan_id == loan_id,
                JournalLine.account.in_(RECEIVABLES),
                JournalEntry.entry_date < year_start,
            )
        )
        or 0
    )
    if held_at_year_end <= 0:
        return 0
    collected = 0
    for (allocations,) in db.session.execute(
        select(Repayment.allocations).where(
            Repayment.loan_id == loan_id,
            Repayment.reversed.is_(False),
            Repayment.value_date >= year_start,
        )
    ):
        collected += sum(
            int(a["amount"])
            for a in allocations or []
            if a.get("component") in ("interest", "penalty")
        )
    charged = int(
        db.session.scalar(
            select(func.coalesce(func.sum(JournalLine.debit - JournalLine.credit), 0))
            .join(JournalEntry)
            .where(
                JournalLine.loan_id == loan_id,
                JournalLine.account == acc.DOUBTFUL_INTEREST_EXPENSE,
                JournalEntry.entry_date >= year_start,
            )
        )
        or 0
    )
    return max(0, min(receivable_now, held_at_year_end - collected - charged))


def split_doubtful(
    loan_id: int, want: dict[str, int], have: dict[str, int], day: date
) -> dict[str, int]:
    """``want`` (the stateless targets of ``book.targets_from``) with the expense of
    doubtful interest of earlier years: income + that expense always equals the stateless
    income target, so the fund's result is the same; the expense only grows when on-balance
    receivables are reversed (the loan leaves group 1), by :func:`doubtful_charge`."""
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
        expensed += doubtful_charge(loan_id, held, day)
    out[acc.DOUBTFUL_INTEREST_EXPENSE] = expensed
    out[acc.INTEREST_INCOME] = want[acc.INTEREST_INCOME] - expensed
    return out


# --------------------------------------------------------------------------------------
# Reports: accrued interest up to any date


@dataclass(frozen=True)
class AccruedToDate:
    as_of: date
    computed: int  # group-1 interest earned and not billed, through the end of ``as_of``
    posted: int  # on the accrued-interest account, entries dated up to ``as_of``

    @property
    def not_posted(self) -> int:
        return self.computed - self.posted


def accrued_to_date(as_of: date) -> AccruedToDate:
    """The accrued interest of group-1 loans through the end of ``as_of`` (days up to and
    including it), computed from the schedules; the month-end postings are part of it."""
    from fundapp.servicing.close_day import latest_groups

    ids = list(
        db.session.scalars(
            select(Loan.id).where(
                Loan.first_disbursement_date.is_not(None),
                Loan.first_disbursement_date <= as_of,
                Loan.status.in_((LoanStatus.ACTIVE, LoanStatus.CLOSED)),
            )
        )
    )
    groups = latest_groups("loan", as_of=as_of)
    group_one = [i for i in ids if groups.get(i, 1) == 1]
    values = accrued_of_loans(group_one, as_of, as_of + timedelta(days=1), paid_until=as_of)
    posted = int(
        db.session.scalar(
            select(func.coalesce(func.sum(JournalLine.debit - JournalLine.credit), 0))
            .join(JournalEntry)
            .where(
                JournalLine.account == acc.ACCRUED_INTEREST,
                JournalEntry.entry_date <= as_of,
            )
        )
        or 0
    )
    return AccruedToDate(as_of, sum(values.values()), posted)
