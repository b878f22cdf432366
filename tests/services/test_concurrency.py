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
