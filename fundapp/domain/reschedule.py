"""A schedule changed after it was built: a later tranche, a prepayment, and the two forms
of restructuring (term adjustment, extension). Pure maths, like :mod:`fundapp.domain.schedule`,
whose calendar and projection every rebuild reuses.

Rules (docs/rules.md#schedules, docs/rules.md#allocation-and-prepayment,
docs/rules.md#restructuring):

* Rebuilds keep the rows due on or before ``as_of`` exactly as they are and renumber the
  rows after. The remaining dates come from the current schedule, not from the terms, so a
  restructured calendar survives later rebuilds:

  - :func:`add_disbursement` keeps the remaining principal of the earlier tranches per date
    and spreads the new tranche by the method's rule (annuity: A recomputed), so adding
    tranches one by one gives the same rows as :func:`build_schedule` with all of them.
  - :func:`rebuild_schedule` after a prepayment, ``keep_maturity`` (default): the
    outstanding principal is re-spread over the remaining principal dates (equal split;
    custom: in proportion to the remaining custom amounts; bullet: at maturity; annuity: A
    recomputed over the remaining periods). ``shorten_term``: the remaining instalments
    are paid as scheduled until the principal runs out (annuity: the same A), and the
    dates after that drop out.
  - :func:`adjust_term` (điều chỉnh kỳ hạn): new principal dates after ``as_of`` and no
    later than the unchanged maturity, with the officer's amounts or an equal split
    whatever the method; the interest dates are unchanged.
  - :func:`extend_term` (gia hạn nợ): a later maturity; interest dates continue on the
    interest grid to the new maturity; principal on the officer's dates or, by default,
    the principal grid after ``as_of`` up to the new maturity (bullet: the new maturity),
    spread equally (annuity on the default grid: A recomputed).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from itertools import pairwise

from fundapp.domain.money import is_whole
from fundapp.domain.schedule import (
    AnnuityPlan,
    Disbursement,
    Instalment,
    Prepayment,
    RebuildMode,
    ScheduleError,
    Slot,
    add_into,
    balance_events,
    calendar_slots,
    check_invariant,
    equal_split,
    month_grid,
    outstanding_principal,
    project,
    proportional_split,
    slots_on,
    tranche_plan,
    validate_current,
    validate_disbursements,
    validate_prepayments,
    validate_terms,
)
from fundapp.domain.terms import REBUILD_MODES, LoanTerms


@dataclass(frozen=True)
class _Context:
    """What every rebuild derives from its inputs before choosing new principal."""

    tranches: tuple[Disbursement, ...]
    kept: tuple[Instalment, ...]
    remaining: tuple[Instalment, ...]
    outstanding: int


def _context(
    terms: LoanTerms,
    disbursements: Sequence[Disbursement],
    current: Sequence[Instalment],
    as_of: dt.date,
    prepayments: Sequence[Prepayment],
) -> _Context:
    validate_terms(terms)
    tranches = validate_disbursements(terms, disbursements)
    validate_current(current)
    validate_prepayments(prepayments, as_of)
    if as_of < tranches[0].date:
        raise ScheduleError("as_of_range", "a rebuild cannot precede the first disbursement")
    if tranches[-1].date > as_of:
        raise ScheduleError("disbursement_after_as_of", "a tranche is dated after as_of")
    kept = tuple(r for r in current if r.due_date <= as_of)
    remaining = tuple(r for r in current if r.due_date > as_of)
    outstanding = outstanding_principal(tranches, current, as_of, prepayments)
    if outstanding < 0:
        raise ScheduleError("prepayment_over_principal", "prepayments exceed the principal")
    return _Context(tranches, kept, remaining, outstanding)


def add_disbursement(
    terms: LoanTerms,
    disbursements: Sequence[Disbursement],
    current: Sequence[Instalment],
    new: Disbursement,
    *,
    prepayments: Sequence[Prepayment] = (),
) -> tuple[Instalment, ...]:
    """``current`` with a further tranche ``new`` (``disbursements`` are the earlier ones).

    Rows due on or before the tranche stay; the earlier tranches keep their remaining
    principal per date and the new one is spread by the method's rule.
    """
    previous = tuple(disbursements)
    if previous and new.date < max(d.date for d in previous):
        raise ScheduleError("tranche_order", "a new tranche cannot precede an earlier one")
    ctx = _context(terms, (*previous, new), current, new.date, prepayments)
    already = ctx.outstanding - new.amount
    if already != sum(r.principal for r in ctx.remaining):
        raise ScheduleError(
            "schedule_mismatch",
            "the current schedule does not match the disbursements and prepayments",
        )
    # Dates left out once the balance reached zero come back from the terms' calendar.
    first = ctx.tranches[0].date
    resume = max(new.date, current[-1].due_date)
    slots = [
        *_slots_of(ctx.remaining),
        *(s for s in calendar_slots(terms, first) if s.due_date > resume),
    ]
    remaining_p = [s.due_date for s in slots if s.principal]
    if not remaining_p:
        raise ScheduleError("no_principal_dates", "no principal date is left after the tranche")
    plan: dict[dt.date, int] | AnnuityPlan
    if terms.principal_method == "annuity":
        plan = AnnuityPlan(terms.principal_every_months, frozenset(remaining_p[:1]))
    else:
        plan = {r.due_date: r.principal for r in ctx.remaining if r.principal}
        add_into(plan, tranche_plan(terms, new, remaining_p))
    return _finish(terms, ctx, prepayments, slots, plan)


def rebuild_schedule(
    terms: LoanTerms,
    disbursements: Sequence[Disbursement],
    current: Sequence[Instalment],
    as_of: dt.date,
    *,
    prepayments: Sequence[Prepayment] = (),
    mode: RebuildMode = "keep_maturity",
    outstanding: int | None = None,
) -> tuple[Instalment, ...]:
    """The schedule after a principal prepayment dated ``as_of`` (already in ``prepayments``,
    which lists every prepayment of the loan so the day-by-day balance is known).

    ``outstanding``, when given, is the caller's in-term principal after ``as_of``; a
    difference from the one derived from the history is refused rather than guessed at.
    """
    if mode not in REBUILD_MODES:
        raise ScheduleError("rebuild_mode", "mode must be keep_maturity or shorten_term")
    ctx = _context(terms, disbursements, current, as_of, prepayments)
    if outstanding is not None and outstanding != ctx.outstanding:
        raise ScheduleError(
            "outstanding_mismatch",
            f"outstanding {outstanding} differs from {ctx.outstanding} derived from the history",
        )
    remaining_p = [r.due_date for r in ctx.remaining if r.principal_due]
    if not remaining_p:
        if ctx.outstanding:
            raise ScheduleError("no_principal_dates", "no principal date is left after as_of")
        return _finish(terms, ctx, prepayments, _slots_of(ctx.remaining), {})
    plan: dict[dt.date, int] | AnnuityPlan
    scheduled = {r.due_date: r.principal for r in ctx.remaining}
    method = terms.principal_method
    if mode == "shorten_term":
        if method == "annuity":
            first = next(r for r in ctx.remaining if r.principal_due)
            plan = AnnuityPlan(terms.principal_every_months, frozenset(), first.total)
        else:
            plan = _consume(ctx.outstanding, remaining_p, scheduled)
    elif method == "annuity":
        plan = AnnuityPlan(terms.principal_every_months, frozenset(remaining_p[:1]))
    elif method == "bullet":
        plan = {remaining_p[-1]: ctx.outstanding}
    elif method == "custom":
        plan = proportional_split(ctx.outstanding, remaining_p, scheduled)
    else:
        plan = equal_split(ctx.outstanding, remaining_p)
    return _finish(terms, ctx, prepayments, _slots_of(ctx.remaining), plan)


def _consume(
    outstanding: int, dates: Sequence[dt.date], scheduled: Mapping[dt.date, int]
) -> dict[dt.date, int]:
    """The scheduled instalments in date order until ``outstanding`` runs out."""
    plan: dict[dt.date, int] = {}
    left = outstanding
    for day in dates[:-1]:
        plan[day] = min(scheduled.get(day, 0), left)
        left -= plan[day]
    plan[dates[-1]] = left
    return plan


def adjust_term(
    terms: LoanTerms,
    disbursements: Sequence[Disbursement],
    current: Sequence[Instalment],
    as_of: dt.date,
    principal_on: Sequence[dt.date],
    *,
    amounts: Sequence[int] | None = None,
    prepayments: Sequence[Prepayment] = (),
) -> tuple[Instalment, ...]:
    """Term adjustment (điều chỉnh kỳ hạn): the principal outstanding after ``as_of`` moves
    to ``principal_on`` (the officer's ``amounts``, or an equal split), maturity unchanged."""
    ctx = _context(terms, disbursements, current, as_of, prepayments)
    maturity = current[-1].due_date
    dates = _check_new_dates(principal_on, as_of, maturity)
    interest_on = [r.due_date for r in ctx.remaining if r.interest_due] + [maturity]
    plan = _officer_plan(ctx.outstanding, dates, amounts)
    return _finish(terms, ctx, prepayments, slots_on(interest_on, dates), plan)


def extend_term(
    terms: LoanTerms,
    disbursements: Sequence[Disbursement],
    current: Sequence[Instalment],
    as_of: dt.date,
    new_maturity: dt.date,
    *,
    principal_on: Sequence[dt.date] | None = None,
    amounts: Sequence[int] | None = None,
    prepayments: Sequence[Prepayment] = (),
) -> tuple[Instalment, ...]:
    """Extension (gia hạn nợ): a maturity later than the current one; the principal
    outstanding after ``as_of`` is spread again up to ``new_maturity``."""
    ctx = _context(terms, disbursements, current, as_of, prepayments)
    old_maturity = current[-1].due_date
    if new_maturity <= old_maturity:
        raise ScheduleError("extension_later", "the new maturity must be after the current one")
    if as_of >= old_maturity:
        raise ScheduleError("extension_before_maturity", "extend before the current maturity")
    anchor = ctx.tranches[0].date
    interest_on = [
        *(r.due_date for r in ctx.remaining if r.interest_due and r.due_date < old_maturity),
        *(
            d
            for d in month_grid(anchor, 0, terms.interest_every_months, new_maturity)
            if d >= old_maturity
        ),
        new_maturity,
    ]
    plan: dict[dt.date, int] | AnnuityPlan
    if principal_on is not None:
        dates = _check_new_dates(principal_on, as_of, new_maturity)
        plan = _officer_plan(ctx.outstanding, dates, amounts)
    else:
        if amounts is not None:
            raise ScheduleError("amounts_need_dates", "amounts need their principal dates")
        if terms.principal_method == "bullet":
            dates = [new_maturity]
        else:
            grid = month_grid(
                anchor, terms.grace_months, terms.principal_every_months, new_maturity
            )
            dates = [*(d for d in grid if d > as_of), new_maturity]
        if terms.principal_method == "annuity":
            plan = AnnuityPlan(terms.principal_every_months, frozenset(dates[:1]))
        elif terms.principal_method == "bullet":
            plan = {new_maturity: ctx.outstanding}
        else:
            plan = equal_split(ctx.outstanding, dates)
    return _finish(terms, ctx, prepayments, slots_on(interest_on, dates), plan)


def _check_new_dates(
    principal_on: Sequence[dt.date], as_of: dt.date, maturity: dt.date
) -> list[dt.date]:
    dates = list(principal_on)
    if not dates:
        raise ScheduleError("principal_dates_required", "give at least one principal date")
    if any(b <= a for a, b in pairwise(dates)):
        raise ScheduleError("principal_dates_order", "principal dates must be strictly increasing")
    if dates[0] <= as_of or dates[-1] > maturity:
        raise ScheduleError(
            "principal_dates_range", "principal dates must be after as_of and not after maturity"
        )
    return dates


def _officer_plan(
    outstanding: int, dates: Sequence[dt.date], amounts: Sequence[int] | None
) -> dict[dt.date, int]:
    if amounts is None:
        return equal_split(outstanding, dates)
    if len(amounts) != len(dates) or any(not is_whole(a) or a < 0 for a in amounts):
        raise ScheduleError("amounts_per_date", "give one whole amount of 0 or more per date")
    if sum(amounts) != outstanding:
        raise ScheduleError(
            "amounts_sum",
            f"the amounts sum to {sum(amounts)}, the outstanding principal is {outstanding}",
        )
    return dict(zip(dates, amounts, strict=True))


def _slots_of(rows: Sequence[Instalment]) -> list[Slot]:
    return [Slot(r.due_date, r.interest_due, r.principal_due) for r in rows]


def _finish(
    terms: LoanTerms,
    ctx: _Context,
    prepayments: Sequence[Prepayment],
    slots: Sequence[Slot],
    plan: Mapping[dt.date, int] | AnnuityPlan,
) -> tuple[Instalment, ...]:
    rows = project(
        terms.annual_rate,
        ctx.kept,
        balance_events(ctx.tranches, prepayments),
        ctx.tranches[0].date,
        slots,
        plan,
    )
    return check_invariant(rows, ctx.tranches, prepayments)
