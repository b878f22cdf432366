"""A loan's state replayed from its history: pure, no database
(docs/rules.md#back-dated-events-and-reversals).

The stored facts of a loan are its terms and its events: posted disbursements, repayments
that are not reversed, approved restructurings. Everything else (the schedule, what each
repayment paid, the balances, the overdue interest) is a function of those facts, computed
here by replaying the events in value-date order. That is how a back-dated repayment is
"recomputed as if it had been recorded on its value date" and how a reversal "recomputes
the loan from its history" (docs/rules.md#back-dated-events-and-reversals): the service
replays and stores the result.

Order of events on one day: disbursements, then restructurings, then interest reliefs, then
repayments in the order they were recorded. A relief (miễn, giảm lãi) decided on a day waives
part of what was owed at the start of that day's payments: interest billed on rows due on or
before it, oldest first, and overdue interest accrued to it, oldest first. What it waives is
no longer owed, bears no overdue interest from its date, and is not paid by a later repayment.

A repayment dated V pays, oldest instalment first, what is due on or before V: the overdue
interest accrued to V (the ``penalty`` component), then interest, then principal (or the product's
``principal_first`` order). Anything beyond is a prepayment of principal: the schedule is
rebuilt from V (keeping the maturity, or keeping the instalment and shortening the term),
and interest runs on the lower balance from V, so the borrower pays interest only up to the
payment date. When the principal is cleared, what is left pays the interest accrued up to V
(the last row of the rebuilt schedule); more than that is an overpayment and is refused.

Rules: docs/rules.md#back-dated-events-and-reversals (the replay, the order of a day),
docs/rules.md#allocation-and-prepayment (what a repayment pays),
docs/rules.md#interest-relief-and-risk-handling (what a relief waives). Overdue interest is
the domain's one name for the money of the overdue and late rates (:mod:`fundapp.domain.terms`).
"""

from __future__ import annotations

import contextlib
import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass, field

from fundapp.domain.allocation import Allocation, Due, allocate
from fundapp.domain.errors import RuleError
from fundapp.domain.overdue import days_past_due
from fundapp.domain.reschedule import (
    add_disbursement,
    adjust_term,
    extend_term,
    rebuild_schedule,
)
from fundapp.domain.rows import FinalPenalty, Row, apply_support, merge
from fundapp.domain.schedule import (
    Disbursement,
    Instalment,
    Prepayment,
    ScheduleError,
    accrued_interest,
    build_schedule,
    outstanding_principal,
)
from fundapp.domain.terms import Product

__all__ = ["FinalPenalty", "Row", "apply_support"]


class ReplayError(RuleError):
    """The history cannot be replayed (an overpayment, a payment before disbursement…)."""


@dataclass(frozen=True)
class DisbursementEvent:
    id: int
    date: dt.date
    amount: int


@dataclass(frozen=True)
class RepaymentEvent:
    id: int
    date: dt.date
    amount: int
    seq: int = 0  # recording order, to order payments of the same value date


@dataclass(frozen=True)
class RestructureEvent:
    id: int
    date: dt.date
    kind: str  # term_adjustment | extension
    principal_dates: tuple[dt.date, ...] = ()
    amounts: tuple[int, ...] | None = None
    new_maturity: dt.date | None = None


@dataclass(frozen=True)
class ReliefEvent:
    """An approved exemption or reduction of interest, dated on its decision."""

    id: int
    date: dt.date
    interest: int  # in-term interest billed on rows due on or before ``date``
    penalty: int  # overdue interest (on principal and on unpaid interest) accrued to ``date``


@dataclass(frozen=True)
class RepaymentResult:
    id: int
    date: dt.date
    amount: int
    allocations: tuple[Allocation, ...]
    prepaid_principal: int

    def by_component(self) -> dict[str, int]:
        out = {"penalty": 0, "interest": 0, "principal": 0}
        for line in self.allocations:
            out[line.component] += line.amount
        out["principal"] += self.prepaid_principal
        return out


@dataclass(frozen=True)
class ReliefResult:
    """What an approved relief waived, row by row (component ``interest`` or ``penalty``)."""

    id: int
    date: dt.date
    interest: int
    penalty: int
    allocations: tuple[Allocation, ...]


@dataclass(frozen=True)
class Balances:
    as_of: dt.date
    disbursed: int
    principal_outstanding: int
    principal_overdue: int
    principal_due: int  # falls due on as_of itself, not yet overdue
    interest_due: int
    interest_overdue: int
    penalty_due: int
    days_past_due: int
    oldest_unpaid_due_date: dt.date | None

    @property
    def total_due(self) -> int:
        return (
            self.principal_overdue
            + self.principal_due
            + self.interest_due
            + self.interest_overdue
            + self.penalty_due
        )


@dataclass
class LoanState:
    product: Product
    rows: list[Row] = field(default_factory=list)
    tranches: list[Disbursement] = field(default_factory=list)
    prepayments: list[Prepayment] = field(default_factory=list)
    repayments: dict[int, RepaymentResult] = field(default_factory=dict)
    reliefs: dict[int, ReliefResult] = field(default_factory=dict)
    last_event: dt.date | None = None

    @property
    def disbursed(self) -> int:
        return sum(t.amount for t in self.tranches)

    @property
    def principal_paid(self) -> int:
        return sum(r.by_component()["principal"] for r in self.repayments.values())

    @property
    def interest_paid(self) -> int:
        return sum(r.by_component()["interest"] for r in self.repayments.values())

    @property
    def penalty_paid(self) -> int:
        return sum(r.by_component()["penalty"] for r in self.repayments.values())

    @property
    def principal_outstanding(self) -> int:
        return self.disbursed - self.principal_paid

    @property
    def maturity(self) -> dt.date | None:
        return self.rows[-1].due_date if self.rows else None

    def is_settled(self) -> bool:
        """Nothing disbursed is owed any more: every row paid, no principal left."""
        if not self.tranches or self.principal_outstanding:
            return False
        when = self.last_event or self.tranches[-1].date
        return all(row.settled(self.product, when) for row in self.rows)

    def balances(self, as_of: dt.date) -> Balances:
        overdue_rows = [r for r in self.rows if r.due_date < as_of]
        today_rows = [r for r in self.rows if r.due_date == as_of]
        unpaid = [
            r
            for r in overdue_rows
            if r.principal_unpaid or r.interest_unpaid or r.penalty_due(self.product, as_of)
        ]
        oldest = min((r.due_date for r in unpaid), default=None)
        return Balances(
            as_of=as_of,
            disbursed=sum(t.amount for t in self.tranches if t.date <= as_of),
            principal_outstanding=self.principal_outstanding,
            principal_overdue=sum(r.principal_unpaid for r in overdue_rows),
            principal_due=sum(r.principal_unpaid for r in today_rows),
            interest_due=sum(r.interest_unpaid for r in today_rows),
            interest_overdue=sum(r.interest_unpaid for r in overdue_rows),
            penalty_due=sum(r.penalty_due(self.product, as_of) for r in self.rows),
            days_past_due=days_past_due(oldest, as_of),
            oldest_unpaid_due_date=oldest,
        )

    def payoff_amount(self, as_of: dt.date) -> int:
        """What one repayment dated ``as_of`` must be to close the loan."""
        if not self.tranches or self.is_settled():
            return 0
        due = sum(
            r.principal_unpaid + r.interest_unpaid + r.penalty_due(self.product, as_of)
            for r in self.rows
            if r.due_date <= as_of
        )
        ahead = outstanding_principal(self.tranches, self._plans(), as_of, self.prepayments)
        later = any(t.date > as_of for t in self.tranches) or any(
            p.date > as_of for p in self.prepayments
        )
        if self.product.support is not None and not later:
            with contextlib.suppress(ScheduleError):
                return due + ahead + self._interest_at_payoff(as_of, ahead)
        accrued = accrued_interest(
            self.product.terms, self.tranches, self._plans(), as_of, self.prepayments
        )
        # Interest already paid ahead on rows not yet due (a partial payoff) is not owed twice.
        paid_ahead = sum(
            r.plan.interest - r.interest_unpaid - r.interest_supported
            for r in self.rows
            if r.due_date > as_of
        )
        return due + ahead + max(accrued - paid_ahead, 0)

    def _interest_at_payoff(self, as_of: dt.date, ahead: int) -> int:
        """The borrower's interest a payoff on ``as_of`` pays beyond what is due, for a loan
        with interest support: what :func:`_repay` leaves on the rows due after ``as_of``
        once ``ahead`` is prepaid, the budget's share of the rebuilt rows set apart."""
        rows = self.rows
        if ahead:
            prepayments = [*self.prepayments, Prepayment(as_of, ahead)]
            plans = rebuild_schedule(
                self.product.terms,
                self.tranches,
                self._plans(),
                as_of,
                prepayments=prepayments,
                mode=self.product.prepayment_mode,  # type: ignore[arg-type]
            )
            rows = merge(self.rows, plans, as_of)
            apply_support(rows, self.product.support)
        return sum(r.interest_unpaid for r in rows if r.due_date > as_of)

    def _plans(self) -> tuple[Instalment, ...]:
        return tuple(r.plan for r in self.rows)


def _reschedule(state: LoanState, plans: Sequence[Instalment], as_of: dt.date) -> None:
    """The state's rows after a new plan from ``as_of``, with the budget's share."""
    state.rows = merge(state.rows, plans, as_of)
    apply_support(state.rows, state.product.support)


def _disburse(state: LoanState, event: DisbursementEvent) -> None:
    terms = state.product.terms
    tranche = Disbursement(event.date, event.amount)
    if state.tranches and state.is_settled():
        raise ReplayError("loan_settled", "the loan is already repaid")
    if not state.tranches:
        plans = build_schedule(terms, [tranche])
    else:
        plans = add_disbursement(
            terms, state.tranches, state._plans(), tranche, prepayments=state.prepayments
        )
    _reschedule(state, plans, event.date)
    state.tranches.append(tranche)


def _restructure(state: LoanState, event: RestructureEvent) -> None:
    if not state.tranches:
        raise ReplayError("restructure_before_disbursement", "nothing is disbursed yet")
    terms = state.product.terms
    if event.kind == "term_adjustment":
        plans = adjust_term(
            terms,
            state.tranches,
            state._plans(),
            event.date,
            list(event.principal_dates),
            amounts=list(event.amounts) if event.amounts is not None else None,
            prepayments=state.prepayments,
        )
    elif event.kind == "extension":
        if event.new_maturity is None:
            raise ReplayError("new_maturity", "an extension needs its new maturity")
        plans = extend_term(
            terms,
            state.tranches,
            state._plans(),
            event.date,
            event.new_maturity,
            principal_on=list(event.principal_dates) or None,
            amounts=list(event.amounts) if event.amounts is not None else None,
            prepayments=state.prepayments,
        )
    else:
        raise ReplayError("restructure_kind", f"unknown restructuring {event.kind!r}")
    _reschedule(state, plans, event.date)


def _repay(state: LoanState, event: RepaymentEvent) -> None:
    product = state.product
    if not state.tranches or event.date < state.tranches[0].date:
        raise ReplayError("before_disbursement", "a repayment cannot precede the disbursement")
    if event.amount <= 0:
        raise ReplayError("amount", "a repayment must be above 0")
    if state.is_settled():
        raise ReplayError("loan_settled", "the loan is already fully repaid")
    by_no = {r.no: r for r in state.rows}
    dues = [
        Due(
            r.no,
            r.due_date,
            r.penalty_due(product, event.date),
            r.interest_unpaid,
            r.principal_unpaid,
        )
        for r in state.rows
        if r.due_date <= event.date
    ]
    result = allocate(event.amount, event.date, dues, product.repayment_order)
    lines = list(result.allocations)
    for line in lines:
        row = by_no[line.no]
        if line.component == "principal":
            row.principal_paid.append((event.date, line.amount))
        elif line.component == "interest":
            row.interest_paid.append((event.date, line.amount))
        else:
            row.penalty_paid += line.amount
    excess = result.excess
    prepaid = 0
    if excess:
        ahead = outstanding_principal(state.tranches, state._plans(), event.date, state.prepayments)
        prepaid = min(excess, ahead)
        if prepaid:
            state.prepayments.append(Prepayment(event.date, prepaid))
            plans = rebuild_schedule(
                product.terms,
                state.tranches,
                state._plans(),
                event.date,
                prepayments=state.prepayments,
                mode=product.prepayment_mode,  # type: ignore[arg-type]
            )
            _reschedule(state, plans, event.date)
        excess -= prepaid
    if (
        excess
        and outstanding_principal(state.tranches, state._plans(), event.date, state.prepayments)
        == 0
    ):
        # Principal cleared: the rest pays the interest accrued up to the payment date,
        # which the rebuilt schedule carries on its remaining row(s).
        for row in state.rows:
            if row.due_date > event.date and row.interest_unpaid and excess:
                part = min(excess, row.interest_unpaid)
                row.interest_paid.append((event.date, part))
                lines.append(Allocation(row.no, "interest", part))
                excess -= part
    if excess:
        raise ReplayError(
            "overpayment",
            f"the repayment is {excess} đồng more than everything owed on {event.date}",
        )
    state.repayments[event.id] = RepaymentResult(
        event.id, event.date, event.amount, tuple(lines), prepaid
    )


_RELIEF_OVER = {
    "penalty": "the relief waives {left} đồng more overdue interest than is owed on {day}",
    "interest": "the relief waives {left} đồng more interest than is due on {day}",
}


def _relieve(state: LoanState, event: ReliefEvent) -> None:
    """Waive ``event.penalty`` of overdue interest and ``event.interest`` of billed interest,
    oldest row first, as owed on ``event.date``; more than is owed is refused."""
    if not state.tranches or event.date < state.tranches[0].date:
        raise ReplayError("relief_before_disbursement", "nothing is owed before disbursement")
    if event.interest < 0 or event.penalty < 0 or event.interest + event.penalty <= 0:
        raise ReplayError("relief_amount", "a relief waives an amount above 0")
    product = state.product
    rows = [r for r in state.rows if r.due_date <= event.date]
    lines: list[Allocation] = []
    for component, amount in (("penalty", event.penalty), ("interest", event.interest)):
        left = amount
        for row in rows:
            part = min(left, row.owed(component, product, event.date))
            if part:
                row.waive(component, event.date, part)
                lines.append(Allocation(row.no, component, part))
                left -= part
        if left:
            raise ReplayError(
                f"relief_over_{component}",
                _RELIEF_OVER[component].format(left=left, day=event.date),
            )
    state.reliefs[event.id] = ReliefResult(
        event.id, event.date, event.interest, event.penalty, tuple(lines)
    )


def replay(
    product: Product,
    disbursements: Sequence[DisbursementEvent],
    repayments: Sequence[RepaymentEvent] = (),
    restructures: Sequence[RestructureEvent] = (),
    reliefs: Sequence[ReliefEvent] = (),
) -> LoanState:
    """The loan's state after every event, in value-date order."""
    state = LoanState(product)
    events: list[tuple[dt.date, int, int, object]] = [
        *((d.date, 0, d.id, d) for d in disbursements),
        *((r.date, 1, r.id, r) for r in restructures),
        *((v.date, 2, v.id, v) for v in reliefs),
        *((p.date, 3, p.seq or p.id, p) for p in repayments),
    ]
    for _date, _kind, _order, event in sorted(events, key=lambda e: (e[0], e[1], e[2])):
        apply(state, event)  # type: ignore[arg-type]
    return state


Event = DisbursementEvent | RestructureEvent | ReliefEvent | RepaymentEvent


def apply(state: LoanState, event: Event) -> None:
    """``event`` applied to ``state`` in place, as the replay applies it in its turn. On a
    state whose events are all dated on or before ``event`` (same-day events of a kind the
    replay orders earlier), this is the replay of the history with ``event`` added: how a
    repayment that is the loan's latest event is posted without replaying the loan."""
    if isinstance(event, DisbursementEvent):
        _disburse(state, event)
    elif isinstance(event, RestructureEvent):
        _restructure(state, event)
    elif isinstance(event, ReliefEvent):
        _relieve(state, event)
    else:
        _repay(state, event)
    state.last_event = event.date
