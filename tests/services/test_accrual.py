"""Accrued interest (lãi dự thu), doubtful accrued interest and provision release, with
figures worked out by hand (Circular 52/2022 Art. 5–6 as read in
docs/rules.md#income-recognition).

The loan of the main scenario: 600.000.000 đ at 7,2 %/year, 12 months, principal at
maturity (bullet), interest every 3 months, disbursed 15/01/2026. One day of interest is
600.000.000 × 7,2 % / 365 = 43.200.000 / 365 = 118.356,164… đ.

  accrual at 31/01 (posted by the close of 01/02): [15/01, 01/02) 17 days
      43.200.000 × 17 / 365 = 2.012.054,79 → 2.012.055
  accrual at 28/02: [01/02, 01/03) 28 days = 3.313.972,60 → 3.313.973
  accrual at 31/03: [01/03, 01/04) 31 days = 3.669.041,10 → 3.669.041
      accrued by 31/03: 2.012.055 + 3.313.973 + 3.669.041 = 8.995.069
  instalment 1, due 15/04: [15/01, 15/04) 90 days = 10.652.054,79 → 10.652.055
      billed at the close of 16/04; the accrual of 8.995.069 is reversed in that entry, so
      the interest income of the period is 10.652.055 exactly (April: 1.656.986 = 14 days)
  accrual at 30/04 for instalment 2: [15/04, 01/05) 16 days = 1.893.698,63 → 1.893.699
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from fundapp.domain.accrual import AccrualRow, accrued, month_pieces
from fundapp.extensions import db
from fundapp.ledger import accounts as acc
from fundapp.ledger.models import JournalEntry
from fundapp.ledger.services import balances, check_invariants
from fundapp.repayments import services as rs
from fundapp.reports import fund_balance
from fundapp.servicing import accrual
from fundapp.servicing.close_day import run_close_day, run_pending
from tests.services.lending_helpers import contracted_loan, disburse, fund_and_staff

RATE = Decimal("7.2")
AMOUNT = 600_000_000
JAN, FEB, MAR = 2_012_055, 3_313_973, 3_669_041
BILLED = 10_652_055


def quarterly_loan(staff, disbursed: date, on: date):
    loan = contracted_loan(
        staff,
        amount=AMOUNT,
        on=on,
        annual_rate="7.2",
        principal_method="bullet",
        principal_every_months=12,
        interest_every_months=3,
    )
    disburse(staff, loan, AMOUNT, disbursed)
    return loan


@pytest.fixture
def setup(app):
    staff = fund_and_staff()
    loan = quarterly_loan(staff, date(2026, 1, 15), date(2026, 1, 5))
    run_close_day(date(2026, 1, 16), "cli")
    db.session.commit()
    return staff, loan


def close(until: date) -> None:
    run_pending(until, "cli")


def ok() -> None:
    result = check_invariants()
    assert result.ok, result.problems


# --- pure arithmetic ----------------------------------------------------------------


def test_month_pieces_of_the_first_quarter_by_hand():
    events = [(date(2026, 1, 15), AMOUNT)]
    pieces = month_pieces(RATE, events, date(2026, 1, 15), date(2026, 4, 15))
    assert pieces == [
        (date(2026, 1, 31), JAN),
        (date(2026, 2, 28), FEB),
        (date(2026, 3, 31), MAR),
        # [01/04, 15/04) 14 days = 1.656.986,30 → 1.656.986
        (date(2026, 4, 30), 1_656_986),
    ]


@pytest.mark.parametrize(
    ("billed_before", "horizon", "expected"),
    [
        (date(2026, 1, 31), date(2026, 2, 1), JAN),
        (date(2026, 2, 28), date(2026, 3, 1), JAN + FEB),
        (date(2026, 3, 31), date(2026, 4, 1), JAN + FEB + MAR),
        # a report date: through the end of 20/02 = Jan + [01/02, 21/02) 20 days
        # 43.200.000 × 20 / 365 = 2.367.123,29 → 2.367.123
        (date(2026, 2, 20), date(2026, 2, 21), JAN + 2_367_123),
        # the row due 15/04 is billed by the close of 16/04: the next row from 15/04
        (date(2026, 4, 16), date(2026, 4, 1), 0),
        (date(2026, 4, 30), date(2026, 5, 1), 1_893_699),
    ],
)
def test_accrued_interest_table(billed_before, horizon, expected):
    rows = [
        AccrualRow(date(2026, 4, 15), date(2026, 1, 15), 0, BILLED, 0),
        AccrualRow(date(2026, 7, 15), date(2026, 4, 15), 0, 10_888_767, 0),
    ]
    tranches = [(date(2026, 1, 15), AMOUNT)]
    assert accrued(RATE, rows, tranches, [], billed_before, horizon) == expected


def test_a_row_paid_before_its_due_date_has_nothing_left_to_accrue():
    rows = [AccrualRow(date(2026, 4, 15), date(2026, 1, 15), 0, BILLED, BILLED)]
    tranches = [(date(2026, 1, 15), AMOUNT)]
    assert accrued(RATE, rows, tranches, [], date(2026, 4, 15), date(2026, 4, 1)) == 0


@given(
    amount=st.integers(1, 10**12),
    rate=st.decimals("0.1", "20", places=2),
    start=st.dates(date(2024, 1, 1), date(2027, 12, 1)),
    days=st.integers(1, 400),
)
def test_month_pieces_add_up_to_the_span_within_a_dong_per_month(amount, rate, start, days):
    from datetime import timedelta

    from fundapp.domain.money import interest_exact

    end = start + timedelta(days=days)
    pieces = month_pieces(rate, [(start, amount)], start, end)
    exact = interest_exact(amount, rate, days)
    # each piece is rounded once, so the sum is within half a đồng per piece of the exact
    assert abs(sum(a for _d, a in pieces) - exact) <= Decimal(len(pieces)) / 2
    assert all(a >= 0 and isinstance(a, int) for _d, a in pieces)
    assert [d for d, _a in pieces] == sorted({d for d, _a in pieces})


# --- the close of day -------------------------------------------------------------


def test_each_month_end_posts_its_accrual_dated_the_month_end(setup):
    close(date(2026, 2, 1))
    bal = balances(date(2026, 1, 31))
    assert bal[acc.ACCRUED_INTEREST] == JAN
    assert bal[acc.INTEREST_INCOME] == JAN
    close(date(2026, 3, 1))
    assert balances(date(2026, 2, 28))[acc.ACCRUED_INTEREST] == JAN + FEB
    close(date(2026, 4, 1))
    bal = balances(date(2026, 3, 31))
    assert bal[acc.ACCRUED_INTEREST] == JAN + FEB + MAR == 8_995_069
    assert bal[acc.INTEREST_INCOME] == 8_995_069
    entries = db.session.query(JournalEntry).filter_by(kind="accrual").all()
    assert sorted((e.entry_date, e.total) for e in entries) == [
        (date(2026, 1, 31), JAN),
        (date(2026, 2, 28), FEB),
        (date(2026, 3, 31), MAR),
    ]
    ok()


def test_running_a_month_start_twice_posts_nothing_the_second_time(setup):
    close(date(2026, 2, 1))
    assert run_close_day(date(2026, 2, 1), "cli").reason == "already_done"
    # and the step itself finds nothing left to post
    assert accrual.month_end(date(2026, 2, 1))["accrual_loans"] == 0
    assert db.session.query(JournalEntry).filter_by(kind="accrual").count() == 1
    ok()


def test_the_billing_reverses_the_accrual_so_income_is_the_billed_interest(setup):
    close(date(2026, 4, 16))
    bal = balances()
    assert bal[acc.ACCRUED_INTEREST] == 0
    assert bal[acc.INTEREST_RECEIVABLE] - bal[acc.OVERDUE_INTEREST_INCOME] == BILLED
    assert bal[acc.INTEREST_INCOME] == BILLED
    # the close of 16/04 reverses 8.995.069 and bills 10.652.055 in one entry
    entry = (
        db.session.query(JournalEntry)
        .filter_by(kind="close_day", entry_date=date(2026, 4, 16))
        .one()
    )
    lines = {(line.account, line.debit, line.credit) for line in entry.lines}
    assert (acc.ACCRUED_INTEREST, 0, 8_995_069) in lines
    assert (acc.INTEREST_RECEIVABLE, BILLED + 2_918, 0) in lines  # + 1 day on 10 %/year
    # income of April so far: 10.652.055 − 8.995.069 = 1.656.986 (01/04–14/04)
    april = (
        balances(date(2026, 4, 16))[acc.INTEREST_INCOME]
        - balances(date(2026, 3, 31))[acc.INTEREST_INCOME]
    )
    assert april == 1_656_986
    # Unpaid, the loan is in group 2 from 25/04 (10 days): April's 16 days of instalment 2
    # (1.893.699) are accrued off-balance, with the suspended interest.
    close(date(2026, 5, 1))
    assert balances(date(2026, 4, 30))[acc.ACCRUED_INTEREST] == 0
    entry = (
        db.session.query(JournalEntry).filter_by(kind="accrual", entry_date=date(2026, 4, 30)).one()
    )
    assert {(line.account, line.debit, line.credit) for line in entry.lines} == {
        (acc.SUSPENDED_INTEREST_MEMO, 1_893_699, 0),
        (acc.MEMO_CONTRA, 0, 1_893_699),
    }
    ok()


def test_paying_the_instalment_on_its_due_date_reverses_the_accrual(setup):
    staff, loan = setup
    close(date(2026, 4, 15))
    rs.record_repayment(
        staff.accountant,
        loan.id,
        {"amount": BILLED, "date": "2026-04-15", "reference": "UNC-1"},
        date(2026, 4, 15),
    )
    db.session.commit()
    bal = balances()
    assert bal[acc.ACCRUED_INTEREST] == 0 and bal[acc.INTEREST_RECEIVABLE] == 0
    assert bal[acc.INTEREST_INCOME] == BILLED
    close(date(2026, 5, 1))
    assert balances()[acc.ACCRUED_INTEREST] == 1_893_699
    assert balances()[acc.INTEREST_INCOME] == BILLED + 1_893_699
    ok()


def test_fund_balance_report_between_billing_dates_shows_the_accrued_interest(setup):
    close(date(2026, 2, 20))
    report = fund_balance.build(date(2026, 2, 20))
    a = report.accrued_to_date
    # posted at 31/01: 2.012.055; through the end of 20/02: + 20 days 2.367.123
    assert (a.computed, a.posted, a.not_posted) == (JAN + 2_367_123, JAN, 2_367_123)
    assert report.uses.accrued_interest == JAN
    assert report.sources.total == report.uses.total
    keys = [t.key for t in fund_balance.tables(report)]
    assert keys[-1] == "accrued_interest"
    ok()


# --- doubtful accrued interest ------------------------------------------------------


def test_leaving_group_one_in_the_same_year_reverses_against_income(setup):
    # Instalment 1 unpaid: billed at the close of 16/04, group 2 at 10 days (25/04).
    close(date(2026, 4, 25))
    bal = balances()
    assert bal[acc.INTEREST_RECEIVABLE] == bal[acc.ACCRUED_INTEREST] == 0
    assert bal[acc.INTEREST_INCOME] == 0 and bal[acc.OVERDUE_INTEREST_INCOME] == 0
    assert bal[acc.DOUBTFUL_INTEREST_EXPENSE] == 0
    # off-balance: billed 10.652.055 + overdue interest [15/04, 25/04) 10 days on it at
    # 10 %/year: 10.652.055 × 10 % × 10 / 365 = 29.183,71 → 29.184
    assert bal[acc.SUSPENDED_INTEREST_MEMO] == BILLED + 29_184
    ok()


def test_leaving_group_one_the_next_year_charges_the_earlier_years_income_to_expense(app):
    """Disbursed 15/10/2026; accruals of 2026 (income of 2026):
    31/10 [15/10, 01/11) 17 days 2.012.055; 30/11 30 days 1.296.000.000/365 = 3.550.684,93
    → 3.550.685; 31/12 31 days 3.669.041; total 9.231.781.
    Instalment 1 due 15/01/2027: [15/10/2026, 15/01/2027) 92 days = 10.888.767,12 →
    10.888.767, billed at the close of 16/01/2027 (accrual reversed against 2027 income).
    Group 2 at the close of 25/01/2027 (10 days): receivable 10.888.767 + overdue interest
    10.888.767 × 10 % × 10 / 365 = 29.832,24 → 29.832. Of it 9.231.781 was income of 2026:
    Dr 8091 9.231.781; the 2027 part 1.656.986 (+ 29.832 overdue interest) against income."""
    staff = fund_and_staff()
    quarterly_loan(staff, date(2026, 10, 15), date(2026, 10, 5))
    run_close_day(date(2026, 10, 16), "cli")
    db.session.commit()
    close(date(2027, 1, 1))
    assert balances(date(2026, 12, 31))[acc.ACCRUED_INTEREST] == 9_231_781
    assert balances(date(2026, 12, 31))[acc.INTEREST_INCOME] == 9_231_781
    close(date(2027, 1, 25))
    bal = balances()
    assert bal[acc.DOUBTFUL_INTEREST_EXPENSE] == 9_231_781
    assert bal[acc.INTEREST_RECEIVABLE] == bal[acc.ACCRUED_INTEREST] == 0
    assert bal[acc.INTEREST_INCOME] == 9_231_781  # 2026's income stays 2026's
    assert bal[acc.OVERDUE_INTEREST_INCOME] == 0
    assert bal[acc.SUSPENDED_INTEREST_MEMO] == 10_888_767 + 29_832
    # 2027: −9.231.781 (reversal) + 10.888.767 (billing) − 1.656.986 = 0
    year_2027 = bal[acc.INTEREST_INCOME] - balances(date(2026, 12, 31))[acc.INTEREST_INCOME]
    assert year_2027 == 0
    ok()


# --- provision release --------------------------------------------------------------


def test_a_lower_required_provision_is_released_as_income(app):
    """120.000.000 đ at 6 %, monthly: general provision 0,75 % = 900.000 at the first run.
    A prepayment of 40.000.000 on 20/01 leaves 80.000.000: 0,75 % = 600.000, so the close
    of 21/01 releases 300.000: Dr provision / Cr 7901 (not a credit to the expense)."""
    staff = fund_and_staff()
    loan = contracted_loan(staff)
    disburse(staff, loan, 120_000_000, date(2026, 1, 15))
    run_close_day(date(2026, 1, 20), "cli")
    db.session.commit()
    assert balances()[acc.PROVISION_EXPENSE] == 900_000
    rs.record_repayment(
        staff.accountant,
        loan.id,
        {"amount": 40_000_000, "date": "2026-01-20", "reference": "UNC-2"},
        date(2026, 1, 20),
    )
    db.session.commit()
    close(date(2026, 1, 21))
    bal = balances()
    assert bal[acc.PROVISION] == 600_000
    assert bal[acc.PROVISION_EXPENSE] == 900_000
    assert bal[acc.PROVISION_RELEASE_INCOME] == 300_000
    report = fund_balance.build(date(2026, 1, 21))
    assert report.sources.total == report.uses.total
    ok()


def test_the_report_of_the_small_fund_carries_the_accrued_interest_in_every_format(app, client):
    """``tests/reports/scenario.py`` as of 25/02/2026: loan B (group 1) paid instalment 1 on
    20/02, leaving 287.500.000; instalment 2 runs from 20/02. Through the end of 25/02:
    [20/02, 26/02) 6 days × 287.500.000 × 6 % / 365 = 283.561,64 → 283.562, none posted yet
    (the next month end is 28/02). Loan A is in group 2: nothing accrued on-balance."""
    from tests.conftest import api_token, login, make_user
    from tests.reports.outputs import money, pdf_text, sheet_rows, workbook
    from tests.reports.scenario import AS_OF, small_fund

    small_fund()
    report = fund_balance.build(AS_OF)
    a = report.accrued_to_date
    assert (a.computed, a.posted, a.not_posted) == (283_562, 0, 283_562)
    assert report.sources.total == report.uses.total

    headers = api_token(client, make_user("director"))
    data = client.get("/api/v1/reports/fund-balance?as_of=2026-02-25", headers=headers).get_json()
    assert data["accrued_to_date"] == {"computed": 283_562, "posted": 0, "not_posted": 283_562}
    assert data["uses"]["accrued_interest"] == 0
    xlsx = client.get("/api/v1/reports/fund-balance.xlsx?as_of=2026-02-25", headers=headers)
    rows = sheet_rows(workbook(xlsx.data)["Lãi dự thu"])
    assert rows["Lãi dự thu tính đến hết ngày báo cáo"] == [283_562]
    assert rows["Chưa hạch toán (từ cuối tháng trước đến ngày báo cáo)"] == [283_562]
    pdf = client.get("/api/v1/reports/fund-balance.pdf?as_of=2026-02-25", headers=headers)
    text = pdf_text(pdf.data)
    assert "Lãi dự thu tính đến hết ngày báo cáo" in text and money(283_562) in text
    login(client, make_user("accountant"))
    html = client.get("/reports/fund-balance?as_of=2026-02-25").get_data(as_text=True)
    assert "Lãi dự thu tính đến hết ngày báo cáo" in html and "283.562 đ" in html


def test_an_instalment_due_on_a_month_end_is_accrued_in_full_then_billed_next_day(app):
    """Disbursed 31/01/2026, interest every 3 months: instalment 1 due 30/04 (clamped),
    [31/01, 30/04) 89 days = 43.200.000 × 89 / 365 = 10.533.698,63 → 10.533.699.
    Month pieces: 31/01 1 day 118.356,16 → 118.356; February 3.313.973; March 3.669.041;
    April [01/04, 30/04) 29 days 3.432.328,77 → 3.432.329; sum 10.533.699. Instalment 2
    starts on 30/04, so April also holds its first day: 118.356.
    The close of 01/05 posts April (dated 30/04) before it bills instalment 1 (dated 01/05)
    and reverses its 10.533.699 of accrual in that entry."""
    staff = fund_and_staff()
    quarterly_loan(staff, date(2026, 1, 31), date(2026, 1, 20))
    run_close_day(date(2026, 2, 1), "cli")
    db.session.commit()
    assert balances(date(2026, 1, 31))[acc.ACCRUED_INTEREST] == 118_356
    close(date(2026, 5, 1))
    april = balances(date(2026, 4, 30))
    assert april[acc.ACCRUED_INTEREST] == 10_533_699 + 118_356
    assert april[acc.INTEREST_INCOME] == 10_533_699 + 118_356
    may = balances(date(2026, 5, 1))
    assert may[acc.ACCRUED_INTEREST] == 118_356
    assert may[acc.INTEREST_INCOME] == 10_533_699 + 118_356  # nothing counted twice
    # billed + 1 day of overdue interest: 10.533.699 × 10 % / 365 = 2.885,94 → 2.886
    assert may[acc.INTEREST_RECEIVABLE] == 10_533_699 + 2_886
    ok()


# --- many loans from the stored schedule: only the rows that matter are read -----------


def test_a_report_on_a_past_date_ignores_a_later_repayment(setup):
    """Instalment 1 ([15/01, 15/04), 10.652.055) paid on its due date. A report through the
    end of 14/04 still holds all of it (the payment came later); one through 15/04 holds
    only instalment 2's first day, 118.356 (600.000.000 × 7,2 % / 365)."""
    staff, loan = setup
    close(date(2026, 4, 15))
    rs.record_repayment(
        staff.accountant, loan.id, {"amount": BILLED, "date": "2026-04-15"}, date(2026, 4, 15)
    )
    db.session.commit()
    day, next_day = date(2026, 4, 14), date(2026, 4, 15)
    assert accrual.accrued_of_loans([loan.id], day, next_day, paid_until=day) == {loan.id: BILLED}
    assert accrual.accrued_to_date(day).computed == BILLED
    assert accrual.accrued_to_date(next_day).computed == 118_356
    # the stored paid amounts, as the close of day reads them
    assert accrual.accrued_of_loans([loan.id], day, next_day) == {loan.id: 0}


def _as_first_read(state, billed_before: date, horizon: date, paid_until: date | None) -> int:
    """:func:`accrued` of the replayed loan with EVERY row, paid as its repayments'
    allocations say up to ``paid_until`` (None: paid or waived on the row)."""
    from fundapp.domain.accrual import accrued_of_state

    if paid_until is None:
        return accrued_of_state(state, billed_before, horizon)
    paid: dict[int, int] = {}
    for result in state.repayments.values():
        for line in result.allocations:
            if line.component == "interest" and result.date <= paid_until:
                paid[line.no] = paid.get(line.no, 0) + line.amount
    rows = [
        AccrualRow(
            r.due_date, r.plan.interest_from, r.plan.principal, r.plan.interest, paid.get(r.no, 0)
        )
        for r in state.rows
    ]
    return accrued(
        state.product.terms.annual_rate,
        rows,
        [(t.date, t.amount) for t in state.tranches],
        [(p.date, p.amount) for p in state.prepayments],
        billed_before,
        horizon,
    )


def test_accrual_of_many_loans_reads_every_row_that_matters(app):
    """Principal every month, interest every 3 months (principal rows due inside an
    interest span), a second tranche mid-span, payments on due dates and one late, an
    interest relief, a prepayment: on every day, the accrual from the stored rows equals
    the one from all the replayed rows, for a report on that day (payments up to it) and
    for the close of day (stored payments, to the day or to the month start)."""
    from datetime import timedelta

    from fundapp.domain.accrual import month_start
    from fundapp.loans import store
    from fundapp.servicing import relief as rl

    staff = fund_and_staff()
    loan = contracted_loan(
        staff,
        amount=600_000_000,
        on=date(2026, 1, 5),
        annual_rate="7.2",
        principal_every_months=1,
        interest_every_months=3,
    )
    disburse(staff, loan, 400_000_000, date(2026, 1, 15))
    run_close_day(date(2026, 1, 16), "cli")
    db.session.commit()
    disburse(staff, loan, 200_000_000, date(2026, 2, 25))

    def pay(day: date, amount: int | None = None):
        close(day)
        due = store.replay(loan).balances(day).total_due
        data = {"amount": amount or due, "date": day.isoformat()}
        repayment = rs.record_repayment(staff.accountant, loan.id, data, day)
        db.session.commit()
        return repayment

    pay(date(2026, 2, 15))
    pay(date(2026, 3, 15))
    mistake = pay(date(2026, 3, 20), 50_000_000)  # a prepayment, then reversed
    reversal = rs.request_reversal(staff.accountant, mistake.id, "Nhầm khoản vay")
    rs.decide_reversal(staff.director, reversal.id, True, date(2026, 3, 20))
    db.session.commit()
    close(date(2026, 4, 20))  # instalment of 15/04 late: part of its interest waived
    relief = rl.request_relief(
        staff.officer,
        loan.id,
        {
            "kind": "reduction",
            "reason_code": "unable_to_pay",
            "interest": 1_000_000,
            "reason": "Thiên tai làm mất mùa vải thiều",
            "evidence": "Biên bản xác nhận thiệt hại của UBND xã ngày 18/04/2026",
        },
        date(2026, 4, 20),
    )
    rl.decide_relief(staff.director, relief.id, True, "Đồng ý giảm", date(2026, 4, 20))
    db.session.commit()
    pay(date(2026, 4, 22))
    pay(date(2026, 5, 15))
    pay(date(2026, 5, 28), 100_000_000)  # nothing due: prepays principal
    pay(date(2026, 6, 15))
    assert any(p.amount for p in store.replay(loan).prepayments)
    state = store.replay(loan)
    day = date(2026, 1, 14)
    while day < date(2026, 8, 5):
        after = day + timedelta(days=1)
        for billed_before, horizon, paid_until in (
            (day, after, day),
            (day, after, None),
            (day, month_start(day), None),
        ):
            got = accrual.accrued_of_loans([loan.id], billed_before, horizon, paid_until)
            want = _as_first_read(state, billed_before, horizon, paid_until)
            assert got == {loan.id: want}, (billed_before, horizon, paid_until)
        day = after
