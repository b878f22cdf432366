"""Repayment schedules: pure maths, ``Decimal`` rates in, integer-đồng rows out
(docs/rules.md#schedules, docs/rules.md#money-and-rounding).

No database and no Flask here: the lending service stores what these functions return.

Rules (docs/rules.md#schedules states them with their sources):

* Dates are whole months from the first disbursement, on its day of the month, clamped to
  the month's last day (:func:`fundapp.domain.dates.add_months` with the anchor day); maturity
  is the first disbursement + ``term_months``. Interest falls due at months i, 2i, … before
  maturity and at maturity; principal at months G+p, G+2p, … before maturity and at
  maturity. A row is a date of the union and carries what falls due on it.
* Interest due on a row is the interest on the scheduled outstanding principal for every
  day of ``[previous interest date (or first disbursement), due date)``, actual/365, summed
  at full ``Decimal`` precision and rounded half-up to the đồng once per row. A principal
  instalment or prepayment dated X lowers the balance from day X on; a tranche disbursed on
  day T counts from day T.
* The balance that bears in-term interest is the *scheduled* balance: principal that fell
  due stops bearing in-term interest on its due date whether it was paid or not, because
  overdue principal bears the overdue rate instead
  (docs/rules.md#interest-overdue-interest-and-late-interest).
* ``equal_principal``: each tranche is repaid over the principal dates strictly after its
  disbursement date, ``amount // n`` on each and the remainder on the last.
* ``annuity``: interest and principal dates must coincide, so the interest frequency must
  equal the principal frequency and the grace must be a whole number of periods. The
  payment A = P·r/(1 − (1+r)^−n), r = rate × p/12/100, is computed in ``Decimal`` and
  rounded half-up; at 0 % it is P/n rounded half-up. On each principal date the principal
  is A − that row's interest, never below 0 and never above the balance; the last
  principal date clears the balance. A is computed at the first principal date and
  recomputed at the first principal date after each later tranche (and after a
  prepayment), on the balance then outstanding (a tranche dated on that very principal
  date excluded) over the principal dates left.
* ``bullet``: all principal at maturity, interest every interest period.
* ``custom``: the officer's principal per date; the dates are strictly after the first
  disbursement and no later than maturity, strictly increasing, each amount > 0, and the
  amounts sum to the contract amount. Rows are the custom dates ∪ the interest dates
  (maturity included). With several tranches, each tranche is spread over the custom dates
  strictly after its disbursement in proportion to the custom amounts on them (floor, the
  last such date takes the remainder), so a single full disbursement reproduces the
  officer's figures exactly; a tranche after the last custom date is repaid at maturity.
* Disbursements must be dated before maturity and total at most the contract amount; the
  sum of scheduled principal always equals the disbursed principal (minus prepayments in
  a rebuild), and every builder checks it before returning.
* A date on which nothing falls due (no principal, interest rounding to 0) while the
  scheduled balance before it is zero is left out: a custom plan that ends before
  maturity, a loan paid off early, a term shortened by a prepayment. Its interest span
  rolls into the next interest row, so not even a fraction of a đồng is lost, and adding a
  tranche later gives the same rows as building with it from the start.
* A schedule changed after it was built (a later tranche, a prepayment, a term adjustment,
  an extension) is rebuilt by :mod:`fundapp.domain.reschedule` from the same projection.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from decimal import Decimal, localcontext
from itertools import pairwise
from typing import Literal

from fundapp.domain.dates import add_months
from fundapp.domain.errors import RuleError
from fundapp.domain.money import interest_exact, is_whole, round_dong
from fundapp.domain.terms import (
    FREQUENCIES,
    MAX_TERM_MONTHS,
    METHODS,
    LoanTerms,
)

PrincipalMethod = Literal["equal_principal", "annuity", "bullet", "custom"]
RebuildMode = Literal["keep_maturity", "shorten_term"]

# Interest sums balance × days over a whole period: up to ~10^19 before the rate is
# applied. 60 significant digits keep the half-up decision exact at that size.
_PRECISION = 60


class ScheduleError(RuleError):
    """Terms or history that no schedule can honour; ``rule`` names the broken rule."""


@dataclass(frozen=True)
class Disbursement:
    date: dt.date
    amount: int


@dataclass(frozen=True)
class Prepayment:
    """Principal paid ahead of the schedule (the excess of a repayment), by value date."""

    date: dt.date
    amount: int


@dataclass(frozen=True)
class Instalment:
    """One schedule row.

    ``opening_principal`` is the scheduled balance at the end of the day before the due date
    and ``closing_principal`` that balance less this row's principal (a tranche or prepayment
    dated on the due date shows in the next row's opening); ``interest_from`` is the
    first day of the interest span ``[interest_from, due_date)``, ``None`` when no interest
    falls due on the row; ``principal_due`` marks a principal date even when its amount is 0
    (rebuilds need the calendar, so the caller stores both fields).
    """

    no: int
    due_date: dt.date
    opening_principal: int
    principal: int
    interest: int
    closing_principal: int
    interest_from: dt.date | None
    principal_due: bool

    @property
    def total(self) -> int:
        return self.principal + self.interest

    @property
    def interest_due(self) -> bool:
        return self.interest_from is not None

    @property
    def interest_days(self) -> int:
        return (self.due_date - self.interest_from).days if self.interest_from else 0


# --------------------------------------------------------------------------------------
# Validation


def validate_terms(terms: LoanTerms) -> None:
    """Raise :class:`ScheduleError` naming the first rule the terms break."""
    if not is_whole(terms.amount) or terms.amount <= 0:
        raise ScheduleError("amount_positive", "the loan amount must be a whole đồng above 0")
    rate = terms.annual_rate
    if not isinstance(rate, Decimal) or not rate.is_finite() or rate < 0 or rate > 100:
        raise ScheduleError("rate_range", "the annual rate must be a Decimal from 0 to 100 %")
    if not is_whole(terms.term_months) or not 1 <= terms.term_months <= MAX_TERM_MONTHS:
        raise ScheduleError("term_range", f"the term must be 1 to {MAX_TERM_MONTHS} months")
    if terms.principal_method not in METHODS:
        raise ScheduleError("method", f"the principal method must be one of {', '.join(METHODS)}")
    for name in ("principal_every_months", "interest_every_months"):
        if getattr(terms, name) not in FREQUENCIES or not is_whole(getattr(terms, name)):
            raise ScheduleError("frequency", f"{name} must be 1, 3, 6 or 12 months")
    if not is_whole(terms.grace_months) or not 0 <= terms.grace_months < terms.term_months:
        raise ScheduleError("grace_range", "grace months must be at least 0 and below the term")
    if terms.principal_method == "annuity":
        if terms.interest_every_months != terms.principal_every_months:
            raise ScheduleError(
                "annuity_same_dates",
                "an annuity pays interest and principal on the same dates: "
                "the interest and principal frequencies must be equal",
            )
        if terms.grace_months % terms.principal_every_months:
            raise ScheduleError(
                "annuity_grace_periods",
                "an annuity's grace must be a whole number of repayment periods",
            )
    if terms.principal_method == "custom":
        _validate_custom_lines(terms)
    elif terms.custom_principal:
        raise ScheduleError("custom_only", "principal per date is only for the custom method")


def _validate_custom_lines(terms: LoanTerms) -> None:
    lines = terms.custom_principal
    if not lines:
        raise ScheduleError("custom_required", "a custom schedule needs principal per date")
    if any(not is_whole(line.amount) or line.amount <= 0 for line in lines):
        raise ScheduleError("custom_amount_positive", "each custom principal must be above 0")
    if any(b.date <= a.date for a, b in pairwise(lines)):
        raise ScheduleError("custom_dates_order", "custom dates must be strictly increasing")
    total = sum(line.amount for line in lines)
    if total != terms.amount:
        raise ScheduleError(
            "custom_sum",
            f"custom principal sums to {total}, the loan amount is {terms.amount}",
        )


def validate_disbursements(
    terms: LoanTerms, disbursements: Sequence[Disbursement]
) -> tuple[Disbursement, ...]:
    if not disbursements:
        raise ScheduleError("disbursement_required", "a schedule needs a disbursement")
    ordered = tuple(sorted(disbursements, key=lambda d: d.date))
    if any(not is_whole(d.amount) or d.amount <= 0 for d in ordered):
        raise ScheduleError("disbursement_positive", "each disbursement must be above 0")
    total = sum(d.amount for d in ordered)
    if total > terms.amount:
        raise ScheduleError(
            "disbursed_over_amount",
            f"disbursed {total} is more than the loan amount {terms.amount}",
        )
    first = ordered[0].date
    maturity = maturity_date(terms, first)
    if ordered[-1].date >= maturity:
        raise ScheduleError("disbursement_before_maturity", "a tranche must precede maturity")
    if terms.principal_method == "custom":
        lines = terms.custom_principal
        if lines[0].date <= first or lines[-1].date > maturity:
            raise ScheduleError(
                "custom_dates_range",
                "custom dates must be after the first disbursement and not after maturity",
            )
    return ordered


def validate_prepayments(prepayments: Sequence[Prepayment], as_of: dt.date) -> None:
    for item in prepayments:
        if not is_whole(item.amount) or item.amount <= 0:
            raise ScheduleError("prepayment_positive", "a prepayment must be above 0")
        if item.date > as_of:
            raise ScheduleError("prepayment_after_as_of", "a prepayment is dated after as_of")


def validate_current(current: Sequence[Instalment]) -> None:
    if not current:
        raise ScheduleError("schedule_required", "there is no schedule to rebuild")
    if any(b.due_date <= a.due_date for a, b in pairwise(current)):
        raise ScheduleError("schedule_dates_order", "schedule dates must be strictly increasing")


# --------------------------------------------------------------------------------------
# Calendar


def maturity_date(terms: LoanTerms, first_disbursement: dt.date) -> dt.date:
    return add_months(first_disbursement, terms.term_months)


def month_grid(anchor: dt.date, start_month: int, every: int, until: dt.date) -> list[dt.date]:
    """``anchor`` + start_month + k·every months (k ≥ 1), strictly before ``until``."""
    dates = []
    k = 1
    while (day := add_months(anchor, start_month + k * every)) < until:
        dates.append(day)
        k += 1
    return dates


def interest_dates(terms: LoanTerms, first_disbursement: dt.date) -> list[dt.date]:
    maturity = maturity_date(terms, first_disbursement)
    return [*month_grid(first_disbursement, 0, terms.interest_every_months, maturity), maturity]


def principal_dates(terms: LoanTerms, first_disbursement: dt.date) -> list[dt.date]:
    maturity = maturity_date(terms, first_disbursement)
    if terms.principal_method == "bullet":
        return [maturity]
    if terms.principal_method == "custom":
        return sorted({line.date for line in terms.custom_principal} | {maturity})
    grid = month_grid(
        first_disbursement, terms.grace_months, terms.principal_every_months, maturity
    )
    return [*grid, maturity]


# --------------------------------------------------------------------------------------
# Arithmetic


def _interest_dong(balance_days: int, annual_rate: Decimal) -> int:
    with localcontext() as ctx:
        ctx.prec = _PRECISION
        return round_dong(interest_exact(balance_days, annual_rate, 1))


def annuity_payment(principal: int, annual_rate: Decimal, every_months: int, periods: int) -> int:
    """A = P·r/(1 − (1+r)^−n) with r = rate × p/12/100, rounded half-up (P/n at 0 %)."""
    if periods < 1:
        raise ScheduleError("annuity_periods", "an annuity needs at least one period")
    with localcontext() as ctx:
        ctx.prec = _PRECISION
        if annual_rate == 0:
            return round_dong(Decimal(principal) / periods)
        r = annual_rate * every_months / Decimal(1200)
        return round_dong(Decimal(principal) * r / (1 - (1 + r) ** -periods))


def _balance_on(events: Iterable[tuple[dt.date, int]], day: dt.date) -> int:
    return sum(delta for when, delta in events if when <= day)


def _balance_days(events: Sequence[tuple[dt.date, int]], start: dt.date, end: dt.date) -> int:
    """Σ balance × days over ``[start, end)``, the balance changing on each event date.

    One pass: the balance at ``start``, then each day inside the span on which it changes
    (the same sum as adding up ``_balance_on`` between consecutive change dates)."""
    if end < start:  # a reversed span counts the balance at ``end`` over it, as before
        return _balance_on(events, end) * (start - end).days
    balance = 0
    changes: dict[dt.date, int] = {}
    for when, delta in events:
        if when <= start:
            balance += delta
        elif when < end:
            changes[when] = changes.get(when, 0) + delta
    total, since = 0, start
    for when in sorted(changes):
        total += balance * (when - since).days
        balance += changes[when]
        since = when
    return total + balance * (end - since).days


def equal_split(amount: int, dates: Sequence[dt.date]) -> dict[dt.date, int]:
    share = amount // len(dates)
    plan = dict.fromkeys(dates[:-1], share)
    plan[dates[-1]] = amount - share * (len(dates) - 1)
    return plan


def proportional_split(
    amount: int, dates: Sequence[dt.date], weights: Mapping[dt.date, int]
) -> dict[dt.date, int]:
    """``amount`` over ``dates`` in proportion to ``weights`` (floor; the last weighted date
    takes the remainder); all on the last date when no date carries weight."""
    weighted = [d for d in dates if weights.get(d, 0) > 0]
    if not weighted:
        return {dates[-1]: amount}
    total = sum(weights[d] for d in weighted)
    plan = {d: amount * weights[d] // total for d in weighted[:-1]}
    plan[weighted[-1]] = amount - sum(plan.values())
    return plan


def add_into(target: dict[dt.date, int], extra: Mapping[dt.date, int]) -> None:
    for day, value in extra.items():
        target[day] = target.get(day, 0) + value


# --------------------------------------------------------------------------------------
# The projection shared by every builder


@dataclass(frozen=True)
class Slot:
    due_date: dt.date
    interest: bool
    principal: bool


@dataclass(frozen=True)
class AnnuityPlan:
    every_months: int
    recompute_at: frozenset[dt.date]
    payment: int | None = None


def slots_on(interest_on: Iterable[dt.date], principal_on: Iterable[dt.date]) -> list[Slot]:
    i_set, p_set = set(interest_on), set(principal_on)
    return [Slot(d, d in i_set, d in p_set) for d in sorted(i_set | p_set)]


def calendar_slots(terms: LoanTerms, first_disbursement: dt.date) -> list[Slot]:
    return slots_on(
        interest_dates(terms, first_disbursement), principal_dates(terms, first_disbursement)
    )


def project(
    annual_rate: Decimal,
    kept: Sequence[Instalment],
    events: Sequence[tuple[dt.date, int]],
    first_disbursement: dt.date,
    slots: Sequence[Slot],
    plan: Mapping[dt.date, int] | AnnuityPlan,
) -> tuple[Instalment, ...]:
    """Rows for ``slots`` after the ``kept`` rows.

    ``events`` are the balance changes that are not schedule rows: disbursements (+) and
    prepayments (−). Each row's principal becomes an event on its date before the next
    row's interest is computed, which is what the annuity needs.
    """
    timeline = list(events) + [(r.due_date, -r.principal) for r in kept if r.principal]
    interest_from = next((r.due_date for r in reversed(kept) if r.interest_due), first_disbursement)
    principal_days = [s.due_date for s in slots if s.principal]
    payment = plan.payment if isinstance(plan, AnnuityPlan) else None
    rows = list(kept)
    no = kept[-1].no if kept else 0
    for slot in slots:
        day = slot.due_date
        opening = _balance_on(timeline, day - dt.timedelta(days=1))
        interest, span_start = 0, None
        if slot.interest:
            interest = _interest_dong(_balance_days(timeline, interest_from, day), annual_rate)
            span_start = interest_from
        principal = 0
        if slot.principal:
            # A tranche paid out on a principal date is not in ``opening``: it is repaid from
            # the next principal date on.
            if not isinstance(plan, AnnuityPlan):
                principal = plan.get(day, 0)
            elif day == principal_days[-1]:
                principal = opening
            else:
                if payment is None or day in plan.recompute_at:
                    left = len(principal_days) - principal_days.index(day)
                    payment = annuity_payment(opening, annual_rate, plan.every_months, left)
                principal = min(max(payment - interest, 0), opening)
        timeline.append((day, -principal))
        if principal == 0 and interest == 0 and opening == 0:
            # Left out, so its span rolls into the next interest row.
            continue
        if slot.interest:
            interest_from = day
        no += 1
        rows.append(
            Instalment(
                no=no,
                due_date=day,
                opening_principal=opening,
                principal=principal,
                interest=interest,
                closing_principal=opening - principal,
                interest_from=span_start,
                principal_due=slot.principal,
            )
        )
    if len(rows) > len(kept) and not rows[-1].interest_from and interest_from < rows[-1].due_date:
        # The schedule ends on a principal-only date (a shortened term, a custom plan): the
        # last row also bills the interest run up since the last interest date, which no
        # later row is left to bill.
        last = rows[-1]
        tail = _interest_dong(_balance_days(timeline, interest_from, last.due_date), annual_rate)
        if tail:
            rows[-1] = replace(last, interest=tail, interest_from=interest_from)
    return tuple(rows)


def check_invariant(
    rows: Sequence[Instalment],
    disbursements: Sequence[Disbursement],
    prepayments: Sequence[Prepayment],
) -> tuple[Instalment, ...]:
    scheduled = sum(r.principal for r in rows) + sum(p.amount for p in prepayments)
    disbursed = sum(d.amount for d in disbursements)
    if scheduled != disbursed or any(
        min(r.principal, r.interest, r.closing_principal) < 0 for r in rows
    ):
        raise ScheduleError(
            "principal_invariant",
            f"scheduled principal {scheduled} does not equal disbursed principal {disbursed}",
        )
    return tuple(rows)


def balance_events(
    disbursements: Sequence[Disbursement], prepayments: Sequence[Prepayment]
) -> list[tuple[dt.date, int]]:
    return [(d.date, d.amount) for d in disbursements] + [(p.date, -p.amount) for p in prepayments]


# --------------------------------------------------------------------------------------
# Builders


def build_schedule(
    terms: LoanTerms, disbursements: Sequence[Disbursement]
) -> tuple[Instalment, ...]:
    """The schedule of a loan from its terms and its actual disbursements."""
    validate_terms(terms)
    tranches = validate_disbursements(terms, disbursements)
    first = tranches[0].date
    p_dates = principal_dates(terms, first)
    slots = calendar_slots(terms, first)
    plan: dict[dt.date, int] | AnnuityPlan
    if terms.principal_method == "annuity":
        plan = AnnuityPlan(
            terms.principal_every_months,
            frozenset(next(d for d in p_dates if d > t.date) for t in tranches),
        )
    else:
        plan = {}
        for tranche in tranches:
            add_into(plan, tranche_plan(terms, tranche, p_dates))
    rows = project(terms.annual_rate, (), balance_events(tranches, ()), first, slots, plan)
    return check_invariant(rows, tranches, ())


def tranche_plan(
    terms: LoanTerms, tranche: Disbursement, p_dates: Sequence[dt.date]
) -> dict[dt.date, int]:
    eligible = [d for d in p_dates if d > tranche.date]
    if terms.principal_method == "bullet":
        return {eligible[-1]: tranche.amount}
    if terms.principal_method == "custom":
        weights = {line.date: line.amount for line in terms.custom_principal}
        return proportional_split(tranche.amount, eligible, weights)
    return equal_split(tranche.amount, eligible)


def outstanding_principal(
    disbursements: Sequence[Disbursement],
    current: Sequence[Instalment],
    as_of: dt.date,
    prepayments: Sequence[Prepayment] = (),
) -> int:
    """Scheduled in-term principal after ``as_of``: disbursed − principal due − prepaid."""
    return (
        sum(d.amount for d in disbursements if d.date <= as_of)
        - sum(r.principal for r in current if r.due_date <= as_of)
        - sum(p.amount for p in prepayments if p.date <= as_of)
    )


def accrued_interest(
    terms: LoanTerms,
    disbursements: Sequence[Disbursement],
    current: Sequence[Instalment],
    as_of: dt.date,
    prepayments: Sequence[Prepayment] = (),
) -> int:
    """In-term interest accrued but not yet due: ``[last interest date, as_of)`` (a payoff
    quote, or "interest only up to the payment date" when the whole loan is repaid)."""
    kept = [r for r in current if r.due_date <= as_of]
    start = next(
        (r.due_date for r in reversed(kept) if r.interest_due),
        min(d.date for d in disbursements),
    )
    timeline = balance_events(disbursements, prepayments) + [
        (r.due_date, -r.principal) for r in kept if r.principal
    ]
    return _interest_dong(_balance_days(timeline, start, as_of), terms.annual_rate)
