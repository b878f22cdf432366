"""``flask fund check``: each set-based invariant names the loan when the book is corrupted in
exactly its way; ``--deep`` replays every loan and finds what only a replay can.

The book: 120.000.000 đ disbursed on 15/01/2026, 12 months at 6 %, equal principal
(10.000.000 a month, due on the 15th). Closed on 25/02; paid that day 10.637.840
(overdue interest 26.333 + interest 611.507 + principal 10.000.000, figures of
tests/services/test_close_day.py); 5.000.000 on 01/03, nothing due then, all prepaid; a
1.000.000 of 02/03 reversed; closed up to 16/03, instalment 2 one day overdue.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date
from typing import Any

import pytest
from sqlalchemy import update

from fundapp.core.db import touch_loans
from fundapp.domain import accounts as acc
from fundapp.extensions import db
from fundapp.ledger.models import LoanBalance
from fundapp.ledger.services import check_invariants
from fundapp.loans.days import last_run_date
from fundapp.loans.models import Instalment, Loan, Repayment
from fundapp.loans.verify import differences
from fundapp.repayments import services as rs
from tests.conftest import PG_URL, fresh_database, make_app
from tests.jobs.helpers import close
from tests.services.lending_helpers import contracted_loan, disburse, fund_and_staff


def _book(others: int = 0) -> dict[str, Any]:
    """The book above, and ``others`` loans like it that nobody repays."""
    staff = fund_and_staff()
    loan = contracted_loan(staff)
    disburse(staff, loan, 120_000_000, date(2026, 1, 15))
    for _n in range(others):
        other = contracted_loan(staff)
        disburse(staff, other, 120_000_000, date(2026, 1, 15))
    close(date(2026, 2, 25), start=date(2026, 2, 25))
    db.session.commit()
    paid = rs.record_repayment(
        staff.accountant, loan.id, {"amount": 10_637_840, "date": "2026-02-25"}, date(2026, 2, 25)
    )
    prepaid = rs.record_repayment(
        staff.accountant, loan.id, {"amount": 5_000_000, "date": "2026-03-01"}, date(2026, 3, 1)
    )
    wrong = rs.record_repayment(
        staff.accountant, loan.id, {"amount": 1_000_000, "date": "2026-03-02"}, date(2026, 3, 2)
    )
    db.session.commit()
    reversal = rs.request_reversal(staff.accountant, wrong.id, "Nhập nhầm số tiền")
    db.session.commit()
    rs.decide_reversal(staff.director, reversal.id, True, date(2026, 3, 2))
    db.session.commit()
    close(date(2026, 3, 16))
    db.session.commit()
    book = {
        "loan": loan.id,
        "name": f"loan {loan.contract_no}",
        "paid": paid.id,
        "prepaid": prepaid.id,
        "reversed": wrong.id,
    }
    # What the corruptions below start from.
    assert (paid.allocations, paid.prepaid_principal) == (
        [
            {"no": 1, "component": "penalty", "amount": 26_333},
            {"no": 1, "component": "interest", "amount": 611_507},
            {"no": 1, "component": "principal", "amount": 10_000_000},
        ],
        0,
    )
    assert (prepaid.allocations, prepaid.prepaid_principal) == ([], 5_000_000)
    assert db.session.get(Repayment, wrong.id).reversed
    first = _instalment(loan.id, 1)
    assert (first.penalty_paid, first.penalty_accrued, first.paid_on) == (
        26_333,
        26_333,
        date(2026, 2, 25),
    )
    assert db.session.get(Loan, loan.id).principal_outstanding == 105_000_000
    result = check_invariants()
    assert result.ok, result.problems
    return book


def _instalment(loan_id: int, no: int) -> Instalment:
    return db.session.query(Instalment).filter_by(loan_id=loan_id, no=no).one()


@pytest.fixture(scope="module")
def book() -> Iterator[dict[str, Any]]:
    """One book for the module: each test corrupts it in its own transaction, rolled back."""
    with fresh_database(make_app()):
        yield _book()


def _set_instalment(number: int, **values: Any) -> Any:
    return lambda b: (
        update(Instalment)
        .where(Instalment.loan_id == b["loan"], Instalment.no == number)
        .values(**values)
    )


def _set_loan(**values: Any) -> Any:
    return lambda b: update(Loan).where(Loan.id == b["loan"]).values(**values)


def _set_repayment(which: str, **values: Any) -> Any:
    return lambda b: update(Repayment).where(Repayment.id == b[which]).values(**values)


CORRUPTIONS = {
    "running balance": (
        lambda b: (
            update(LoanBalance)
            .where(LoanBalance.loan_id == b["loan"], LoanBalance.account == acc.LOANS_IN_TERM)
            .values(balance=LoanBalance.balance + 1)
        ),
        # In term: 105.000.000 outstanding − 9.545.454 of instalment 2, overdue since 16/03
        "loan {loan} account {in_term}: running balance 95454547 != lines 95454546",
    ),
    "cached outstanding": (
        _set_loan(principal_outstanding=105_000_001),
        "{name}: outstanding 105000001 != disbursed 120000000 − repaid 15000000 − written off 0",
    ),
    "cached disbursed": (
        _set_loan(disbursed=120_000_001),
        "{name}: disbursed 120000001 != posted disbursements 120000000",
    ),
    "cached interest repaid": (
        _set_loan(interest_paid=611_508),
        "{name}: repayments 15637840 != principal 15000000 + interest 611508 + overdue "
        "interest 26333 repaid",
    ),
    "prepaid principal": (
        _set_repayment("prepaid", prepaid_principal=4_999_999),
        "{name}: principal repaid 15000000 != paid on the schedule 10000000 + prepaid 4999999",
    ),
    "scheduled principal": (
        _set_instalment(3, principal=9_545_455),
        # 10.000.000 on row 1 + the 105.000.000 left after the prepayment, 1 đ more on row 3
        "{name}: scheduled principal 115000001 + prepaid 5000000 != disbursed 120000000",
    ),
    "a gap in the numbers": (
        _set_instalment(12, no=13),
        "{name}: 12 instalments numbered 1 to 13",
    ),
    "due dates out of order": (
        _set_instalment(3, due_date=date(2026, 3, 15)),
        "{name}: instalment 3 falls due on 2026-03-15, not after instalment 2 on 2026-03-15",
    ),
    "interest waived above what is settled": (
        _set_instalment(3, interest_waived=1),
        "{name} instalment 3: interest waived 1 outside 0 … settled 0",
    ),
    "negative overdue interest waived": (
        _set_instalment(3, penalty_waived=-1),
        "{name} instalment 3: overdue interest waived -1 outside 0 … settled 0",
    ),
    "paid on, unpaid": (
        _set_instalment(3, paid_on=date(2026, 3, 1)),
        "{name} instalment 3: paid on 2026-03-01 but paid 0/9545454 principal",
    ),
    "paid in full, no date": (
        _set_instalment(1, paid_on=None),
        "{name} instalment 1: paid on None but paid 10000000/10000000 principal",
    ),
    "overdue state before the due date": (
        _set_instalment(4, penalty_accrued=7),
        "{name} instalment 4 due 2026-05-15: overdue state 0/0 balance-days, 7 accrued",
    ),
    "negative balance-days": (
        _set_instalment(2, principal_balance_days=-1),
        "{name} instalment 2 due 2026-03-15: overdue state -1/",
    ),
    "overdue interest paid above accrued": (
        _set_instalment(2, penalty_paid=10_000_000),
        "{name} instalment 2: overdue interest settled 10000000 > accrued",
    ),
    "prepaid on a reversed repayment": (
        _set_repayment("reversed", prepaid_principal=5),
        "{name}: repayment {reversed} prepays 5",
    ),
    "negative written off": (
        _set_loan(written_off=-1),
        "{name}: a cached balance is negative",
    ),
}


@pytest.mark.parametrize("corruption", list(CORRUPTIONS))
def test_each_invariant_names_the_corruption(book, corruption):
    statement, message = CORRUPTIONS[corruption]
    try:
        db.session.execute(statement(book))
        result = check_invariants()
    finally:
        db.session.rollback()
    expected = message.format(in_term=acc.LOANS_IN_TERM, **book)
    assert not result.ok
    assert any(expected in p for p in result.problems), result.problems


@pytest.mark.skipif(bool(PG_URL), reason="a BIGINT column of PostgreSQL holds whole numbers only")
def test_a_fraction_stored_in_sqlite_is_not_whole_dong(book):
    try:
        db.session.execute(_set_loan(disbursed=120_000_000.5)(book))
        result = check_invariants()
    finally:
        db.session.rollback()
    assert f"{book['name']}: money is not whole đồng" in result.problems


@pytest.fixture
def file_app(tmp_path: Any) -> Iterator[Any]:
    """A database other processes can open: a SQLite file (or the PostgreSQL test server)."""
    uri = PG_URL or f"sqlite:///{tmp_path / 'book.db'}"
    with fresh_database(make_app(SQLALCHEMY_DATABASE_URI=uri)) as app:
        yield app


def test_deep_finds_what_only_a_replay_proves(file_app):
    book = _book(others=2)  # loans for more than one worker
    runner = file_app.test_cli_runner()
    # Figures that still agree with each other, but not with the history.
    db.session.execute(
        _set_repayment(
            "paid",
            allocations=[
                {"no": 1, "component": "penalty", "amount": 26_334},
                {"no": 1, "component": "interest", "amount": 611_506},
                {"no": 1, "component": "principal", "amount": 10_000_000},
            ],
        )(book)
    )
    db.session.execute(_set_instalment(1, penalty_paid=26_000)(book))
    db.session.execute(_set_loan(interest_paid=611_506, penalty_paid=26_334)(book))
    # Written as the app writes (the loan noted), so the whole-book totals agree as well.
    touch_loans([book["loan"]])
    db.session.commit()
    expected = sorted(
        [
            f"{book['name']}: repayment {book['paid']} allocation [{{'no': 1, 'component': "
            "'penalty', 'amount': 26334}, {'no': 1, 'component': 'interest', 'amount': "
            "611506}, {'no': 1, 'component': 'principal', 'amount': 10000000}] != replay "
            "[{'no': 1, 'component': 'penalty', 'amount': 26333}, {'no': 1, 'component': "
            "'interest', 'amount': 611507}, {'no': 1, 'component': 'principal', 'amount': "
            "10000000}]",
            f"{book['name']}: instalment 1 penalty_paid 26000 != replay 26333",
            f"{book['name']}: cached interest_paid 611506 != replay 611507",
            f"{book['name']}: cached penalty_paid 26334 != replay 26333",
        ]
    )
    # One loan, as the function reads it, then the whole book by the command.
    assert sorted(differences(db.session.get(Loan, book["loan"]), last_run_date())) == expected
    plain = runner.invoke(args=["fund", "check"])
    assert plain.exit_code == 0, plain.output
    assert "OK: all invariants hold" in plain.output
    for workers in ("1", "2"):
        deep = runner.invoke(args=["fund", "check", "--deep", "--workers", workers])
        assert deep.exit_code == 1, deep.output
        assert "checked: each loan: schedule, allocations and cached balances = replay" in (
            deep.output
        )
        broken = sorted(line for line in deep.output.splitlines() if line.startswith("BROKEN"))
        assert broken == [f"BROKEN: {p}" for p in expected], deep.output


def test_deep_holds_on_a_sound_book_in_workers(file_app):
    _book(others=2)
    runner = file_app.test_cli_runner()
    deep = runner.invoke(args=["fund", "check", "--deep", "--workers", "2"])
    assert deep.exit_code == 0, deep.output
    assert deep.output.endswith("OK: all invariants hold\n")
    assert check_invariants(deep=True, workers=1).ok


def test_workers_go_with_deep(app):
    result = app.test_cli_runner().invoke(args=["fund", "check", "--workers", "2"])
    assert result.exit_code == 2 and "--workers goes with --deep" in result.output
    zero = app.test_cli_runner().invoke(args=["fund", "check", "--deep", "--workers", "0"])
    assert zero.exit_code == 2
