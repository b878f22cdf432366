"""A repayment that is the loan's latest event, posted without replaying the loan.

The loan's stored state is its replayed state (``loans.stored``). A repayment dated on or
after every other event of the loan comes last in the replay's order (a day's repayments
follow its tranches, restructurings and reliefs, in the order they are recorded), so the
replay with it added is the stored state with it applied (``domain.replay.apply``): the
same allocation, the same prepayment and rebuilt schedule, the same balances, to the đồng.
What is written is what changed: the instalments the payment settles, the payment's own
allocation, the loan's cached balances, and the ledger entry of differences. A payment
that prepays principal rebuilds the schedule, so every row is written then.

A back-dated repayment (another event of the loan dated after it), a reversal, a
restructuring and a relief still replay the loan (``loans.store.refresh``).
"""

from __future__ import annotations

from datetime import date
from typing import Any

from sqlalchemy import bindparam, update

from fundapp.core.db import touch_loans
from fundapp.domain import replay as engine
from fundapp.domain.allocation import AllocationError
from fundapp.domain.errors import DomainError
from fundapp.domain.overdue import OverdueError
from fundapp.domain.schedule import ScheduleError
from fundapp.extensions import db
from fundapp.loans import dues, store
from fundapp.loans.days import last_run_date
from fundapp.loans.models import Instalment, Loan, Repayment
from fundapp.loans.posting import sync_ledger
from fundapp.loans.stored import state_of


def prior_state(loan: Loan, value_date: date) -> engine.LoanState | None:
    """The loan's stored state when a repayment dated ``value_date`` would be its latest
    event; None when an event of the loan is dated after it (the payment is back-dated)."""
    state = state_of(loan)
    if state.last_event is not None and value_date < state.last_event:
        return None
    return state


def post_repayment(
    loan: Loan,
    state: engine.LoanState,
    repayment: Repayment,
    entry_date: date,
    actor: Any,
    description: str,
) -> tuple[engine.LoanState, int | None]:
    """Apply ``repayment`` (flushed, the loan locked) to ``state`` (:func:`prior_state`),
    write what changed and post the difference; the new state and the entry id, as
    :func:`loans.store.refresh` returns them."""
    event = engine.RepaymentEvent(
        repayment.id, repayment.value_date, repayment.amount, repayment.id
    )
    try:
        engine.apply(state, event)
    except (ScheduleError, AllocationError, OverdueError, engine.ReplayError) as exc:
        raise DomainError(store.rule_message(exc.rule, exc.detail)) from exc
    book_date = last_run_date()
    result = state.repayments[repayment.id]
    if result.prepaid_principal:
        store.store(loan, state, book_date)
    else:
        _write_rows(loan.id, state, book_date, {a.no for a in result.allocations})
        repayment.allocations, repayment.prepaid_principal = store.repayment_columns(
            state, repayment.id
        )
        loan.reclassify = True
        for column, value in store.loan_columns(state, loan.written_off).items():
            setattr(loan, column, value)
    entry_id = sync_ledger(
        loan,
        state,
        entry_date,
        "repayment",
        actor,
        "",
        description,
        book_date=book_date,
        group=loan.debt_group,
    )
    return state, entry_id


def _write_rows(loan_id: int, state: engine.LoanState, book_date: date | None, nos: set) -> None:
    """The instalments ``nos`` of the loan rewritten from ``state``, one statement."""
    if not nos:
        return
    columns = store.instalment_columns(state, book_date)
    dues.capture([loan_id])  # the months of its schedule before the rows are written
    table = Instalment.__table__
    names = sorted(next(iter(columns.values())))
    db.session.execute(
        update(table)
        .where(table.c.loan_id == bindparam("_loan"), table.c.no == bindparam("_no"))
        .values({name: bindparam(f"v_{name}") for name in names}),
        [
            {"_loan": loan_id, "_no": no, **{f"v_{n}": columns[no][n] for n in names}}
            for no in sorted(nos)
        ],
    )
    touch_loans([loan_id])
