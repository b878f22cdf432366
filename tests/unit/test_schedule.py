"""Repayment schedules (docs/rules.md#schedules): hand-computed tables and properties.

Every figure below was worked out by hand, independently of the code: interest of a row is
Σ(balance × days) × rate / 36 500, rounded half-up once. "a × b d" means a balance of a đồng
for b days (first day counted, last not).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, timedelta
from decimal import Decimal
from fractions import Fraction
from itertools import pairwise

import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from fundapp.domain.dates import add_months
from fundapp.domain.reschedule import (
    add_disbursement,
    adjust_term,
    extend_term,
    rebuild_schedule,
)
from fundapp.domain.schedule import (
    Disbursement,
    Instalment,
    Prepayment,
    ScheduleError,
    accrued_interest,
    annuity_payment,
    build_schedule,
    maturity_date,
    outstanding_principal,
)
from fundapp.domain.terms import FREQUENCIES, CustomPrincipal, LoanTerms

Row = tuple[date, int, int]  # due date, principal, interest


def table(rows: Sequence[Instalment]) -> list[Row]:
    return [(r.due_date, r.principal, r.interest) for r in rows]


# --------------------------------------------------------------------------------------
# Hand-computed tables


def test_equal_principal_monthly_12_months() -> None:
    # 100 000 000 at 7.2 %, 12 monthly instalments from 15/01/2025.
    # Principal: 100 000 000 // 12 = 8 333 333; last = 100 000 000 − 11 × 8 333 333 = 8 333 337.
    terms = LoanTerms(100_000_000, Decimal("7.2"), 12)
    rows = build_schedule(terms, [Disbursement(date(2025, 1, 15), 100_000_000)])
    assert table(rows) == [
        # 100 000 000 × 31 d = 3 100 000 000 × 7.2 / 36 500 = 611 506.85
        (date(2025, 2, 15), 8_333_333, 611_507),
        # 91 666 667 × 28 d = 2 566 666 676 × 7.2 / 36 500 = 506 301.37
        (date(2025, 3, 15), 8_333_333, 506_301),
        # 83 333 334 × 31 d = 2 583 333 354 → 509 589.05
        (date(2025, 4, 15), 8_333_333, 509_589),
        # 75 000 001 × 30 d = 2 250 000 030 → 443 835.62
        (date(2025, 5, 15), 8_333_333, 443_836),
        # 66 666 668 × 31 d = 2 066 666 708 → 407 671.24
        (date(2025, 6, 15), 8_333_333, 407_671),
        # 58 333 335 × 30 d = 1 750 000 050 → 345 205.49
        (date(2025, 7, 15), 8_333_333, 345_205),
        # 50 000 002 × 31 d = 1 550 000 062 → 305 753.44
        (date(2025, 8, 15), 8_333_333, 305_753),
        # 41 666 669 × 31 d = 1 291 666 739 → 254 794.53
        (date(2025, 9, 15), 8_333_333, 254_795),
        # 33 333 336 × 30 d = 1 000 000 080 → 197 260.29
        (date(2025, 10, 15), 8_333_333, 197_260),
        # 25 000 003 × 31 d = 775 000 093 → 152 876.73
        (date(2025, 11, 15), 8_333_333, 152_877),
        # 16 666 670 × 30 d = 500 000 100 → 98 630.16
        (date(2025, 12, 15), 8_333_333, 98_630),
        # 8 333 337 × 31 d = 258 333 447 → 50 958.93
        (date(2026, 1, 15), 8_333_337, 50_959),
    ]
    assert [r.no for r in rows] == list(range(1, 13))
    assert rows[0].opening_principal == 100_000_000
    assert rows[-1].closing_principal == 0
    assert rows[0].interest_from == date(2025, 1, 15)
    assert rows[0].interest_days == 31
    assert rows[0].total == 8_333_333 + 611_507


def test_interest_monthly_principal_quarterly_with_grace() -> None:
    # 90 000 000 at 6.6 %, 12 months from 10/03/2025, interest monthly, principal every 3
    # months after 3 months' grace: principal at months 6, 9, 12 = 90 000 000 // 3 each.
    terms = LoanTerms(90_000_000, Decimal("6.6"), 12, "equal_principal", 3, 1, 3)
    rows = build_schedule(terms, [Disbursement(date(2025, 3, 10), 90_000_000)])
    assert table(rows) == [
        # 90 000 000 × 31 d = 2 790 000 000 × 6.6 / 36 500 = 504 493.15
        (date(2025, 4, 10), 0, 504_493),
        # 90 000 000 × 30 d = 2 700 000 000 → 488 219.18
        (date(2025, 5, 10), 0, 488_219),
        (date(2025, 6, 10), 0, 504_493),  # 31 d
        (date(2025, 7, 10), 0, 488_219),  # 30 d
        (date(2025, 8, 10), 0, 504_493),  # 31 d
        # still 90 000 000 for 31 d: the principal of 10/09 counts from 10/09 on
        (date(2025, 9, 10), 30_000_000, 504_493),
        # 60 000 000 × 30 d = 1 800 000 000 → 325 479.45
        (date(2025, 10, 10), 0, 325_479),
        # 60 000 000 × 31 d = 1 860 000 000 → 336 328.77
        (date(2025, 11, 10), 0, 336_329),
        (date(2025, 12, 10), 30_000_000, 325_479),  # 60 000 000 × 30 d
        # 30 000 000 × 31 d = 930 000 000 → 168 164.38
        (date(2026, 1, 10), 0, 168_164),
        (date(2026, 2, 10), 0, 168_164),  # 31 d
        # 30 000 000 × 28 d = 840 000 000 → 151 890.41
        (date(2026, 3, 10), 30_000_000, 151_890),
    ]
    assert [r.principal_due for r in rows] == [i in (6, 9, 12) for i in range(1, 13)]


def test_annuity_24_months() -> None:
    # 240 000 000 at 7.2 %, 24 monthly payments from 10/03/2025.
    # r = 7.2 × 1 / 12 / 100 = 0.006; 1.006^24 = 1.1543872922…
    # A = 240 000 000 × 0.006 / (1 − 1.006^−24) = 1 440 000 × 1.1543872922 / 0.1543872922
    #   = 10 767 192.54 → 10 767 193
    assert annuity_payment(240_000_000, Decimal("7.2"), 1, 24) == 10_767_193
    terms = LoanTerms(240_000_000, Decimal("7.2"), 24, "annuity")
    rows = build_schedule(terms, [Disbursement(date(2025, 3, 10), 240_000_000)])
    assert len(rows) == 24
    assert table(rows[:3]) == [
        # 240 000 000 × 31 d = 7 440 000 000 × 7.2 / 36 500 = 1 467 616.44;
        # principal = 10 767 193 − 1 467 616 = 9 299 577
        (date(2025, 4, 10), 9_299_577, 1_467_616),
        # 230 700 423 × 30 d = 6 921 012 690 → 1 365 240.86; 10 767 193 − 1 365 241
        (date(2025, 5, 10), 9_401_952, 1_365_241),
        # 221 298 471 × 31 d = 6 860 252 601 → 1 353 255.31; 10 767 193 − 1 353 255
        (date(2025, 6, 10), 9_413_938, 1_353_255),
    ]
    # February is short: 134 357 401 × 28 d = 3 762 007 228 → 742 094.58
    assert table([rows[11]]) == [(date(2026, 3, 10), 10_025_098, 742_095)]
    # Row 23: 21 400 226 × 31 d = 663 407 006 → 130 863.85; 10 767 193 − 130 864 = 10 636 329.
    # Last: it clears 21 400 226 − 10 636 329 = 10 763 897;
    # 10 763 897 × 28 d = 301 389 116 → 59 452.10.
    assert table(rows[-2:]) == [
        (date(2027, 2, 10), 10_636_329, 130_864),
        (date(2027, 3, 10), 10_763_897, 59_452),
    ]
    assert {r.total for r in rows[:-1]} == {10_767_193}
    assert rows[-1].total == 10_823_349


def test_annuity_with_grace_pays_interest_only_first() -> None:
    # 36 000 000 at 12 %, 12 months, quarterly, 3 months' grace, from 01/04/2025.
    # Grace row 01/07: 36 000 000 × 91 d = 3 276 000 000 × 12 / 36 500 = 1 077 041.10.
    # Then 3 periods: r = 12 × 3 / 12 / 100 = 0.03; 1.03^3 = 1.092727;
    # A = 36 000 000 × 0.03 × 1.092727 / 0.092727 = 12 727 093.08 → 12 727 093.
    # 01/10: 36 000 000 × 92 d = 3 312 000 000 → 1 088 876.71; principal 11 638 216.
    # 01/01/2026: 24 361 784 × 92 d = 2 241 284 128 → 736 860.54; principal 11 990 232.
    # 01/04/2026: 12 371 552 left; 12 371 552 × 90 d = 1 113 439 680 → 366 062.36.
    terms = LoanTerms(36_000_000, Decimal("12"), 12, "annuity", 3, 3, 3)
    rows = build_schedule(terms, [Disbursement(date(2025, 4, 1), 36_000_000)])
    assert table(rows) == [
        (date(2025, 7, 1), 0, 1_077_041),
        (date(2025, 10, 1), 11_638_216, 1_088_877),
        (date(2026, 1, 1), 11_990_232, 736_861),
        (date(2026, 4, 1), 12_371_552, 366_062),
    ]
    assert [r.principal_due for r in rows] == [False, True, True, True]


def test_bullet_six_months_quarterly_interest() -> None:
    # 50 000 000 at 6 % for 6 months from 20/07/2025, interest every quarter.
    # 20/07 → 20/10 = 92 d: 50 000 000 × 92 = 4 600 000 000 × 6 / 36 500 = 756 164.38
    # 20/10 → 20/01 = 92 d: the same.
    terms = LoanTerms(50_000_000, Decimal("6"), 6, "bullet", 1, 3)
    rows = build_schedule(terms, [Disbursement(date(2025, 7, 20), 50_000_000)])
    assert table(rows) == [
        (date(2025, 10, 20), 0, 756_164),
        (date(2026, 1, 20), 50_000_000, 756_164),
    ]


def _harvest_terms(amount: int = 200_000_000) -> LoanTerms:
    # Vải thiều: repay after the June–July harvest, again after the winter crop, rest at
    # maturity; interest quarterly.
    return LoanTerms(
        amount,
        Decimal("6"),
        12,
        "custom",
        1,
        3,
        0,
        (
            CustomPrincipal(date(2025, 7, 15), 60_000_000),
            CustomPrincipal(date(2025, 11, 30), 40_000_000),
            CustomPrincipal(date(2026, 2, 1), 100_000_000),
        ),
    )


def test_custom_harvest_schedule() -> None:
    # 200 000 000 at 6 % from 01/02/2025; rows = custom dates ∪ quarterly interest dates.
    rows = build_schedule(_harvest_terms(), [Disbursement(date(2025, 2, 1), 200_000_000)])
    assert table(rows) == [
        # 200 000 000 × 89 d = 17 800 000 000 × 6 / 36 500 = 2 926 027.40
        (date(2025, 5, 1), 0, 2_926_027),
        (date(2025, 7, 15), 60_000_000, 0),
        # 200 000 000 × 75 d + 140 000 000 × 17 d = 17 380 000 000 → 2 856 986.30
        (date(2025, 8, 1), 0, 2_856_986),
        # 140 000 000 × 92 d = 12 880 000 000 → 2 117 260.27
        (date(2025, 11, 1), 0, 2_117_260),
        (date(2025, 11, 30), 40_000_000, 0),
        # 140 000 000 × 29 d + 100 000 000 × 63 d = 10 360 000 000 → 1 703 013.70
        (date(2026, 2, 1), 100_000_000, 1_703_014),
    ]
    assert [r.interest_due for r in rows] == [True, False, True, True, False, True]


def test_custom_partial_disbursement_is_spread_in_proportion() -> None:
    # Only 150 000 000 of 200 000 000 paid out: 60 × 150/200 = 45, 40 × 150/200 = 30 million,
    # the last custom date takes 150 − 45 − 30 = 75 million.
    rows = build_schedule(_harvest_terms(), [Disbursement(date(2025, 2, 1), 150_000_000)])
    assert [r.principal for r in rows if r.principal] == [45_000_000, 30_000_000, 75_000_000]


def test_two_tranches() -> None:
    # 150 000 000 at 6 %, 6 monthly instalments; 100 000 000 on 10/01/2025, 50 000 000 on
    # 25/02/2025. Tranche 1: 100 000 000 // 6 = 16 666 666 × 5, last 16 666 670.
    # Tranche 2 over the 5 dates after 25/02: 10 000 000 each.
    terms = LoanTerms(150_000_000, Decimal("6"), 6)
    tranches = [
        Disbursement(date(2025, 1, 10), 100_000_000),
        Disbursement(date(2025, 2, 25), 50_000_000),
    ]
    rows = build_schedule(terms, tranches)
    assert table(rows) == [
        # 100 000 000 × 31 d = 3 100 000 000 × 6 / 36 500 = 509 589.04
        (date(2025, 2, 10), 16_666_666, 509_589),
        # 83 333 334 × 15 d (10/02–24/02) + 133 333 334 × 13 d (from 25/02)
        # = 2 983 333 352 → 490 410.96
        (date(2025, 3, 10), 26_666_666, 490_411),
        # 106 666 668 × 31 d = 3 306 666 708 → 543 561.65
        (date(2025, 4, 10), 26_666_666, 543_562),
        # 80 000 002 × 30 d = 2 400 000 060 → 394 520.56
        (date(2025, 5, 10), 26_666_666, 394_521),
        # 53 333 336 × 31 d = 1 653 333 416 → 271 780.84
        (date(2025, 6, 10), 26_666_666, 271_781),
        # 26 666 670 × 30 d = 800 000 100 → 131 506.87
        (date(2025, 7, 10), 26_666_670, 131_507),
    ]
    assert rows[1].opening_principal == 133_333_334
    # Adding the tranche to the one-tranche schedule gives the same rows.
    first = build_schedule(terms, tranches[:1])
    assert add_disbursement(terms, tranches[:1], first, tranches[1]) == rows


def test_leap_year_and_month_end_clamp() -> None:
    # 60 000 000 at 6 %, 6 months from 31/01/2028: 29/02 (clamped, leap year), then back to
    # the 31st where the month has one. 60 000 000 // 6 = 10 000 000 each.
    terms = LoanTerms(60_000_000, Decimal("6"), 6)
    rows = build_schedule(terms, [Disbursement(date(2028, 1, 31), 60_000_000)])
    assert table(rows) == [
        # 60 000 000 × 29 d = 1 740 000 000 × 6 / 36 500 = 286 027.40
        (date(2028, 2, 29), 10_000_000, 286_027),
        # 50 000 000 × 31 d = 1 550 000 000 → 254 794.52
        (date(2028, 3, 31), 10_000_000, 254_795),
        # 40 000 000 × 30 d = 1 200 000 000 → 197 260.27
        (date(2028, 4, 30), 10_000_000, 197_260),
        # 30 000 000 × 31 d = 930 000 000 → 152 876.71
        (date(2028, 5, 31), 10_000_000, 152_877),
        # 20 000 000 × 30 d = 600 000 000 → 98 630.14
        (date(2028, 6, 30), 10_000_000, 98_630),
        # 10 000 000 × 31 d = 310 000 000 → 50 958.90
        (date(2028, 7, 31), 10_000_000, 50_959),
    ]
    assert maturity_date(terms, date(2028, 1, 31)) == date(2028, 7, 31)


def _monthly_120m() -> tuple[LoanTerms, list[Disbursement], tuple[Instalment, ...]]:
    # 120 000 000 at 6 %, 12 × 10 000 000 from 15/01/2025.
    terms = LoanTerms(120_000_000, Decimal("6"), 12)
    tranches = [Disbursement(date(2025, 1, 15), 120_000_000)]
    return terms, tranches, build_schedule(terms, tranches)


def test_prepayment_keeps_maturity() -> None:
    # Instalments 1–3 paid; 30 000 000 prepaid on 05/05/2025. Outstanding after it:
    # 120 − 3 × 10 − 30 = 60 000 000 over the 9 dates left: 6 666 666 × 8, last 6 666 672.
    terms, tranches, rows = _monthly_120m()
    prepaid = [Prepayment(date(2025, 5, 5), 30_000_000)]
    assert outstanding_principal(tranches, rows, date(2025, 5, 5), prepaid) == 60_000_000
    new = rebuild_schedule(
        terms, tranches, rows, date(2025, 5, 5), prepayments=prepaid, outstanding=60_000_000
    )
    assert new[:3] == rows[:3]
    assert table(new[3:]) == [
        # 90 000 000 × 20 d (15/04–04/05) + 60 000 000 × 10 d (05/05–14/05)
        # = 2 400 000 000 × 6 / 36 500 = 394 520.55
        (date(2025, 5, 15), 6_666_666, 394_521),
        # 53 333 334 × 31 d = 1 653 333 354 → 271 780.83
        (date(2025, 6, 15), 6_666_666, 271_781),
        # 46 666 668 × 30 d = 1 400 000 040 → 230 136.99
        (date(2025, 7, 15), 6_666_666, 230_137),
        # 40 000 002 × 31 d = 1 240 000 062 → 203 835.63
        (date(2025, 8, 15), 6_666_666, 203_836),
        # 33 333 336 × 31 d = 1 033 333 416 → 169 863.03
        (date(2025, 9, 15), 6_666_666, 169_863),
        # 26 666 670 × 30 d = 800 000 100 → 131 506.87
        (date(2025, 10, 15), 6_666_666, 131_507),
        # 20 000 004 × 31 d = 620 000 124 → 101 917.83
        (date(2025, 11, 15), 6_666_666, 101_918),
        # 13 333 338 × 30 d = 400 000 140 → 65 753.45
        (date(2025, 12, 15), 6_666_666, 65_753),
        # 6 666 672 × 31 d = 206 666 832 → 33 972.63
        (date(2026, 1, 15), 6_666_672, 33_973),
    ]
    assert [r.no for r in new] == list(range(1, 13))


def test_prepayment_shortens_term() -> None:
    # Same prepayment, keeping the 10 000 000 instalment: 60 000 000 is gone after six
    # more instalments, so the loan ends on 15/10/2025.
    terms, tranches, rows = _monthly_120m()
    prepaid = [Prepayment(date(2025, 5, 5), 30_000_000)]
    new = rebuild_schedule(
        terms, tranches, rows, date(2025, 5, 5), prepayments=prepaid, mode="shorten_term"
    )
    assert table(new[3:]) == [
        (date(2025, 5, 15), 10_000_000, 394_521),  # as above: 2 400 000 000 → 394 520.55
        # 50 000 000 × 31 d = 1 550 000 000 → 254 794.52
        (date(2025, 6, 15), 10_000_000, 254_795),
        # 40 000 000 × 30 d = 1 200 000 000 → 197 260.27
        (date(2025, 7, 15), 10_000_000, 197_260),
        # 30 000 000 × 31 d = 930 000 000 → 152 876.71
        (date(2025, 8, 15), 10_000_000, 152_877),
        # 20 000 000 × 31 d = 620 000 000 → 101 917.81
        (date(2025, 9, 15), 10_000_000, 101_918),
        # 10 000 000 × 30 d = 300 000 000 → 49 315.07
        (date(2025, 10, 15), 10_000_000, 49_315),
    ]


def test_full_prepayment_leaves_only_the_interest_to_the_payment_date() -> None:
    # Instalments 1–3 paid, the 90 000 000 left repaid on 05/05/2025:
    # 90 000 000 × 20 d = 1 800 000 000 × 6 / 36 500 = 295 890.41, due on the next date.
    terms, tranches, rows = _monthly_120m()
    assert accrued_interest(terms, tranches, rows, date(2025, 5, 5)) == 295_890
    prepaid = [Prepayment(date(2025, 5, 5), 90_000_000)]
    new = rebuild_schedule(terms, tranches, rows, date(2025, 5, 5), prepayments=prepaid)
    assert table(new[3:]) == [(date(2025, 5, 15), 0, 295_890)]


def test_accrued_interest_to_a_date() -> None:
    # 120 000 000 × 17 d (15/01–31/01) = 2 040 000 000 × 6 / 36 500 = 335 342.47
    terms, tranches, rows = _monthly_120m()
    assert accrued_interest(terms, tranches, rows, date(2025, 2, 1)) == 335_342
    assert accrued_interest(terms, tranches, rows, date(2025, 2, 15)) == 0


def _quarterly_60m() -> tuple[LoanTerms, list[Disbursement], tuple[Instalment, ...]]:
    # 60 000 000 at 6 %, 12 months from 10/01/2025, principal and interest quarterly:
    # 15 000 000 on 10/04, 10/07, 10/10/2025 and 10/01/2026.
    terms = LoanTerms(60_000_000, Decimal("6"), 12, "equal_principal", 3, 3)
    tranches = [Disbursement(date(2025, 1, 10), 60_000_000)]
    return terms, tranches, build_schedule(terms, tranches)


def test_extension_respreads_over_the_new_dates() -> None:
    # On 01/08/2025 the maturity moves from 10/01/2026 to 10/07/2026. Kept: 10/04 and
    # 10/07 (60 000 000 × 90 d → 887 671.23; 45 000 000 × 91 d → 673 150.68).
    # 30 000 000 left over the quarterly dates after 01/08 up to the new maturity:
    # 10/10/2025, 10/01, 10/04, 10/07/2026 → 7 500 000 each.
    terms, tranches, rows = _quarterly_60m()
    assert table(rows[:2]) == [
        (date(2025, 4, 10), 15_000_000, 887_671),
        (date(2025, 7, 10), 15_000_000, 673_151),
    ]
    new = extend_term(terms, tranches, rows, date(2025, 8, 1), date(2026, 7, 10))
    assert new[:2] == rows[:2]
    assert table(new[2:]) == [
        # 30 000 000 × 92 d = 2 760 000 000 × 6 / 36 500 = 453 698.63
        (date(2025, 10, 10), 7_500_000, 453_699),
        # 22 500 000 × 92 d = 2 070 000 000 → 340 273.97
        (date(2026, 1, 10), 7_500_000, 340_274),
        # 15 000 000 × 90 d = 1 350 000 000 → 221 917.81
        (date(2026, 4, 10), 7_500_000, 221_918),
        # 7 500 000 × 91 d = 682 500 000 → 112 191.78
        (date(2026, 7, 10), 7_500_000, 112_192),
    ]


def test_term_adjustment_moves_principal_keeps_maturity() -> None:
    # On 01/08/2025 the 30 000 000 left moves to 10 000 000 on 10/12/2025 and
    # 20 000 000 on 10/01/2026 (maturity unchanged); interest stays quarterly.
    terms, tranches, rows = _quarterly_60m()
    new = adjust_term(
        terms,
        tranches,
        rows,
        date(2025, 8, 1),
        [date(2025, 12, 10), date(2026, 1, 10)],
        amounts=[10_000_000, 20_000_000],
    )
    assert table(new[2:]) == [
        # 30 000 000 × 92 d = 2 760 000 000 → 453 698.63
        (date(2025, 10, 10), 0, 453_699),
        (date(2025, 12, 10), 10_000_000, 0),
        # 30 000 000 × 61 d + 20 000 000 × 31 d = 2 450 000 000 → 402 739.73
        (date(2026, 1, 10), 20_000_000, 402_740),
    ]
    # Without amounts the principal is split equally: 15 000 000 each.
    equal = adjust_term(
        terms, tranches, rows, date(2025, 8, 1), [date(2025, 12, 10), date(2026, 1, 10)]
    )
    assert [r.principal for r in equal[2:]] == [0, 15_000_000, 15_000_000]


# --------------------------------------------------------------------------------------
# Refused terms


_BASE = LoanTerms(12_000_000, Decimal("6"), 12)
_D = [Disbursement(date(2025, 1, 1), 12_000_000)]


@pytest.mark.parametrize(
    ("changes", "rule"),
    [
        ({"amount": 0}, "amount_positive"),
        ({"annual_rate": Decimal("-1")}, "rate_range"),
        ({"annual_rate": 6.0}, "rate_range"),  # a float is refused, not converted
        ({"term_months": 0}, "term_range"),
        ({"principal_method": "balloon"}, "method"),
        ({"principal_every_months": 2}, "frequency"),
        ({"interest_every_months": 4}, "frequency"),
        ({"grace_months": 12}, "grace_range"),
        ({"grace_months": -1}, "grace_range"),
        ({"principal_method": "annuity", "interest_every_months": 3}, "annuity_same_dates"),
        (
            {"principal_method": "annuity", "principal_every_months": 3, "grace_months": 2},
            "annuity_same_dates",
        ),
        (
            {
                "principal_method": "annuity",
                "principal_every_months": 3,
                "interest_every_months": 3,
                "grace_months": 2,
            },
            "annuity_grace_periods",
        ),
        ({"principal_method": "custom"}, "custom_required"),
        (
            {"custom_principal": (CustomPrincipal(date(2025, 6, 1), 12_000_000),)},
            "custom_only",
        ),
        (
            {
                "principal_method": "custom",
                "custom_principal": (CustomPrincipal(date(2025, 6, 1), 11_000_000),),
            },
            "custom_sum",
        ),
        (
            {
                "principal_method": "custom",
                "custom_principal": (
                    CustomPrincipal(date(2025, 6, 1), 6_000_000),
                    CustomPrincipal(date(2025, 6, 1), 6_000_000),
                ),
            },
            "custom_dates_order",
        ),
        (
            {
                "principal_method": "custom",
                "custom_principal": (CustomPrincipal(date(2026, 1, 2), 12_000_000),),
            },
            "custom_dates_range",
        ),
        (
            {
                "principal_method": "custom",
                "custom_principal": (CustomPrincipal(date(2025, 1, 1), 12_000_000),),
            },
            "custom_dates_range",
        ),
    ],
)
def test_invalid_terms_name_the_rule(changes: dict[str, object], rule: str) -> None:
    terms = LoanTerms(**{**_BASE.__dict__, **changes})  # type: ignore[arg-type]
    with pytest.raises(ScheduleError) as info:
        build_schedule(terms, _D)
    assert info.value.rule == rule
    assert rule in str(info.value)


@pytest.mark.parametrize(
    ("tranches", "rule"),
    [
        ([], "disbursement_required"),
        ([Disbursement(date(2025, 1, 1), 0)], "disbursement_positive"),
        ([Disbursement(date(2025, 1, 1), 12_000_001)], "disbursed_over_amount"),
        (
            [Disbursement(date(2025, 1, 1), 6_000_000), Disbursement(date(2026, 1, 1), 1)],
            "disbursement_before_maturity",
        ),
    ],
)
def test_invalid_disbursements_name_the_rule(tranches: list[Disbursement], rule: str) -> None:
    with pytest.raises(ScheduleError) as info:
        build_schedule(_BASE, tranches)
    assert info.value.rule == rule


def test_rebuild_refusals() -> None:
    terms, tranches, rows = _monthly_120m()
    with pytest.raises(ScheduleError, match="prepayment_over_principal"):
        rebuild_schedule(
            terms,
            tranches,
            rows,
            date(2025, 5, 5),
            prepayments=[Prepayment(date(2025, 5, 5), 90_000_001)],
        )
    with pytest.raises(ScheduleError, match="outstanding_mismatch"):
        rebuild_schedule(terms, tranches, rows, date(2025, 5, 5), outstanding=1)
    with pytest.raises(ScheduleError, match="prepayment_after_as_of"):
        rebuild_schedule(
            terms, tranches, rows, date(2025, 5, 5), prepayments=[Prepayment(date(2025, 6, 1), 1)]
        )
    with pytest.raises(ScheduleError, match="rebuild_mode"):
        rebuild_schedule(terms, tranches, rows, date(2025, 5, 5), mode="sideways")  # type: ignore[arg-type]
    with pytest.raises(ScheduleError, match="extension_later"):
        extend_term(terms, tranches, rows, date(2025, 5, 5), date(2026, 1, 15))
    with pytest.raises(ScheduleError, match="principal_dates_range"):
        adjust_term(terms, tranches, rows, date(2025, 5, 5), [date(2026, 2, 1)])
    with pytest.raises(ScheduleError, match="amounts_sum"):
        adjust_term(terms, tranches, rows, date(2025, 5, 5), [date(2025, 9, 1)], amounts=[1])
    # The schedule given was built for 100 000 000, the history says 120 000 000.
    bigger = LoanTerms(150_000_000, Decimal("6"), 12)
    other = build_schedule(bigger, [Disbursement(date(2025, 1, 15), 100_000_000)])
    with pytest.raises(ScheduleError, match="schedule_mismatch"):
        add_disbursement(bigger, tranches, other, Disbursement(date(2025, 3, 1), 1))


# --------------------------------------------------------------------------------------
# Properties


def _half_up(value: Fraction) -> int:
    return (2 * value.numerator + value.denominator) // (2 * value.denominator)


def _split(draw: st.DrawFn, total: int, parts: int) -> list[int]:
    """``total`` cut into ``parts`` amounts above 0."""
    if parts == 1:
        return [total]
    cuts = sorted(
        draw(
            st.lists(st.integers(1, total - 1), min_size=parts - 1, max_size=parts - 1, unique=True)
        )
    )
    bounds = [0, *cuts, total]
    return [b - a for a, b in pairwise(bounds)]


@st.composite
def loans(
    draw: st.DrawFn, methods: Sequence[str] = ("equal_principal", "annuity", "bullet", "custom")
) -> tuple[LoanTerms, list[Disbursement]]:
    method = draw(st.sampled_from(methods))
    term = draw(st.integers(1, 84))
    p_every = draw(st.sampled_from(FREQUENCIES))
    i_every = p_every if method == "annuity" else draw(st.sampled_from(FREQUENCIES))
    grace = draw(st.integers(0, term - 1))
    if method == "annuity":
        grace -= grace % p_every
    rate = Decimal(draw(st.integers(0, 2400))) / 100
    start = draw(st.dates(date(2020, 1, 1), date(2035, 12, 31)))
    amount = draw(st.integers(1_000_000, 10**12))
    span = (add_months(start, term) - start).days
    custom: tuple[CustomPrincipal, ...] = ()
    if method == "custom":
        offsets = sorted(draw(st.lists(st.integers(1, span), min_size=1, max_size=6, unique=True)))
        amounts = _split(draw, amount, len(offsets))
        custom = tuple(
            CustomPrincipal(start + timedelta(days=o), a)
            for o, a in zip(offsets, amounts, strict=True)
        )
    terms = LoanTerms(amount, rate, term, method, p_every, i_every, grace, custom)
    count = draw(st.integers(1, 3))
    disbursed = draw(st.integers(count, amount))
    later = sorted(draw(st.lists(st.integers(0, span - 1), min_size=count - 1, max_size=count - 1)))
    dates = [start, *(start + timedelta(days=o) for o in later)]
    tranches = [
        Disbursement(d, a) for d, a in zip(dates, _split(draw, disbursed, count), strict=True)
    ]
    return terms, tranches


def check_schedule(
    terms: LoanTerms,
    rows: Sequence[Instalment],
    tranches: Sequence[Disbursement],
    prepayments: Sequence[Prepayment] = (),
) -> None:
    """The invariants every schedule keeps, checked day by day with exact fractions."""
    disbursed = sum(t.amount for t in tranches)
    if not rows:  # everything was prepaid before the first date
        assert sum(p.amount for p in prepayments) == disbursed
        return
    assert [r.no for r in rows] == list(range(1, len(rows) + 1))
    assert all(b.due_date > a.due_date for a, b in pairwise(rows))
    for r in rows:
        assert min(r.principal, r.interest, r.opening_principal, r.closing_principal) >= 0
        assert r.closing_principal == r.opening_principal - r.principal
        assert r.principal or r.interest or r.opening_principal
    assert sum(r.principal for r in rows) + sum(p.amount for p in prepayments) == disbursed

    changes: dict[date, int] = {}
    for when, delta in [
        *((t.date, t.amount) for t in tranches),
        *((p.date, -p.amount) for p in prepayments),
        *((r.due_date, -r.principal) for r in rows),
    ]:
        changes[when] = changes.get(when, 0) + delta
    first = min(t.date for t in tranches)
    balance, day, by_day = 0, first, {}
    while day <= max(changes):
        balance += changes.get(day, 0)
        by_day[day] = balance
        day += timedelta(days=1)
    assert balance == 0

    rate = Fraction(terms.annual_rate)
    previous = first
    for r in rows:
        assert r.opening_principal == by_day[r.due_date - timedelta(days=1)]
        if r.interest_from is None:
            continue
        assert r.interest_from == previous
        days = (r.due_date - r.interest_from).days
        total = sum(by_day[r.interest_from + timedelta(days=k)] for k in range(days))
        assert r.interest == _half_up(Fraction(total) * rate / 36500)
        previous = r.due_date
    # Days after the last interest row bear nothing worth a đồng (the rows left out).
    tail = sum(v for d, v in by_day.items() if d >= previous)
    assert _half_up(Fraction(tail) * rate / 36500) == 0


@settings(max_examples=200, deadline=None)
@given(loans())
def test_built_schedules_keep_the_invariants(loan: tuple[LoanTerms, list[Disbursement]]) -> None:
    terms, tranches = loan
    rows = build_schedule(terms, tranches)
    check_schedule(terms, rows, tranches)
    maturity = maturity_date(terms, tranches[0].date)
    if terms.principal_method in ("custom", "annuity"):
        # A plan may end before maturity. So may an annuity: its fixed payment was computed
        # at the periodic rate, and a period whose actual/365 interest falls short of it
        # (a tranche paid out at the end of the first period: 1 đồng on 01/02, 999.999 on
        # 28/02, so the period to 01/03 bears interest on almost nothing) repays more
        # principal, which then runs out before the last date. The last row clears it.
        assert rows[-1].due_date <= maturity
        assert rows[-1].closing_principal == 0
    else:
        assert rows[-1].due_date == maturity
    if terms.principal_method == "bullet":
        assert [r.principal for r in rows[:-1]] == [0] * (len(rows) - 1)


@settings(max_examples=100, deadline=None)
@given(loans())
def test_adding_tranches_one_by_one_equals_building_at_once(
    loan: tuple[LoanTerms, list[Disbursement]],
) -> None:
    terms, tranches = loan
    assume(len(tranches) > 1)
    rows = build_schedule(terms, tranches[:1])
    for k in range(1, len(tranches)):
        rows = add_disbursement(terms, tranches[:k], rows, tranches[k])
    assert rows == build_schedule(terms, tranches)


@settings(max_examples=200, deadline=None)
@given(loans(), st.data())
def test_rebuilds_keep_the_invariants(
    loan: tuple[LoanTerms, list[Disbursement]], data: st.DataObject
) -> None:
    terms, tranches = loan
    rows = build_schedule(terms, tranches)
    maturity = rows[-1].due_date
    first, last_tranche = tranches[0].date, tranches[-1].date
    prepayments: list[Prepayment] = []
    # Two successive prepayments, each rebuilding the schedule the previous one left.
    for _ in range(2):
        floor = max([last_tranche, *(p.date for p in prepayments)])
        if floor >= rows[-1].due_date:
            break
        as_of = floor + timedelta(
            days=data.draw(st.integers(0, (rows[-1].due_date - floor).days - 1))
        )
        outstanding = outstanding_principal(tranches, rows, as_of, prepayments)
        if outstanding == 0:
            break
        prepayments.append(Prepayment(as_of, data.draw(st.integers(1, outstanding))))
        mode = data.draw(st.sampled_from(["keep_maturity", "shorten_term"]))
        before = rows
        rows = rebuild_schedule(terms, tranches, before, as_of, prepayments=prepayments, mode=mode)
        kept = tuple(r for r in before if r.due_date <= as_of)
        assert rows[: len(kept)] == kept
        check_schedule(terms, rows, tranches, prepayments)
        if not rows:
            break
        assert first < rows[0].due_date
        assert rows[-1].due_date <= before[-1].due_date
        left = outstanding - prepayments[-1].amount
        if mode == "keep_maturity" and terms.principal_method != "custom" and left >= 10**6:
            # The maturity of the schedule being rebuilt: an earlier shorten_term may have
            # brought it before the contract's.
            assert rows[-1].due_date == before[-1].due_date <= maturity


@settings(max_examples=150, deadline=None)
@given(loans(), st.data())
def test_extensions_keep_the_invariants(
    loan: tuple[LoanTerms, list[Disbursement]], data: st.DataObject
) -> None:
    terms, tranches = loan
    rows = build_schedule(terms, tranches)
    old_maturity = rows[-1].due_date
    last_tranche = tranches[-1].date
    assume(last_tranche < old_maturity)
    as_of = last_tranche + timedelta(
        days=data.draw(st.integers(0, (old_maturity - last_tranche).days - 1))
    )
    outstanding = outstanding_principal(tranches, rows, as_of)
    new_maturity = add_months(tranches[0].date, terms.term_months + data.draw(st.integers(1, 24)))
    new = extend_term(terms, tranches, rows, as_of, new_maturity)
    check_schedule(terms, new, tranches)
    if terms.principal_method == "annuity":
        # The fixed payment A is figured on the nominal monthly rate while interest runs
        # actual/365, and A rounds up: over a long extension the principal parts can clear
        # the balance a period before the new maturity (hypothesis found 01/09/2041 for
        # 01/10/2041). The schedule never runs past it, and check_schedule holds the sums.
        assert new[-1].due_date <= new_maturity
    elif outstanding >= 1:
        assert new[-1].due_date == new_maturity


@settings(max_examples=100, deadline=None)
@given(loans(methods=("equal_principal", "bullet", "custom")), st.data())
def test_term_adjustments_keep_the_invariants(
    loan: tuple[LoanTerms, list[Disbursement]], data: st.DataObject
) -> None:
    terms, tranches = loan
    rows = build_schedule(terms, tranches)
    maturity = rows[-1].due_date
    last_tranche = tranches[-1].date
    assume((maturity - last_tranche).days > 1)
    as_of = last_tranche + timedelta(
        days=data.draw(st.integers(0, (maturity - last_tranche).days - 2))
    )
    span = (maturity - as_of).days
    offsets = sorted(data.draw(st.lists(st.integers(1, span), min_size=1, max_size=5, unique=True)))
    new = adjust_term(terms, tranches, rows, as_of, [as_of + timedelta(days=o) for o in offsets])
    check_schedule(terms, new, tranches)
    assert new[-1].due_date <= maturity
