"""Two repayments on the same loan at the same moment, on real concurrent connections."""

from __future__ import annotations

import threading
from datetime import date

import pytest

from fundapp.extensions import db
from fundapp.ledger.services import check_invariants
from fundapp.loans.models import Loan, Repayment
from fundapp.repayments import services as rs
from tests.conftest import PG_URL
from tests.services.lending_helpers import contracted_loan, disburse, fund_and_staff

pytestmark = pytest.mark.skipif(not PG_URL, reason="needs PostgreSQL (make test starts one)")


def test_two_simultaneous_repayments_both_land_with_exact_balances(app):
    staff = fund_and_staff()
    loan = contracted_loan(staff)
    disburse(staff, loan, 120_000_000, date(2026, 1, 15))
    loan_id, accountant_id = loan.id, staff.accountant.id
    db.session.remove()

    barrier = threading.Barrier(2)
    errors: list[BaseException] = []

    def pay(amount: int) -> None:
        try:
            with app.app_context():
                from fundapp.auth.models import User

                accountant = db.session.get(User, accountant_id)
                barrier.wait(timeout=10)
                rs.record_repayment(
                    accountant,
                    loan_id,
                    {"amount": amount, "date": "2026-02-15"},
                    date(2026, 11, 20),
                )
                db.session.commit()
                db.session.remove()
        except BaseException as exc:
            errors.append(exc)

    # Instalment 1 is 10.000.000 + 611.507 = 10.611.507; two halves of it.
    threads = [threading.Thread(target=pay, args=(amount,)) for amount in (5_000_000, 5_611_507)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert not errors, errors

    repayments = db.session.query(Repayment).filter_by(loan_id=loan_id).all()
    assert len(repayments) == 2
    assert len({r.receipt_no for r in repayments}) == 2
    loan = db.session.get(Loan, loan_id)
    first = loan.instalments[0]
    assert (first.principal_paid, first.interest_paid) == (10_000_000, 611_507)
    assert loan.principal_outstanding == 110_000_000
    result = check_invariants()
    assert result.ok, result.problems


def test_simultaneous_first_logins_from_one_address_all_succeed_and_failures_all_count(app):
    from fundapp.auth.models import LoginThrottle
    from fundapp.auth.services import authenticate
    from tests.conftest import PASSWORD, make_user

    names = [make_user("accountant").username for _ in range(6)]
    db.session.commit()
    db.session.remove()
    barrier = threading.Barrier(len(names) * 2)
    outcomes: list[bool] = []
    errors: list[BaseException] = []

    def sign_in(username: str, password: str) -> None:
        try:
            with app.app_context():
                barrier.wait(timeout=10)
                result = authenticate(username, password, "10.0.0.7", 100, 15)
                db.session.commit()
                outcomes.append(result.user is not None)
                db.session.remove()
        except BaseException as exc:
            errors.append(exc)

    # Each user signs in twice at once from the same office address: once right, once wrong.
    threads = [
        threading.Thread(target=sign_in, args=(name, password))
        for name in names
        for password in (PASSWORD, "sai-mat-khau")
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert not errors, errors
    assert sorted(outcomes) == [False] * 6 + [True] * 6
    address = db.session.get(LoginThrottle, "ip:10.0.0.7")
    assert address.failures == 6  # no failure lost to a concurrent update


def test_a_repayment_during_the_close_of_day_waits_for_it_and_neither_fails(app, monkeypatch):
    """The close of day holds the loans still before it advances the overdue interest of
    their instalments: a repayment arriving meanwhile waits for the run's commit, then lands
    on the advanced state. (With the lock taken after that UPDATE, the repayment held the
    loan and waited for an instalment the run held, the run waited for the loan: deadlock.)"""
    from fundapp.auth.models import User
    from fundapp.servicing import close_day, overdue_accrual

    staff = fund_and_staff()
    loan = contracted_loan(staff)
    disburse(staff, loan, 120_000_000, date(2026, 1, 15))
    db.session.commit()
    close_day.run_close_day(date(2026, 3, 1), "cli")  # instalment 1 (15/02) is overdue
    db.session.commit()
    loan_id, accountant_id = loan.id, staff.accountant.id
    db.session.remove()

    advanced, go = threading.Event(), threading.Event()
    errors: list[BaseException] = []
    advance = overdue_accrual.advance_overdue_state

    def advance_then_wait(day: date) -> int:
        count = advance(day)
        advanced.set()
        go.wait(timeout=10)
        return count

    monkeypatch.setattr(overdue_accrual, "advance_overdue_state", advance_then_wait)

    def run() -> None:
        try:
            with app.app_context():
                result = close_day.run_close_day(date(2026, 3, 2), "cli")
                assert result.ran, result
                db.session.commit()
                db.session.remove()
        except BaseException as exc:
            errors.append(exc)

    def pay() -> None:
        try:
            with app.app_context():
                accountant = db.session.get(User, accountant_id)
                assert advanced.wait(timeout=10)
                rs.record_repayment(
                    accountant, loan_id, {"amount": 10_611_507, "date": "2026-03-02"},
                    date(2026, 3, 2),
                )  # fmt: skip
                db.session.commit()
                db.session.remove()
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=run), threading.Thread(target=pay)]
    for t in threads:
        t.start()
    assert advanced.wait(timeout=10)
    # Give the repayment time to reach the loan (and, before the fix, the instalment).
    threading.Event().wait(1.5)
    go.set()
    for t in threads:
        t.join(timeout=60)
    assert not errors, errors

    loan = db.session.get(Loan, loan_id)
    assert len(db.session.query(Repayment).filter_by(loan_id=loan_id).all()) == 1
    result = check_invariants()
    assert result.ok, result.problems
    # Instalment 1 (due 15/02: 10.000.000 + 611.507 at 6 %), paid 02/03, 15 days late:
    # overdue interest, rounded once: 10.000.000 × 9 % × 15/365 = 36.986,30 on principal
    # + 611.507 × 10 % × 15/365 = 2.513,04 on interest → 39.499; the rest after it and the
    # interest is principal: 10.611.507 − 39.499 − 611.507 = 9.960.501.
    assert (loan.penalty_paid, loan.interest_paid, loan.principal_paid) == (
        39_499,
        611_507,
        9_960_501,
    )
