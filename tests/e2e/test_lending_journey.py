"""The whole lending journey in a real browser: application → appraisal → approval →
contract → disbursement (maker and checker) → repayment → the schedule shows it paid.

The application screens (applications.create /applications/new, applications.detail and
the POST actions submit / appraise / approve) belong to the applications module; this
journey drives them only through their visible labels and buttons.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import date
from typing import Any

import pytest
from playwright.sync_api import Page, expect

from fundapp.extensions import db
from fundapp.ledger.services import record_capital
from tests.conftest import BUSINESS_DATE, make_user
from tests.e2e.conftest import sign_in

# The journey starts a month before the fixture's business date, so that instalment 1
# (one month after the disbursement) falls due on the business date and can be paid then.
START = date(2026, 10, 20)


@pytest.fixture
def journey(live_server: dict[str, Any]) -> Iterator[dict[str, Any]]:
    """Capital in the fund, a second officer to appraise, and the business date moved to
    START for the duration of the test (restored afterwards: the server is shared)."""

    app = live_server["app"]
    with app.app_context():
        record_capital(None, "charter", 15_000_000_000, date(2020, 1, 1), reference="E2E vốn")
        db.session.commit()
        appraiser = make_user("officer", username="e2e.officer2").username
    original = app.config["FUNDAPP_BUSINESS_DATE"]
    app.config["FUNDAPP_BUSINESS_DATE"] = START.isoformat()
    try:
        yield {**live_server, "appraiser": appraiser}
    finally:
        app.config["FUNDAPP_BUSINESS_DATE"] = original


def test_officer_to_repayment_through_the_screens(page: Page, journey):
    base, users = journey["url"], journey["users"]
    page.on("dialog", lambda dialog: dialog.accept())  # every data-confirm prompt

    # Officer: a new application for the fixture's cooperative, then submit it.
    sign_in(page, base, users["officer"])
    page.goto(f"{base}/applications/new")
    page.get_by_label("Hợp tác xã").select_option(label="HTX Vải thiều Thanh Hà")
    page.get_by_label("Tên dự án").fill("Mở rộng vườn vải thiều VietGAP")
    page.get_by_label("Tổng mức đầu tư").fill("500.000.000")
    page.get_by_label("Vốn đối ứng").fill("200.000.000")
    page.get_by_label("Số tiền đề nghị vay").fill("240.000.000")
    page.get_by_label("Thời hạn vay (tháng)").fill("12")
    page.get_by_label("Lãi suất trong hạn").fill("6")
    page.get_by_role("button", name=re.compile("Lưu|Lập hồ sơ")).click()
    expect(page).to_have_url(re.compile(r"/applications/\d+$"))
    application_url = page.url
    page.get_by_role("button", name=re.compile("Nộp hồ sơ")).click()
    expect(page.get_by_text("Đã nộp").first).to_be_visible()

    # A second officer appraises (the one who prepared it may not be the only check).
    sign_in(page, base, journey["appraiser"])
    page.goto(application_url)
    page.get_by_label("Số tiền đề nghị cho vay").fill("240.000.000")
    page.get_by_label("Ý kiến thẩm định").fill("Dự án khả thi, đủ điều kiện vay.")
    page.get_by_role("button", name=re.compile("thẩm định", re.I)).click()
    expect(page.get_by_text("Đã thẩm định").first).to_be_visible()

    # Director approves: the loan is created and its page opens.
    sign_in(page, base, users["director"])
    page.goto(application_url)
    page.get_by_role("button", name="Phê duyệt", exact=True).click()
    loan_link = page.get_by_role("link", name=re.compile(r"HD-\d{4}-\d+")).first
    if not re.search(r"/loans/\d+$", page.url):
        loan_link.click()
    expect(page).to_have_url(re.compile(r"/loans/\d+$"))
    loan_url = page.url
    expect(page.get_by_role("heading", level=1)).to_contain_text("Hợp đồng HD-")

    # Officer signs the contract on the loan page (today's date is filled in).
    sign_in(page, base, users["officer"])
    page.goto(loan_url)
    page.get_by_role("button", name="Xác nhận đã ký hợp đồng").click()
    expect(page.get_by_text("Đã ký hợp đồng").first).to_be_visible()

    # Accountant records the disbursement; the director approves it.
    sign_in(page, base, users["accountant"])
    page.goto(loan_url)
    page.get_by_label("Số tiền giải ngân (đồng)").fill("240.000.000")
    page.get_by_role("button", name="Lập đợt giải ngân").click()
    expect(page.get_by_text("Chờ Giám đốc phê duyệt").first).to_be_visible()

    sign_in(page, base, users["director"])
    page.goto(loan_url)
    page.get_by_role("button", name="Phê duyệt giải ngân").click()
    expect(page.get_by_text("Đã phê duyệt và hạch toán").first).to_be_visible()
    expect(page.locator(".page-sub").get_by_text("Đang vay")).to_be_visible()
    first = page.locator("#instalment-1")
    expect(first).to_contain_text("20/11/2026")
    expect(first).to_contain_text("Chưa đến hạn")

    # A month later (the fixture's business date) instalment 1 falls due and is paid.
    journey["app"].config["FUNDAPP_BUSINESS_DATE"] = BUSINESS_DATE.isoformat()
    sign_in(page, base, users["accountant"])
    page.goto(loan_url)
    expect(page.locator("#instalment-1")).to_contain_text("Đến hạn hôm nay")
    total = page.locator("#instalment-1 td").nth(4).inner_text().replace("đ", "").strip()
    assert re.fullmatch(r"[\d.]+", total), total
    page.get_by_label("Số tiền thu (đồng)").fill(total)
    expect(page.get_by_label("Ngày trả nợ (ngày giá trị)")).to_have_value("20/11/2026")
    page.get_by_role("button", name="Ghi nhận khoản thu").click()
    paid = re.compile(r"Đã thu [\d.]+ đ của hợp đồng HD-2026-\d+, phiếu thu PT-2026-")
    expect(page.get_by_text(paid)).to_be_visible()

    page.goto(f"{loan_url}/schedule")
    row = page.locator("#instalment-1")
    expect(row).to_contain_text("Đã trả")
    expect(row).to_contain_text(f"{total} đ")
    expect(page.locator("#instalment-2")).to_contain_text("Chưa đến hạn")
