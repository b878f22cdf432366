"""Interest support in the engine: the split of each instalment's interest between the
borrower and the budget, with hand-checked figures (docs/rules.md#interest-support)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from fundapp.domain import accounts as acc
from fundapp.domain import replay as engine
from fundapp.domain.posting import targets
from fundapp.domain.support import Support, budget_share, split
from fundapp.domain.terms import LoanTerms, Product

D = dt.date
START = D(2026, 1, 15)
# 120.000.000 đ at 7,2 %/year over 12 months, equal principal monthly (10.000.000 đ a month),
# disbursed 15/01/2026. The interest of each row, actual/365 on the balance, first day in:
#   1  15/02  31 days × 120.000.000 × 7,2 % / 365 = 733.808,22 → 733.808
#   2  15/03  28 days × 110.000.000 × 7,2 % / 365 = 607.561,64 → 607.562
#   3  15/04  31 days × 100.000.000 × 7,2 % / 365 = 611.506,85 → 611.507
#   4  15/05  30 days ×  90.000.000 × 7,2 % / 365 = 532.602,74 → 532.603
#   5  15/06  31 days ×  80.000.000 × 7,2 % / 365 = 489.205,48 → 489.205
#   6  15/07  30 days ×  70.000.000 × 7,2 % / 365 = 414.246,58 → 414.247
#   7  15/08  31 days ×  60.000.000 × 7,2 % / 365 = 366.904,11 → 366.904
TERMS = LoanTerms(amount=120_000_000, annual_rate=Decimal("7.2"), term_months=12)
# The budget pays 50 % of the interest falling due 15/02–15/07/2026, at most 1.500.000 đ.
SUPPORT = Support(Decimal("50"), D(2026, 2, 15), D(2026, 7, 15), 1_500_000)

# (no, interest, budget's share, borrower's share). Half of each, rounded half-up once:
# 366.904; 303.781; 305.753,5 → 305.754; 266.301,5 → 266.302; 244.602,5 → 244.603.
# Running total 1.487.344 after row 5: row 6's half (207.124) is capped to what is left,
# 1.500.000 − 1.487.344 = 12.656. Row 7 falls due after 15/07: nothing.
SPLIT = [
    (1, 733_808, 366_904, 366_904),
    (2, 607_562, 303_781, 303_781),
    (3, 611_507, 305_754, 305_753),
    (4, 532_603, 266_302, 266_301),
    (5, 489_205, 244_603, 244_602),
    (6, 414_247, 12_656, 401_591),
    (7, 366_904, 0, 366_904),
]


def _state(support=SUPPORT, repayments=()):
    return engine.replay(
        Product(TERMS, support=support),
        [engine.DisbursementEvent(1, START, 120_000_000)],
        repayments,
    )


def test_each_instalment_is_split_between_borrower_and_budget():
    state = _state()
    got = [(r.no, r.plan.interest, r.interest_supported, r.interest_unpaid) for r in state.rows[:7]]
    assert got == SPLIT
    assert sum(r.interest_supported for r in state.rows) == 1_500_000


@pytest.mark.parametrize(
    ("interest", "share", "budget"),
    [
        (733_808, "50", 366_904),
        (611_507, "50", 305_754),  # 305.753,5 rounds up
        (1_000_001, "30", 300_000),  # 300.000,3 rounds down
        (999_999, "100", 999_999),
        (3, "50", 2),  # 1,5 rounds up
        (1, "40", 0),  # 0,4 rounds down
        (0, "50", 0),
    ],
)
def test_budget_share_rounds_half_up_once(interest, share, budget):
    assert budget_share(interest, Decimal(share)) == budget


def test_split_follows_the_covered_dates_and_the_cap():
    rows = [(D(2026, 1, 31), 100), (D(2026, 2, 1), 100), (D(2026, 3, 1), 100), (D(2026, 4, 1), 9)]
    window = Support(Decimal("50"), D(2026, 2, 1), D(2026, 3, 1))
    assert split(rows, window) == [0, 50, 50, 0]
    assert split(rows, Support(Decimal("50"), D(2026, 2, 1), None, 70)) == [0, 50, 20, 0]
    assert split(rows, None) == [0, 0, 0, 0]


def test_the_borrower_owes_only_its_share_when_it_falls_due():
    due = _state().balances(D(2026, 2, 15))
    assert (due.principal_due, due.interest_due, due.penalty_due) == (10_000_000, 366_904, 0)


def test_paying_the_borrowers_share_on_time_settles_the_instalment():
    state = _state(repayments=[engine.RepaymentEvent(10, D(2026, 2, 15), 10_366_904)])
    row = state.rows[0]
    assert (row.principal_unpaid, row.interest_unpaid) == (0, 0)
    assert state.repayments[10].by_component() == {
        "penalty": 0,
        "interest": 366_904,
        "principal": 10_000_000,
    }
    later = state.balances(D(2026, 3, 1))
    assert (later.days_past_due, later.penalty_due, later.interest_overdue) == (0, 0, 0)


def test_overdue_interest_runs_only_on_the_borrowers_share():
    # Nothing paid by 25/02: 10 days late. Overdue principal at 7,2 × 150 % = 10,8 %/year,
    # unpaid interest at the late rate 10 %/year, summed and rounded once:
    # (10.000.000 × 10 × 10,8 + 366.904 × 10 × 10) / 36.500 = 1.116.690.400 / 36.500
    # = 30.594,26 → 30.594 (without support the interest would be 733.808: 31.599).
    assert _state().balances(D(2026, 2, 25)).penalty_due == 30_594
    assert _state(support=None).balances(D(2026, 2, 25)).penalty_due == 31_599


def test_a_payoff_pays_the_borrowers_share_of_the_interest_to_date():
    # Payoff on 01/03/2026 with row 1 unpaid: row 1's principal 10.000.000 + its borrower's
    # interest 366.904 + 14 days overdue
    # (10.000.000 × 14 × 10,8 + 366.904 × 14 × 10) / 36.500 = 42.831,96 → 42.832;
    # the 110.000.000 ahead; the interest accrued since 15/02, 14 days × 110.000.000 × 7,2 %
    # / 365 = 303.780,82 → 303.781, on the row due 15/03 (covered): budget 151.890,5 →
    # 151.891, borrower 151.890. Total 120.561.626.
    state = _state()
    quote = state.payoff_amount(D(2026, 3, 1))
    assert quote == 10_000_000 + 366_904 + 42_832 + 110_000_000 + 151_890
    paid = _state(repayments=[engine.RepaymentEvent(10, D(2026, 3, 1), quote)])
    assert paid.is_settled()
    assert paid.rows[1].interest_supported == 151_891


def test_posting_bills_the_budgets_share_once_due():
    # Unpaid and not yet past a close of day: nothing billed. Once the close of 16/02 has
    # taken the row in, or the borrower has settled it (its share paid on 15/02), row 1's
    # budget's share is the budget's receivable and interest income.
    assert targets(_state(), D(2026, 2, 15))[acc.SUPPORT_RECEIVABLE] == 0
    state = _state(repayments=[engine.RepaymentEvent(10, D(2026, 2, 15), 10_366_904)])
    assert targets(state, D(2026, 2, 15))[acc.SUPPORT_RECEIVABLE] == 366_904
    after = targets(state, D(2026, 2, 16))
    assert after[acc.SUPPORT_RECEIVABLE] == 366_904
    assert after[acc.INTEREST_INCOME] == -(366_904 + 366_904)
    assert after[acc.INTEREST_RECEIVABLE] == 0
    # Row 1 unpaid: the borrower's share is receivable with one day of overdue interest,
    # (10.000.000 × 10,8 + 366.904 × 10) / 36.500 = 3.059,43 → 3.059; the budget's share
    # is its own receivable.
    late = targets(_state(), D(2026, 2, 16))
    assert (late[acc.INTEREST_RECEIVABLE], late[acc.SUPPORT_RECEIVABLE]) == (
        366_904 + 3_059,
        366_904,
    )
    # A loan in group 3: the borrower's share goes off-balance, the budget's stays.
    doubtful = targets(_state(), D(2026, 2, 16), group=3)
    assert (doubtful[acc.INTEREST_RECEIVABLE], doubtful[acc.SUPPORT_RECEIVABLE]) == (0, 366_904)
    assert doubtful[acc.INTEREST_INCOME] == -366_904


@settings(max_examples=150, deadline=None)
@given(
    share=st.integers(1, 100),
    cap=st.one_of(st.none(), st.integers(1, 3_000_000)),
    method=st.sampled_from(["equal_principal", "annuity", "bullet"]),
    every=st.sampled_from([1, 3]),
    paid_days=st.lists(st.integers(1, 400), max_size=4),
    quote_day=st.integers(0, 420),
)
def test_split_properties(share, cap, method, every, paid_days, quote_day):
    """Whatever the history: each row's shares add up to its interest, none is negative,
    the budget never pays beyond the cap, and a payoff quote settles the loan."""
    terms = LoanTerms(
        amount=240_000_000,
        annual_rate=Decimal("6.6"),
        term_months=12,
        principal_method=method,
        principal_every_months=every if method != "bullet" else 1,
        interest_every_months=every,
    )
    support = Support(Decimal(share), D(2026, 2, 1), D(2026, 10, 31), cap)
    product = Product(terms, support=support)
    events = [engine.DisbursementEvent(1, START, 240_000_000)]
    repayments = [
        engine.RepaymentEvent(10 + i, START + dt.timedelta(days=d), 5_000_000, seq=i + 1)
        for i, d in enumerate(sorted(paid_days))
    ]
    try:
        state = engine.replay(product, events, repayments)
    except engine.ReplayError:
        return
    for row in state.rows:
        assert 0 <= row.interest_supported <= row.plan.interest
        assert row.interest_unpaid >= 0
        if not support.covers(row.due_date):
            assert row.interest_supported == 0
    assert cap is None or sum(r.interest_supported for r in state.rows) <= cap
    day = START + dt.timedelta(days=quote_day)
    if state.is_settled() or (repayments and day < repayments[-1].date):
        return
    quote = state.payoff_amount(day)
    closed = engine.replay(
        product, events, [*repayments, engine.RepaymentEvent(99, day, quote, seq=99)]
    )
    assert closed.is_settled()


def test_a_payoff_before_the_first_due_date_bills_the_budgets_share_at_once():
    """All interest supported, the loan paid off on 01/02, before its first instalment: the
    borrower pays the principal only; the budget's share of the interest accrued to 01/02,
    17 days × 120.000.000 × 7,2 % / 365 = 402.410,96 → 402.411, is billed at once (the loan
    closes: nothing more falls due), and nothing is left as accrued interest."""
    whole = Support(Decimal("100"), D(2026, 2, 1), D(2026, 12, 31))
    state = _state(support=whole)
    quote = state.payoff_amount(D(2026, 2, 1))
    assert quote == 120_000_000
    paid = _state(support=whole, repayments=[engine.RepaymentEvent(10, D(2026, 2, 1), quote)])
    assert paid.is_settled()
    after = targets(paid, D(2026, 2, 10))
    assert (after[acc.SUPPORT_RECEIVABLE], after[acc.ACCRUED_INTEREST]) == (402_411, 0)
    assert after[acc.INTEREST_INCOME] == -402_411
