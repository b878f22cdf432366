"""Debt classification as the law in force on each date (pure, no database).

Two versions:
- until 11/08/2024 (Circular 11/2021 style, the version fundapp shipped): groups start at 10,
  91, 181 and 361 days past due; floors 2 (first term adjustment), 3 (first extension), 4
  (second restructuring), 5 (third and later); a first restructuring overdue on its new
  schedule < 90 days → 4, ≥ 90 → 5; a second one overdue → 5; interest relief → 3;
- from 12/08/2024 (Circular 14/2024/TT-NHNN Art. 5): groups start at 10, 30, 90 and 180
  days; any first restructuring → 2, second → 4, third and later → 5; a first restructuring
  overdue on its new schedule < 30 days → 3, 30–< 90 → 4, ≥ 90 → 5; a second one overdue →
  5; interest exempted or reduced because the borrower could not pay → 3.
"""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from fundapp.domain.overdue import (
    CIRCULAR_11,
    CIRCULAR_14,
    LoanFacts,
    OverdueError,
    Standing,
    classify,
    clauses_on,
    standing,
    upgrade_months,
    version_of,
)

OLD_DAY = date(2024, 8, 11)
NEW_DAY = date(2024, 8, 12)
OLD = version_of(OLD_DAY, (10, 91, 181, 361), (2, 3, 4, 5))
NEW = version_of(NEW_DAY, (10, 30, 90, 180), (2, 2, 4, 5))


def test_the_clause_set_changes_on_12_august_2024() -> None:
    assert clauses_on(OLD_DAY).code == CIRCULAR_11
    assert clauses_on(NEW_DAY).code == CIRCULAR_14
    assert OLD.clauses.code == CIRCULAR_11 and NEW.clauses.code == CIRCULAR_14


@pytest.mark.parametrize(
    ("dpd", "group"),
    [(0, 1), (9, 1), (10, 2), (29, 2), (30, 3), (89, 3), (90, 4), (179, 4), (180, 5)],
)
def test_days_past_due_bands_from_12_august_2024(dpd: int, group: int) -> None:
    assert classify(LoanFacts(dpd), NEW) == group


@pytest.mark.parametrize(
    ("dpd", "group"),
    [(0, 1), (9, 1), (10, 2), (90, 2), (91, 3), (180, 3), (181, 4), (360, 4), (361, 5)],
)
def test_days_past_due_bands_until_11_august_2024(dpd: int, group: int) -> None:
    assert classify(LoanFacts(dpd), OLD) == group


def test_a_loan_changes_group_on_12_august_2024_only_because_the_law_changed() -> None:
    # Overdue since 27/06/2024: 11/08 − 27/06 = 45 days → group 2 (10–90) under the old
    # version; 12/08 − 27/06 = 46 days → group 3 (30–< 90) under Circular 14/2024.
    since = date(2024, 6, 27)
    assert (OLD_DAY - since).days == 45 and (NEW_DAY - since).days == 46
    assert classify(LoanFacts(45), version_of(OLD_DAY, (10, 91, 181, 361))) == 2
    assert classify(LoanFacts(46), version_of(NEW_DAY, (10, 30, 90, 180), (2, 2, 4, 5))) == 3


@pytest.mark.parametrize(
    ("count", "kind", "late", "old", "new"),
    [
        # A first restructuring, paid on time on its new schedule.
        (1, "term_adjustment", 0, 2, 2),
        (1, "extension", 0, 3, 2),
        # … then overdue on its new schedule: old < 90 → 4, ≥ 90 → 5; new < 30 → 3,
        # 30–< 90 → 4, ≥ 90 → 5.
        (1, "term_adjustment", 1, 4, 3),
        (1, "extension", 29, 4, 3),
        (1, "term_adjustment", 30, 4, 4),
        (1, "term_adjustment", 89, 4, 4),
        (1, "extension", 90, 5, 5),
        # A second restructuring: 4; overdue on its new schedule: 5 (both versions).
        (2, None, 0, 4, 4),
        (2, None, 1, 5, 5),
        # A third or later: 5.
        (3, None, 0, 5, 5),
        (4, None, 0, 5, 5),
    ],
)
def test_restructured_then_overdue(
    count: int, kind: str | None, late: int, old: int, new: int
) -> None:
    facts = LoanFacts(
        days_past_due=late,
        restructure_count=count,
        first_restructure_kind=kind,  # type: ignore[arg-type]
        restructured_days_past_due=late,
    )
    assert classify(facts, OLD) == old
    assert classify(facts, NEW) == new


def test_overdue_before_the_restructuring_counts_by_days_only() -> None:
    # 100 days past due on instalments of the old schedule, the new one paid on time:
    # the bands decide (old: 91–180 → 3; new: 90–< 180 → 4), not the restructured clause.
    facts = LoanFacts(100, 1, "term_adjustment", restructured_days_past_due=0)
    assert classify(facts, OLD) == 3
    assert classify(facts, NEW) == 4


@pytest.mark.parametrize(("dpd", "old", "new"), [(0, 3, 3), (20, 3, 3), (95, 3, 4), (200, 4, 5)])
def test_an_interest_relief_puts_the_loan_in_group_three_at_least(
    dpd: int, old: int, new: int
) -> None:
    facts = LoanFacts(dpd, interest_reliefs=1)
    assert classify(facts, OLD) == old
    assert classify(facts, NEW) == new


def test_bad_facts_are_refused() -> None:
    with pytest.raises(OverdueError):
        classify(LoanFacts(-1), NEW)
    with pytest.raises(OverdueError):
        classify(LoanFacts(0, interest_reliefs=-1), NEW)


def test_waiting_periods() -> None:
    # One month for a short-term loan, three for medium and long term (Circular 11/2021
    # Art. 10; kept after 12/08/2024, see docs/rules.md).
    assert (upgrade_months(OLD, True), upgrade_months(OLD, False)) == (1, 3)
    assert (upgrade_months(NEW, True), upgrade_months(NEW, False)) == (1, 3)


CLEARED = date(2026, 3, 10)


def test_cleared_arrears_keep_the_group_until_the_waiting_period_passes() -> None:
    # Group 3 at 40 days past due; arrears cleared, first found clear on 10/03/2026.
    held = standing(Standing(3, 40), 1, 0, CLEARED, 3)
    assert held == Standing(3, 0, CLEARED)
    # Still 3 on 09/06/2026, the day before 10/03 + 3 months.
    day = date(2026, 6, 9)
    held = standing(held, 1, 0, day, 3)
    assert held == Standing(3, 0, CLEARED)
    # On 10/06/2026, three months without arrears: group 1.
    assert standing(held, 1, 0, date(2026, 6, 10), 3) == Standing(1, 0, None)
    # A short-term loan waits one month: group 1 on 10/04/2026, not on 09/04.
    assert standing(held, 1, 0, date(2026, 4, 9), 1).group == 3
    assert standing(held, 1, 0, date(2026, 4, 10), 1).group == 1


def test_new_arrears_during_the_wait_start_it_again() -> None:
    held = Standing(3, 0, CLEARED)
    late = standing(held, 1, 5, date(2026, 4, 20), 3)  # 5 days late: still 3, no cure
    assert late == Standing(3, 5, None)
    again = standing(late, 1, 0, date(2026, 4, 25), 3)
    assert again == Standing(3, 0, date(2026, 4, 25))
    assert standing(again, 1, 0, date(2026, 7, 24), 3).group == 3
    assert standing(again, 1, 0, date(2026, 7, 25), 3).group == 1


def test_worse_applies_at_once_and_a_milder_law_without_arrears_too() -> None:
    assert standing(Standing(1), 4, 95, CLEARED, 3) == Standing(4, 95, None)
    # A first extension: 3 under the old version, 2 from 12/08/2024; nothing overdue.
    assert standing(Standing(3, 0, None), 2, 0, NEW_DAY, 3) == Standing(2, 0, None)
    assert standing(None, 2, 12, CLEARED, 3) == Standing(2, 12, None)


def test_partly_paid_arrears_keep_the_group() -> None:
    # 100 → 20 days past due after a partial payment: the arrears are not cleared.
    assert standing(Standing(4, 100), 2, 20, CLEARED, 3) == Standing(4, 20, None)


facts_strategy = st.builds(
    LoanFacts,
    days_past_due=st.integers(0, 800),
    restructure_count=st.integers(0, 4),
    first_restructure_kind=st.sampled_from(["term_adjustment", "extension"]),
    restructured_days_past_due=st.integers(0, 400),
    interest_reliefs=st.integers(0, 3),
)


@settings(max_examples=300, deadline=None)
@given(facts_strategy, st.integers(0, 800), st.booleans())
def test_the_group_grows_with_days_past_due(facts: LoanFacts, more: int, new: bool) -> None:
    version = NEW if new else OLD
    later = LoanFacts(
        facts.days_past_due + more,
        facts.restructure_count,
        facts.first_restructure_kind,
        facts.restructured_days_past_due,
        facts.interest_reliefs,
    )
    assert classify(facts, version) <= classify(later, version)
    late_again = LoanFacts(
        facts.days_past_due,
        facts.restructure_count,
        facts.first_restructure_kind,
        facts.restructured_days_past_due + more,
        facts.interest_reliefs,
    )
    assert classify(facts, version) <= classify(late_again, version)
    assert 1 <= classify(facts, version) <= 5


@settings(max_examples=300, deadline=None)
@given(st.integers(0, 800))
def test_circular_14_is_never_milder_on_days_past_due_alone(dpd: int) -> None:
    assert classify(LoanFacts(dpd), NEW) >= classify(LoanFacts(dpd), OLD)


@settings(max_examples=300, deadline=None)
@given(
    st.one_of(
        st.none(),
        st.builds(
            Standing,
            st.integers(1, 5),
            st.integers(0, 400),
            st.one_of(st.none(), st.dates(date(2026, 1, 1), date(2026, 12, 31))),
        ),
    ),
    st.integers(1, 5),
    st.integers(0, 400),
    st.integers(0, 60),
    st.sampled_from([1, 3]),
)
def test_the_upgrade_rule_holds_never_invents_and_is_repeatable(
    previous: Standing | None, group: int, dpd: int, offset: int, months: int
) -> None:
    day = date(2027, 1, 1) + timedelta(days=offset)
    now = standing(previous, group, dpd, day, months)
    assert now.group >= group  # never better than the facts
    assert now.group <= max(group, previous.group if previous else 1)  # never worse either
    assert standing(now, group, dpd, day, months) == now  # close of day = live view
