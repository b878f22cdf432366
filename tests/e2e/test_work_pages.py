"""The landing pages of work, the collection calendar, the trial balance and the
cooperative's page with the demo fund, in headless Chromium at 1366 px and 390 px: each
role lands on its own work, and no page is wider than the screen (a wide table scrolls in
its own box). Screenshots go to ``$FUNDAPP_SHOTS_DIR`` (default ``/tmp/shots``)."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Browser, expect

from tests.e2e.conftest import SHOTS, WIDTHS, sign_in_demo

# role: (demo login, the sections of /work/ it sees)
ROLES = {
    "officer": ("canbo", ("work-due", "work-overdue", "work-inspections", "work-applications")),
    "accountant": ("ketoan", ("work-accountant", "work-expected", "work-pending")),
    "director": ("giamdoc", ("work-decisions",)),
    "board": ("chutich", ("work-decisions",)),
}
PAGES = (
    "/work/",
    "/work/calendar",
    "/reports/trial-balance",
    "/reports/account-ledger?account=2112",
    "/cooperatives/1",
    "/loans/",
)


@pytest.mark.parametrize("role", list(ROLES))
def test_each_role_lands_on_its_work_and_the_pages_fit(browser: Browser, demo_fund: str, role: str):
    SHOTS.mkdir(parents=True, exist_ok=True)
    username, sections = ROLES[role]
    context = browser.new_context(viewport={"width": WIDTHS[0], "height": 900}, locale="vi-VN")
    page = context.new_page()
    try:
        sign_in_demo(page, demo_fund, username)
        assert page.url == f"{demo_fund}/work/"
        for section in sections:
            expect(page.locator(f"#{section}")).to_be_visible()
        too_wide = []
        for width in WIDTHS:
            page.set_viewport_size({"width": width, "height": 900})
            for href in PAGES:
                response = page.goto(f"{demo_fund}{href}")
                assert response is not None and response.status == 200, href
                scroll = page.evaluate("document.documentElement.scrollWidth")
                if scroll > width:
                    too_wide.append(f"{href} at {width} px: {scroll} px")
                name = re.sub(r"[^A-Za-z0-9]+", "_", f"work_{role}_{width}_{href}").strip("_")
                page.screenshot(path=str(SHOTS / f"{name}.png"), full_page=href == "/work/")
        assert not too_wide, "\n".join(too_wide)
        # The calendar moves by month.
        page.goto(f"{demo_fund}/work/calendar")
        page.get_by_role("link", name=re.compile("Tháng sau")).click()
        expect(page).to_have_url(re.compile(r"month=2026-12"))
    finally:
        context.close()
