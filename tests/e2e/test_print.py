"""Lists print on A4 (issue 16): Chromium's own print of a list page, with the print
stylesheet, gives no empty first page and turns a page with a wide table to landscape."""

from __future__ import annotations

import re
from typing import Any

import pytest

from tests.conftest import PASSWORD

pytestmark = pytest.mark.e2e

# A4 in PDF points: 595.28 x 841.89 (210 x 297 mm at 72 pt per inch).
A4_LANDSCAPE = (842, 595)


def _page_sizes(pdf: bytes) -> list[tuple[int, int]]:
    boxes = re.findall(rb"/MediaBox\s*\[\s*0 0 ([\d.]+) ([\d.]+)\s*\]", pdf)
    return [(round(float(w)), round(float(h))) for w, h in boxes]


def test_the_cooperative_list_prints_on_one_landscape_a4_page(page: Any, live_server: Any):
    base = live_server["url"]
    page.goto(f"{base}/login")
    page.get_by_label("Tên đăng nhập").fill(live_server["users"]["officer"])
    page.get_by_label("Mật khẩu").fill(PASSWORD)
    page.get_by_role("button", name="Đăng nhập").click()
    page.goto(f"{base}/cooperatives/")
    pdf = page.pdf(prefer_css_page_size=True, print_background=False)
    sizes = _page_sizes(pdf)
    # One cooperative: the list fits one page, and that page is A4 landscape (not an
    # empty first page followed by the table).
    assert sizes == [A4_LANDSCAPE], sizes
