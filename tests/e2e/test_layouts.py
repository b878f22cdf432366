"""Every page each role reaches from its menu fits the screen, with the demo fund's data: at
1366 px (a desktop with the side navigation) and at 390 px (a phone), and the portal also
at 360 px. "Fits" means no horizontal scrolling of the page: ``document.documentElement
.scrollWidth`` is at most the viewport's width (a wide table may scroll inside its own box).

One browser context per role, each page visited once per width, so the whole file stays
within a few minutes on two cores. Screenshots of every page go to ``$FUNDAPP_SHOTS_DIR``
(default ``/tmp/shots``) to be looked at.
"""

from __future__ import annotations

import os
import re
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, expect
from werkzeug.serving import make_server

from tests.conftest import BUSINESS_DATE

SHOTS = Path(os.environ.get("FUNDAPP_SHOTS_DIR") or "/tmp/shots")  # noqa: S108 (brief: /tmp/shots)
WIDTHS = (1366, 390)

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


@pytest.fixture(scope="module")
def demo_fund(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The demo fund (`flask demo seed`) served on 127.0.0.1, CSRF on."""
    from config import TestingConfig
    from fundapp.app import create_app
    from fundapp.demo.seed import seed
    from fundapp.extensions import db

    db_file = tmp_path_factory.mktemp("demo") / "fundapp.db"

    class DemoConfig(TestingConfig):
        SQLALCHEMY_DATABASE_URI = f"sqlite:///{db_file}"
        WTF_CSRF_ENABLED = True
        SERVER_NAME = None
        FUNDAPP_BUSINESS_DATE = BUSINESS_DATE.isoformat()
        UPLOAD_FOLDER = str(db_file.parent / "uploads")

    app = create_app(DemoConfig)
    with app.app_context():
        db.create_all()
        seed(BUSINESS_DATE)
        db.session.commit()
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        thread.join(timeout=10)


def _sign_in(page: Page, base: str, username: str) -> None:
    from fundapp.demo.seed import DEMO_PASSWORD

    page.goto(f"{base}/login")
    page.get_by_label("Tên đăng nhập").fill(username)
    page.get_by_label("Mật khẩu").fill(DEMO_PASSWORD)
    page.get_by_role("button", name=re.compile("Đăng nhập")).click()
    expect(page).not_to_have_url(re.compile(r"/login"))
    # The redirect after signing in changes the URL before the landing page has loaded:
    # read the menu only once it is there.
    page.wait_for_load_state("load")
    page.locator("#sidenav a[href]").first.wait_for(state="attached")


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
    context = browser.new_context(viewport={"width": WIDTHS[0], "height": 900}, locale="vi-VN")
    page = context.new_page()
    try:
        _sign_in(page, demo_fund, ROLES[role])
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
    finally:
        context.close()


def test_portal_header_keeps_the_language_buttons_visible(browser: Browser, demo_fund: str):
    """The cooperative's (long) name never covers the EN button, down to 360 px."""
    context = browser.new_context(viewport={"width": 360, "height": 800})
    page = context.new_page()
    try:
        _sign_in(page, demo_fund, ROLES["cooperative"])
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
    finally:
        context.close()


def test_portal_loan_shows_how_to_pay_and_folds_paid_instalments(browser: Browser, demo_fund: str):
    context = browser.new_context(viewport={"width": 390, "height": 800})
    page = context.new_page()
    try:
        _sign_in(page, demo_fund, ROLES["cooperative"])
        page.goto(f"{demo_fund}/portal/loans")
        page.locator("main a[href^='/portal/loans/']").first.click()
        contract = page.get_by_role("heading", level=1).inner_text().split()[-1]
        pay = page.locator(".portal-pay").first
        expect(pay).to_contain_text("Số tài khoản")
        reference = pay.locator(".pay-reference").inner_text()
        assert re.fullmatch(rf"{re.escape(contract)}( K[0-9]+)?", reference), reference
        folded = page.locator("details#paid-instalments")
        if folded.count():
            # Paid instalments are folded away: the page stays short until asked.
            expect(folded).not_to_have_attribute("open", "")
            expect(folded.locator("tbody tr").first).not_to_be_visible()
            folded.locator("summary").click()
            expect(folded.locator("tbody tr").first).to_be_visible()
    finally:
        context.close()


def test_date_fields_take_dd_mm_yyyy_with_a_calendar(browser: Browser, demo_fund: str):
    """One kind of date field: text in dd/mm/yyyy with a small calendar (static/js/app.js)."""
    context = browser.new_context(viewport={"width": 1366, "height": 900})
    page = context.new_page()
    try:
        _sign_in(page, demo_fund, ROLES["controller"])
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
    finally:
        context.close()


def test_money_fields_group_thousands_while_typing(browser: Browser, demo_fund: str):
    context = browser.new_context(viewport={"width": 1366, "height": 900})
    page = context.new_page()
    try:
        _sign_in(page, demo_fund, ROLES["accountant"])
        page.goto(f"{demo_fund}/capital/new")
        amount = page.locator("input.input-money").first
        amount.press_sequentially("1500000")
        expect(amount).to_have_value("1.500.000")
    finally:
        context.close()
