"""A cooperative short of equity checks its readiness in a real browser: it types its
amounts and sees the own-equity condition failing, with the amount missing, and every
other condition met.

Cost 500.000.000, own equity 80.000.000, loan 400.000.000 (policy default: own equity at
least 20 %): 100.000.000 needed, 20.000.000 đ missing; the loan is within 500.000.000 −
80.000.000 = 420.000.000.
"""

from __future__ import annotations

import re
from typing import Any

import pytest
from playwright.sync_api import Page, expect

from tests.conftest import make_cooperative, make_user
from tests.e2e.conftest import sign_in

USERNAME = "e2e.htx.readiness"


@pytest.fixture(scope="module")
def cooperative(live_server: dict[str, Any]) -> None:
    with live_server["app"].app_context():
        coop = make_cooperative(name="HTX Rau sạch Tân Yên")
        make_user("cooperative", cooperative=coop, username=USERNAME)


def test_a_cooperative_short_of_equity_sees_that_condition_failing(
    page: Page, live_server, cooperative
):
    base = live_server["url"]
    sign_in(page, base, USERNAME)
    expect(page).to_have_url(re.compile(r"/portal/$"))
    page.get_by_role("link", name="Kiểm tra điều kiện vay vốn").first.click()
    expect(page).to_have_url(re.compile(r"/portal/readiness$"))

    page.get_by_label("Tổng mức đầu tư của dự án (đồng)").fill("500.000.000")
    page.get_by_label("Vốn đối ứng của hợp tác xã (đồng)").fill("80.000.000")
    page.get_by_label("Số tiền đề nghị vay (đồng)").fill("400.000.000")
    page.get_by_label("Mục đích sử dụng vốn").fill("Mua máy sấy rau")
    page.get_by_label("Có tài sản bảo đảm").select_option("yes")
    page.get_by_role("button", name="Kiểm tra điều kiện").click()

    result = page.locator("#readiness-result")
    expect(result).to_contain_text("Còn 1 điều kiện chưa đạt.")
    failing = result.locator('tr[data-passed="no"]')
    expect(failing).to_have_count(1)
    expect(failing).to_have_attribute("id", "readiness-equity")
    expect(failing).to_contain_text("Chưa đạt")
    expect(failing).to_contain_text("Còn thiếu 20.000.000 đ")
    expect(result.locator('tr[data-passed="yes"]')).to_have_count(4)
