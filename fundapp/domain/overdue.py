"""Overdue interest, days past due and debt groups: pure maths, no database
(docs/rules.md#interest-overdue-interest-and-late-interest,
docs/rules.md#debt-classification-and-provisions).

Readings:

* The run for business date D covers the days ``[d, D)`` of an instalment due on d: the
  same count a payment made on D would owe.
* A payment dated X lowers the overdue balance from day X on; a payment dated on or before
  the due date counts from the due date; payments dated on or after D are not yet relevant.
* Overdue principal bears the overdue rate (:func:`fundapp.domain.terms.overdue_rate`:
  rate × multiplier / 100, default 150 %), replacing the in-term rate; unpaid interest
  bears the late rate (default 10 %/year). Both components of one instalment are summed at
  full ``Decimal`` precision and rounded half-up once. The sum is the instalment's
  *overdue interest*, the one name the domain gives this money (the allocation component
  ``penalty`` elsewhere; see :mod:`fundapp.domain.terms`).
* One borrower, one group: every loan of a borrower takes the worst group of its loans
  (:func:`worst_group`, used by the close of day and the live view).
* Debt groups by days past due: the first day of groups 2–5 is a policy parameter with
  dated versions: (10, 91, 181, 361) until 11/08/2024 (1: < 10; 2: 10–90; 3: 91–180;
  4: 181–360; 5: > 360), (10, 30, 90, 180) from 12/08/2024 (Circular 14/2024/TT-NHNN).
* Restructuring floor: ``restructure_count`` counts every approved term adjustment and
  extension of the loan so far; the floors are a policy parameter too: (2, 3, 4, 5) until
  11/08/2024 (a first term adjustment 2, a first extension 3, a second restructuring 4, a
  third or later 5), (2, 2, 4, 5) from 12/08/2024.
* ``classify`` applies every clause of the version in force (restructured then overdue,
  interest relief) and ``standing`` the upgrade waiting period; see the section below.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from decimal import Decimal, localcontext
from itertools import pairwise
from typing import Literal, ParamSpec

from fundapp.domain.dates import add_months
from fundapp.domain.errors import RuleError
from fundapp.domain.money import is_whole, round_dong
from fundapp.domain.terms import DEFAULT_LATE_RATE, DEFAULT_OVERDUE_MULTIPLIER, overdue_rate

RestructureKind = Literal["term_adjustment", "extension"]
P = ParamSpec("P")

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
        numerator = principal_balance_days * overdue_rate(annual_rate, overdue_multiplier) + (
            interest_balance_days * late_rate
        )
        return numerator / YEAR_PERCENT


def _rounded_once(exact: Callable[P, Decimal]) -> Callable[P, int]:
    """``exact``'s figure rounded half-up once, at the precision that keeps the half-đồng
    decision exact: the same arguments, the rounded result."""

    def rounded(*args: P.args, **kwargs: P.kwargs) -> int:
        with localcontext() as ctx:
            ctx.prec = _PRECISION
            return round_dong(exact(*args, **kwargs))

    return rounded


# Overdue interest of one instalment as of ``as_of``, rounded half-up once
# (docs/rules.md#interest-overdue-interest-and-late-interest): what the replay charges.
overdue_interest = _rounded_once(overdue_interest_exact)


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


# --- Debt classification as the law in force on a date ---------------------------------------
#
# A classification version is the law of one period: the first days past due of groups 2–5
# and the restructuring floors (policy parameters, dated versions the board may make
# stricter), and the clause set of the act in force (the structure of its rules, in code).
# ``classify`` gives the group its clauses assign to a loan's facts on a date; ``standing``
# adds the upgrade rule, which needs the loan's previous standing (the close of day's
# history): a loan whose arrears are cleared keeps its worse group until it has paid on time
# for the waiting period the act requires.

CIRCULAR_11 = "tt11_2021"
CIRCULAR_14 = "tt14_2024"
CIRCULAR_14_FROM = dt.date(2024, 8, 12)


@dataclass(frozen=True)
class ClauseSet:
    """The clauses of one act that turn a loan's facts into a group, beyond the bands of
    days past due and the restructuring floors."""

    code: str
    reference: str
    # First restructuring overdue on the restructured schedule: (first day, group) bands.
    first_restructured_overdue: tuple[tuple[int, int], ...]
    # Second restructuring overdue on its restructured schedule (any day): this group.
    second_restructured_overdue: int
    # Interest exempted or reduced because the borrower could not pay: at least this group.
    relief_floor: int
    # On-time months before an upgrade: short-term, medium- and long-term loans.
    upgrade_months: tuple[int, int]


CLAUSES: dict[str, ClauseSet] = {
    # Decree 45/2021 Art. 28 → the SBV rules as applied until 11/08/2024 (Circular 11/2021
    # Art. 10, carried over from Circular 02/2013): first restructuring overdue < 90 days on
    # its new schedule → 4, ≥ 90 → 5; second restructuring overdue → 5; exemption or
    # reduction of interest → 3; upgrade after 1 (short) / 3 (medium, long) months on time.
    CIRCULAR_11: ClauseSet(
        CIRCULAR_11,
        "Thông tư 11/2021/TT-NHNN, Điều 10",
        ((1, 4), (90, 5)),
        5,
        3,
        (1, 3),
    ),
    # Circular 14/2024/TT-NHNN Art. 5 (microfinance institutions, from 12/08/2024): first
    # restructuring overdue < 30 days → 3, 30–< 90 → 4, ≥ 90 → 5; second restructuring
    # overdue → 5; exemption or reduction of interest → 3. Its upgrade clause was not found
    # in the sources at hand: the periods of Circular 11/2021 Art. 10 are kept.
    CIRCULAR_14: ClauseSet(
        CIRCULAR_14,
        "Thông tư 14/2024/TT-NHNN, Điều 5",
        ((1, 3), (30, 4), (90, 5)),
        5,
        3,
        (1, 3),
    ),
}


def clauses_on(day: dt.date) -> ClauseSet:
    """The clause set of the act in force on ``day``."""
    return CLAUSES[CIRCULAR_14 if day >= CIRCULAR_14_FROM else CIRCULAR_11]


@dataclass(frozen=True)
class ClassificationVersion:
    """The classification law in force from ``effective_from``: the bands and floors of the
    policy versions in force, and the act's clauses."""

    effective_from: dt.date
    group_starts: tuple[int, int, int, int]
    restructure_floors: tuple[int, int, int, int]
    clauses: ClauseSet
    reference: str = ""


def version_of(
    day: dt.date,
    group_starts: Sequence[int] = DEFAULT_GROUP_STARTS,
    restructure_floors: Sequence[int] = DEFAULT_RESTRUCTURE_FLOORS,
    reference: str = "",
    effective_from: dt.date | None = None,
) -> ClassificationVersion:
    starts, floors = tuple(group_starts), tuple(restructure_floors)
    if len(starts) != 4 or len(floors) != 4:
        raise OverdueError("version", "four group starts and four floors")
    clauses = clauses_on(day)
    return ClassificationVersion(
        effective_from or day,
        starts,  # type: ignore[arg-type]
        floors,  # type: ignore[arg-type]
        clauses,
        reference or clauses.reference,
    )


@dataclass(frozen=True)
class LoanFacts:
    """What the classification reads of a loan on a date.

    ``restructured_days_past_due`` counts only the instalments of the latest restructured
    schedule (due after the latest restructuring took effect); ``interest_reliefs`` counts
    approved exemptions or reductions of interest because the borrower could not pay."""

    days_past_due: int
    restructure_count: int = 0
    first_restructure_kind: RestructureKind | None = None
    restructured_days_past_due: int = 0
    interest_reliefs: int = 0


def classify(facts: LoanFacts, version: ClassificationVersion) -> int:
    """The group the version's clauses give ``facts``: the worst of every clause that
    applies (days past due, restructuring, restructured then overdue, interest relief)."""
    for name in ("days_past_due", "restructure_count", "restructured_days_past_due"):
        value = getattr(facts, name)
        if not is_whole(value) or value < 0:
            raise OverdueError(name, f"{name} must be 0 or more")
    if not is_whole(facts.interest_reliefs) or facts.interest_reliefs < 0:
        raise OverdueError("interest_reliefs", "interest_reliefs must be 0 or more")
    clauses = version.clauses
    group = debt_group(facts.days_past_due, version.group_starts)
    count = facts.restructure_count
    if count:
        kind = facts.first_restructure_kind if count == 1 else None
        group = apply_floor(group, count, kind or "term_adjustment", version.restructure_floors)
        late = facts.restructured_days_past_due
        if late > 0 and count == 1:
            group = max(
                group, max(g for start, g in clauses.first_restructured_overdue if late >= start)
            )
        elif late > 0:
            group = max(group, clauses.second_restructured_overdue)
    if facts.interest_reliefs:
        group = max(group, clauses.relief_floor)
    return group


def upgrade_months(version: ClassificationVersion, short_term: bool) -> int:
    """On-time months before a loan whose arrears are cleared may move to a better group."""
    short, longer = version.clauses.upgrade_months
    return short if short_term else longer


@dataclass(frozen=True)
class Standing:
    """A loan's own group as the close of day left it: its days past due then, and, while
    it waits for an upgrade after its arrears were cleared, the first date found clear."""

    group: int
    days_past_due: int = 0
    cured_on: dt.date | None = None


def standing(
    previous: Standing | None, group: int, dpd: int, day: dt.date, wait_months: int
) -> Standing:
    """The loan's standing on ``day`` from the group its facts give (``group``) and its
    standing before. A worse group applies at once. A better one after arrears applies only
    once the loan has been without arrears for ``wait_months`` months from the first date
    found clear; arrears in between start the wait again. A better group that owes nothing
    to arrears (a new version's milder floor, say) applies at once. Same inputs, same day:
    same result (the close of day and the live view agree)."""
    if not 1 <= group <= 5:
        raise OverdueError("group", "a debt group is 1 to 5")
    if not is_whole(dpd) or dpd < 0 or wait_months < 0:
        raise OverdueError("dpd", "days past due and months must be 0 or more")
    if previous is None or group >= previous.group:
        return Standing(group, dpd, None)
    after_arrears = dpd > 0 or previous.days_past_due > 0 or previous.cured_on is not None
    if not after_arrears:
        return Standing(group, dpd, None)
    if dpd > 0:
        return Standing(previous.group, dpd, None)
    cured = previous.cured_on or day
    if day >= add_months(cured, wait_months):
        return Standing(group, 0, None)
    return Standing(previous.group, 0, cured)
