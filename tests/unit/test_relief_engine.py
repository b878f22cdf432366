"""Interest relief as an event of the replay (pure): hand figures and properties."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from fundapp.domain.replay import (
    DisbursementEvent,
    ReliefEvent,
    RepaymentEvent,
    ReplayError,
    replay,
)
from fundapp.domain.terms import LoanTerms, Product

PRODUCT = Product(LoanTerms(120_000_000, Decimal("6"), 12))
TRANCHE = [DisbursementEvent(1, date(2026, 1, 15), 120_000_000)]
# Row 1, due 15/02/2026: principal 10.000.000; interest 120.000.000 × 6 % × 31/365 = 611.507.
ROW1_INTEREST = 611_507
RELIEF_DAY = date(2026, 3, 1)


def test_a_reduction_lowers_the_interest_owed_and_its_late_interest_from_its_date():
    without = replay(PRODUCT, TRANCHE)
    with_it = replay(PRODUCT, TRANCHE, reliefs=[ReliefEvent(1, RELIEF_DAY, 500_000, 0)])
    on_day = with_it.balances(RELIEF_DAY)
    assert without.balances(RELIEF_DAY).interest_overdue == ROW1_INTEREST
    assert on_day.interest_overdue == 111_507  # 611.507 − 500.000
    # The days before the relief still count: [15/02, 01/03) = 14 days,
    # 10.000.000 × 6 % × 150 % × 14/365 + 611.507 × 10 % × 14/365
    # = 34.520,55 + 2.345,51 = 36.866,05 → 36.866.
    assert on_day.penalty_due == without.balances(RELIEF_DAY).penalty_due == 36_866
    # From 01/03 the unpaid interest is 111.507: on 11/03 (24 days late)
    # 10.000.000 × 9 × 24/36.500 + (611.507 × 14 + 111.507 × 10) × 10/36.500
    # = 59.178,08 + 2.650,99 = 61.829,09 → 61.829 (63.199 without the relief).
    later = date(2026, 3, 11)
    assert with_it.balances(later).penalty_due == 61_829
    assert without.balances(later).penalty_due == 63_199
    assert with_it.principal_outstanding == without.principal_outstanding
    assert with_it.interest_paid == 0
    (result,) = with_it.reliefs.values()
    assert [(a.no, a.component, a.amount) for a in result.allocations] == [(1, "interest", 500_000)]


def test_a_relief_comes_before_the_payments_of_its_day_and_a_later_payment_pays_the_rest():
    relief = ReliefEvent(1, RELIEF_DAY, 500_000, 36_866)
    # What is left on 01/03: 10.000.000 principal + 111.507 interest, no penalty.
    pay = RepaymentEvent(7, RELIEF_DAY, 10_111_507)
    state = replay(PRODUCT, TRANCHE, [pay], reliefs=[relief])
    assert state.repayments[7].by_component() == {
        "penalty": 0,
        "interest": 111_507,
        "principal": 10_000_000,
    }
    assert state.balances(RELIEF_DAY).total_due == 0
    assert state.balances(date(2026, 3, 14)).days_past_due == 0


@pytest.mark.parametrize(
    ("interest", "penalty", "rule"),
    [
        (ROW1_INTEREST + 1, 0, "relief_over_interest"),
        (0, 36_867, "relief_over_penalty"),
        (0, 0, "relief_amount"),
        (-1, 5, "relief_amount"),
    ],
)
def test_more_than_is_owed_is_refused(interest, penalty, rule):
    with pytest.raises(ReplayError) as exc:
        replay(PRODUCT, TRANCHE, reliefs=[ReliefEvent(1, RELIEF_DAY, interest, penalty)])
    assert exc.value.rule == rule


def test_interest_not_yet_due_cannot_be_waived():
    # Row 2 (15/03) is not due on 01/03: only row 1's interest is.
    with pytest.raises(ReplayError):
        replay(PRODUCT, TRANCHE, reliefs=[ReliefEvent(1, date(2026, 2, 14), 1, 0)])


@settings(max_examples=60, deadline=None)
@given(
    days=st.integers(0, 400),
    share=st.fractions(0, 1),
    penalty_share=st.fractions(0, 1),
    paid_first=st.integers(0, 30_000_000),
)
def test_dues_drop_by_exactly_the_waived_amount(days, share, penalty_share, paid_first):
    """Whatever is owed on the day, a relief of any part of it lowers what is due that day
    by exactly its amount, leaves the principal alone, and never makes anything negative."""
    day = date(2026, 2, 16) + timedelta(days=days)
    payments = [RepaymentEvent(5, date(2026, 2, 16), paid_first)] if paid_first else []
    base = replay(PRODUCT, TRANCHE, payments)
    before = base.balances(day)
    rows = [r for r in base.rows if r.due_date <= day]
    interest_owed = sum(r.interest_unpaid for r in rows)
    penalty_owed = sum(r.penalty_due(PRODUCT, day) for r in rows)
    interest = int(interest_owed * share)
    penalty = int(penalty_owed * penalty_share)
    if interest + penalty == 0:
        return
    after_state = replay(
        PRODUCT, TRANCHE, payments, reliefs=[ReliefEvent(1, day, interest, penalty)]
    )
    after = after_state.balances(day)
    assert before.total_due - after.total_due == interest + penalty
    assert after.principal_outstanding == before.principal_outstanding
    assert all(r.interest_unpaid >= 0 for r in after_state.rows)
    assert after.penalty_due >= 0
