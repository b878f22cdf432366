from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect

from tests.conftest import PASSWORD

NAV = {
    "officer": ["Hợp tác xã", "Chính sách cho vay"],
    "accountant": ["Nguồn vốn", "Nhật ký kế toán"],
    "director": ["Bảng điều khiển", "Tổng quan quỹ", "Báo cáo"],
    "board": ["Chính sách cho vay"],
    "controller": ["Nhật ký kiểm toán", "Tổng quan quỹ"],
    "admin": ["Người dùng"],
    "cooperative": ["Trang chủ", "Khoản vay", "Hồ sơ vay", "Hồ sơ HTX"],
}


def sign_in(page: Page, base_url: str, username: str) -> None:
    page.goto(f"{base_url}/login")
    page.get_by_label("Tên đăng nhập").fill(username)
    page.get_by_label("Mật khẩu").fill(PASSWORD)
    page.get_by_role("button", name=re.compile("Đăng nhập")).click()


@pytest.mark.parametrize("role", list(NAV))
def test_each_role_logs_in_and_sees_its_navigation(page: Page, live_server, role):
    sign_in(page, live_server["url"], live_server["users"][role])
    nav = page.locator("nav")
    for label in NAV[role]:
        expect(nav.get_by_role("link", name=label, exact=True).first).to_be_visible()
    if role == "cooperative":
        expect(nav.get_by_role("link", name="Nguồn vốn", exact=True)).to_have_count(0)


def test_accountant_records_a_capital_entry_through_the_form(page: Page, live_server):
    base = live_server["url"]
    page.on("dialog", lambda dialog: dialog.accept())  # the "post to the books?" confirm
    sign_in(page, base, live_server["users"]["accountant"])
    page.goto(f"{base}/capital/new")
    page.get_by_label("Nguồn vốn").select_option("charter")
    page.get_by_label("Số tiền (đồng)").fill("abc")
    page.get_by_role("button", name=re.compile("Ghi nhận")).click()
    expect(page.get_by_text("Số tiền phải là số nguyên đồng", exact=False).first).to_be_visible()

    page.get_by_label("Số tiền (đồng)").fill("1.250.000.000")
    page.get_by_label("Ngày nhận").fill("10/11/2026")
    page.get_by_label("Số chứng từ").fill("QĐ 99/QĐ-UBND")
    page.get_by_role("button", name=re.compile("Ghi nhận")).click()
    expect(page.get_by_text("Đã ghi nhận vốn 1.250.000.000")).to_be_visible()
    expect(page.get_by_text("QĐ 99/QĐ-UBND")).to_be_visible()

    page.goto(f"{base}/fund")
    expect(page.get_by_text("1.250.000.000 đ").first).to_be_visible()


def test_director_lands_on_his_work_and_downloads_the_fund_report(page: Page, live_server):
    base = live_server["url"]
    sign_in(page, base, live_server["users"]["director"])
    expect(page).to_have_url(re.compile(r"/work/"))
    page.get_by_role("link", name="Bảng điều khiển", exact=True).first.click()
    expect(page).to_have_url(re.compile(r"/dashboard"))
    expect(page.locator("svg[role=img]").first).to_be_visible()
    page.get_by_role("link", name="Báo cáo", exact=True).first.click()
    page.get_by_role("link", name="Báo cáo tình hình nguồn vốn và sử dụng vốn").first.click()
    expect(page.get_by_text("Tổng nguồn vốn").first).to_be_visible()
    href = page.get_by_role("link", name="Tải PDF").first.get_attribute("href")
    response = page.request.get(f"{base}{href}")  # with the browser's session
    assert response.headers["content-type"] == "application/pdf"
    assert response.body()[:5] == b"%PDF-"
