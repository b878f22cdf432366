"""The one rounding rule, parsing and display of đồng, and month arithmetic."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from fundapp.domain.dates import add_months
from fundapp.domain.money import (
    MAX_AMOUNT,
    MoneyError,
    format_dong,
    interest,
    interest_exact,
    parse_dong,
    parse_rate,
    provision,
    round_dong,
)


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (Decimal("0.5"), 1),  # half goes up, not to even
        (Decimal("1.5"), 2),
        (Decimal("2.5"), 3),  # banker's rounding would give 2
        (Decimal("2.4999999999"), 2),
        (Decimal("2.5000000001"), 3),
        (Decimal("611506.849315068493"), 611507),
        (Decimal("-2.5"), -3),  # half-up is away from zero for a negative correction
        (Decimal("0"), 0),
        (Decimal("999999999999999.5"), 1_000_000_000_000_000),
    ],
)
def test_round_dong_half_up(value: Decimal, expected: int) -> None:
    assert round_dong(value) == expected


@pytest.mark.parametrize(
    ("base", "rate", "expected"),
    [
        # General provision 0,75 %: 8.558.043,69 posts 8.558.044 (truncation gave 8.558.043).
        (1_141_072_492, Decimal("0.75"), 8_558_044),
        (1_000_000_200, Decimal("0.75"), 7_500_002),  # 7.500.001,5: an exact half goes up
        (200, Decimal("0.75"), 2),  # 1,5
        (1_000_000_332, Decimal("0.75"), 7_500_002),  # 7.500.002,49 goes down
        (332, Decimal("0.75"), 2),  # 2,49
        # Specific, group 3 at 20 %: (120.000.003 − 50.000.000 discounted collateral)
        # × 20 % = 14.000.000,6 → 14.000.001 (truncation gave 14.000.000).
        (120_000_003 - 50_000_000, Decimal(20), 14_000_001),
        (120_000_002 - 50_000_000, Decimal(20), 14_000_000),  # 14.000.000,4
        (150_000_001, Decimal(5), 7_500_000),  # group 2: 7.500.000,05
        (150_000_001, Decimal(100), 150_000_001),  # group 5: the whole base
        (100_000_000, Decimal(0), 0),  # group 1 has no specific provision
        (50_000_000 - 60_000_000, Decimal(20), 0),  # collateral above principal: nothing
        (MAX_AMOUNT - 1, Decimal("0.7501"), 7_501_000_000_000),  # 7.500.999.999.999,99…
    ],
)
def test_provision_rounds_half_up_once(base: int, rate: Decimal, expected: int) -> None:
    assert provision(base, rate) == expected


def test_provision_refuses_a_float_rate() -> None:
    with pytest.raises(TypeError):
        provision(1_141_072_492, 0.75)  # type: ignore[arg-type]


def test_interest_exact_is_full_precision() -> None:
    # 120 000 000 × 6 % × 31 / 365 = 22 320 000 000 / 36 500 = 611 506.849315…
    exact = interest_exact(120_000_000, Decimal("6"), 31)
    assert exact.quantize(Decimal("0.000001")) == Decimal("611506.849315")
    assert interest(120_000_000, Decimal("6"), 31) == 611_507
    # 1 000 000 × 7.3 % × 1 / 365 = 200 exactly
    assert interest_exact(1_000_000, Decimal("7.3"), 1) == Decimal(200)


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("1234567", 1_234_567),
        ("1.234.567", 1_234_567),
        ("1,234,567", 1_234_567),
        ("1 234 567", 1_234_567),
        ("1\u00a0234\u00a0567", 1_234_567),
        ("1.234.567 đ", 1_234_567),
        ("1,234,567 VND", 1_234_567),
        ("  500000  ", 500_000),
        ("0", 0),
        (750_000, 750_000),
        (str(MAX_AMOUNT), MAX_AMOUNT),
    ],
)
def test_parse_dong_accepts_thousands_separators(raw: object, expected: int) -> None:
    assert parse_dong(raw) == expected


@pytest.mark.parametrize(
    ("raw", "code"),
    [
        ("", "empty"),
        (None, "empty"),
        ("   ", "empty"),
        ("đ", "empty"),
        ("12.5", "not_whole_dong"),  # a decimal, not a thousands group
        ("1.234,567", "not_whole_dong"),  # mixed separators
        ("1.23.456", "not_whole_dong"),
        ("-1000", "not_whole_dong"),
        ("abc", "not_whole_dong"),
        ("1e6", "not_whole_dong"),
        (True, "not_a_number"),
        (str(MAX_AMOUNT + 1), "too_large"),
    ],
)
def test_parse_dong_refuses(raw: object, code: str) -> None:
    with pytest.raises(MoneyError, match=code):
        parse_dong(raw)


@pytest.mark.parametrize(
    ("amount", "locale", "expected"),
    [
        (1_234_567_890, "vi", "1.234.567.890 đ"),
        (1_234_567_890, "en", "1,234,567,890 VND"),
        (0, "vi", "0 đ"),
        (999, "vi", "999 đ"),
        (1000, "vi_VN", "1.000 đ"),
        # negative amounts: the minus sign U+2212, one way everywhere (issue 16)
        (-2_500_000, "vi", "\u22122.500.000 đ"),
        (-2_500_000, "en", "\u22122,500,000 VND"),
        (None, "vi", ""),
    ],
)
def test_format_dong(amount: int | None, locale: str, expected: str) -> None:
    assert format_dong(amount, locale) == expected


@settings(max_examples=200, deadline=None)
@given(st.integers(min_value=0, max_value=MAX_AMOUNT), st.sampled_from(["vi", "en"]))
def test_format_then_parse_round_trips(amount: int, locale: str) -> None:
    assert parse_dong(format_dong(amount, locale)) == amount


@pytest.mark.parametrize(
    ("raw", "expected"),
    [("7.2", Decimal("7.2")), ("7,2", Decimal("7.2")), (" 6 ", Decimal("6"))],
)
def test_parse_rate(raw: str, expected: Decimal) -> None:
    assert parse_rate(raw) == expected


@pytest.mark.parametrize("raw", ["", "abc", "-1", "101", "7.123456", "NaN", "Infinity"])
def test_parse_rate_refuses(raw: str) -> None:
    with pytest.raises(MoneyError):
        parse_rate(raw)


@pytest.mark.parametrize(
    ("start", "months", "anchor", "expected"),
    [
        (date(2028, 1, 31), 1, None, date(2028, 2, 29)),  # leap February clamps to the 29th
        (date(2027, 1, 31), 1, None, date(2027, 2, 28)),  # common February clamps to the 28th
        (date(2028, 1, 31), 2, None, date(2028, 3, 31)),  # counted from the start, not chained
        (date(2028, 2, 29), 1, 31, date(2028, 3, 31)),  # back to the anchor day after the clamp
        (date(2028, 2, 29), 2, 31, date(2028, 4, 30)),  # April has 30 days
        (date(2028, 2, 29), 1, None, date(2028, 3, 29)),  # without the anchor the 29th sticks
        (date(2025, 11, 15), 3, None, date(2026, 2, 15)),  # across the year end
        (date(2025, 1, 15), 0, None, date(2025, 1, 15)),
        (date(2025, 3, 31), -1, None, date(2025, 2, 28)),
        (date(2028, 2, 29), 12, None, date(2029, 2, 28)),
        (date(2028, 2, 29), 48, None, date(2032, 2, 29)),
    ],
)
def test_add_months_clamps_and_keeps_anchor(
    start: date, months: int, anchor: int | None, expected: date
) -> None:
    assert add_months(start, months, anchor) == expected


@settings(max_examples=200, deadline=None)
@given(
    st.dates(min_value=date(2000, 1, 1), max_value=date(2090, 12, 31)),
    st.integers(min_value=0, max_value=240),
)
def test_add_months_lands_on_anchor_or_month_end(start: date, months: int) -> None:
    moved = add_months(start, months)
    assert (moved.year * 12 + moved.month) - (start.year * 12 + start.month) == months
    next_day = date.fromordinal(moved.toordinal() + 1)
    assert moved.day == start.day or (moved.day < start.day and next_day.day == 1)
