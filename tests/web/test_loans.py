"""Loan screens: list, detail, schedule and every action, through the web forms."""

from __future__ import annotations

import re
from datetime import date
from types import SimpleNamespace
from typing import Any

import pytest
from sqlalchemy import func, select

from fundapp.cooperatives import services as cooperatives
from fundapp.extensions import db
from fundapp.ledger import accounts as acc
from fundapp.ledger.models import JournalEntry
from fundapp.ledger.services import Line, balances, post, record_capital
from fundapp.lending import applications, contracts, disbursements
from fundapp.loans import store
from fundapp.loans.models import (
    Collateral,
    Disbursement,
    Inspection,
    Instalment,
    Loan,
    Repayment,
    Restructuring,
    Reversal,
    WriteOff,
)
from fundapp.policy.services import install_defaults
from fundapp.repayments import services as repayments
from tests.conftest import BUSINESS_DATE, client_for, make_cooperative, make_user

EARLY = date(2026, 1, 10)  # a loan disbursed then has instalments past due on the business date


@pytest.fixture
def people(app: Any) -> SimpleNamespace:
    record_capital(None, "charter", 15_000_000_000, date(2020, 1, 1))
    install_defaults()
    db.session.commit()
    return SimpleNamespace(
        officer=make_user("officer"),
        appraiser=make_user("officer"),
        director=make_user("director"),
        accountant=make_user("accountant"),
    )


def make_loan(people: SimpleNamespace, as_of: date = BUSINESS_DATE, sign: bool = True) -> Loan:
    """Application → submitted → appraised by a second officer → approved → contract."""
    coop = make_cooperative()
    application = applications.create_application(
        people.officer,
        {
            "cooperative_id": coop.id,
            "project_name": "Mở rộng vườn vải thiều",
            "total_project_cost": "500.000.000",
            "own_equity": "200.000.000",
            "requested_amount": "240.000.000",
            "term_months": "12",
            "annual_rate": "6",
        },
        as_of,
    )
    applications.submit(people.officer, application)
    applications.appraise(people.appraiser, application, 240_000_000, "Đủ điều kiện", as_of)
    loan = applications.approve(people.director, application, "Đồng ý cho vay", as_of)
    if sign:
        contracts.sign_contract(people.officer, loan, as_of, as_of)
    db.session.commit()
    return loan


def disburse(people: SimpleNamespace, loan: Loan, as_of: date) -> Disbursement:
    item = disbursements.record_disbursement(
        people.accountant, loan.id, {"amount": loan.amount, "date": as_of}, as_of
    )
    disbursements.approve_disbursement(people.director, item.id, as_of)
    db.session.commit()
    return item


def active_loan(people: SimpleNamespace, as_of: date = EARLY) -> Loan:
    loan = make_loan(people, as_of)
    disburse(people, loan, as_of)
    return loan


def counts() -> tuple[int, int]:
    return (
        db.session.scalar(select(func.count(Repayment.id))) or 0,
        db.session.scalar(select(func.count(JournalEntry.id))) or 0,
    )


def row_of(html: str, no: int) -> str:
    match = re.search(rf'<tr class="sched-\w+" id="instalment-{no}">(.*?)</tr>', html, re.S)
    assert match, f"instalment {no} not on the page"
    return match.group(1)


def text(response: Any) -> str:
    return response.get_data(as_text=True)


# --- contract and disbursement ----------------------------------------------------------------


def test_officer_signs_the_contract_from_the_loan_page(app, people):
    loan = make_loan(people, sign=False)
    officer = client_for(app, people.officer)
    page = text(officer.get(f"/loans/{loan.id}"))
    assert "Ký hợp đồng tín dụng" in page and "Đã phê duyệt" in page
    bad = officer.post(f"/loans/{loan.id}/contract", data={"contract-contract_date": "01/01/2026"})
    assert bad.status_code == 422
    assert "Ngày ký hợp đồng từ ngày phê duyệt đến ngày làm việc hiện tại." in text(bad)
    response = officer.post(
        f"/loans/{loan.id}/contract", data={"contract-contract_date": "20/11/2026"}
    )
    assert response.status_code == 302
    db.session.refresh(loan)
    assert loan.status == "contracted" and loan.contract_date == BUSINESS_DATE


def test_accountant_records_a_disbursement_and_the_director_approves_it(app, people):
    loan = make_loan(people)
    accountant = client_for(app, people.accountant)
    response = accountant.post(
        f"/loans/{loan.id}/disbursements",
        data={
            "disburse-amount": "240.000.000",
            "disburse-date": "20/11/2026",
            "disburse-reference": "UNC 15/11",
        },
    )
    assert response.status_code == 302
    item = db.session.scalars(select(Disbursement)).one()
    assert item.status == "pending" and item.amount == 240_000_000
    db.session.refresh(loan)
    assert loan.status == "contracted"
    assert balances()[acc.LOANS_IN_TERM] == 0  # nothing posted before the checker approves

    director = client_for(app, people.director)
    assert "Phê duyệt giải ngân" in text(director.get(f"/loans/{loan.id}"))
    response = director.post(f"/loans/{loan.id}/disbursements/{item.id}/approve")
    assert response.status_code == 302
    db.session.refresh(loan)
    db.session.refresh(item)
    assert item.status == "posted" and item.approved_by_id == people.director.id
    assert loan.status == "active"
    instalments = db.session.scalars(
        select(Instalment).where(Instalment.loan_id == loan.id).order_by(Instalment.no)
    ).all()
    assert len(instalments) == 12
    assert instalments[0].due_date == date(2026, 12, 20)
    assert sum(i.principal for i in instalments) == 240_000_000
    entry = db.session.get(JournalEntry, item.journal_entry_id)
    lines = {(line.account, line.debit, line.credit) for line in entry.lines}
    assert lines == {(acc.LOANS_IN_TERM, 240_000_000, 0), (acc.CASH, 0, 240_000_000)}
    assert balances()[acc.CASH] == 15_000_000_000 - 240_000_000

    page = text(director.get(f"/loans/{loan.id}"))
    assert "Đang vay" in page and "20/12/2026" in page and "240.000.000 đ" in page
    schedule = text(director.get(f"/loans/{loan.id}/schedule"))
    assert "Chưa đến hạn" in row_of(schedule, 1)


def test_the_recorder_of_a_disbursement_cannot_approve_it(app, people):
    both = make_user("accountant", "director")
    loan = make_loan(people)
    client = client_for(app, both)
    assert (
        client.post(
            f"/loans/{loan.id}/disbursements",
            data={"disburse-amount": "100000000", "disburse-date": "20/11/2026"},
        ).status_code
        == 302
    )
    item = db.session.scalars(select(Disbursement)).one()
    page = text(client.get(f"/loans/{loan.id}"))
    assert "Bạn đã lập đợt giải ngân này; người khác phải phê duyệt." in page
    response = client.post(f"/loans/{loan.id}/disbursements/{item.id}/approve")
    assert response.status_code == 403
    assert "Người lập đợt giải ngân không được tự phê duyệt." in text(response)
    db.session.refresh(item)
    db.session.refresh(loan)
    assert item.status == "pending" and loan.status == "contracted"


def test_director_rejects_a_pending_disbursement(app, people):
    loan = make_loan(people)
    item = disbursements.record_disbursement(
        people.accountant, loan.id, {"amount": "1000000", "date": BUSINESS_DATE}, BUSINESS_DATE
    )
    db.session.commit()
    director = client_for(app, people.director)
    response = director.post(
        f"/loans/{loan.id}/disbursements/{item.id}/reject",
        data={f"disb{item.id}-reject-note": "Sai số tài khoản"},
    )
    assert response.status_code == 302
    db.session.refresh(item)
    assert item.status == "rejected"


@pytest.mark.parametrize(
    ("amount", "message"),
    [
        ("240.000.001", "Vượt số tiền được duyệt: còn được giải ngân 240.000.000 đ."),
        ("0", "Số tiền phải lớn hơn 0."),
        ("12,5", "Số tiền phải là số nguyên đồng"),
    ],
)
def test_disbursement_above_the_approved_amount_is_refused(app, people, amount, message):
    loan = make_loan(people)
    accountant = client_for(app, people.accountant)
    response = accountant.post(
        f"/loans/{loan.id}/disbursements",
        data={"disburse-amount": amount, "disburse-date": "20/11/2026"},
    )
    assert response.status_code == 422
    assert message in text(response)
    assert db.session.scalar(select(func.count(Disbursement.id))) == 0


def test_disbursement_above_the_cash_of_the_fund_is_refused(app, people):
    loan = make_loan(people)
    # The fund returns most of its charter capital: 100 million đồng stay in the bank.
    post(
        date(2026, 11, 1),
        "capital_return",
        [
            Line(acc.CHARTER_CAPITAL, debit=14_900_000_000),
            Line(acc.CASH, credit=14_900_000_000),
        ],
    )
    db.session.commit()
    accountant = client_for(app, people.accountant)
    response = accountant.post(
        f"/loans/{loan.id}/disbursements",
        data={"disburse-amount": "200.000.000", "disburse-date": "20/11/2026"},
    )
    assert response.status_code == 422
    assert "Quỹ không đủ tiền: còn 100.000.000 đ." in text(response)
    assert db.session.scalar(select(func.count(Disbursement.id))) == 0


# --- repayments -----------------------------------------------------------------------------


def test_repayment_posts_and_the_schedule_shows_the_instalment_paid(app, people):
    loan = active_loan(people)
    first = db.session.scalars(
        select(Instalment).where(Instalment.loan_id == loan.id, Instalment.no == 1)
    ).one()
    assert first.due_date == date(2026, 2, 10)
    cash_before = balances()[acc.CASH]
    accountant = client_for(app, people.accountant)
    response = accountant.post(
        f"/loans/{loan.id}/repayments",
        data={
            "repay-amount": f"{first.total}",
            "repay-date": "10/02/2026",
            "repay-method": "bank",
            "repay-reference": "GBC 0210",
        },
    )
    assert response.status_code == 302
    repayment = db.session.scalars(select(Repayment)).one()
    assert repayment.receipt_no == "PT-2026-000001"
    assert repayment.allocations == [
        {"no": 1, "component": "interest", "amount": first.interest},
        {"no": 1, "component": "principal", "amount": first.principal},
    ]
    assert balances()[acc.CASH] == cash_before + first.total
    entry = db.session.get(JournalEntry, repayment.journal_entry_id)
    assert entry.kind == "repayment"

    schedule = text(accountant.get(f"/loans/{loan.id}/schedule"))
    assert "Đã trả" in row_of(schedule, 1) and "10/02/2026" in row_of(schedule, 1)
    assert "Quá hạn" in row_of(schedule, 2)
    detail = text(accountant.get(f"/loans/{loan.id}"))
    assert "PT-2026-000001" in detail and "Kỳ 1" in detail
    db.session.refresh(loan)
    assert loan.principal_outstanding == 240_000_000 - first.principal


@pytest.fixture
def closed_loan(people: SimpleNamespace) -> Loan:
    loan = active_loan(people, BUSINESS_DATE)
    payoff = store.replay(loan).payoff_amount(BUSINESS_DATE)
    repayments.record_repayment(
        people.accountant, loan.id, {"amount": payoff, "date": BUSINESS_DATE}, BUSINESS_DATE
    )
    db.session.commit()
    assert loan.status == "closed"
    return loan


@pytest.mark.parametrize(
    ("case", "amount", "when", "message"),
    [
        ("before_disbursement", "1000000", "09/01/2026", "không được trước ngày giải ngân"),
        ("future", "1000000", "21/11/2026", "không được sau ngày làm việc hiện tại"),
        ("zero", "0", "20/11/2026", "Số tiền phải lớn hơn 0."),
        ("negative", "-5000", "20/11/2026", "Số tiền phải lớn hơn 0."),
        ("fractional", "1500000,5", "20/11/2026", "Số tiền phải là số nguyên đồng"),
        ("fraction_dot", "1500000.5", "20/11/2026", "Số tiền phải là số nguyên đồng"),
        ("letters", "12abc", "20/11/2026", "Số tiền phải là số nguyên đồng"),
        ("bad_date", "1000000", "31/02/2026", "Ngày không hợp lệ"),
    ],
)
def test_a_bad_repayment_is_refused_and_changes_nothing(app, people, case, amount, when, message):
    loan = active_loan(people)
    accountant = client_for(app, people.accountant)
    before = counts()
    response = accountant.post(
        f"/loans/{loan.id}/repayments",
        data={"repay-amount": amount, "repay-date": when, "repay-method": "cash"},
    )
    assert response.status_code == 422, case
    assert message in text(response), case
    assert counts() == before
    assert 'aria-invalid="true"' in text(response)  # the field is marked, the values kept


def test_a_repayment_on_a_closed_loan_is_refused(app, people, closed_loan):
    accountant = client_for(app, people.accountant)
    before = counts()
    response = accountant.post(
        f"/loans/{closed_loan.id}/repayments",
        data={"repay-amount": "1000000", "repay-date": "20/11/2026", "repay-method": "bank"},
    )
    assert response.status_code == 422
    assert "Chỉ nhận trả nợ cho khoản vay đang vay" in text(response)
    assert counts() == before
    page = text(accountant.get(f"/loans/{closed_loan.id}"))
    assert "Đã tất toán" in page and "Ghi nhận khoản thu" not in page


def test_overpayment_beyond_everything_owed_is_refused(app, people):
    loan = active_loan(people, BUSINESS_DATE)
    accountant = client_for(app, people.accountant)
    before = counts()
    response = accountant.post(
        f"/loans/{loan.id}/repayments",
        data={"repay-amount": "300.000.000", "repay-date": "20/11/2026", "repay-method": "bank"},
    )
    assert response.status_code == 422
    assert "Số tiền trả vượt quá toàn bộ số phải trả" in text(response)
    assert counts() == before


# --- reversals ------------------------------------------------------------------------------


def test_reversal_requested_by_the_accountant_and_approved_by_the_director(app, people):
    loan = active_loan(people)
    first = db.session.scalars(
        select(Instalment).where(Instalment.loan_id == loan.id, Instalment.no == 1)
    ).one()
    repayment = repayments.record_repayment(
        people.accountant, loan.id, {"amount": first.total, "date": "2026-02-10"}, BUSINESS_DATE
    )
    db.session.commit()
    cash_after_repayment = balances()[acc.CASH]
    assert loan.principal_outstanding == 240_000_000 - first.principal

    accountant = client_for(app, people.accountant)
    missing = accountant.post(
        f"/loans/{loan.id}/repayments/{repayment.id}/reverse",
        data={f"rep{repayment.id}-reverse-reason": ""},
    )
    assert missing.status_code == 422 and "Cần ghi lý do hủy khoản thu." in text(missing)
    response = accountant.post(
        f"/loans/{loan.id}/repayments/{repayment.id}/reverse",
        data={f"rep{repayment.id}-reverse-reason": "Ghi nhầm khoản vay"},
    )
    assert response.status_code == 302
    reversal = db.session.scalars(select(Reversal)).one()
    assert reversal.status == "pending"
    assert "Chờ duyệt hủy" in text(accountant.get(f"/loans/{loan.id}"))

    director = client_for(app, people.director)
    response = director.post(f"/loans/{loan.id}/reversals/{reversal.id}/approve")
    assert response.status_code == 302
    db.session.refresh(reversal)
    db.session.refresh(repayment)
    db.session.refresh(loan)
    db.session.refresh(first)
    assert reversal.status == "approved" and repayment.reversed
    assert loan.principal_outstanding == 240_000_000
    assert first.principal_paid == 0 and first.interest_paid == 0
    assert balances()[acc.CASH] == cash_after_repayment - first.total
    assert "Đã hủy" in text(director.get(f"/loans/{loan.id}"))


def test_the_requester_of_a_reversal_cannot_approve_it(app, people):
    both = make_user("accountant", "director")
    loan = active_loan(people)
    repayment = repayments.record_repayment(
        people.accountant, loan.id, {"amount": 5_000_000, "date": "2026-02-10"}, BUSINESS_DATE
    )
    db.session.commit()
    client = client_for(app, both)
    client.post(
        f"/loans/{loan.id}/repayments/{repayment.id}/reverse",
        data={f"rep{repayment.id}-reverse-reason": "Nhầm số tiền"},
    )
    reversal = db.session.scalars(select(Reversal)).one()
    response = client.post(f"/loans/{loan.id}/reversals/{reversal.id}/approve")
    assert response.status_code == 403
    assert "Người lập đề nghị hủy không được tự phê duyệt." in text(response)
    db.session.refresh(reversal)
    db.session.refresh(repayment)
    assert reversal.status == "pending" and not repayment.reversed


def test_an_item_of_another_loan_is_not_found(app, people):
    loan = make_loan(people)
    other = make_loan(people)
    item = disbursements.record_disbursement(
        people.accountant, other.id, {"amount": "1000000", "date": BUSINESS_DATE}, BUSINESS_DATE
    )
    db.session.commit()
    director = client_for(app, people.director)
    assert director.post(f"/loans/{loan.id}/disbursements/{item.id}/approve").status_code == 404
    assert director.get("/loans/9999").status_code == 404


# --- restructuring, collateral, inspection ---------------------------------------------------


def test_extension_requested_by_the_officer_and_approved_rebuilds_the_schedule(app, people):
    loan = active_loan(people)
    assert loan.maturity_date == date(2027, 1, 10)
    officer = client_for(app, people.officer)
    bad = officer.post(
        f"/loans/{loan.id}/restructurings",
        data={
            "restructure-kind": "extension",
            "restructure-effective_date": "20/11/2026",
            "restructure-new_maturity": "",
            "restructure-reason": "",
        },
    )
    assert bad.status_code == 422
    assert "Trường này là bắt buộc." in text(bad) and "Nhập ngày." in text(bad)
    response = officer.post(
        f"/loans/{loan.id}/restructurings",
        data={
            "restructure-kind": "extension",
            "restructure-effective_date": "20/11/2026",
            "restructure-new_maturity": "10/07/2027",
            "restructure-principal_plan": "",
            "restructure-reason": "Mất mùa vải do mưa đá",
        },
    )
    assert response.status_code == 302
    item = db.session.scalars(select(Restructuring)).one()
    assert item.status == "pending"
    # The requester may not approve; a director does.
    assert officer.post(f"/loans/{loan.id}/restructurings/{item.id}/approve").status_code == 403
    director = client_for(app, people.director)
    assert "Phê duyệt cơ cấu lại" in text(director.get(f"/loans/{loan.id}"))
    response = director.post(f"/loans/{loan.id}/restructurings/{item.id}/approve")
    assert response.status_code == 302
    db.session.refresh(loan)
    assert loan.extensions == 1
    assert loan.maturity_date == date(2027, 7, 10)
    last = db.session.scalars(
        select(Instalment).where(Instalment.loan_id == loan.id).order_by(Instalment.no.desc())
    ).first()
    assert last.due_date == date(2027, 7, 10)
    page = text(director.get(f"/loans/{loan.id}"))
    assert "Đã gia hạn 1 lần" in page and "10/07/2027" in page


def test_officer_adds_collateral_and_an_inspection(app, people):
    loan = active_loan(people)
    officer = client_for(app, people.officer)
    bad = officer.post(
        f"/loans/{loan.id}/collateral",
        data={"collateral-kind": "Quyền sử dụng đất", "collateral-valuation": "abc"},
    )
    assert bad.status_code == 422
    response = officer.post(
        f"/loans/{loan.id}/collateral",
        data={
            "collateral-kind": "Quyền sử dụng đất",
            "collateral-description": "Thửa 12, tờ bản đồ 5",
            "collateral-valuation": "300.000.000",
            "collateral-discount_factor": "0,5",
        },
    )
    assert response.status_code == 302
    assert db.session.scalars(select(Collateral)).one().valuation == 300_000_000
    response = officer.post(
        f"/loans/{loan.id}/inspections",
        data={
            "inspection-inspected_on": "15/03/2026",
            "inspection-finding": "partial",
            "inspection-notes": "Mới trồng 60% diện tích",
        },
    )
    assert response.status_code == 302
    assert db.session.scalars(select(Inspection)).one().finding == "partial"
    page = text(officer.get(f"/loans/{loan.id}"))
    assert "Sử dụng một phần" in page and "300.000.000 đ" in page and "0,5" in page


def test_director_cancels_a_contract_before_any_disbursement(app, people):
    loan = make_loan(people)
    director = client_for(app, people.director)
    assert director.post(f"/loans/{loan.id}/cancel", data={"cancel-reason": ""}).status_code == 422
    response = director.post(
        f"/loans/{loan.id}/cancel", data={"cancel-reason": "HTX rút đề nghị vay"}
    )
    assert response.status_code == 302
    db.session.refresh(loan)
    assert loan.status == "cancelled"


def test_write_off_is_refused_for_a_loan_not_in_group_five(app, people):
    # First instalment due 01/07/2026: 142 days past due on 20/11/2026, below group 5's 180
    # (Circular 14/2024/TT-NHNN, from 12/08/2024).
    loan = active_loan(people, date(2026, 6, 1))
    director = client_for(app, people.director)
    response = director.post(
        f"/loans/{loan.id}/write-off", data={"writeoff-reason": "Không có khả năng trả"}
    )
    assert response.status_code == 422
    assert "Chỉ xử lý rủi ro khoản vay nhóm 5" in text(response)


def test_write_off_proposed_by_the_director_and_approved_by_the_board(app, people):
    loan = active_loan(people, date(2025, 6, 2))  # first instalment unpaid for 17 months
    director = client_for(app, people.director)
    response = director.post(
        f"/loans/{loan.id}/write-off", data={"writeoff-reason": "HTX giải thể, không còn tài sản"}
    )
    assert response.status_code == 302
    proposal = db.session.scalars(select(WriteOff)).one()
    assert proposal.status == "pending" and proposal.amount == 240_000_000
    # The director is not the checker of write-offs: the board is.
    assert director.post(f"/loans/{loan.id}/write-offs/{proposal.id}/approve").status_code == 403
    board = client_for(app, make_user("board"))
    assert "Phê duyệt xử lý rủi ro" in text(board.get(f"/loans/{loan.id}"))
    response = board.post(f"/loans/{loan.id}/write-offs/{proposal.id}/approve")
    assert response.status_code == 302
    db.session.refresh(loan)
    assert loan.status == "written_off" and loan.principal_outstanding == 0
    assert loan.written_off == 240_000_000
    page = text(board.get(f"/loans/{loan.id}"))
    assert "Đã xử lý rủi ro" in page and "theo dõi ngoại bảng" in page


# --- list, approvals, access ------------------------------------------------------------------


def test_the_overdue_filter_shows_a_loan_with_an_unpaid_past_instalment_only(app, people):
    late = active_loan(people, EARLY)
    current = active_loan(people, BUSINESS_DATE)
    officer = client_for(app, people.officer)
    everything = text(officer.get("/loans/"))
    assert late.contract_no in everything and current.contract_no in everything
    assert "480.000.000 đ" in everything  # the totals row
    overdue = text(officer.get("/loans/", query_string={"overdue": "1"}))
    assert late.contract_no in overdue
    assert current.contract_no not in overdue
    found = text(officer.get("/loans/", query_string={"q": current.contract_no.lower()}))
    assert current.contract_no in found and late.contract_no not in found
    by_status = text(officer.get("/loans/", query_string={"status": "closed"}))
    assert "Không có khoản vay nào khớp" in by_status
    detail = text(officer.get(f"/loans/{late.id}"))
    assert "Gốc quá hạn" in detail and "Số tiền tất toán hôm nay" in detail


def test_the_totals_row_adds_up_the_loans_each_filter_shows(app, people):
    """Totals come from slices of the book read once; each filter's must equal its loans."""
    late = active_loan(people, EARLY)  # 240.000.000, an instalment unpaid since
    current = active_loan(people, BUSINESS_DATE)
    signed = make_loan(people)  # approved, signed, nothing disbursed
    moved = current.cooperative
    # From Phường Chũ (former Thị xã Chũ, 224) to Phường Bắc Giang (former TP Bắc Giang, 213).
    cooperatives.update(people.officer, moved, {**moved.to_dict(), "commune_code": "07210"})
    db.session.commit()
    officer = client_for(app, people.officer)

    def totals_row(**filters: str) -> str:
        page = text(officer.get("/loans/", query_string=filters))
        return page.split("<tfoot>", 1)[1].split("</tfoot>", 1)[0] if "<tfoot>" in page else ""

    def dong(n: int) -> str:
        return f"{n:,}".replace(",", ".") + " đ"

    table = [
        ({}, 3, 720_000_000),
        ({"status": "active"}, 2, 480_000_000),
        ({"status": signed.status}, 1, 240_000_000) if signed.status != "active" else None,
        ({"district": "224"}, 2, 480_000_000),
        ({"district": "213"}, 1, 240_000_000),
        ({"overdue": "1"}, 1, 240_000_000),
        ({"overdue": "1", "district": "213"}, 0, 0),
        ({"status": "active", "district": "224"}, 1, 240_000_000),
        ({"officer": str(people.officer.id)}, 3, 720_000_000),
        ({"q": current.contract_no}, 1, 240_000_000),
    ]
    for filters, count, amount in (row for row in table if row is not None):
        row = totals_row(**filters)
        if count == 0:
            assert row == "", filters
            continue
        assert f"({count} khoản vay theo bộ lọc)" in row, (filters, row)
        assert dong(amount) in row, (filters, row)
    assert late.contract_no in text(officer.get("/loans/", query_string={"overdue": "1"}))


def test_the_search_finds_a_contract_a_project_or_a_borrower_in_any_case(app, people):
    first = make_loan(people)
    second = make_loan(people)
    officer = client_for(app, people.officer)

    def found(q: str) -> set[str]:
        page = text(officer.get("/loans/", query_string={"q": q}))
        return {loan.contract_no for loan in (first, second) if loan.contract_no in page}

    both = {first.contract_no, second.contract_no}
    assert found(second.contract_no.lower()) == {second.contract_no}
    assert found("VẢI THIỀU") == both  # the project, in capitals
    assert found(first.cooperative.name.upper()) == {first.contract_no}  # the borrower
    assert found("%") == set() and found("_") == set()  # characters, not wildcards
    assert found("không có") == set()


def test_approvals_page_lists_pending_work(app, people):
    loan = make_loan(people)
    disbursements.record_disbursement(
        people.accountant, loan.id, {"amount": "1000000", "date": BUSINESS_DATE}, BUSINESS_DATE
    )
    db.session.commit()
    director = client_for(app, people.director)
    page = text(director.get("/loans/approvals"))
    assert loan.contract_no in page and "KU-2026-0001" in page
    assert "Giải ngân chờ duyệt" in page


def test_controller_reads_loans_and_the_audit_trail_but_has_no_actions(app, people):
    loan = active_loan(people)
    controller = client_for(app, make_user("controller"))
    for url in ("/loans/", f"/loans/{loan.id}", f"/loans/{loan.id}/schedule", "/loans/approvals"):
        assert controller.get(url).status_code == 200, url
    page = text(controller.get(f"/loans/{loan.id}"))
    # Actions by their Vietnamese labels, not their codes (issue 16).
    assert "Nhật ký kiểm toán của khoản vay" in page and "Phê duyệt giải ngân" in page
    assert "disbursement.approve<" not in page
    assert 'id="actions"' not in page
    officer_page = text(client_for(app, people.officer).get(f"/loans/{loan.id}"))
    assert "Nhật ký kiểm toán của khoản vay" not in officer_page
    controller.post("/language/en", data={"next": "/loans/"})
    for url in ("/loans/", f"/loans/{loan.id}", f"/loans/{loan.id}/schedule"):
        assert controller.get(url).status_code == 200, url  # English renders too
    english = text(controller.get("/loans/"))
    # dd/mm/yyyy in English too (issue 16), and amounts carry the currency.
    assert loan.maturity_date.strftime("%d/%m/%Y") in english
    assert loan.maturity_date.isoformat() not in english
    assert "240,000,000 VND" in english


def test_cooperative_user_gets_403_on_loan_pages(app, people):
    loan = active_loan(people)
    client = client_for(app, make_user("cooperative", cooperative=loan.cooperative))
    for url in ("/loans/", f"/loans/{loan.id}", f"/loans/{loan.id}/schedule", "/loans/approvals"):
        assert client.get(url).status_code == 403, url
    assert (
        client.post(f"/loans/{loan.id}/repayments", data={"repay-amount": "1000"}).status_code
        == 403
    )


def test_the_list_pages_by_the_filtered_count(app, people):
    app.config["PAGE_SIZE"] = 2
    loans = [make_loan(people) for _ in range(3)]  # newest first: 3, 2 | 1
    officer = client_for(app, people.officer)
    first = text(officer.get("/loans/"))
    second = text(officer.get("/loans/", query_string={"page": "2"}))
    assert loans[2].contract_no in first and loans[1].contract_no in first
    assert loans[0].contract_no not in first
    assert loans[0].contract_no in second and loans[2].contract_no not in second
    assert "page=2" in first  # the pager knows there is a second page
    assert "3 khoản vay theo bộ lọc" in first
    assert people.officer.username in first or people.officer.full_name in first
