"""A loan's ledger: what it holds, and the entry that brings it to what the history says.

The rule (which account each balance posts to) is pure, in ``domain.posting``; here are its
database sides: the loan's position on the ledger, the doubtful interest of earlier years
read from the journal, and the entry of differences that :func:`loans.store.refresh` posts
in the same transaction as the change of history (journal entries are append-only).
"""

from __future__ import annotations

from collections import defaultdict
from datetime import date
from typing import Any

from sqlalchemy import func, select

from fundapp.domain import accounts as acc
from fundapp.domain import replay as engine
from fundapp.domain.accrual import RECEIVABLES, split_doubtful
from fundapp.domain.posting import differences, targets
from fundapp.extensions import db
from fundapp.ledger.models import JournalEntry, JournalLine, LoanBalance
from fundapp.ledger.services import Line, post
from fundapp.loans.models import Loan, Repayment


def ledger_position(loan_id: int) -> dict[str, int]:
    """Signed balance (debit − credit) of each account for this loan."""
    out: dict[str, int] = defaultdict(int)
    for account, amount in db.session.execute(
        select(LoanBalance.account, LoanBalance.balance).where(LoanBalance.loan_id == loan_id)
    ):
        out[account] = int(amount)
    return out


def difference_lines(
    loan_id: int, cooperative_id: int, want: dict[str, int], have: dict[str, int]
) -> list[Line]:
    """The lines that move the loan's ledger position ``have`` to ``want``."""
    return [
        Line(account, debit=delta, cooperative_id=cooperative_id, loan_id=loan_id)
        if delta > 0
        else Line(account, credit=-delta, cooperative_id=cooperative_id, loan_id=loan_id)
        for account, delta in differences(want, have)
    ]


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


def with_doubtful_expense(
    loan_id: int, want: dict[str, int], have: dict[str, int], day: date
) -> dict[str, int]:
    """``want`` with the expense of doubtful interest of earlier years
    (``domain.accrual.split_doubtful``), the journal read on ``day`` only when the loan
    leaves group 1."""
    return split_doubtful(want, have, lambda held: doubtful_charge(loan_id, held, day))


def sync_ledger(
    loan: Loan,
    state: engine.LoanState,
    entry_date: date,
    kind: str,
    actor: Any,
    reference: str,
    description: str,
    book_date: date | None = None,
    group: int = 1,
) -> int | None:
    """Post the difference between the loan's ledger and its history; the entry id."""
    have = ledger_position(loan.id)
    want = targets(state, book_date, group, bool(loan.written_off))
    want = with_doubtful_expense(loan.id, want, have, entry_date)
    lines = difference_lines(loan.id, loan.cooperative_id, want, have)
    if not lines:
        return None
    entry = post(entry_date, kind, lines, actor=actor, reference=reference, description=description)
    return entry.id
