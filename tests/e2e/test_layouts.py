"""Every page each role reaches from its menu fits the screen, with the demo fund's data: at
1366 px (a desktop with the side navigation) and at 390 px (a phone), and the portal also
at 360 px. "Fits" means no horizontal scrolling of the page: ``document.documentElement
.scrollWidth`` is at most the viewport's width (a wide table may scroll inside its own box).

One browser context per role, each page visited once per width, so the whole file stays
within a few minutes on two cores. Screenshots of every page go to ``$FUNDAPP_SHOTS_DIR``
(default ``/tmp/shots``) to be looked at.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest
from playwright.sync_api import Browser, Page, expect

from tests.e2e.conftest import SHOTS, WIDTHS, sign_in_demo

# One demo login per role (fundapp/demo/seed.py::DEMO_USERS).
ROLES = {
    "officer": "canbo",
    "accountant": "ketoan",
    "director": "giamdoc",
    "board": "chutich",
    "controller": "kiemsoat",
    "admin": "quantri",
    "cooperative": "htx.vaithieu",
}


@contextmanager
def signed_in(
    browser: Browser, base: str, role: str, width: int, height: int, **options: Any
) -> Iterator[Page]:
    """A page of a fresh browser context at ``width`` × ``height``, signed in to the demo
    fund as ``role``; the context is closed afterwards."""
    context = browser.new_context(viewport={"width": width, "height": height}, **options)
    try:
        page = context.new_page()
        sign_in_demo(page, base, ROLES[role])
        yield page
    finally:
        context.close()


def _pages(page: Page, base: str, role: str) -> list[str]:
    """The landing page, every link of the menu and the top bar, and the detail pages one
    click away that the issue names (a loan, its schedule; the portal's loan)."""
    landing = page.url.removeprefix(base)
    links = page.eval_on_selector_all(
        "#sidenav a[href], header.topbar a[href]", "els => els.map(e => e.getAttribute('href'))"
    )
    extra: list[str] = []
    if role == "cooperative":
        page.goto(f"{base}/portal/loans")
        extra += _first(page, r"/portal/loans/[0-9]+")
    elif role != "admin":
        page.goto(f"{base}/loans/")
        for loan in _first(page, r"/loans/[0-9]+"):
            extra += [loan, f"{loan}/schedule"]
    seen: dict[str, None] = {}
    for href in [landing, *links, *extra]:
        if href and href.startswith("/") and not href.startswith("/static/"):
            seen.setdefault(href.split("#")[0], None)
    return list(seen)


def _first(page: Page, pattern: str) -> list[str]:
    """The first link of the page's main part whose path is ``pattern`` (none: [])."""
    hrefs = page.eval_on_selector_all("main a[href]", "els => els.map(e => e.getAttribute('href'))")
    return [h for h in hrefs if re.fullmatch(pattern, h or "")][:1]


def _shot_name(role: str, width: int, href: str) -> str:
    return re.sub(r"[^A-Za-z0-9]+", "_", f"{role}_{width}_{href}").strip("_")[:100] + ".png"


@pytest.mark.parametrize("role", list(ROLES))
def test_every_page_of_the_menu_fits_the_screen(browser: Browser, demo_fund: str, role: str):
    SHOTS.mkdir(parents=True, exist_ok=True)
    with signed_in(browser, demo_fund, role, WIDTHS[0], 900, locale="vi-VN") as page:
        hrefs = _pages(page, demo_fund, role)
        assert len(hrefs) >= 3, hrefs
        widths = (*WIDTHS, 360) if role == "cooperative" else WIDTHS
        too_wide: list[str] = []
        for width in widths:
            page.set_viewport_size({"width": width, "height": 900})
            for href in hrefs:
                response = page.goto(f"{demo_fund}{href}")
                assert response is not None and response.status == 200, (href, response)
                scroll = page.evaluate("document.documentElement.scrollWidth")
                if scroll > width:
                    too_wide.append(f"{href} at {width} px: {scroll} px wide")
                page.screenshot(
                    path=str(SHOTS / _shot_name(role, width, href)),
                    full_page=href == hrefs[0],
                )
        assert not too_wide, "pages wider than the screen:\n" + "\n".join(too_wide)


def test_portal_header_keeps_the_language_buttons_visible(browser: Browser, demo_fund: str):
    """The cooperative's (long) name never covers the EN button, down to 360 px."""
    with signed_in(browser, demo_fund, "cooperative", 360, 800) as page:
        for width in (360, 390, 768, 1024, 1366):
            page.set_viewport_size({"width": width, "height": 800})
            page.goto(f"{demo_fund}/portal/")
            en = page.locator(".lang-btn[lang=en]")
            box = en.bounding_box()
            assert box is not None and box["x"] + box["width"] <= width
            # The point at the button's centre is the button itself, not the fund's name.
            hit = page.evaluate(
                "([x, y]) => document.elementFromPoint(x, y)?.closest('.lang-btn')?.lang",
                [box["x"] + box["width"] / 2, box["y"] + box["height"] / 2],
            )
            assert hit == "en", width


def test_portal_loan_shows_how_to_pay_and_folds_paid_instalments(browser: Browser, demo_fund: str):
    with signed_in(browser, demo_fund, "cooperative", 390, 800) as page:
        page.goto(f"{demo_fund}/portal/loans")
        page.locator("main a[href^='/portal/loans/']").first.click()
        contract = page.get_by_role("heading", level=1).inner_text().split()[-1]
        pay = page.locator(".portal-pay").first
        expect(pay).to_contain_text("Số tài khoản")
        reference = pay.locator(".pay-reference").inner_text()
        # The transfer's reference as the VietQR code carries it: the contract number without
        # its dashes, then the instalment (fundapp/payments/vietqr.py).
        compact = re.sub(r"[^A-Z0-9]", "", contract.upper())
        assert re.fullmatch(rf"{compact}( K[0-9]{{2}})?", reference), reference
        folded = page.locator("details#paid-instalments")
        if folded.count():
            # Paid instalments are folded away: the page stays short until asked.
            expect(folded).not_to_have_attribute("open", "")
            expect(folded.locator("tbody tr").first).not_to_be_visible()
            folded.locator("summary").click()
            expect(folded.locator("tbody tr").first).to_be_visible()


def test_date_fields_take_dd_mm_yyyy_with_a_calendar(browser: Browser, demo_fund: str):
    """One kind of date field: text in dd/mm/yyyy with a small calendar (static/js/app.js)."""
    with signed_in(browser, demo_fund, "controller", 1366, 900) as page:
        page.goto(f"{demo_fund}/audit/")
        field = page.locator("#f-from")
        expect(field).to_have_attribute("type", "text")
        expect(field).to_have_attribute("placeholder", "dd/mm/yyyy")
        page.locator(".date-wrap", has=field).locator(".date-btn").click()
        page.locator(".date-pop .date-grid button", has_text=re.compile(r"^1$")).click()
        assert re.fullmatch(r"01/[0-9]{2}/[0-9]{4}", field.input_value())
        page.get_by_role("button", name="Lọc").click()
        expect(page).to_have_url(re.compile(r"from=01%2F"))
        expect(page.locator("#f-from")).to_have_value(re.compile(r"^01/"))


def test_money_fields_group_thousands_while_typing(browser: Browser, demo_fund: str):
    with signed_in(browser, demo_fund, "accountant", 1366, 900) as page:
        page.goto(f"{demo_fund}/capital/new")
        amount = page.locator("input.input-money").first
        amount.press_sequentially("1500000")
        expect(amount).to_have_value("1.500.000")
