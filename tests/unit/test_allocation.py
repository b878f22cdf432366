"""Allocation of a repayment to what is due (docs/rules.md#allocation-and-prepayment)."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from fundapp.domain.allocation import (
    Allocation,
    AllocationError,
    Due,
    allocate,
)

# Instalment 1 is overdue with a penalty, 2 falls due on 15/02, 3 is in the future.
DUES = (
    Due(1, date(2025, 1, 15), penalty=50_000, interest=500_000, principal=10_000_000),
    Due(2, date(2025, 2, 15), penalty=0, interest=450_000, principal=10_000_000),
    Due(3, date(2025, 3, 15), penalty=0, interest=400_000, principal=10_000_000),
)
VALUE_DATE = date(2025, 2, 20)


def lines(*items: tuple[int, str, int]) -> tuple[Allocation, ...]:
    return tuple(Allocation(no, component, amount) for no, component, amount in items)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("amount", "order", "expected", "excess"),
    [
        # 300 000: penalty 50 000 first, the 250 000 left goes to interest.
        (300_000, "standard", lines((1, "penalty", 50_000), (1, "interest", 250_000)), 0),
        # The same money under principal_first reduces principal only.
        (300_000, "principal_first", lines((1, "principal", 300_000)), 0),
        # 10 600 000 = 50 000 + 500 000 + 10 000 000 (instalment 1) + 50 000 into instalment 2's
        # interest (it has no penalty).
        (
            10_600_000,
            "standard",
            lines(
                (1, "penalty", 50_000),
                (1, "interest", 500_000),
                (1, "principal", 10_000_000),
                (2, "interest", 50_000),
            ),
            0,
        ),
        # principal_first still finishes instalment 1 before touching instalment 2.
        (
            10_600_000,
            "principal_first",
            lines(
                (1, "principal", 10_000_000),
                (1, "interest", 500_000),
                (1, "penalty", 50_000),
                (2, "principal", 50_000),
            ),
            0,
        ),
        # Exact: 10 550 000 + 10 450 000 = 21 000 000 clears 1 and 2; 3 is not due yet.
        (
            21_000_000,
            "standard",
            lines(
                (1, "penalty", 50_000),
                (1, "interest", 500_000),
                (1, "principal", 10_000_000),
                (2, "interest", 450_000),
                (2, "principal", 10_000_000),
            ),
            0,
        ),
        # Overpayment: 25 000 000 − 21 000 000 = 4 000 000 is a prepayment, not instalment 3.
        (
            25_000_000,
            "principal_first",
            lines(
                (1, "principal", 10_000_000),
                (1, "interest", 500_000),
                (1, "penalty", 50_000),
                (2, "principal", 10_000_000),
                (2, "interest", 450_000),
            ),
            4_000_000,
        ),
        (0, "standard", (), 0),
    ],
)
def test_allocation_table(
    amount: int, order: str, expected: tuple[Allocation, ...], excess: int
) -> None:
    result = allocate(amount, VALUE_DATE, DUES, order)  # type: ignore[arg-type]
    assert result.allocations == expected
    assert result.excess == excess
    assert result.allocated + result.excess == amount


def test_only_instalments_due_by_the_value_date_are_payable() -> None:
    # On 14/02 instalment 2 is not due yet: 10 550 000 clears 1, the rest is excess.
    result = allocate(12_000_000, date(2025, 2, 14), DUES)
    assert {a.no for a in result.allocations} == {1}
    assert result.excess == 12_000_000 - 10_550_000
    # On its due date it is payable.
    on_the_day = allocate(12_000_000, date(2025, 2, 15), DUES)
    assert on_the_day.paid(2, "interest") == 450_000
    assert on_the_day.paid(2, "principal") == 12_000_000 - 10_550_000 - 450_000
    assert on_the_day.excess == 0


def test_oldest_first_whatever_the_listing_order() -> None:
    shuffled = (DUES[2], DUES[1], DUES[0])
    assert allocate(10_600_000, VALUE_DATE, shuffled) == allocate(10_600_000, VALUE_DATE, DUES)


def test_fully_paid_components_get_no_line() -> None:
    dues = (Due(1, date(2025, 1, 15), penalty=0, interest=0, principal=5_000_000),)
    assert allocate(1_000, VALUE_DATE, dues).allocations == lines((1, "principal", 1_000))


@pytest.mark.parametrize(
    ("amount", "dues", "order", "rule"),
    [
        (-1, DUES, "standard", "amount"),
        (True, DUES, "standard", "amount"),
        (1, DUES, "interest_first", "order"),
        (1, (Due(1, date(2025, 1, 1), -1, 0, 0),), "standard", "due_amounts"),
        (1, (DUES[0], DUES[0]), "standard", "due_numbers"),
    ],
)
def test_refusals_name_the_rule(amount: int, dues: tuple[Due, ...], order: str, rule: str) -> None:
    with pytest.raises(AllocationError) as info:
        allocate(amount, VALUE_DATE, dues, order)  # type: ignore[arg-type]
    assert info.value.rule == rule


@st.composite
def due_lists(draw: st.DrawFn) -> tuple[Due, ...]:
    count = draw(st.integers(0, 8))
    start = date(2025, 1, 1)
    offsets = sorted(draw(st.lists(st.integers(0, 400), min_size=count, max_size=count)))
    money = st.integers(0, 50_000_000)
    return tuple(
        Due(no, start + timedelta(days=o), draw(money), draw(money), draw(money))
        for no, o in enumerate(offsets, start=1)
    )


@settings(max_examples=200, deadline=None)
@given(
    due_lists(),
    st.integers(0, 500_000_000),
    st.dates(date(2024, 12, 1), date(2026, 3, 1)),
    st.sampled_from(["standard", "principal_first"]),
)
def test_allocation_properties(
    dues: tuple[Due, ...], amount: int, value_date: date, order: str
) -> None:
    result = allocate(amount, value_date, dues, order)  # type: ignore[arg-type]
    assert result.allocated + result.excess == amount
    assert all(a.amount > 0 for a in result.allocations)
    by_no = {d.no: d for d in dues}
    for a in result.allocations:
        due = by_no[a.no]
        assert due.due_date <= value_date  # future instalments are not touched
        assert result.paid(a.no, a.component) <= getattr(due, a.component)
    # Every line but the last pays its component in full: oldest first, in order.
    for a in result.allocations[:-1]:
        assert a.amount == getattr(by_no[a.no], a.component)
    payable = sum(d.total for d in dues if d.due_date <= value_date)
    assert result.excess == max(amount - payable, 0)
