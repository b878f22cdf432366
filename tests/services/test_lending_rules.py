"""Separation of duties, approval limits, transitions and bad input, in the service layer."""

from __future__ import annotations

from datetime import date
from itertools import product

import pytest

from fundapp.domain.errors import DomainError, PermissionDenied, ValidationFailed
from fundapp.extensions import db
from fundapp.ledger import accounts as acc
from fundapp.ledger.models import JournalEntry
from fundapp.ledger.services import balances, check_invariants
from fundapp.lending import applications, contracts, disbursements, lifecycle, limits, writeoffs
from fundapp.loans.models import (
    Application,
    ApplicationStatus,
    Disbursement,
    Loan,
    LoanStatus,
    Repayment,
)
from fundapp.repayments import services as rs
from tests.conftest import make_cooperative, make_user
from tests.services.lending_helpers import (
    application_data,
    contracted_loan,
    disburse,
    fund_and_staff,
)

DAY = date(2026, 1, 5)


def _application(staff, amount=120_000_000, **extra):
    coop = extra.pop("cooperative", None) or make_cooperative()
    data = application_data(
        coop, amount, project_name="Dự án nấm", term_months=24, annual_rate="6.5", **extra
    )
    app = applications.create_application(staff.officer, data, DAY)
    applications.submit(staff.officer, app)
    return app


@pytest.mark.parametrize(
    ("source", "target"),
    list(product([s.value for s in ApplicationStatus], repeat=2)),
)
def test_every_application_transition_pair_follows_the_table(app, source, target):
    application = Application(status=source, id=1)
    allowed = target in lifecycle.APPLICATION_TRANSITIONS[source]
    if allowed:
        lifecycle.transition(application, target, None)
        assert application.status == target
    else:
        with pytest.raises(DomainError, match="Không thể chuyển trạng thái"):
            lifecycle.transition(application, target, None)
        assert application.status == source
    db.session.rollback()


@pytest.mark.parametrize(
    ("source", "target"), list(product([s.value for s in LoanStatus], repeat=2))
)
def test_every_loan_transition_pair_follows_the_table(app, source, target):
    loan = Loan(status=source, id=1)
    if target in lifecycle.LOAN_TRANSITIONS[source]:
        lifecycle.transition(loan, target, None)
        assert loan.status == target
    else:
        with pytest.raises(DomainError):
            lifecycle.transition(loan, target, None)
        assert loan.status == source
    db.session.rollback()


def test_appraiser_and_creator_cannot_approve(app):
    staff = fund_and_staff()
    application = _application(staff)
    applications.appraise(staff.appraiser, application, 120_000_000, "Khả thi", DAY)
    db.session.commit()
    both = make_user("officer", "director")
    application.created_by_id = both.id
    with pytest.raises(PermissionDenied):
        applications.approve(both, application, "", DAY)
    appraiser_director = make_user("officer", "director")
    application.created_by_id = staff.officer.id
    application.appraised_by_id = appraiser_director.id
    with pytest.raises(PermissionDenied, match="không được tự phê duyệt"):
        applications.approve(appraiser_director, application, "", DAY)


def test_officer_cannot_approve_at_all(app):
    staff = fund_and_staff()
    application = _application(staff)
    applications.appraise(staff.appraiser, application, 120_000_000, "Khả thi", DAY)
    with pytest.raises(PermissionDenied):
        applications.approve(staff.officer, application, "", DAY)


def test_director_authority_limit_and_board_above_it(app):
    staff = fund_and_staff()
    application = _application(staff, amount=600_000_000)
    applications.appraise(staff.appraiser, application, 600_000_000, "Khả thi", DAY)
    with pytest.raises(DomainError, match="Thẩm quyền phê duyệt"):
        applications.approve(staff.director, application, "", DAY)
    assert application.status == ApplicationStatus.APPRAISED
    loan = applications.approve(staff.board, application, "Hội đồng đồng ý", DAY)
    assert loan.amount == 600_000_000 and loan.contract_no == "HD-2026-0001"
    assert loan.policy_snapshot["single_borrower_limit_pct"] == "15"


def test_single_borrower_limit_needs_board_and_a_reason(app):
    # Charter 15.000.000.000 → 15 % = 2.250.000.000 per borrower. The borrower already owes
    # 2.000.000.000, so 300.000.000 more breaks the limit by 50.000.000.
    staff = fund_and_staff()
    coop = make_cooperative()
    contracted_loan(staff, amount=2_000_000_000, cooperative=coop)
    application = _application(staff, amount=300_000_000, cooperative=coop)
    applications.appraise(staff.appraiser, application, 300_000_000, "Khả thi", DAY)
    checks = {c.code: c for c in limits.rule_checks(application, 300_000_000, DAY)}
    assert not checks["single_borrower"].passed
    assert checks["single_borrower"].detail.endswith("còn trống \u221250.000.000 đ")
    assert checks["related_group"].passed  # 25 % = 3.750.000.000
    with pytest.raises(DomainError, match="Vượt giới hạn"):
        applications.approve(staff.director, application, "", DAY)
    with pytest.raises(ValidationFailed, match="lý do"):
        applications.approve(staff.board, application, "", DAY)
    loan = applications.approve(
        staff.board, application, "", DAY, override_reason="Dự án trọng điểm tỉnh"
    )
    assert application.override_reason == "Dự án trọng điểm tỉnh"
    assert loan.amount == 300_000_000


def test_eligibility_and_equity_block_even_the_board(app):
    staff = fund_and_staff()
    application = _application(
        staff, amount=100_000_000, total_project_cost=110_000_000, own_equity=10_000_000
    )
    applications.appraise(staff.appraiser, application, 100_000_000, "Thiếu vốn đối ứng", DAY)
    with pytest.raises(DomainError, match="Không phê duyệt được"):
        applications.approve(staff.board, application, "", DAY, override_reason="x")


def test_cash_available_blocks(app):
    staff = fund_and_staff(capital=100_000_000)
    application = _application(staff, amount=150_000_000)
    applications.appraise(staff.appraiser, application, 150_000_000, "Khả thi", DAY)
    with pytest.raises(DomainError, match="đủ vốn"):
        applications.approve(staff.board, application, "", DAY, override_reason="x")


def test_disbursement_checker_is_not_the_maker_and_limits_hold(app):
    staff = fund_and_staff()
    loan = contracted_loan(staff)
    maker = make_user("accountant", "director")
    d = disbursements.record_disbursement(
        maker, loan.id, {"amount": 100_000_000, "date": "2026-01-15"}, date(2026, 1, 15)
    )
    with pytest.raises(PermissionDenied):
        disbursements.approve_disbursement(maker, d.id, date(2026, 1, 15))
    assert d.status == "pending"
    with pytest.raises(ValidationFailed) as caught:
        disbursements.record_disbursement(
            staff.accountant,
            loan.id,
            {"amount": 20_000_001, "date": "2026-01-15"},
            date(2026, 1, 15),
        )
    assert "còn được giải ngân 20.000.000 đ" in caught.value.fields["amount"]
    disbursements.approve_disbursement(staff.director, d.id, date(2026, 1, 15))
    with pytest.raises(DomainError, match="đã được xử lý"):
        disbursements.approve_disbursement(staff.director, d.id, date(2026, 1, 15))


@pytest.mark.parametrize(
    ("data", "field"),
    [
        ({"amount": 0, "date": "2026-02-15"}, "amount"),
        ({"amount": "1.5", "date": "2026-02-15"}, "amount"),
        ({"amount": "12abc", "date": "2026-02-15"}, "amount"),
        ({"amount": -5, "date": "2026-02-15"}, "amount"),
        ({"amount": 1000, "date": "2026-01-10"}, "date"),  # before disbursement
        ({"amount": 1000, "date": "2027-01-01"}, "date"),  # after the business date
        ({"amount": 1000, "date": "31/02/2026"}, "date"),
        ({"amount": 1000, "date": "2026-02-15", "method": "bitcoin"}, "method"),
    ],
)
def test_bad_repayments_change_nothing(app, data, field):
    staff = fund_and_staff()
    loan = contracted_loan(staff)
    disburse(staff, loan, 120_000_000, date(2026, 1, 15))
    entries = db.session.query(JournalEntry).count()
    with pytest.raises(ValidationFailed) as caught:
        rs.record_repayment(staff.accountant, loan.id, data, date(2026, 11, 20))
    db.session.rollback()
    assert field in caught.value.fields
    assert db.session.query(Repayment).count() == 0
    assert db.session.query(JournalEntry).count() == entries


def test_overpayment_and_closed_loan_are_refused(app):
    staff = fund_and_staff()
    loan = contracted_loan(staff)
    disburse(staff, loan, 120_000_000, date(2026, 1, 15))
    with pytest.raises(DomainError, match="vượt quá toàn bộ số phải trả"):
        rs.record_repayment(
            staff.accountant,
            loan.id,
            {"amount": 200_000_000, "date": "2026-02-01"},
            date(2026, 11, 20),
        )
    db.session.rollback()
    assert db.session.query(Repayment).count() == 0
    # 120.000.000 × 6 % × 17/365 = 335.342,47 → 335.342 accrued from 15/01 to 01/02
    rs.record_repayment(
        staff.accountant, loan.id, {"amount": 120_335_342, "date": "2026-02-01"}, date(2026, 11, 20)
    )
    db.session.commit()
    assert loan.status == LoanStatus.CLOSED and loan.closed_on == date(2026, 2, 1)
    with pytest.raises(DomainError, match="đang vay"):
        rs.record_repayment(
            staff.accountant, loan.id, {"amount": 1, "date": "2026-02-02"}, date(2026, 11, 20)
        )


def test_reversal_maker_checker_and_reopening(app):
    staff = fund_and_staff()
    loan = contracted_loan(staff)
    disburse(staff, loan, 120_000_000, date(2026, 1, 15))
    r = rs.record_repayment(
        staff.accountant, loan.id, {"amount": 120_335_342, "date": "2026-02-01"}, date(2026, 11, 20)
    )
    db.session.commit()
    assert loan.status == LoanStatus.CLOSED
    reversal = rs.request_reversal(staff.accountant, r.id, "Nhầm tài khoản")
    with pytest.raises(PermissionDenied):
        rs.decide_reversal(staff.accountant, reversal.id, True, date(2026, 11, 20))
    rs.decide_reversal(staff.director, reversal.id, True, date(2026, 11, 20))
    db.session.commit()
    assert loan.status == LoanStatus.ACTIVE and loan.principal_outstanding == 120_000_000
    assert r.reversed and r.allocations == []


def test_contract_and_disbursement_state_rules(app):
    staff = fund_and_staff()
    coop = make_cooperative()
    application = _application(staff, cooperative=coop)
    applications.appraise(staff.appraiser, application, 120_000_000, "ok", DAY)
    loan = applications.approve(staff.director, application, "", DAY)
    with pytest.raises(DomainError, match="đã ký hợp đồng"):
        disbursements.record_disbursement(
            staff.accountant, loan.id, {"amount": 1, "date": "2026-01-06"}, DAY
        )
    with pytest.raises(ValidationFailed):
        contracts.sign_contract(staff.officer, loan, date(2026, 1, 1), DAY)  # before approval
    assert db.session.query(Disbursement).count() == 0


def test_write_off_needs_group_five_and_the_board_and_posts_the_memo(app):
    staff = fund_and_staff()
    loan = contracted_loan(staff)
    disburse(staff, loan, 120_000_000, date(2026, 1, 15))
    # Nothing paid: the oldest instalment (15/02/2026) is 179 days past due on 13/08/2026,
    # one short of group 5 (180 days, Circular 14/2024/TT-NHNN, from 12/08/2024).
    with pytest.raises(DomainError, match="nhóm 5"):
        writeoffs.propose_write_off(
            staff.director, loan.id, "Mất khả năng trả nợ", date(2026, 8, 13)
        )
    # 15/02/2026 + 180 days = 14/08/2026: group 5.
    later = date(2026, 8, 14)
    proposal = writeoffs.propose_write_off(staff.director, loan.id, "Mất khả năng trả nợ", later)
    with pytest.raises(PermissionDenied):
        writeoffs.decide_write_off(staff.director, proposal.id, True, "", later)
    writeoffs.decide_write_off(staff.board, proposal.id, True, "Đồng ý xử lý", later)
    db.session.commit()
    assert loan.status == LoanStatus.WRITTEN_OFF
    assert (loan.written_off, loan.principal_outstanding) == (120_000_000, 0)
    bal = balances()
    assert bal[acc.LOANS_IN_TERM] + bal[acc.LOANS_OVERDUE] == 0
    assert bal[acc.WRITTEN_OFF_MEMO] == 120_000_000
    # Not provisioned before: the shortfall was expensed, the provision is used up.
    assert bal[acc.PROVISION_EXPENSE] == 120_000_000 and bal[acc.PROVISION] == 0
    result = check_invariants()
    assert result.ok, result.problems
