"""Overdue interest, days past due and debt groups
(docs/rules.md#interest-overdue-interest-and-late-interest,
docs/rules.md#debt-classification-and-provisions)."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from fundapp.domain.money import round_dong
from fundapp.domain.overdue import (
    OverdueComponent,
    OverdueError,
    Reduction,
    apply_floor,
    balance_days,
    days_past_due,
    debt_group,
    interest_from_balance_days,
    overdue_interest,
    overdue_interest_exact,
    worst_group,
)

DUE = date(2025, 3, 15)
AS_OF = date(2025, 4, 15)  # [15/03, 15/04) = 31 days


def test_overdue_principal_alone() -> None:
    # 10 000 000 × 31 d × (6 % × 150 % = 9 %) / 36 500 = 2 790 000 000 / 36 500 = 76 438.36
    assert overdue_interest(DUE, AS_OF, Decimal("6"), OverdueComponent(10_000_000)) == 76_438


def test_unpaid_interest_alone() -> None:
    # 500 000 × 31 d × 10 % / 36 500 = 155 000 000 / 36 500 = 4 246.58
    got = overdue_interest(DUE, AS_OF, Decimal("6"), interest=OverdueComponent(500_000))
    assert got == 4_247


def test_partial_payments_and_a_single_rounding() -> None:
    # Rate 7.2 % → overdue 10.8 %. On 01/04 the borrower pays 4 000 000 of principal and
    # 255 000 of the 510 000 interest; each balance drops from 01/04 on.
    # Principal: 10 000 000 × 17 d (15/03–31/03) + 6 000 000 × 14 d (01/04–14/04)
    #          = 254 000 000 × 10.8 / 36 500 = 75 156.164
    # Interest:  510 000 × 17 d + 255 000 × 14 d = 12 240 000 × 10 / 36 500 = 3 353.425
    # Together 78 509.589 → 78 510 (rounding each part first would give 78 509).
    principal = OverdueComponent(10_000_000, (Reduction(date(2025, 4, 1), 4_000_000),))
    interest = OverdueComponent(510_000, (Reduction(date(2025, 4, 1), 255_000),))
    assert balance_days(10_000_000, DUE, AS_OF, principal.reductions) == 254_000_000
    assert balance_days(510_000, DUE, AS_OF, interest.reductions) == 12_240_000
    exact = overdue_interest_exact(DUE, AS_OF, Decimal("7.2"), principal, interest)
    assert exact.quantize(Decimal("0.001")) == Decimal("78509.589")
    assert overdue_interest(DUE, AS_OF, Decimal("7.2"), principal, interest) == 78_510


@pytest.mark.parametrize(
    ("principal_days", "interest_days", "expected"),
    [
        # 625 × 7.2 × 150 % = 6 750; 1 150 × 10 = 11 500; 18 250 / 36 500 = exactly 0.5 → 1.
        # Each part divided on its own (0.18493… + 0.31506…) can sum to just under ½.
        (625, 1_150, 1),
        # 6 750 + 45 060 400 × 10 = 450 610 750 = 36 500 × 12 345 + 18 250 → 12 345.5 → 12 346
        (625, 45_060_400, 12_346),
        # One đồng-day of unpaid interest fewer: 450 610 740 / 36 500 = 12 345.4997 → 12 345
        (625, 45_060_400 - 1, 12_345),
    ],
)
def test_a_half_dong_is_decided_exactly(
    principal_days: int, interest_days: int, expected: int
) -> None:
    exact = interest_from_balance_days(principal_days, interest_days, Decimal("7.2"))
    assert round_dong(exact) == expected


def test_parameters_of_the_policy() -> None:
    # A 130 % multiplier and a 9 %/year late rate:
    # 10 000 000 × 31 × (6 × 1.3 = 7.8) / 36 500 = 66 246.58;
    # 500 000 × 31 × 9 / 36 500 = 3 821.92; together 70 068.49 → 70 068.
    got = overdue_interest(
        DUE,
        AS_OF,
        Decimal("6"),
        OverdueComponent(10_000_000),
        OverdueComponent(500_000),
        overdue_multiplier=Decimal("130"),
        late_rate=Decimal("9"),
    )
    assert got == 70_068


@pytest.mark.parametrize(
    ("reductions", "expected"),
    [
        # Paid in full on the due date itself: nothing overdue at all.
        ((Reduction(DUE, 10_000_000),), 0),
        # A payment dated before the due date counts from the due date.
        ((Reduction(date(2025, 3, 1), 4_000_000),), 6_000_000 * 31),
        # Paid the day after: one day at the full balance.
        ((Reduction(date(2025, 3, 16), 10_000_000),), 10_000_000),
        # Paid on D: the run for D still charges [d, D).
        ((Reduction(AS_OF, 10_000_000),), 10_000_000 * 31),
        # Later payments are not known as of D.
        ((Reduction(date(2025, 5, 1), 10_000_000),), 10_000_000 * 31),
        # Two payments the same day add up.
        (
            (Reduction(date(2025, 4, 1), 1), Reduction(date(2025, 4, 1), 2)),
            10_000_000 * 31 - 3 * 14,
        ),
    ],
)
def test_balance_days_piecewise(reductions: tuple[Reduction, ...], expected: int) -> None:
    assert balance_days(10_000_000, DUE, AS_OF, reductions) == expected


def test_no_days_no_interest() -> None:
    assert overdue_interest(DUE, DUE, Decimal("6"), OverdueComponent(10_000_000)) == 0
    assert overdue_interest(DUE, DUE - timedelta(days=5), Decimal("6"), OverdueComponent(1)) == 0
    # One day: 10 000 000 × 1 × 9 / 36 500 = 2 465.75
    one_day = overdue_interest(
        DUE, DUE + timedelta(days=1), Decimal("6"), OverdueComponent(10_000_000)
    )
    assert one_day == 2_466


def test_refusals() -> None:
    with pytest.raises(OverdueError, match="reduction_over_amount"):
        balance_days(100, DUE, AS_OF, (Reduction(date(2025, 4, 1), 101),))
    with pytest.raises(OverdueError, match="amount"):
        balance_days(-1, DUE, AS_OF)
    with pytest.raises(OverdueError, match="rate"):
        overdue_interest(DUE, AS_OF, 6.0, OverdueComponent(1))  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("oldest", "as_of", "expected"),
    [
        (None, AS_OF, 0),
        (DUE, AS_OF, 31),
        (DUE, DUE, 0),  # due today is not overdue yet
        (DUE, DUE + timedelta(days=1), 1),
        (date(2026, 1, 1), AS_OF, 0),
        (date(2024, 2, 28), date(2025, 2, 28), 366),  # across 29/02/2024
    ],
)
def test_days_past_due(oldest: date | None, as_of: date, expected: int) -> None:
    assert days_past_due(oldest, as_of) == expected


@pytest.mark.parametrize(
    ("dpd", "group"),
    [
        (0, 1),
        (9, 1),
        (10, 2),
        (90, 2),
        (91, 3),
        (180, 3),
        (181, 4),
        (360, 4),
        (361, 5),
        (5000, 5),
    ],
)
def test_debt_group_boundaries(dpd: int, group: int) -> None:
    assert debt_group(dpd) == group


def test_debt_group_thresholds_are_policy() -> None:
    starts = (1, 31, 61, 91)
    assert [debt_group(d, starts) for d in (0, 1, 30, 31, 60, 61, 90, 91)] == [
        1,
        2,
        2,
        3,
        3,
        4,
        4,
        5,
    ]
    with pytest.raises(OverdueError, match="group_starts"):
        debt_group(5, (10, 10, 20, 30))


@pytest.mark.parametrize(
    ("group", "count", "kind", "expected"),
    [
        (1, 0, None, 1),
        (3, 0, None, 3),
        (1, 1, "term_adjustment", 2),
        (3, 1, "term_adjustment", 3),  # a floor never improves a group
        (1, 1, "extension", 3),
        (4, 1, "extension", 4),
        (1, 2, "term_adjustment", 4),
        (2, 2, "extension", 4),
        (5, 2, None, 5),
        (1, 3, None, 5),
        (1, 7, "extension", 5),
    ],
)
def test_restructuring_floor(group: int, count: int, kind: str | None, expected: int) -> None:
    assert apply_floor(group, count, kind) == expected  # type: ignore[arg-type]


def test_restructuring_floor_refusals() -> None:
    with pytest.raises(OverdueError, match="kind"):
        apply_floor(1, 1)
    with pytest.raises(OverdueError, match="group"):
        apply_floor(6, 0)


def test_one_borrower_one_group() -> None:
    assert worst_group([1, 3, 2]) == 3
    assert worst_group([]) == 1


@settings(max_examples=200, deadline=None)
@given(st.integers(0, 2000), st.integers(0, 2000))
def test_debt_group_grows_with_days(a: int, b: int) -> None:
    low, high = sorted((a, b))
    assert debt_group(low) <= debt_group(high)


@settings(max_examples=200, deadline=None)
@given(
    st.integers(0, 10**11),
    st.lists(st.tuples(st.integers(-10, 400), st.integers(0, 10**9)), max_size=5),
    st.integers(0, 400),
    st.integers(0, 400),
)
def test_overdue_interest_grows_with_time_and_falls_with_payments(
    amount: int, raw: list[tuple[int, int]], days_a: int, days_b: int
) -> None:
    reductions: list[Reduction] = []
    left = amount
    for offset, paid in raw:
        paid = min(paid, left)
        left -= paid
        reductions.append(Reduction(DUE + timedelta(days=offset), paid))
    early, late = sorted((days_a, days_b))
    rate = Decimal("7.2")
    with_payments = OverdueComponent(amount, tuple(reductions))
    at_early = overdue_interest(DUE, DUE + timedelta(days=early), rate, with_payments)
    at_late = overdue_interest(DUE, DUE + timedelta(days=late), rate, with_payments)
    unpaid = overdue_interest(DUE, DUE + timedelta(days=late), rate, OverdueComponent(amount))
    assert 0 <= at_early <= at_late <= unpaid
