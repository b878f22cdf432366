"""The whole-book totals kept with every change (fundapp.loans.book) and the journal's day
totals (ledger_day_totals): hand figures, the same book as summed from the loans, the fund
check naming a total that drifted, and simultaneous repayments on real connections."""

from __future__ import annotations

import threading
from datetime import date

import pytest
from sqlalchemy import func, select, update

from fundapp.dashboard.figures import dashboard
from fundapp.extensions import db
from fundapp.ledger import accounts as acc
from fundapp.ledger.models import LedgerDayTotal
from fundapp.ledger.services import check_invariants, fund_position
from fundapp.lending import disbursements
from fundapp.loans import book, dues
from fundapp.loans.models import Instalment, Loan
from fundapp.loans.queries import _summed_slices, book_slices
from fundapp.repayments import services as rs
from fundapp.reports import aggregates
from fundapp.reports.aggregates import AREA_AND_GROUP
from tests.conftest import PG_URL
from tests.services.lending_helpers import contracted_loan, disburse, fund_and_staff

CAPITAL = 15_000_000_000
TODAY = date(2026, 2, 16)
# 120.000.000 over 12 months at 6 %/year, disbursed 15/01: instalment 1 is 10.000.000 of
# principal and 120.000.000 × 6 % × 31/365 = 611.507 of interest (tests/services).
FIRST_INSTALMENT = 10_611_507


def _totals() -> dict[str, int]:
    return {
        name: int(db.session.scalar(select(func.sum(getattr(book.BookTotal, name)))) or 0)
        for name in book.SUMS
    }


def _day_cash(day: date, kind: str) -> tuple[int, int]:
    """The day's cash lines of loans of one kind of entry, over the connections' slots."""
    t = LedgerDayTotal
    debit, credit = db.session.execute(
        select(func.sum(t.debit), func.sum(t.credit)).where(
            t.entry_date == day, t.account == acc.CASH, t.kind == kind, t.loan_line
        )
    ).one()
    return int(debit), int(credit)


def _two_loans():
    staff = fund_and_staff(CAPITAL)
    first = contracted_loan(staff, 120_000_000)
    second = contracted_loan(staff, 60_000_000)
    disburse(staff, first, 120_000_000, date(2026, 1, 15))
    disburse(staff, second, 60_000_000, date(2026, 1, 20))
    return staff, first, second


def test_the_totals_follow_disbursements_and_a_repayment_to_the_dong(app):
    staff, first, _second = _two_loans()
    assert _totals() == {
        "loans": 2,
        "amount": 180_000_000,
        "outstanding": 180_000_000,
        "held_loans": 2,
        "principal_in_term": 180_000_000,
        "principal_overdue": 0,
        "interest_receivable": 0,
        "specific_provision": 0,
    }
    assert book.borrowers() == 2  # each loan of its own cooperative

    rs.record_repayment(
        staff.accountant, first.id, {"amount": FIRST_INSTALMENT, "date": "2026-02-15"}, TODAY
    )
    db.session.commit()
    assert _totals()["outstanding"] == 170_000_000
    assert _totals()["principal_in_term"] == 170_000_000
    # The day's cash on loans, kept apart by kind of entry.
    # Posted on the day it is recorded.
    assert _day_cash(TODAY, "repayment") == (FIRST_INSTALMENT, 0)
    assert fund_position().cash == CAPITAL - 180_000_000 + FIRST_INSTALMENT

    figures = dashboard(TODAY)
    assert (figures.projects, figures.cooperatives, figures.outstanding) == (2, 2, 170_000_000)
    assert check_invariants().ok


def test_the_kept_book_is_the_book_summed_from_the_loans(app, monkeypatch):
    staff, first, _second = _two_loans()
    rs.record_repayment(
        staff.accountant, first.id, {"amount": FIRST_INSTALMENT, "date": "2026-02-15"}, TODAY
    )
    db.session.commit()
    groupings = [(), ("debt_group",), AREA_AND_GROUP, ("status", "officer_id", "origin_fund_id")]
    kept = [aggregates.book(TODAY, by) for by in groupings]
    kept_slices = book_slices(TODAY)
    monkeypatch.setattr(aggregates, "_totals_hold", lambda as_of: False)
    summed = [aggregates.book(TODAY, by) for by in groupings]
    assert kept == summed
    assert sorted(kept_slices, key=repr) == sorted(_summed_slices(TODAY), key=repr)
    # A loan late on the business date after its instalment fell due unpaid.
    late_day = date(2026, 2, 21)  # the second loan's first instalment was due on 20/02
    assert [s.count for s in book_slices(late_day) if s.late] == [1]
    assert sorted(book_slices(late_day), key=repr) == sorted(_summed_slices(late_day), key=repr)


def test_a_change_behind_the_sessions_back_is_named_by_the_fund_check(app):
    _staff, first, _second = _two_loans()
    db.session.execute(update(Loan).where(Loan.id == first.id).values(debt_group=3))
    db.session.execute(
        update(LedgerDayTotal)
        .where(LedgerDayTotal.entry_date == date(2026, 1, 20), LedgerDayTotal.account == acc.CASH)
        .values(credit=LedgerDayTotal.credit + 1)
    )
    db.session.commit()
    problems = check_invariants().problems
    assert f"book_loans: loan {first.id} differs from the loan" in problems
    assert (
        f"day total 2026-01-20 {acc.CASH} disbursement (loan lines): kept (0, 60000001) != "
        "lines (0, 60000000)"
    ) in problems
    book.rebuild()
    from fundapp.ledger.services import rebuild_day_totals  # the repair, as after a bulk load

    rebuild_day_totals()
    db.session.commit()
    assert check_invariants().ok


@pytest.mark.skipif(not PG_URL, reason="needs PostgreSQL (make test starts one)")
def test_simultaneous_repayments_on_loans_of_one_total_all_land_in_it(app):
    staff = fund_and_staff(CAPITAL)
    first = contracted_loan(staff, 120_000_000)
    loans = [first] + [
        contracted_loan(staff, 120_000_000, cooperative=first.cooperative) for _ in range(3)
    ]
    for loan in loans:
        disburse(staff, loan, 120_000_000, date(2026, 1, 15))
    ids, accountant_id = [loan.id for loan in loans], staff.accountant.id
    db.session.remove()
    barrier = threading.Barrier(len(ids))
    errors: list[BaseException] = []

    def pay(loan_id: int) -> None:
        try:
            with app.app_context():
                from fundapp.auth.models import User  # in this thread's own session

                accountant = db.session.get(User, accountant_id)
                barrier.wait(timeout=10)
                rs.record_repayment(
                    accountant, loan_id, {"amount": FIRST_INSTALMENT, "date": "2026-02-15"}, TODAY
                )
                db.session.commit()
                db.session.remove()
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=pay, args=(i,)) for i in ids]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert not errors, errors
    # The four loans share one row of the totals (one borrower, officer, group, status).
    # (The row of the approved loans before their disbursement stays, at zero.)
    held = select(func.count()).select_from(book.BookTotal).where(book.BookTotal.loans > 0)
    assert db.session.scalar(held) == 1
    assert _totals()["outstanding"] == 4 * 110_000_000
    assert _day_cash(TODAY, "repayment") == (4 * FIRST_INSTALMENT, 0)
    assert check_invariants().ok


def _due_by_month() -> dict[tuple[int, int], int]:
    months: dict[tuple[int, int], int] = {}
    for row in db.session.scalars(select(Instalment)):
        key = (row.due_date.year, row.due_date.month)
        months[key] = months.get(key, 0) + row.principal + row.interest
    return months


def test_what_falls_due_month_by_month_follows_the_schedules(app):
    staff, first, _second = _two_loans()
    kept = dues.months(date(2020, 1, 1), date(2030, 12, 31))
    assert kept == _due_by_month()
    # February: instalment 1 of each loan. 120.000.000 from 15/01: 10.000.000 + 611.507;
    # 60.000.000 from 20/01: 5.000.000 + 60.000.000 × 6 % × 31/365 = 305.753.
    assert kept[(2026, 2)] == FIRST_INSTALMENT + 5_000_000 + 305_753
    # A prepayment rewrites the first loan's schedule: the months follow.
    rs.record_repayment(
        staff.accountant, first.id, {"amount": 40_000_000, "date": "2026-02-15"}, TODAY
    )
    db.session.commit()
    assert dues.months(date(2020, 1, 1), date(2030, 12, 31)) == _due_by_month()
    assert check_invariants().ok


def test_a_schedule_written_in_a_savepoint_rolled_back_leaves_the_months_exact(app):
    staff = fund_and_staff(CAPITAL)
    loan = contracted_loan(staff, 120_000_000)
    savepoint = db.session.begin_nested()
    disbursements.approve_disbursement(
        staff.director,
        disbursements.record_disbursement(
            staff.accountant, loan.id, {"amount": 120_000_000, "date": date(2026, 1, 15)}, TODAY
        ).id,
        TODAY,
    )
    savepoint.rollback()
    disburse(staff, loan, 60_000_000, date(2026, 1, 15))
    assert dues.months(date(2020, 1, 1), date(2030, 12, 31)) == _due_by_month()
    assert check_invariants().ok


def test_the_close_of_day_sweeps_the_totals_left_at_zero(app):
    from fundapp.servicing.close_day import run_close_day

    _two_loans()
    zero = [book.BookTotal.__table__.c[n] == 0 for n in book.SUMS]
    # The loans moved from "contracted" to "active": their old combination is left at zero.
    assert db.session.scalar(select(func.count()).select_from(book.BookTotal).where(*zero)) > 0
    before = _totals()
    run_close_day(date(2026, 1, 21), "test")
    db.session.commit()
    assert db.session.scalar(select(func.count()).select_from(book.BookTotal).where(*zero)) == 0
    assert _totals()["loans"] == before["loans"] == 2
    assert not list(book.check())
