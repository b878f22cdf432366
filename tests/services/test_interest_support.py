"""Interest support through the services: enrolment, the split stored on the schedule, the
budget's receivable on the ledger, the claim to the paying agency and its payment, and the
borrower's statement (docs/rules.md#interest-support). Figures by hand in
tests/unit/test_support.py."""

from __future__ import annotations

from datetime import date

import pytest

from fundapp.api.loan_output import schedule_json
from fundapp.documents.statement import build_statement
from fundapp.domain.errors import PermissionDenied, ValidationFailed
from fundapp.extensions import db
from fundapp.ledger import accounts as acc
from fundapp.ledger.services import balances, check_invariants
from fundapp.loans.models import Instalment, Loan
from fundapp.repayments import services as rs
from fundapp.servicing.close_day import run_close_day, run_pending
from fundapp.support import services as support
from tests.services.lending_helpers import contracted_loan, disburse, fund_and_staff

START = date(2026, 1, 15)
# The loan of tests/unit/test_support.py: 120.000.000 đ at 7,2 %/year, 12 months, equal
# principal monthly; the budget pays 50 % of the interest due 15/02–15/07/2026, at most
# 1.500.000 đ. (interest, budget's share) of rows 1–7:
SPLIT = [
    (733_808, 366_904),
    (607_562, 303_781),
    (611_507, 305_754),
    (532_603, 266_302),
    (489_205, 244_603),
    (414_247, 12_656),
    (366_904, 0),
]
SCHEME = {
    "code": "HTLS-BG-2026",
    "name": "Hỗ trợ lãi suất cho hợp tác xã nông nghiệp",
    "legal_basis": "Nghị quyết 24/2018/NQ-HĐND tỉnh Bắc Giang",
    "paying_agency": "Sở Tài chính tỉnh Bắc Ninh",
    "share": "50",
    "first_due": "2026-02-15",
    "last_due": "2026-07-15",
    "cap_per_loan": "1.500.000",
    "purposes": "vải thiều, chăn nuôi",
}


@pytest.fixture
def supported(app):
    staff = fund_and_staff()
    loan = contracted_loan(staff, amount=120_000_000, on=date(2026, 1, 5), annual_rate="7.2")
    scheme = support.create_scheme(staff.director, SCHEME)
    support.enrol(staff.director, loan.id, scheme.id, date(2026, 1, 10))
    db.session.commit()
    run_close_day(START, "cli")
    db.session.commit()
    disburse(staff, loan, 120_000_000, START)
    return staff, db.session.get(Loan, loan.id), scheme


def _pay(staff, loan, amount, on):
    rs.record_repayment(staff.accountant, loan.id, {"amount": amount, "date": on}, on)
    db.session.commit()


def _close(until):
    run_pending(until, "cli")
    db.session.commit()


def test_the_schedule_stores_each_share(supported):
    _staff, loan, _scheme = supported
    rows = db.session.query(Instalment).filter_by(loan_id=loan.id).order_by(Instalment.no)
    assert [(i.interest, i.interest_supported) for i in rows][:7] == SPLIT
    api = schedule_json(loan, START)["instalments"]
    assert (api[0]["interest"], api[0]["interest_supported"], api[0]["interest_paid"]) == (
        733_808,
        366_904,
        0,
    )
    assert api[0]["status"] == "scheduled"


def test_the_budgets_share_is_billed_claimed_and_paid(supported):
    staff, loan, scheme = supported
    # The borrower pays its share on time twice; the close of day bills the budget's.
    _pay(staff, loan, 10_000_000 + 366_904, date(2026, 2, 15))
    _pay(staff, loan, 10_000_000 + 303_781, date(2026, 3, 15))
    _close(date(2026, 4, 1))
    assert balances()[acc.SUPPORT_RECEIVABLE] == 366_904 + 303_781
    # Interest income: the borrower's 670.685 paid and the budget's 670.685 billed, plus the
    # interest accrued at the month ends since (on-balance for a group-1 loan).
    assert check_invariants().ok

    claim = support.preview(scheme, date(2026, 3, 31))
    assert [(line.no, line.interest, line.borrower_share, line.amount) for line in claim.lines] == [
        (1, 733_808, 366_904, 366_904),
        (2, 607_562, 303_781, 303_781),
    ]
    assert (claim.period_from, claim.total) == (date(2026, 2, 15), 670_685)

    with pytest.raises(PermissionDenied):
        support.submit_claim(staff.officer, scheme.id, date(2026, 3, 31), date(2026, 4, 1))
    sent = support.submit_claim(staff.accountant, scheme.id, date(2026, 3, 31), date(2026, 4, 1))
    db.session.commit()
    assert (sent.reference, sent.amount, sent.status) == ("HTLS-2026-0001", 670_685, "submitted")
    assert support.preview(scheme, date(2026, 3, 31)).lines == []
    with pytest.raises(ValidationFailed):
        support.submit_claim(staff.accountant, scheme.id, date(2026, 3, 31), date(2026, 4, 1))
    assert support.receivable(date(2026, 4, 1)).claimed_unpaid == 670_685

    cash_before = balances()[acc.CASH]
    support.record_payment(
        staff.accountant, sent.id, date(2026, 4, 10), "UNC 125", date(2026, 4, 10)
    )
    db.session.commit()
    assert balances()[acc.SUPPORT_RECEIVABLE] == 0
    assert balances()[acc.CASH] - cash_before == 670_685
    with pytest.raises(ValidationFailed):
        support.record_payment(
            staff.accountant, sent.id, date(2026, 4, 10), "UNC 125", date(2026, 4, 10)
        )
    assert check_invariants().ok


def test_a_late_borrower_owes_overdue_interest_on_its_share_only(supported):
    staff, loan, _scheme = supported
    _close(date(2026, 2, 25))
    # 10 days late: (10.000.000 × 10 × 10,8 + 366.904 × 10 × 10) / 36.500 → 30.594 đ.
    first = db.session.query(Instalment).filter_by(loan_id=loan.id, no=1).one()
    assert first.penalty_accrued == 30_594
    assert first.interest - first.interest_paid == 366_904
    # The budget's share is billed at once, whatever the borrower does.
    assert balances()[acc.SUPPORT_RECEIVABLE] == 366_904
    _pay(staff, loan, 10_000_000 + 366_904 + 30_594, date(2026, 2, 25))
    assert check_invariants().ok


def test_the_statement_shows_the_borrowers_share_as_due(supported):
    _staff, loan, _scheme = supported
    _close(date(2026, 2, 16))
    statement = build_statement(loan, date(2026, 2, 1), date(2026, 2, 16))
    due = next(line for line in statement.lines if line.kind == "due")
    assert (due.due_principal, due.due_interest, due.supported) == (10_000_000, 366_904, 366_904)
    assert statement.closing.interest_unpaid == 366_904


def test_enrolment_checks_eligibility(supported, app):
    staff, loan, scheme = supported
    other = contracted_loan(
        staff, amount=50_000_000, on=date(2026, 1, 5), project_name="Xưởng cơ khí"
    )
    with pytest.raises(ValidationFailed) as refused:
        support.enrol(staff.director, other.id, scheme.id, date(2026, 1, 10))
    assert "Mục đích vay" in refused.value.message
    db.session.rollback()
    with pytest.raises(ValidationFailed):
        support.enrol(staff.director, loan.id, scheme.id, date(2026, 1, 20))  # already enrolled
    db.session.rollback()
    with pytest.raises(PermissionDenied):
        support.enrol(staff.officer, other.id, scheme.id, date(2026, 1, 10))


def test_stopping_support_gives_later_instalments_back_to_the_borrower(supported):
    staff, loan, _scheme = supported
    support.stop(staff.director, loan.id, date(2026, 3, 20), date(2026, 3, 1), "Sai mục đích")
    db.session.commit()
    rows = db.session.query(Instalment).filter_by(loan_id=loan.id).order_by(Instalment.no)
    assert [i.interest_supported for i in rows][:4] == [366_904, 303_781, 0, 0]
    with pytest.raises(ValidationFailed):
        support.stop(staff.director, loan.id, date(2026, 2, 1), date(2026, 3, 1), "Sớm hơn")


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("share", "0"),
        ("share", "101"),
        ("share", "năm mươi"),
        ("first_due", "31/02/2026"),
        ("last_due", "2026-01-01"),
        ("cap_per_loan", "-5"),
        ("borrower_kinds", ["bank"]),
        ("code", ""),
    ],
)
def test_a_bad_scheme_is_refused_with_nothing_saved(app, field, value):
    staff = fund_and_staff()
    with pytest.raises(ValidationFailed) as refused:
        support.create_scheme(staff.director, {**SCHEME, field: value})
    assert field in refused.value.fields
    db.session.rollback()
    assert support.schemes() == []
