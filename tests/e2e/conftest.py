"""Browser tests: the real app on 127.0.0.1 with CSRF on, driven by Debian's Chromium.

When a test using the ``page`` fixture fails, a full-page screenshot and the page's HTML
are kept under ``$FUNDAPP_ARTIFACTS_DIR/e2e/`` (default ``test-artifacts/e2e/`` at the
project root), named after the test's node id.
"""

from __future__ import annotations

import hashlib
import os
import re
import threading
from collections.abc import Generator, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from playwright.sync_api import Error as PlaywrightError
from playwright.sync_api import Page, expect
from werkzeug.serving import make_server

from config import TestingConfig
from fundapp.app import create_app
from fundapp.demo.seed import DEMO_PASSWORD, seed
from fundapp.extensions import db
from fundapp.policy.services import install_defaults
from tests.conftest import BUSINESS_DATE, PASSWORD, load_units, make_cooperative, make_user

PROJECT_ROOT = Path(__file__).resolve().parents[2]
# Screenshots of the layout tests, to be looked at (not test artefacts: kept on success).
SHOTS = Path(os.environ.get("FUNDAPP_SHOTS_DIR") or "/tmp/shots")  # noqa: S108 (brief: /tmp/shots)
WIDTHS = (1366, 390)  # a desktop with the side navigation, a phone

CHROMIUM = os.environ.get("FUNDAPP_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


def pytest_collection_modifyitems(items: list[Any]) -> None:
    for item in items:
        if "/e2e/" in str(item.fspath):
            item.add_marker(pytest.mark.e2e)


def artifacts_dir() -> Path:
    return Path(os.environ.get("FUNDAPP_ARTIFACTS_DIR") or PROJECT_ROOT / "test-artifacts") / "e2e"


def artifact_stem(nodeid: str) -> str:
    """A file name from a test's node id: path separators, ``::`` and parameter brackets
    become ``_``; a long id is cut and keeps a hash of the whole, so names stay distinct."""
    stem = re.sub(r"[^A-Za-z0-9_.-]+", "_", nodeid).strip("._-") or "test"
    if len(stem) > 120:
        digest = hashlib.sha1(nodeid.encode(), usedforsecurity=False).hexdigest()[:10]
        stem = f"{stem[:109]}-{digest}"
    return stem


def save_failure_artifacts(page: Any, nodeid: str, directory: Path) -> list[Path]:
    """The page's screenshot and HTML as they were when the test failed."""
    directory.mkdir(parents=True, exist_ok=True)
    png = directory / f"{artifact_stem(nodeid)}.png"
    html = png.with_suffix(".html")
    page.screenshot(path=str(png), full_page=True)
    html.write_text(page.content(), encoding="utf-8")
    return [png, html]


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: Any) -> Generator[None, Any, None]:
    outcome = yield
    report = outcome.get_result()
    page = getattr(item, "funcargs", {}).get("page")
    if report.when != "call" or not report.failed or page is None:
        return
    try:
        saved = save_failure_artifacts(page, item.nodeid, artifacts_dir())
    except (PlaywrightError, OSError) as exc:
        lines = [f"could not save the page: {exc}"]
    else:
        lines = [f"saved {path}" for path in saved]
    report.sections.append(("e2e artefacts", "\n".join(lines)))
    terminal = item.config.pluginmanager.get_plugin("terminalreporter")
    if terminal is not None:
        for line in lines:
            terminal.write_line(f"e2e artefact: {line}")


@pytest.fixture(scope="session")
def browser_type_launch_args() -> dict[str, Any]:
    if not Path(CHROMIUM).exists():
        pytest.fail(f"Chromium not found at {CHROMIUM}; run `make venv` as root to install it")
    return {"executable_path": CHROMIUM, "args": CHROMIUM_ARGS, "headless": True}


def browser_app(db_file: Path) -> Flask:
    """The app on a SQLite file, CSRF on, at the tests' business date, as a browser uses it."""

    class BrowserConfig(TestingConfig):
        SQLALCHEMY_DATABASE_URI = f"sqlite:///{db_file}"
        WTF_CSRF_ENABLED = True
        SERVER_NAME = None
        FUNDAPP_BUSINESS_DATE = BUSINESS_DATE.isoformat()
        UPLOAD_FOLDER = str(db_file.parent / "uploads")

    return create_app(BrowserConfig)


@contextmanager
def serve(app: Flask) -> Iterator[str]:
    """``app`` served on 127.0.0.1 (a free port) in a thread; its base URL."""
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        thread.join(timeout=10)


def sign_in(page: Page, base_url: str, username: str, password: str = PASSWORD) -> None:
    """Sign in afresh (the cookies of an earlier user cleared) and wait for the signed-in
    page."""
    page.context.clear_cookies()
    page.goto(f"{base_url}/login")
    page.get_by_label("Tên đăng nhập").fill(username)
    page.get_by_label("Mật khẩu").fill(password)
    page.get_by_role("button", name=re.compile("Đăng nhập")).click()
    expect(page.get_by_role("button", name="Đăng xuất").first).to_be_attached()


def sign_in_demo(page: Page, base: str, username: str) -> None:
    """Sign in to the demo fund as one of its demo logins (fundapp/demo/seed.py::DEMO_USERS)."""
    page.goto(f"{base}/login")
    page.get_by_label("Tên đăng nhập").fill(username)
    page.get_by_label("Mật khẩu").fill(DEMO_PASSWORD)
    page.get_by_role("button", name=re.compile("Đăng nhập")).click()
    expect(page).not_to_have_url(re.compile(r"/login"))
    # The redirect after signing in changes the URL before the landing page has loaded:
    # read the menu only once it is there.
    page.wait_for_load_state("load")
    page.locator("#sidenav a[href]").first.wait_for(state="attached")


@pytest.fixture(scope="session")
def live_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    app = browser_app(tmp_path_factory.mktemp("e2e") / "fundapp.db")
    with app.app_context():
        db.create_all()
        load_units()

        install_defaults()
        coop = make_cooperative(name="HTX Vải thiều Thanh Hà")
        users = {
            role: make_user(
                role, username=f"e2e.{role}", cooperative=coop if role == "cooperative" else None
            ).username
            for role in (
                "officer",
                "accountant",
                "director",
                "board",
                "controller",
                "cooperative",
                "admin",
            )
        }
        db.session.commit()
    with serve(app) as url:
        yield {"url": url, "users": users, "app": app}


@pytest.fixture(scope="module")
def demo_fund(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The demo fund (`flask demo seed`) served on 127.0.0.1, CSRF on; its base URL. One per
    module, so a module's pages see the demo fund as seeded."""
    app = browser_app(tmp_path_factory.mktemp("demo") / "fundapp.db")
    with app.app_context():
        db.create_all()
        seed(BUSINESS_DATE)
        db.session.commit()
    with serve(app) as url:
        yield url


@pytest.fixture(scope="session")
def base_url(live_server: dict[str, Any]) -> str:
    return live_server["url"]
