"""Interest relief on the web: the request form of the loan page, the decision on the
approvals page, a refused request shown again with its message."""

from __future__ import annotations

from datetime import date
from typing import Any

from fundapp.extensions import db
from fundapp.loans import store
from fundapp.loans.relief import InterestRelief
from fundapp.servicing.close_day import run_close_day
from tests.conftest import BUSINESS_DATE, client_for
from tests.services.lending_helpers import contracted_loan, disburse, fund_and_staff

LONG_AGO = date(2025, 6, 2)


def _loan(staff: Any) -> Any:
    loan = contracted_loan(staff, on=LONG_AGO)
    disburse(staff, loan, 120_000_000, LONG_AGO)
    run_close_day(BUSINESS_DATE, "cli")
    db.session.commit()
    return loan


FORM = {
    "relief-kind": "reduction",
    "relief-reason_code": "unable_to_pay",
    "relief-interest": "3.500.000",
    "relief-penalty": "",
    "relief-reason": "Dịch bệnh trên đàn gà",
    "relief-evidence": "Biên bản của Trạm thú y",
}


def test_request_on_the_loan_page_and_decision_on_the_approvals_page(app):
    staff = fund_and_staff()
    loan = _loan(staff)
    officer = client_for(app, staff.officer)
    page = officer.get(f"/loans/{loan.id}").get_data(as_text=True)
    assert f'action="/loans/{loan.id}/relief"' in page  # the request form
    response = officer.post(f"/loans/{loan.id}/relief", data=FORM)
    assert response.status_code == 302
    relief = db.session.query(InterestRelief).one()
    assert (relief.interest, relief.status) == (3_500_000, "pending")
    assert officer.get(f"/loans/{loan.id}/relief").status_code == 200

    director = client_for(app, staff.director)
    page = director.get("/loans/approvals").get_data(as_text=True)
    assert f'action="/interest-reliefs/{relief.id}/approve"' in page
    before = store.replay(loan).balances(BUSINESS_DATE).interest_overdue
    response = director.post(f"/interest-reliefs/{relief.id}/approve", data={"back": "approvals"})
    assert response.status_code == 302 and response.location.endswith("/loans/approvals")
    db.session.expire_all()
    assert db.session.get(InterestRelief, relief.id).status == "approved"
    assert before - store.replay(loan).balances(BUSINESS_DATE).interest_overdue == 3_500_000
    assert director.get(f"/loans/{loan.id}/relief").status_code == 200


def test_a_refused_request_is_shown_again_with_its_message(app):
    staff = fund_and_staff()
    loan = _loan(staff)
    officer = client_for(app, staff.officer)
    response = officer.post(
        f"/loans/{loan.id}/relief", data={**FORM, "relief-interest": "1,5 triệu"}
    )
    assert response.status_code == 422
    assert "Số tiền" in response.get_data(as_text=True)
    assert db.session.query(InterestRelief).count() == 0


def test_the_requester_cannot_approve_on_the_web(app):
    staff = fund_and_staff()
    loan = _loan(staff)
    from tests.conftest import make_user

    both = make_user("officer", "director")
    client = client_for(app, both)
    client.post(f"/loans/{loan.id}/relief", data=FORM)
    relief = db.session.query(InterestRelief).one()
    page = client.get("/loans/approvals").get_data(as_text=True)
    assert f'action="/interest-reliefs/{relief.id}/approve"' not in page
    response = client.post(f"/interest-reliefs/{relief.id}/approve", data={})
    assert response.status_code == 302
    db.session.expire_all()
    assert db.session.get(InterestRelief, relief.id).status == "pending"


def test_the_risk_section_shows_when_removal_is_allowed_and_refuses_it_before(app):
    from fundapp.lending import writeoffs

    staff = fund_and_staff()
    loan = _loan(staff)
    proposal = writeoffs.propose_write_off(
        staff.director, loan.id, "Không thu hồi được", BUSINESS_DATE
    )
    writeoffs.decide_write_off(staff.board, proposal.id, True, "", BUSINESS_DATE)
    db.session.commit()
    director = client_for(app, staff.director)
    page = director.get(f"/loans/{loan.id}/relief").get_data(as_text=True)
    assert "20/11/2031" in page  # risk handled 20/11/2026: removable five years on
    response = director.post(f"/loans/{loan.id}/removals", data={"removal-reason": "Hết hạn"})
    assert response.status_code == 422
    assert "Chưa đủ 5 năm" in response.get_data(as_text=True)
