"""The landing pages of work, the collection calendar, the trial balance and the
cooperative's page with the demo fund, in headless Chromium at 1366 px and 390 px: each
role lands on its own work, and no page is wider than the screen (a wide table scrolls in
its own box). Screenshots go to ``$FUNDAPP_SHOTS_DIR`` (default ``/tmp/shots``)."""

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

SHOTS = Path(os.environ.get("FUNDAPP_SHOTS_DIR") or "/tmp/shots")  # noqa: S108
WIDTHS = (1366, 390)
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


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    from config import TestingConfig
    from fundapp.app import create_app
    from fundapp.demo.seed import seed
    from fundapp.extensions import db

    db_file = tmp_path_factory.mktemp("work") / "fundapp.db"

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


@pytest.mark.parametrize("role", list(ROLES))
def test_each_role_lands_on_its_work_and_the_pages_fit(browser: Browser, demo: str, role: str):
    SHOTS.mkdir(parents=True, exist_ok=True)
    username, sections = ROLES[role]
    context = browser.new_context(viewport={"width": WIDTHS[0], "height": 900}, locale="vi-VN")
    page = context.new_page()
    try:
        _sign_in(page, demo, username)
        assert page.url == f"{demo}/work/"
        for section in sections:
            expect(page.locator(f"#{section}")).to_be_visible()
        too_wide = []
        for width in WIDTHS:
            page.set_viewport_size({"width": width, "height": 900})
            for href in PAGES:
                response = page.goto(f"{demo}{href}")
                assert response is not None and response.status == 200, href
                scroll = page.evaluate("document.documentElement.scrollWidth")
                if scroll > width:
                    too_wide.append(f"{href} at {width} px: {scroll} px")
                name = re.sub(r"[^A-Za-z0-9]+", "_", f"work_{role}_{width}_{href}").strip("_")
                page.screenshot(path=str(SHOTS / f"{name}.png"), full_page=href == "/work/")
        assert not too_wide, "\n".join(too_wide)
        # The calendar moves by month.
        page.goto(f"{demo}/work/calendar")
        page.get_by_role("link", name=re.compile("Tháng sau")).click()
        expect(page).to_have_url(re.compile(r"month=2026-12"))
    finally:
        context.close()
