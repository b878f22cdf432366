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
from collections.abc import Iterable
from datetime import date

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
from fundapp.loans.relief import InterestRelief
from fundapp.loans.store import product_of, replay


def _allocations(raw: Iterable[dict] | None) -> tuple[Allocation, ...]:
    return tuple(Allocation(int(a["no"]), a["component"], int(a["amount"])) for a in raw or ())


def states_of(loans: Iterable[Loan]) -> dict[int, engine.LoanState]:
    """The stored state of each of ``loans`` (by id), read in one statement per table."""
    by_id = {loan.id: loan for loan in loans}
    ids = list(by_id)
    states = {i: engine.LoanState(product_of(loan)) for i, loan in by_id.items()}
    if not ids:
        return states
    last: dict[int, date] = {}
    ahead: set[int] = set()

    def seen(loan_id: int, when: date) -> None:
        if loan_id not in last or when > last[loan_id]:
            last[loan_id] = when

    for loan_id, when, amount in db.session.execute(
        select(Disbursement.loan_id, Disbursement.value_date, Disbursement.amount)
        .where(Disbursement.loan_id.in_(ids), Disbursement.status == DisbursementStatus.POSTED)
        .order_by(Disbursement.loan_id, Disbursement.value_date, Disbursement.id)
    ):
        states[loan_id].tranches.append(Tranche(when, int(amount)))
        seen(loan_id, when)
    rows: dict[int, dict[int, engine.Row]] = defaultdict(dict)
    for i in db.session.execute(
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
    ):
        opening, principal = int(i.opening_principal), int(i.principal)
        row = engine.Row(
            Plan(
                no=i.no,
                due_date=i.due_date,
                opening_principal=opening,
                principal=principal,
                interest=int(i.interest),
                closing_principal=opening - principal,
                interest_from=i.interest_from,
                principal_due=bool(i.principal_due_date),
            )
        )
        rows[i.loan_id][i.no] = row
        states[i.loan_id].rows.append(row)
    # Reliefs before repayments, as the replay orders one day's events; the dated lists of
    # a row only need each kind in its own order (payments and waivers are kept apart).
    for relief_id, loan_id, when, interest, penalty, raw in db.session.execute(
        select(
            InterestRelief.id,
            InterestRelief.loan_id,
            InterestRelief.effective_date,
            InterestRelief.interest,
            InterestRelief.penalty,
            InterestRelief.allocations,
        )
        .where(InterestRelief.loan_id.in_(ids), InterestRelief.status == "approved")
        .order_by(InterestRelief.loan_id, InterestRelief.effective_date, InterestRelief.id)
    ):
        lines = _allocations(raw)
        for line in lines:
            rows[loan_id][line.no].waive(line.component, when, line.amount)
        states[loan_id].reliefs[relief_id] = engine.ReliefResult(
            relief_id, when, int(interest), int(penalty), lines
        )
        seen(loan_id, when)
    for repayment_id, loan_id, when, amount, raw, prepaid in db.session.execute(
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
    ):
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
    for loan_id, when in db.session.execute(
        select(Restructuring.loan_id, Restructuring.effective_date).where(
            Restructuring.loan_id.in_(ids), Restructuring.status == ApprovalStatus.APPROVED
        )
    ):
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


def state_of(loan: Loan) -> engine.LoanState:
    """The loan's stored state: what :func:`loans.store.replay` returns, read, not
    replayed."""
    return states_of([loan])[loan.id]
