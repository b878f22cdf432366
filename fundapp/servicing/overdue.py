"""Overdue interest, days past due and debt groups (SPEC §2, §8): pure maths, no database.

Readings:

* The run for business date D covers the days ``[d, D)`` of an instalment due on d: the
  same count a payment made on D would owe.
* A payment dated X lowers the overdue balance from day X on; a payment dated on or before
  the due date counts from the due date; payments dated on or after D are not yet relevant.
* Overdue principal bears rate × multiplier/100 (default 150 %), replacing the in-term
  rate; unpaid interest bears the late rate (default 10 %/year). Both components of one
  instalment are summed at full ``Decimal`` precision and rounded half-up once.
* Debt groups by days past due: the first day of groups 2–5 is a policy parameter,
  default (10, 91, 181, 361): 1: < 10; 2: 10–90; 3: 91–180; 4: 181–360; 5: > 360.
* Restructuring floor: ``restructure_count`` counts every approved term adjustment and
  extension of the loan so far; with one, a term adjustment floors the group at 2 and an
  extension at 3; with two, at 4; with three or more, at 5.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from decimal import Decimal, localcontext
from itertools import pairwise
from typing import Literal

from fundapp.core.errors import RuleError
from fundapp.core.money import is_whole, round_dong

RestructureKind = Literal["term_adjustment", "extension"]

DEFAULT_OVERDUE_MULTIPLIER = Decimal("150")
DEFAULT_LATE_RATE = Decimal("10")
# First day past due of groups 2, 3, 4 and 5.
DEFAULT_GROUP_STARTS: tuple[int, int, int, int] = (10, 91, 181, 361)
# Floors for: first term adjustment, first extension, second restructuring, third and later.
DEFAULT_RESTRUCTURE_FLOORS: tuple[int, int, int, int] = (2, 3, 4, 5)

_PRECISION = 60
YEAR_PERCENT = Decimal(36_500)  # %/year over actual/365 days


class OverdueError(RuleError):
    """Input the overdue maths cannot honour; ``rule`` names the broken rule."""


@dataclass(frozen=True)
class Reduction:
    """A payment that lowered an overdue component, by value date."""

    date: dt.date
    amount: int


@dataclass(frozen=True)
class OverdueComponent:
    """An instalment component that fell due unpaid: ``amount`` unpaid on the due date."""

    amount: int
    reductions: tuple[Reduction, ...] = ()


def balance_days(
    amount: int, due_date: dt.date, as_of: dt.date, reductions: Iterable[Reduction] = ()
) -> int:
    """Σ overdue balance × days over ``[due_date, as_of)``."""
    if not is_whole(amount) or amount < 0:
        raise OverdueError("amount", "the overdue amount must be a whole đồng of 0 or more")
    if as_of <= due_date:
        return 0
    cuts: dict[dt.date, int] = {}
    for item in reductions:
        if not is_whole(item.amount) or item.amount < 0:
            raise OverdueError("reduction", "a payment must be a whole đồng of 0 or more")
        if item.date < as_of:
            when = max(item.date, due_date)
            cuts[when] = cuts.get(when, 0) + item.amount
    if sum(cuts.values()) > amount:
        raise OverdueError("reduction_over_amount", "payments exceed the overdue amount")
    points = sorted({due_date, as_of, *cuts})
    total, balance = 0, amount
    for start, end in pairwise(points):
        balance -= cuts.get(start, 0)
        total += balance * (end - start).days
    return total


def overdue_interest_exact(
    due_date: dt.date,
    as_of: dt.date,
    annual_rate: Decimal,
    principal: OverdueComponent = OverdueComponent(0),
    interest: OverdueComponent = OverdueComponent(0),
    *,
    overdue_multiplier: Decimal = DEFAULT_OVERDUE_MULTIPLIER,
    late_rate: Decimal = DEFAULT_LATE_RATE,
) -> Decimal:
    """Overdue interest of one instalment over ``[due_date, as_of)``, unrounded."""
    for name, value in (("rate", annual_rate), ("multiplier", overdue_multiplier)):
        if not isinstance(value, Decimal) or not value.is_finite() or value < 0:
            raise OverdueError(name, f"the {name} must be a Decimal of 0 or more")
    if not isinstance(late_rate, Decimal) or not late_rate.is_finite() or late_rate < 0:
        raise OverdueError("late_rate", "the late rate must be a Decimal of 0 or more")
    p_days = balance_days(principal.amount, due_date, as_of, principal.reductions)
    i_days = balance_days(interest.amount, due_date, as_of, interest.reductions)
    return interest_from_balance_days(
        p_days, i_days, annual_rate, overdue_multiplier=overdue_multiplier, late_rate=late_rate
    )


def interest_from_balance_days(
    principal_balance_days: int,
    interest_balance_days: int,
    annual_rate: Decimal,
    *,
    overdue_multiplier: Decimal = DEFAULT_OVERDUE_MULTIPLIER,
    late_rate: Decimal = DEFAULT_LATE_RATE,
) -> Decimal:
    """Overdue interest, unrounded, from Σ overdue balance × days of each component: the
    form the close of day keeps per instalment and advances one day per run."""
    with localcontext() as ctx:
        ctx.prec = _PRECISION
        # Products of whole numbers and finite decimals are exact; the one division then
        # decides the half-đồng exactly (two divided terms summed could fall either side).
        numerator = principal_balance_days * annual_rate * overdue_multiplier / 100 + (
            interest_balance_days * late_rate
        )
        return numerator / YEAR_PERCENT


def overdue_interest(
    due_date: dt.date,
    as_of: dt.date,
    annual_rate: Decimal,
    principal: OverdueComponent = OverdueComponent(0),
    interest: OverdueComponent = OverdueComponent(0),
    *,
    overdue_multiplier: Decimal = DEFAULT_OVERDUE_MULTIPLIER,
    late_rate: Decimal = DEFAULT_LATE_RATE,
) -> int:
    """Overdue interest of one instalment as of ``as_of``, rounded half-up once (SPEC §8)."""
    with localcontext() as ctx:
        ctx.prec = _PRECISION
        return round_dong(
            overdue_interest_exact(
                due_date,
                as_of,
                annual_rate,
                principal,
                interest,
                overdue_multiplier=overdue_multiplier,
                late_rate=late_rate,
            )
        )


def days_past_due(oldest_unpaid_due_date: dt.date | None, as_of: dt.date) -> int:
    """D − the oldest unpaid due date, 0 when nothing is overdue."""
    if oldest_unpaid_due_date is None or oldest_unpaid_due_date >= as_of:
        return 0
    return (as_of - oldest_unpaid_due_date).days


def debt_group(dpd: int, group_starts: Sequence[int] = DEFAULT_GROUP_STARTS) -> int:
    """Debt group 1–5 for ``dpd`` days past due; ``group_starts`` = first day of groups 2–5."""
    starts = tuple(group_starts)
    if len(starts) != 4 or any(b <= a for a, b in pairwise(starts)) or starts[0] < 1:
        raise OverdueError("group_starts", "give four increasing first days for groups 2–5")
    if not is_whole(dpd) or dpd < 0:
        raise OverdueError("dpd", "days past due must be 0 or more")
    return 1 + sum(1 for start in starts if dpd >= start)


def apply_floor(
    group: int,
    restructure_count: int,
    kind: RestructureKind | None = None,
    floors: Sequence[int] = DEFAULT_RESTRUCTURE_FLOORS,
) -> int:
    """The group after the restructuring floor; ``kind`` is that of the first
    restructuring and only matters while there has been exactly one."""
    if not 1 <= group <= 5:
        raise OverdueError("group", "a debt group is 1 to 5")
    if restructure_count < 0:
        raise OverdueError("restructure_count", "the restructuring count cannot be negative")
    first_adjustment, first_extension, second, third = tuple(floors)
    if restructure_count == 0:
        return group
    if restructure_count == 1:
        if kind == "term_adjustment":
            return max(group, first_adjustment)
        if kind == "extension":
            return max(group, first_extension)
        raise OverdueError("kind", "kind must be term_adjustment or extension")
    if restructure_count == 2:
        return max(group, second)
    return max(group, third)


def worst_group(groups: Iterable[int]) -> int:
    """One borrower, one group: all its loans take the worst (1 when it has none)."""
    return max(groups, default=1)
