"""Close of day with frozen dates and figures checked by hand (docs/rules.md#close-of-day).

The loan of every scenario: 120.000.000 đ at 6 %/year over 12 months, equal principal
monthly, disbursed 15/01/2026. Instalment 1 falls due 15/02/2026: principal 10.000.000,
interest 120.000.000 × 6 % × 31/365 = 611.506,85 → 611.507.

2026 is under Circular 14/2024/TT-NHNN (groups from 10, 30, 90, 180 days past due; any first
restructuring group 2) and the provision rates of Decree 86/2024/NĐ-CP (0 / 2 / 25 / 50 /
100 %); a 12-month loan is short-term and waits one month on time before an upgrade. These
figures changed with issue 15 (they were those of Circular 11/2021: 5 / 20 % rates, group 3
from 91 days, immediate return to group 1).
"""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from sqlalchemy import select

from fundapp.domain.errors import DomainError
from fundapp.extensions import db
from fundapp.ledger import accounts as acc
from fundapp.ledger.services import balances, check_invariants
from fundapp.lending import collateral, restructuring
from fundapp.loans import store
from fundapp.loans.days import CloseDayRun, DebtGroupHistory, Notice
from fundapp.loans.models import Instalment, Loan
from fundapp.repayments import services as rs
from fundapp.servicing.close_day import run_close_day, run_pending
from tests.conftest import make_cooperative
from tests.jobs.helpers import close, day_of
from tests.services.lending_helpers import contracted_loan, disburse, fund_and_staff

DUE = date(2026, 2, 15)


@pytest.fixture
def setup(app):
    staff = fund_and_staff()
    loan = contracted_loan(staff)
    disburse(staff, loan, 120_000_000, date(2026, 1, 15))
    return staff, loan


def test_on_its_due_date_an_instalment_is_not_yet_overdue(setup):
    _staff, loan = setup
    close(DUE, start=DUE)
    assert balances()[acc.LOANS_OVERDUE] == 0
    assert day_of(loan).days_past_due == 0
    assert check_invariants().ok


def test_the_day_after_it_moves_to_overdue_with_billing_accrual_and_notice(setup):
    _staff, loan = setup
    close(DUE + timedelta(days=1), start=DUE)
    bal = balances()
    assert bal[acc.LOANS_OVERDUE] == 10_000_000
    assert bal[acc.LOANS_IN_TERM] == 110_000_000
    # Penalty over [15/02, 16/02): 10.000.000 × 9 % / 365 = 2.465,75
    #                             + 611.507 × 10 % / 365 = 167,54  → 2.633,29 → 2.633
    assert bal[acc.INTEREST_RECEIVABLE] == 611_507 + 2_633
    assert bal[acc.INTEREST_INCOME] == 611_507
    assert bal[acc.OVERDUE_INTEREST_INCOME] == 2_633
    assert day_of(loan).days_past_due == 1 and day_of(loan).debt_group == 1
    notices = db.session.query(Notice).filter_by(kind="overdue_transfer").all()
    assert {n.recipient_key for n in notices} == {
        f"coop:{loan.cooperative_id}",
        f"user:{loan.officer_id}",
    }
    assert notices[0].data["overdue_principal"] == 10_000_000
    assert notices[0].data["overdue_rate"] == "9"
    result = check_invariants()
    assert result.ok, result.problems


def test_ten_days_late_group_two_moves_interest_off_balance(setup):
    _staff, loan = setup
    close(DUE + timedelta(days=9), start=DUE)
    assert day_of(loan).debt_group == 1
    close(DUE + timedelta(days=10))
    record = day_of(loan)
    assert (record.days_past_due, record.debt_group) == (10, 2)
    # 10 days: 24.657,53 + 1.675,36 = 26.332,90 → 26.333
    assert record.penalty_accrued == 26_333
    bal = balances()
    assert bal[acc.INTEREST_RECEIVABLE] == 0
    assert bal[acc.INTEREST_INCOME] == 0 and bal[acc.OVERDUE_INTEREST_INCOME] == 0
    assert bal[acc.SUSPENDED_INTEREST_MEMO] == 611_507 + 26_333
    # Provisions: specific 2 % × 120.000.000 = 2.400.000; general 0,75 % × 120.000.000
    assert bal[acc.PROVISION] == 2_400_000 + 900_000
    history = db.session.query(DebtGroupHistory).filter_by(kind="loan", ref_id=loan.id).all()
    assert [(h.debt_group, h.previous_group) for h in history] == [(1, None), (2, 1)]
    assert db.session.query(Notice).filter_by(kind="group_change").count() == 2
    result = check_invariants()
    assert result.ok, result.problems


def test_a_late_payment_settles_penalty_interest_principal_and_stops_the_accrual(setup):
    staff, loan = setup
    close(DUE + timedelta(days=10), start=DUE)
    # Paid on 25/02: penalty 26.333 + interest 611.507 + principal 10.000.000
    repayment = rs.record_repayment(
        staff.accountant, loan.id, {"amount": 10_637_840, "date": "2026-02-25"}, date(2026, 2, 25)
    )
    db.session.commit()
    assert repayment.allocations == [
        {"no": 1, "component": "penalty", "amount": 26_333},
        {"no": 1, "component": "interest", "amount": 611_507},
        {"no": 1, "component": "principal", "amount": 10_000_000},
    ]
    close(DUE + timedelta(days=20))
    record = day_of(loan)
    # Cleared, but the upgrade waits a month on time (first found clear on 26/02).
    assert (record.days_past_due, record.debt_group, record.penalty_accrued) == (0, 2, 0)
    assert record.cured_on == date(2026, 2, 26)
    bal = balances()
    # Still group 2, so February's accrued interest of instalment 2 is held off-balance
    # (servicing.accrual, at the close of 01/03): [15/02, 01/03) 14 days on 110.000.000 at
    # 6 %: 110.000.000 × 6 % × 14 / 365 = 253.150,68 → 253.151.
    assert bal[acc.LOANS_OVERDUE] == 0 and bal[acc.SUSPENDED_INTEREST_MEMO] == 253_151
    assert bal[acc.INTEREST_INCOME] == 611_507 and bal[acc.OVERDUE_INTEREST_INCOME] == 26_333
    # Specific 2 % × 110.000.000 = 2.200.000; general 0,75 % × 110.000.000 = 825.000.
    assert bal[acc.PROVISION] == 2_200_000 + 825_000
    result = check_invariants()
    assert result.ok, result.problems


@pytest.mark.parametrize(
    ("days", "group"),
    [(9, 1), (10, 2), (29, 2), (30, 3), (89, 3), (90, 4), (179, 4), (180, 5)],
)
def test_group_boundaries(setup, days, group):
    _staff, loan = setup
    close(DUE + timedelta(days=days), start=DUE + timedelta(days=days))
    assert day_of(loan).days_past_due == days
    assert day_of(loan).debt_group == group


def test_a_restructured_loan_takes_its_floor(setup):
    staff, loan = setup
    request = restructuring.request_restructuring(
        staff.officer,
        loan.id,
        {
            "kind": "extension",
            "effective_date": "2026-02-01",
            "new_maturity": "2027-07-15",
            "reason": "Mất mùa",
        },
        date(2026, 2, 1),
    )
    restructuring.decide_restructuring(staff.director, request.id, True, "", date(2026, 2, 1))
    db.session.commit()
    close(date(2026, 2, 2), start=date(2026, 2, 2))
    record = day_of(loan)
    # Circular 14/2024: any first restructuring is group 2 (an extension was 3 before).
    assert (record.days_past_due, record.group_by_days, record.debt_group) == (0, 2, 2)


def test_a_borrower_with_two_loans_takes_the_worst_group(setup):
    staff, late = setup
    current = contracted_loan(staff, amount=60_000_000, cooperative=late.cooperative)
    disburse(staff, current, 60_000_000, date(2026, 2, 10))
    close(DUE + timedelta(days=15), start=DUE + timedelta(days=15))
    assert day_of(late).group_by_days == 2
    assert day_of(current).group_by_days == 1
    assert day_of(current).debt_group == day_of(late).debt_group == 2
    assert db.session.get(Loan, current.id).debt_group == 2


def pay_on_time(staff, loan: Loan, no: int) -> None:
    """Pay instalment ``no`` in full on its due date."""

    inst = db.session.query(Instalment).filter_by(loan_id=loan.id, no=no).one()
    rs.record_repayment(
        staff.accountant,
        loan.id,
        {"amount": inst.principal + inst.interest, "date": inst.due_date.isoformat()},
        inst.due_date,
    )
    db.session.commit()


def test_the_other_loan_follows_its_borrower_back_to_group_one(setup):
    staff, late = setup
    current = contracted_loan(staff, amount=60_000_000, cooperative=late.cooperative)
    disburse(staff, current, 60_000_000, date(2026, 2, 10))
    close(DUE + timedelta(days=10), start=DUE)
    assert day_of(current).debt_group == day_of(late).debt_group == 2
    # 25/02, 10 days late: penalty 26.333 + interest 611.507 + principal 10.000.000.
    rs.record_repayment(
        staff.accountant, late.id, {"amount": 10_637_840, "date": "2026-02-25"}, date(2026, 2, 25)
    )
    db.session.commit()
    close(DUE + timedelta(days=12))
    # Cleared on 25/02, first found clear on 26/02: both wait in group 2 until 26/03.
    assert day_of(late).debt_group == day_of(current).debt_group == 2
    assert day_of(late).cured_on == date(2026, 2, 26)
    pay_on_time(staff, current, 1)  # 10/03
    pay_on_time(staff, late, 2)  # 15/03
    close(date(2026, 3, 25))
    assert day_of(late).debt_group == day_of(current).debt_group == 2
    close(date(2026, 3, 26))
    assert day_of(late).debt_group == day_of(current).debt_group == 1
    assert day_of(late).cured_on is None
    assert db.session.get(Loan, current.id).debt_group == 1
    # General provision only: 0,75 % × (100.000.000 + 55.000.000) = 1.162.500.
    assert balances()[acc.PROVISION] == 1_162_500
    result = check_invariants()
    assert result.ok, result.problems


def test_collateral_added_to_a_loan_in_arrears_lowers_its_provision_next_run(setup):
    staff, loan = setup
    close(DUE + timedelta(days=100), start=DUE + timedelta(days=100))
    # 100 days: group 4 (90–< 180), 50 % × 120.000.000 = 60.000.000
    assert day_of(loan).specific_provision == 60_000_000
    collateral.add_collateral(
        staff.officer,
        loan,
        {"kind": "Quyền sử dụng đất", "valuation": 100_000_000, "discount_factor": "0.5"},
    )
    db.session.commit()
    close(DUE + timedelta(days=101))
    # 50 % × (120.000.000 − 50.000.000) = 35.000.000
    assert day_of(loan).specific_provision == 35_000_000


def test_provision_uses_the_rate_and_the_discounted_collateral(setup):
    staff, loan = setup
    collateral.add_collateral(
        staff.officer,
        loan,
        {"kind": "Quyền sử dụng đất", "valuation": 100_000_000, "discount_factor": "0.5"},
    )
    db.session.commit()
    close(DUE + timedelta(days=100), start=DUE + timedelta(days=100))
    record = day_of(loan)
    assert record.debt_group == 4
    # Group 4: 50 % × (120.000.000 − 100.000.000 × 0,5) = 35.000.000
    assert record.specific_provision == 35_000_000
    assert balances()[acc.PROVISION] == 35_000_000 + 900_000


def test_provisions_post_rounded_half_up_to_the_dong(app):
    staff = fund_and_staff()
    loan = contracted_loan(staff, amount=1_141_072_492)
    disburse(staff, loan, 1_141_072_492, date(2026, 1, 15))
    close(DUE, start=DUE)
    # General provision, group 1: 0,75 % × 1.141.072.492 = 8.558.043,69 → 8.558.044.
    assert day_of(loan).specific_provision == 0
    assert balances()[acc.PROVISION] == 8_558_044
    collateral.add_collateral(
        staff.officer,
        loan,
        {"kind": "Quyền sử dụng đất", "valuation": 99_999_998, "discount_factor": "0.5"},
    )
    db.session.commit()
    close(DUE + timedelta(days=100))
    assert day_of(loan).debt_group == 4
    # Group 4: 50 % × (1.141.072.492 − 99.999.998 × 0,5) = 50 % × 1.091.072.493
    #        = 545.536.246,5 → 545.536.247; the general one is unchanged (groups 1–4).
    assert day_of(loan).specific_provision == 545_536_247
    assert balances()[acc.PROVISION] == 545_536_247 + 8_558_044
    result = check_invariants()
    assert result.ok, result.problems


def test_running_a_date_twice_changes_nothing(setup):
    _staff, _loan = setup
    close(DUE + timedelta(days=3), start=DUE)
    before = (db.session.query(CloseDayRun).count(), balances(), db.session.query(Notice).count())
    again = run_close_day(DUE + timedelta(days=3), "cli")
    db.session.commit()
    assert not again.ran and again.reason == "already_done"
    assert (
        db.session.query(CloseDayRun).count(),
        balances(),
        db.session.query(Notice).count(),
    ) == before


def test_catch_up_runs_every_missed_date_in_order(setup):
    close(DUE, start=DUE)
    results = run_pending(DUE + timedelta(days=5), "cli")
    assert [r.business_date for r in results] == [DUE + timedelta(days=n) for n in range(1, 6)]
    runs = db.session.query(CloseDayRun).order_by(CloseDayRun.id).all()
    assert [r.business_date for r in runs] == [DUE + timedelta(days=n) for n in range(6)]


def test_gaps_and_earlier_dates_are_refused(setup):
    close(DUE, start=DUE)
    with pytest.raises(DomainError, match="chạy bù"):
        run_close_day(DUE + timedelta(days=3), "cli")
    with pytest.raises(DomainError, match="trước ngày đã khóa sổ"):
        run_close_day(DUE - timedelta(days=3), "cli")


def test_a_cooperative_without_arrears_is_not_touched(setup):
    staff, _loan = setup
    other = contracted_loan(staff, amount=60_000_000, cooperative=make_cooperative())
    disburse(staff, other, 60_000_000, date(2026, 2, 10))
    close(DUE, start=DUE)
    result = run_pending(DUE + timedelta(days=1), "cli")[0]
    # The late loan is examined, the current one (never late, group 1, classified) is not.
    assert result.counts["loans_examined"] == 1


def test_a_catch_up_counts_a_payment_from_its_value_date_not_from_its_recording(setup):
    """Closed up to 16/02; the runs of 17–20/02 missed; on 20/02 a payment dated 18/02
    is recorded, then the missed dates are run. Instalment 1 (10.000.000 principal,
    611.507 interest, due 15/02) owed its whole principal on 15–17/02 and half of it on
    18–19/02, so by 20/02:
    principal × days 10.000.000 × 3 + 5.000.000 × 2 = 40.000.000, interest × days
    611.507 × 3 = 1.834.521, overdue interest (40.000.000 × 9 % + 1.834.521 × 10 %) / 365
    = 10.365,62 → 10.366. Advancing from what is paid at the time of the run would have
    counted the payment from 16/02 (30.000.000 principal × days)."""
    staff, loan = setup
    close(DUE + timedelta(days=1), start=DUE)
    # Penalty to 18/02, 3 days: 10.000.000 × 9 % × 3 / 365 = 7.397,26
    #                          + 611.507 × 10 % × 3 / 365 = 502,61 → 7.899,87 → 7.900.
    repayment = rs.record_repayment(
        staff.accountant,
        loan.id,
        {"amount": 7_900 + 611_507 + 5_000_000, "date": "2026-02-18"},
        date(2026, 2, 20),
    )
    db.session.commit()
    assert repayment.allocations == [
        {"no": 1, "component": "penalty", "amount": 7_900},
        {"no": 1, "component": "interest", "amount": 611_507},
        {"no": 1, "component": "principal", "amount": 5_000_000},
    ]
    close(date(2026, 2, 20))
    db.session.commit()
    first = db.session.scalars(
        select(Instalment).where(Instalment.loan_id == loan.id, Instalment.no == 1)
    ).one()
    assert (first.principal_balance_days, first.interest_balance_days) == (40_000_000, 1_834_521)
    assert first.penalty_accrued == 10_366
    assert (
        db.session.scalar(
            select(CloseDayRun.counts).where(CloseDayRun.business_date == date(2026, 2, 18))
        )["loans_restated"]
        == 1
    )
    assert (
        db.session.scalar(
            select(CloseDayRun.counts).where(CloseDayRun.business_date == date(2026, 2, 19))
        )["loans_restated"]
        == 0
    )
    assert (
        store.replay(loan).rows[0].penalty_accrued(store.product_of(loan), DUE + timedelta(5))
        == 10_366
    )
    result = check_invariants()
    assert result.ok, result.problems
