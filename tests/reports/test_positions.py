from __future__ import annotations

from datetime import date

from fundapp.reports.positions import loan_flows, loan_positions
from tests.reports.scenario import AS_OF, later_transactions, small_fund


def test_positions_as_of_a_date_from_the_ledger_and_the_group_history(app):
    fund = small_fund()
    positions = {p.loan_id: p for p in loan_positions(AS_OF)}
    a, b = positions[fund.loan_a.id], positions[fund.loan_b.id]
    assert (a.principal_in_term, a.principal_overdue, a.outstanding) == (
        110_000_000,
        10_000_000,
        120_000_000,
    )
    assert (a.debt_group, a.days_past_due, a.interest_receivable) == (2, 10, 0)
    assert (a.collateral_value, a.discounted_collateral, a.specific_provision) == (
        40_000_000,
        20_000_000,
        2_000_000,  # 2 % × (120.000.000 − 20.000.000), group 2 under Decree 86/2024
    )
    assert (a.district_name, a.term_class, a.borrower_kind) == (
        "Huyện Lục Ngạn",
        "short",
        "cooperative",
    )
    assert (b.principal_in_term, b.principal_overdue, b.debt_group, b.days_past_due) == (
        287_500_000,
        0,
        1,
        0,
    )
    assert (b.term_class, b.borrower_kind, b.district_code) == ("medium", "union", "213")


def test_a_day_after_the_due_date_interest_is_receivable_and_the_loan_one_day_late(app):
    fund = small_fund()
    # On 16/02 A was still in group 1: instalment 1's interest billed (611.507) and one
    # day of overdue interest: 10.000.000 × 9 % / 365 + 611.507 × 10 % / 365 = 2.633.
    a = next(p for p in loan_positions(date(2026, 2, 16)) if p.loan_id == fund.loan_a.id)
    assert (a.debt_group, a.days_past_due) == (1, 1)
    assert (a.principal_overdue, a.interest_receivable, a.specific_provision) == (
        10_000_000,
        611_507 + 2_633,
        0,
    )


def test_positions_before_and_after_later_transactions_are_the_same(app):
    fund = small_fund()
    before = loan_positions(AS_OF)
    later_transactions(fund)
    assert loan_positions(AS_OF) == before
    # A paid 11.000.000 on 02/03: overdue interest 39.499 (15 days: 36.986,30 + 2.513,04),
    # interest 611.507 and principal 10.000.000 of instalment 1, and 348.994 prepaid. The
    # 109.651.006 left is spread over 11 dates: 9.968.273 due 15/03, unpaid on 25/03.
    a = next(p for p in loan_positions(date(2026, 3, 25)) if p.loan_id == fund.loan_a.id)
    assert (a.outstanding, a.principal_overdue, a.days_past_due, a.debt_group) == (
        109_651_006,
        9_968_273,
        10,
        2,
    )
    # 2 % × (109.651.006 − 20.000.000) = 1.793.020,12 → 1.793.020
    assert a.specific_provision == 1_793_020


def test_flows_of_a_period(app):
    fund = small_fund()
    flows = loan_flows(date(2026, 2, 1), AS_OF)
    a, b = flows[fund.loan_a.id], flows[fund.loan_b.id]
    assert (a.opening, a.disbursed, a.collected, a.principal_collected, a.closing) == (
        120_000_000,
        0,
        0,
        0,
        120_000_000,
    )
    # B paid 14.028.767 on 20/02: 12.500.000 principal and 1.528.767 interest.
    assert (b.opening, b.collected, b.principal_collected, b.interest_collected) == (
        300_000_000,
        14_028_767,
        12_500_000,
        1_528_767,
    )
    january = loan_flows(date(2026, 1, 1), date(2026, 1, 31))
    assert {i: f.disbursed for i, f in january.items()} == {
        fund.loan_a.id: 120_000_000,
        fund.loan_b.id: 300_000_000,
    }
    assert all(f.opening == 0 and f.collected == 0 for f in january.values())


def test_nothing_on_the_books_before_the_first_disbursement(app):
    small_fund()
    assert loan_positions(date(2026, 1, 14)) == []
    assert loan_flows(date(2025, 1, 1), date(2025, 12, 31)) == {}
