"""A loan's state read from what is stored, without replaying its history.

Every change of a loan's history stores the result of the replay (``loans.store``): the
schedule rows with what is paid on each, each repayment's allocation by instalment and
component, each relief's allocation, the prepaid principal. Read back and put together,
they are the replayed :class:`~fundapp.domain.replay.LoanState` itself, the rows with their
dated payments included, so everything the engine derives from a state ("as of" balances,
overdue interest to a date, the payoff amount, the debt group) comes out the same, to the
đồng, without rebuilding a schedule or allocating a payment: a few indexed reads per loan.

The replay stays the proof (``flask fund check --deep``, the state-machine test) and the
way every back-dated event, reversal and restructuring is applied; a repayment that is the
loan's latest event is applied to this state instead (``loans.incremental``).
"""

from __future__ import annotations

import contextlib
from collections import defaultdict
from collections.abc import Iterable, Iterator
from contextvars import ContextVar
from datetime import date
from typing import Any

from sqlalchemy import select

from fundapp.domain import replay as engine
from fundapp.domain.allocation import Allocation
from fundapp.domain.errors import DomainError
from fundapp.domain.schedule import Disbursement as Tranche
from fundapp.domain.schedule import Instalment as Plan
from fundapp.domain.schedule import Prepayment
from fundapp.extensions import db
from fundapp.loans.models import (
    ApprovalStatus,
    Disbursement,
    DisbursementStatus,
    Instalment,
    Loan,
    Repayment,
    Restructuring,
)
from fundapp.loans.store import approved_reliefs, product_of, replay


def _allocations(raw: Iterable[dict] | None) -> tuple[Allocation, ...]:
    return tuple(Allocation(int(a["no"]), a["component"], int(a["amount"])) for a in raw or ())


def states_of(loans: Iterable[Loan]) -> dict[int, engine.LoanState]:
    """The stored state of each of ``loans`` (by id), read in one statement per table."""
    by_id = {loan.id: loan for loan in loans}
    ids = list(by_id)
    if not ids:
        return {}
    return _assemble(
        by_id,
        _rows(
            select(Disbursement.loan_id, Disbursement.value_date, Disbursement.amount)
            .where(Disbursement.loan_id.in_(ids), Disbursement.status == DisbursementStatus.POSTED)
            .order_by(Disbursement.loan_id, Disbursement.value_date, Disbursement.id)
        ),
        _rows(
            select(
                Instalment.loan_id,
                Instalment.no,
                Instalment.due_date,
                Instalment.opening_principal,
                Instalment.principal,
                Instalment.interest,
                Instalment.interest_from,
                Instalment.principal_due_date,
            )
            .where(Instalment.loan_id.in_(ids))
            .order_by(Instalment.loan_id, Instalment.no)
        ),
        _approved_reliefs(ids),
        _rows(
            select(
                Repayment.id,
                Repayment.loan_id,
                Repayment.value_date,
                Repayment.amount,
                Repayment.allocations,
                Repayment.prepaid_principal,
            )
            .where(Repayment.loan_id.in_(ids), Repayment.reversed.is_(False))
            .order_by(Repayment.loan_id, Repayment.value_date, Repayment.id)
        ),
        _rows(
            select(Restructuring.loan_id, Restructuring.effective_date).where(
                Restructuring.loan_id.in_(ids), Restructuring.status == ApprovalStatus.APPROVED
            )
        ),
    )


def _rows(statement: Any) -> Iterator[Any]:
    """The rows of ``statement``, read when first iterated: each table is read in turn, as
    it is used, and its rows let go before the next one's are read."""
    yield from db.session.execute(statement)


def _approved_reliefs(ids: list[int]) -> Iterator[Any]:
    return _rows(approved_reliefs(ids))


def state_from(
    loan: Loan,
    disbursements: Iterable[Disbursement],
    instalments: Iterable[Instalment],
    repayments: Iterable[Repayment],
    restructurings: Iterable[Restructuring],
    reliefs: bool = True,
) -> engine.LoanState:
    """:func:`state_of` from the loan's rows a page has already read (every disbursement by
    value date, every instalment by number, every repayment by value date, every
    restructuring): the same state, without reading those tables again. ``reliefs=False``:
    the loan has no interest relief, so that table is not read either."""
    state = _assemble(
        {loan.id: loan},
        (
            (d.loan_id, d.value_date, d.amount)
            for d in disbursements
            if d.status == DisbursementStatus.POSTED
        ),
        (
            (
                i.loan_id,
                i.no,
                i.due_date,
                i.opening_principal,
                i.principal,
                i.interest,
                i.interest_from,
                i.principal_due_date,
            )
            for i in instalments
        ),
        _approved_reliefs([loan.id]) if reliefs else (),
        (
            (r.id, r.loan_id, r.value_date, r.amount, r.allocations, r.prepaid_principal)
            for r in repayments
            if not r.reversed
        ),
        (
            (r.loan_id, r.effective_date)
            for r in restructurings
            if r.status == ApprovalStatus.APPROVED
        ),
    )[loan.id]
    kept = _kept.get()
    if kept is not None:
        kept[loan.id] = state
    return state


def _assemble(
    by_id: dict[int, Loan],
    disbursements: Iterable[Any],
    instalments: Iterable[Any],
    reliefs: Iterable[Any],
    repayments: Iterable[Any],
    restructurings: Iterable[Any],
) -> dict[int, engine.LoanState]:
    """The states of ``by_id`` from their rows, each kind in the order :func:`states_of`
    reads it."""
    states = {i: engine.LoanState(product_of(loan)) for i, loan in by_id.items()}
    last: dict[int, date] = {}
    ahead: set[int] = set()

    def seen(loan_id: int, when: date) -> None:
        if loan_id not in last or when > last[loan_id]:
            last[loan_id] = when

    for loan_id, when, amount in disbursements:
        states[loan_id].tranches.append(Tranche(when, int(amount)))
        seen(loan_id, when)
    rows: dict[int, dict[int, engine.Row]] = defaultdict(dict)
    for (
        loan_id,
        no,
        due_date,
        opening_principal,
        principal_,
        interest,
        interest_from,
        principal_due_date,
    ) in instalments:
        opening, principal = int(opening_principal), int(principal_)
        row = engine.Row(
            Plan(
                no=no,
                due_date=due_date,
                opening_principal=opening,
                principal=principal,
                interest=int(interest),
                closing_principal=opening - principal,
                interest_from=interest_from,
                principal_due=bool(principal_due_date),
            )
        )
        rows[loan_id][no] = row
        states[loan_id].rows.append(row)
    for state in states.values():
        engine.apply_support(state.rows, state.product.support)
    # Reliefs before repayments, as the replay orders one day's events; the dated lists of
    # a row only need each kind in its own order (payments and waivers are kept apart).
    for relief_id, loan_id, when, interest, penalty, raw in reliefs:
        lines = _allocations(raw)
        for line in lines:
            rows[loan_id][line.no].waive(line.component, when, line.amount)
        states[loan_id].reliefs[relief_id] = engine.ReliefResult(
            relief_id, when, int(interest), int(penalty), lines
        )
        seen(loan_id, when)
    for repayment_id, loan_id, when, amount, raw, prepaid in repayments:
        lines = _allocations(raw)
        for line in lines:
            row = rows[loan_id][line.no]
            if row.due_date > when:
                ahead.add(loan_id)
            if line.component == "principal":
                row.principal_paid.append((when, line.amount))
            elif line.component == "interest":
                row.interest_paid.append((when, line.amount))
            else:
                row.penalty_paid += line.amount
        if prepaid:
            states[loan_id].prepayments.append(Prepayment(when, int(prepaid)))
        states[loan_id].repayments[repayment_id] = engine.RepaymentResult(
            repayment_id, when, int(amount), lines, int(prepaid or 0)
        )
        seen(loan_id, when)
    for loan_id, when in restructurings:
        seen(loan_id, when)
    for loan_id, when in last.items():
        states[loan_id].last_event = when
    for loan_id in ahead:
        # A payment on a row due after it (the interest of a payoff, docs/rules.md#
        # allocation-and-prepayment) is dropped from that row by a later rebuild of the
        # schedule in the replay; the stored allocation keeps it, so these few loans are
        # replayed to read exactly what the replay gives.
        with contextlib.suppress(DomainError):
            states[loan_id] = replay(by_id[loan_id])
    return states


# The states a read-only page keeps while it is built (:func:`kept_states`), by loan id.
_kept: ContextVar[dict[int, engine.LoanState] | None] = ContextVar("kept_states", default=None)


@contextlib.contextmanager
def kept_states() -> Iterator[None]:
    """While a page that writes nothing is built: :func:`state_of` reads a loan once and
    hands the same state to every later reader of that loan (the loan page's panels), since
    nothing can change it in between. Never around a write."""
    token = _kept.set({})
    try:
        yield
    finally:
        _kept.reset(token)


def state_of(loan: Loan) -> engine.LoanState:
    """The loan's stored state: what :func:`loans.store.replay` returns, read, not
    replayed."""
    kept = _kept.get()
    if kept is not None and loan.id in kept:
        return kept[loan.id]
    state = states_of([loan])[loan.id]
    if kept is not None:
        kept[loan.id] = state
    return state
