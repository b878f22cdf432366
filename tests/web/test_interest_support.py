"""Interest support on the web: the director creates a scheme and enrols a loan, the loan
page shows the budget's share, the accountant files the claim and records its payment; the
claim report in HTML, PDF, Excel and JSON; bad input answered with a message."""

from __future__ import annotations

import subprocess
from datetime import date
from io import BytesIO

from openpyxl import load_workbook

from fundapp.extensions import db
from fundapp.ledger import accounts as acc
from fundapp.ledger.services import balances, check_invariants
from fundapp.loans.models import Instalment
from fundapp.servicing.close_day import run_close_day, run_pending
from fundapp.support.models import SupportClaim, SupportScheme
from tests.conftest import BUSINESS_DATE, api_token, client_for, count
from tests.services.lending_helpers import contracted_loan, disburse, fund_and_staff

# The business date is 20/11/2026. A 120.000.000 đ loan at 7,2 %/year disbursed 15/06/2026:
# its rows due 15/07–15/11 fall in the scheme (50 %, due dates from 01/07/2026).
ON = date(2026, 6, 15)
SCHEME_FORM = {
    "code": "htls-2026",
    "name": "Hỗ trợ lãi suất sản xuất nông nghiệp",
    "legal_basis": "Nghị quyết 24/2018/NQ-HĐND tỉnh Bắc Giang",
    "paying_agency": "Sở Tài chính",
    "share": "50",
    "first_due": "01/07/2026",
    "last_due": "",
    "cap_per_loan": "",
    "purposes": "",
}


def _setup(app):
    staff = fund_and_staff()
    loan = contracted_loan(staff, amount=120_000_000, on=date(2026, 6, 1), annual_rate="7.2")
    run_close_day(ON, "cli")
    db.session.commit()
    return staff, loan


def test_scheme_enrolment_claim_and_payment_through_the_pages(app):
    staff, loan = _setup(app)
    director = client_for(app, staff.director)
    assert director.get("/support/").status_code == 200
    response = director.post("/support/new", data=SCHEME_FORM)
    assert response.status_code == 302
    scheme = db.session.query(SupportScheme).one()
    assert scheme.code == "HTLS-2026"
    # Enrolled before the first disbursement: every row due from 01/07 is split.
    response = director.post(
        f"/support/{scheme.id}/enrol", data={"enrol-contract_no": loan.contract_no}
    )
    assert response.status_code == 302
    disburse(staff, loan, 120_000_000, ON)
    run_pending(BUSINESS_DATE, "cli")
    db.session.commit()
    rows = db.session.query(Instalment).filter_by(loan_id=loan.id).order_by(Instalment.no).all()
    # Row 1: 30 days × 120.000.000 × 7,2 % / 365 = 710.136,99 → 710.137; half 355.068,5 →
    # 355.069 for the budget, 355.068 for the borrower.
    assert (rows[0].interest, rows[0].interest_supported) == (710_137, 355_069)
    page = director.get(f"/loans/{loan.id}").get_data(as_text=True)
    assert "Ngân sách hỗ trợ lãi" in page and "355.069" in page

    accountant = client_for(app, staff.accountant)
    report = accountant.get("/reports/support-claim?scheme=HTLS-2026&to=2026-10-31")
    assert report.status_code == 200
    billed = [r for r in rows if r.due_date <= date(2026, 10, 31)]
    total = sum(r.interest_supported for r in billed)
    assert f"{total:,}".replace(",", ".") in report.get_data(as_text=True)
    response = accountant.post(
        f"/support/{scheme.id}/claims", data={"claim-period_to": "31/10/2026"}
    )
    assert response.status_code == 302
    claim = db.session.query(SupportClaim).one()
    assert (claim.amount, len(claim.lines)) == (total, len(billed))

    pdf = accountant.get(f"/reports/support-claim.pdf?scheme=HTLS-2026&claim={claim.reference}")
    assert pdf.status_code == 200 and pdf.mimetype == "application/pdf"
    text = subprocess.run(
        ["pdftotext", "-layout", "-", "-"], input=pdf.data, capture_output=True, check=True
    ).stdout.decode()
    assert "Sở Tài chính" in text and f"{total:,}".replace(",", ".") in text
    xlsx = accountant.get(f"/reports/support-claim.xlsx?scheme=HTLS-2026&claim={claim.reference}")
    sheet = load_workbook(BytesIO(xlsx.data)).worksheets[0]
    assert total in [cell.value for row in sheet.iter_rows() for cell in row]

    headers = api_token(app.test_client(), staff.accountant)
    api = app.test_client().get(
        f"/api/v1/reports/support-claim?scheme=HTLS-2026&claim={claim.reference}",
        headers=headers,
    )
    body = api.get_json()
    assert (body["total"], body["status"], len(body["lines"])) == (total, "submitted", len(billed))
    assert body["lines"][0]["borrower_share"] == 355_068

    response = accountant.post(
        f"/support/claims/{claim.id}/paid",
        data={"pay-paid_on": "19/11/2026", "pay-reference": "UNC 0412"},
    )
    assert response.status_code == 302
    db.session.refresh(claim)
    assert claim.status == "paid"
    assert (
        balances()[acc.SUPPORT_RECEIVABLE]
        == sum(r.interest_supported for r in rows if r.due_date < BUSINESS_DATE) - total
    )
    assert check_invariants().ok


def test_bad_input_is_answered_with_a_message_and_nothing_saved(app):
    staff, _loan = _setup(app)
    director = client_for(app, staff.director)
    response = director.post("/support/new", data={**SCHEME_FORM, "share": "năm mươi"})
    assert response.status_code == 422
    assert "Tỷ lệ hỗ trợ" in response.get_data(as_text=True)
    assert count(SupportScheme) == 0
    director.post("/support/new", data=SCHEME_FORM)
    scheme = db.session.query(SupportScheme).one()
    response = director.post(f"/support/{scheme.id}/enrol", data={"enrol-contract_no": "HD-X"})
    assert response.status_code == 422
    assert "Không tìm thấy hợp đồng" in response.get_data(as_text=True)
    officer = client_for(app, staff.officer)
    assert officer.post(f"/support/{scheme.id}/enrol", data={}).status_code == 403
    report = officer.get("/reports/support-claim?scheme=NOPE")
    assert report.status_code in (403, 422)
    accountant = client_for(app, staff.accountant)
    bad = accountant.get("/reports/support-claim?scheme=NOPE")
    assert bad.status_code == 422 and "NOPE" in bad.get_data(as_text=True)
    bad = accountant.post(f"/support/{scheme.id}/claims", data={"claim-period_to": "hôm qua"})
    assert bad.status_code == 422 and count(SupportClaim) == 0
