"""The posting rule of a loan: which account each of its balances posts to
(docs/rules.md#posting-and-accounts).

The ledger of a loan is never posted event by event: what it should hold is computed from
its figures (:func:`targets_from`, :func:`targets` from a replayed state), and an entry
posts the difference from what it holds (:func:`differences`). So a back-dated repayment
or a reversal corrects earlier postings by one adjusting entry, and a date run twice posts
nothing the second time. The database side (what the ledger holds, the entry) is
``loans.posting``.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from fundapp.domain import accounts as acc
from fundapp.domain.accrual import accrued_of_state, horizon_of

# Every account a loan's own entries touch, in the order their lines are written.
LOAN_ACCOUNTS = (
    acc.CASH,
    acc.LOANS_IN_TERM,
    acc.LOANS_OVERDUE,
    acc.INTEREST_RECEIVABLE,
    acc.ACCRUED_INTEREST,
    acc.SUPPORT_RECEIVABLE,
    acc.INTEREST_INCOME,
    acc.OVERDUE_INTEREST_INCOME,
    acc.DOUBTFUL_INTEREST_EXPENSE,
    acc.SUSPENDED_INTEREST_MEMO,
    acc.MEMO_CONTRA,
)


def targets(
    state: Any, book_date: date | None = None, group: int = 1, written_off: bool = False
) -> dict[str, int]:
    """What the ledger should hold for a loan with the replayed ``state``
    (``domain.replay.LoanState``), signed (debit positive).

    ``book_date`` is the last closed business date: instalments due before it have been
    transferred to overdue and their interest billed, with the overdue interest accrued to
    it. Billed interest and accrued penalty of a group-1 loan are receivable and income; for
    groups 2–5 they are held off-balance until paid (Circular 52/2022, Art. 5). Interest
    earned and not yet billed, up to the last month end posted, is accrued interest
    (``domain.accrual``). Before any close of day, interest is income when paid. A
    written-off loan (``written_off``) is carried off-balance: nothing on it here.
    """
    overdue = billed = penalty = accrued = 0
    # The budget's share is the budget's debt, kept whatever becomes of the loan.
    closed = any(r.interest_supported for r in state.rows) and state.is_settled()
    supported = sum(r.support_billed(book_date, closed) for r in state.rows)
    if book_date is not None and not written_off:
        for row in state.rows:
            if row.due_date < book_date:
                overdue += row.principal_unpaid
                billed += row.interest_unpaid
            penalty += row.penalty_due(state.product, book_date)
        accrued = accrued_of_state(state, book_date, horizon_of(book_date))
    return targets_from(
        disbursed=state.disbursed,
        repaid=sum(r.amount for r in state.repayments.values()),
        outstanding=0 if written_off else state.principal_outstanding,
        interest_paid=state.interest_paid,
        penalty_paid=state.penalty_paid,
        overdue=overdue,
        billed=billed,
        penalty=penalty,
        group=group,
        accrued_interest=accrued,
        supported=supported,
    )


def targets_from(
    *,
    disbursed: int,
    repaid: int,
    outstanding: int,
    interest_paid: int,
    penalty_paid: int,
    overdue: int,
    billed: int,
    penalty: int,
    group: int,
    accrued_interest: int = 0,
    supported: int = 0,
) -> dict[str, int]:
    """The ledger position of a loan from its figures: the one posting rule
    (docs/rules.md#posting-and-accounts).
    ``accrued_interest``: in-term interest earned and not yet billed, to the last month
    end (lãi dự thu); on-balance for group 1, off-balance with the rest for groups 2–5.
    ``supported``: the budget's share of the interest of instalments billed (due before the
    book date) on a loan with interest support (``domain.support``): the budget's receivable
    and interest income, on-balance whatever the loan's group, since the budget pays it.
    The expense of doubtful interest of an earlier year is history, not a figure: see
    ``domain.accrual.split_doubtful``."""
    on_balance = group == 1
    accrued = billed + penalty
    suspended = accrued + accrued_interest
    return {
        acc.CASH: repaid - disbursed,
        acc.LOANS_IN_TERM: outstanding - overdue,
        acc.LOANS_OVERDUE: overdue,
        acc.INTEREST_RECEIVABLE: accrued if on_balance else 0,
        acc.ACCRUED_INTEREST: accrued_interest if on_balance else 0,
        acc.SUPPORT_RECEIVABLE: supported,
        acc.INTEREST_INCOME: -(
            interest_paid + supported + (billed + accrued_interest if on_balance else 0)
        ),
        acc.OVERDUE_INTEREST_INCOME: -(penalty_paid + (penalty if on_balance else 0)),
        acc.DOUBTFUL_INTEREST_EXPENSE: 0,
        acc.SUSPENDED_INTEREST_MEMO: 0 if on_balance else suspended,
        acc.MEMO_CONTRA: 0 if on_balance else -suspended,
    }


def differences(want: dict[str, int], have: dict[str, int]) -> list[tuple[str, int]]:
    """What moves the loan's ledger position ``have`` to ``want``: (account, signed amount,
    debit positive) for each loan account that differs, in :data:`LOAN_ACCOUNTS` order."""
    out = []
    for account in LOAN_ACCOUNTS:
        delta = want[account] - have.get(account, 0)
        if delta:
            out.append((account, delta))
    return out
