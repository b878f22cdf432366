"""A cooperative in a real browser: the next due amount, the statement PDF, a notice read,
an application submitted with a document, another cooperative's loan not found; and the
home page on a phone without sideways scrolling.

Its loan (built through the services): 120.000.000 đ at 6 %/year over 12 months, equal
principal, disbursed 05/08/2026, instalment 1 paid on 05/09. On the business date
20/11/2026 the next instalment not yet due is no. 4 on 05/12/2026: 10.000.000 principal
+ 90.000.000 × 6 % × 30/365 = 443.836 interest = 10.443.836 đ.
"""

from __future__ import annotations

import re
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Page, expect

from fundapp.extensions import db
from fundapp.loans.days import Notice
from tests.conftest import BUSINESS_DATE, make_cooperative, make_user
from tests.documents.conftest import pdf_text
from tests.documents.helpers import repay
from tests.e2e.conftest import sign_in
from tests.services.lending_helpers import contracted_loan, disburse, fund_and_staff

PDF = b"%PDF-1.4\n1 0 obj <</Type /Catalog>> endobj\ntrailer <</Root 1 0 R>>\n%%EOF\n"
USERNAME = "e2e.htx.gadoi"


def _notice(loan: Any, no: int, due: str) -> Any:
    return Notice(
        kind="overdue_transfer",
        event_key=f"loan:{loan.id}:inst:{no}:{due}",
        recipient_key=f"coop:{loan.cooperative_id}",
        business_date=BUSINESS_DATE,
        loan_id=loan.id,
        cooperative_id=loan.cooperative_id,
        title=f"Thông báo chuyển nợ quá hạn: {loan.contract_no}",
        data={"no": no, "due_date": due, "overdue_principal": 10_000_000},
    )


@pytest.fixture(scope="module")
def cooperative(live_server: dict[str, Any]) -> dict[str, Any]:
    """Its own cooperative and user (the shared server's first cooperative is the lending
    journey's), its loan, two unread notices, and a neighbour with a loan of its own."""

    with live_server["app"].app_context():
        staff = fund_and_staff()
        coop = make_cooperative(name="HTX Gà đồi Đồng Tâm")
        make_user("cooperative", cooperative=coop, username=USERNAME)
        loan = contracted_loan(staff, cooperative=coop, on=date(2026, 8, 3))
        disburse(staff, loan, 120_000_000, date(2026, 8, 5))
        repay(staff, loan, 10_611_507, date(2026, 9, 5))
        neighbour = make_cooperative(name="HTX Hàng xóm")
        other = contracted_loan(
            staff, amount=60_000_000, cooperative=neighbour, on=date(2026, 10, 1)
        )
        disburse(staff, other, 60_000_000, date(2026, 10, 1))
        db.session.add_all([_notice(loan, 2, "2026-10-05"), _notice(loan, 3, "2026-11-05")])
        db.session.commit()
        return {"loan_id": loan.id, "contract_no": loan.contract_no, "other_loan_id": other.id}


def test_a_cooperative_follows_its_loan_and_applies_online(
    page: Page, live_server, cooperative, tmp_path: Path
):
    base = live_server["url"]
    loan_id = cooperative["loan_id"]
    page.on("dialog", lambda dialog: dialog.accept())

    # Home: the next due date and amount.
    sign_in(page, base, USERNAME)
    expect(page).to_have_url(re.compile(r"/portal/$"))
    next_due = page.locator(f"#next-due-{loan_id}")
    expect(next_due).to_contain_text("Kỳ trả nợ tới: ngày 05/12/2026")
    expect(next_due).to_contain_text("10.443.836 đ")

    # The loan page and its statement PDF (default period: disbursement → business date).
    page.get_by_role("link", name="Lịch trả nợ và lịch sử trả nợ").click()
    expect(page).to_have_url(re.compile(rf"/portal/loans/{loan_id}$"))
    expect(page.locator("#instalment-1")).to_contain_text("Đã trả")
    with page.expect_response(re.compile(r"/statement\.pdf\?")) as statement:
        page.get_by_role("button", name="Tải sao kê khoản vay (PDF)").click()
    response = statement.value
    # One kind of date field (issue 16): the period goes as typed, dd/mm/yyyy.
    assert "from=05%2F08%2F2026" in response.url and "to=20%2F11%2F2026" in response.url
    assert response.status == 200 and response.headers["content-type"] == "application/pdf"
    # The viewer replaces what the page holds; fetch the same URL with the browser's session.
    pdf = page.request.get(response.url).body()
    assert pdf.startswith(b"%PDF-")
    assert cooperative["contract_no"] in pdf_text(pdf, tmp_path, "statement")

    # Notices: two unread; reading one leaves one.
    page.goto(f"{base}/portal/")
    badge = page.locator("#unread-notices")
    expect(badge).to_have_text(re.compile(r"^2"))
    expect(page.get_by_text("Bạn có 2 thông báo chưa đọc.")).to_be_visible()
    page.get_by_role("link", name="Đọc thông báo").click()
    expect(page).to_have_url(re.compile(r"/notices/"))
    page.get_by_role("button", name="Đánh dấu đã đọc").first.click()
    expect(badge).to_have_text(re.compile(r"^1"))

    # Apply online with a document, submitted at once.
    document = tmp_path / "Phuong an chan nuoi ga doi.pdf"
    document.write_bytes(PDF)
    page.get_by_role("link", name="Hồ sơ vay", exact=True).click()
    page.get_by_role("link", name=re.compile("Nộp hồ sơ vay vốn")).first.click()
    page.get_by_label("Tên dự án").fill("Mở rộng đàn gà đồi")
    page.get_by_label("Tổng mức đầu tư").fill("400.000.000")
    page.get_by_label("Vốn đối ứng").fill("120.000.000")
    page.get_by_label("Số tiền đề nghị vay").fill("280.000.000")
    page.get_by_label("Thời hạn vay (tháng)").fill("24")
    page.get_by_label("Chọn các tệp tài liệu").set_input_files(str(document))
    page.get_by_role("button", name="Nộp hồ sơ", exact=True).click()
    expect(page).to_have_url(re.compile(r"/portal/applications/\d+$"))
    expect(page.get_by_text("Đã nộp hồ sơ «Mở rộng đàn gà đồi»")).to_be_visible()
    expect(page.get_by_role("link", name="Phuong an chan nuoi ga doi.pdf")).to_be_visible()
    page.get_by_role("link", name="Hồ sơ vay", exact=True).click()
    row = page.locator("tr", has_text="Mở rộng đàn gà đồi")
    expect(row).to_contain_text("Đã nộp")
    expect(row).to_contain_text("280.000.000 đ")

    # Another cooperative's loan does not exist for this user.
    response = page.goto(f"{base}/portal/loans/{cooperative['other_loan_id']}")
    assert response is not None and response.status == 404
    expect(page.get_by_role("heading", name="Không tìm thấy")).to_be_visible()


def test_the_home_page_fits_a_phone(page: Page, live_server, cooperative):
    base = live_server["url"]
    sign_in(page, base, USERNAME)
    page.set_viewport_size({"width": 375, "height": 812})
    for url in ("/portal/", f"/portal/loans/{cooperative['loan_id']}", "/portal/applications/new"):
        page.goto(f"{base}{url}")
        fits = page.evaluate(
            "document.documentElement.scrollWidth <= document.documentElement.clientWidth"
        )
        assert fits, url
    page.goto(f"{base}/portal/")
    expect(page.locator(f"#next-due-{cooperative['loan_id']}")).to_contain_text("10.443.836 đ")
