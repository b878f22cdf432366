"""The loan replay: allocation, overdue interest, prepayment, payoff, with figures by hand."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from fundapp.domain.replay import (
    DisbursementEvent,
    RepaymentEvent,
    ReplayError,
    RestructureEvent,
    Row,
    replay,
)
from fundapp.domain.terms import LoanTerms, Product

# 120.000.000 đ, 6 %/year, 12 months, equal principal monthly, disbursed 15/01/2026.
PRODUCT = Product(LoanTerms(120_000_000, Decimal("6"), 12))
TRANCHE = [DisbursementEvent(1, date(2026, 1, 15), 120_000_000)]


def pay(id_: int, when: date, amount: int) -> RepaymentEvent:
    return RepaymentEvent(id_, when, amount, id_)


def test_schedule_first_rows_by_hand():
    state = replay(PRODUCT, TRANCHE)
    first, second = state.rows[0].plan, state.rows[1].plan
    # 120.000.000 × 6 % × 31/365 = 611.506,85 → 611.507
    assert (first.due_date, first.principal, first.interest) == (
        date(2026, 2, 15),
        10_000_000,
        611_507,
    )
    # 110.000.000 × 6 % × 28/365 = 506.301,37 → 506.301
    assert (second.due_date, second.principal, second.interest) == (
        date(2026, 3, 15),
        10_000_000,
        506_301,
    )


def test_on_time_payment_pays_interest_then_principal():
    state = replay(PRODUCT, TRANCHE, [pay(1, date(2026, 2, 15), 10_611_507)])
    result = state.repayments[1]
    assert [(a.no, a.component, a.amount) for a in result.allocations] == [
        (1, "interest", 611_507),
        (1, "principal", 10_000_000),
    ]
    assert result.prepaid_principal == 0
    assert state.principal_outstanding == 110_000_000


def test_late_payment_pays_penalty_first_and_prepays_the_rest():
    # Instalment 2 (10.000.000 + 506.301) paid 10 days late on 25/03/2026 with 11.000.000:
    # penalty = 10.000.000 × 6 % × 150 % × 10/365 + 506.301 × 10 % × 10/365
    #         = 24.657,534 + 1.387,126 = 26.044,66 → 26.045
    # left for a prepayment: 11.000.000 − 26.045 − 506.301 − 10.000.000 = 467.654
    state = replay(
        PRODUCT,
        TRANCHE,
        [pay(1, date(2026, 2, 15), 10_611_507), pay(2, date(2026, 3, 25), 11_000_000)],
    )
    result = state.repayments[2]
    assert [(a.no, a.component, a.amount) for a in result.allocations] == [
        (2, "penalty", 26_045),
        (2, "interest", 506_301),
        (2, "principal", 10_000_000),
    ]
    assert result.prepaid_principal == 467_654
    assert state.principal_outstanding == 100_000_000 - 467_654
    # Keep maturity: the 10 remaining principal dates share 99.532.346 → 9.953.234 each,
    # the last 9.953.240.
    remaining = [r.plan.principal for r in state.rows[2:]]
    assert remaining == [9_953_234] * 9 + [9_953_240]
    assert state.rows[-1].due_date == date(2027, 1, 15)
    # Interest of instalment 3 (15/03 → 15/04): 100.000.000 for 10 days, 99.532.346 for 21:
    # (1.000.000.000 + 2.090.179.266) × 6 % / 365 = 507.974,67 → 507.975
    assert state.rows[2].plan.interest == 507_975


def test_balances_before_and_after_a_missed_instalment():
    state = replay(PRODUCT, TRANCHE, [pay(1, date(2026, 2, 15), 10_611_507)])
    on_due = state.balances(date(2026, 3, 15))
    assert (on_due.principal_due, on_due.interest_due, on_due.principal_overdue) == (
        10_000_000,
        506_301,
        0,
    )
    assert on_due.days_past_due == 0
    later = state.balances(date(2026, 3, 25))
    assert (later.principal_overdue, later.interest_overdue, later.penalty_due) == (
        10_000_000,
        506_301,
        26_045,
    )
    assert later.days_past_due == 10


def test_principal_first_order():
    product = Product(PRODUCT.terms, repayment_order="principal_first")
    state = replay(product, TRANCHE, [pay(1, date(2026, 2, 25), 10_000_000)])
    assert [(a.component, a.amount) for a in state.repayments[1].allocations] == [
        ("principal", 10_000_000)
    ]
    # Interest 611.507 remains unpaid and is now bearing late interest.
    assert state.rows[0].interest_unpaid == 611_507


def test_payoff_closes_the_loan_and_more_is_refused():
    state = replay(PRODUCT, TRANCHE, [pay(1, date(2026, 2, 15), 10_611_507)])
    # Interest from 15/02 to 01/03 on 110.000.000: 110.000.000 × 6 % × 14/365 = 253.150,68
    assert state.payoff_amount(date(2026, 3, 1)) == 110_000_000 + 253_151
    done = replay(
        PRODUCT,
        TRANCHE,
        [pay(1, date(2026, 2, 15), 10_611_507), pay(2, date(2026, 3, 1), 110_253_151)],
    )
    assert done.is_settled()
    assert done.principal_outstanding == 0
    with pytest.raises(ReplayError, match="overpayment"):
        replay(
            PRODUCT,
            TRANCHE,
            [pay(1, date(2026, 2, 15), 10_611_507), pay(2, date(2026, 3, 1), 110_253_152)],
        )


def test_back_dated_payment_is_replayed_in_value_date_order():
    # Recorded later (id 2) but with an earlier value date: it is applied first.
    events = [pay(2, date(2026, 3, 25), 10_532_346), pay(1, date(2026, 2, 15), 10_611_507)]
    state = replay(PRODUCT, TRANCHE, [RepaymentEvent(e.id, e.date, e.amount, e.id) for e in events])
    assert state.repayments[1].allocations[0].no == 1
    assert state.repayments[2].allocations[0].component == "penalty"


def test_extension_moves_the_maturity():
    event = RestructureEvent(1, date(2026, 6, 1), "extension", new_maturity=date(2027, 7, 15))
    state = replay(PRODUCT, TRANCHE, [], [event])
    assert state.rows[-1].due_date == date(2027, 7, 15)
    assert sum(r.plan.principal for r in state.rows) == 120_000_000


@settings(max_examples=150, deadline=None)
@given(
    payments=st.lists(
        st.tuples(st.integers(0, 420), st.integers(1, 40_000_000)), min_size=1, max_size=8
    )
)
def test_any_sequence_of_payments_keeps_the_books_whole(payments):
    events = []
    for index, (offset, amount) in enumerate(sorted(payments), start=1):
        events.append(pay(index, date.fromordinal(date(2026, 1, 15).toordinal() + offset), amount))
    try:
        state = replay(PRODUCT, TRANCHE, events)
    except ReplayError as exc:
        assert exc.rule in {"overpayment", "loan_settled"}
        return
    paid = sum(e.amount for e in events)
    parts = [sum(r.by_component().values()) for r in state.repayments.values()]
    assert sum(parts) == paid  # every đồng is allocated somewhere
    assert state.principal_outstanding == 120_000_000 - state.principal_paid
    assert state.principal_outstanding == sum(r.principal_unpaid for r in state.rows)
    assert all(r.principal_unpaid >= 0 and r.interest_unpaid >= 0 for r in state.rows)


@settings(max_examples=150, deadline=None)
@given(
    late_days=st.lists(st.integers(0, 200), min_size=1, max_size=4),
    shares=st.lists(st.integers(1, 100), min_size=4, max_size=4),
    after=st.lists(st.integers(0, 400), min_size=1, max_size=5),
)
def test_a_row_paid_in_full_keeps_the_overdue_interest_of_its_last_payment(
    late_days, shares, after
):
    """The kept figure of a settled row equals the one computed afresh, at any date."""
    plan = replay(PRODUCT, TRANCHE).rows[0].plan  # 10.000.000 + 611.507, due 15/02/2026
    row = Row(plan)
    dates = sorted(plan.due_date + timedelta(days=d) for d in late_days)
    for part, (component, total) in enumerate((("p", plan.principal), ("i", plan.interest))):
        weights = shares[2 * part : 2 * part + 2]
        first = total * weights[0] // sum(weights)
        for when, amount in ((dates[0], first), (dates[-1], total - first)):
            if amount:
                (row.principal_paid if component == "p" else row.interest_paid).append(
                    (when, amount)
                )
    last = dates[-1]
    for days in sorted(after):
        as_of = last + timedelta(days=days)
        assert row.penalty_accrued(PRODUCT, as_of) == row._penalty(PRODUCT, as_of)
    # Before its last payment the row still owed something: computed, never the kept one.
    for days in range(0, 3):
        as_of = last - timedelta(days=days)
        assert row.penalty_accrued(PRODUCT, as_of) == row._penalty(PRODUCT, as_of)
    assert row.penalty_accrued(PRODUCT, last + timedelta(days=30)) > 0 or last == plan.due_date
