"""Browser tests: the real app on 127.0.0.1 with CSRF on, driven by Debian's Chromium."""

from __future__ import annotations

import os
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from werkzeug.serving import make_server

from tests.conftest import BUSINESS_DATE

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


@pytest.fixture(scope="session")
def browser_type_launch_args() -> dict[str, Any]:
    if not Path(CHROMIUM).exists():
        pytest.fail(f"Chromium not found at {CHROMIUM}; run `make venv` as root to install it")
    return {"executable_path": CHROMIUM, "args": CHROMIUM_ARGS, "headless": True}


@pytest.fixture(scope="session")
def live_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    from config import TestingConfig
    from fundapp import create_app
    from fundapp.extensions import db

    db_file = tmp_path_factory.mktemp("e2e") / "fundapp.db"

    class E2EConfig(TestingConfig):
        SQLALCHEMY_DATABASE_URI = f"sqlite:///{db_file}"
        WTF_CSRF_ENABLED = True
        SERVER_NAME = None
        FUNDAPP_BUSINESS_DATE = BUSINESS_DATE.isoformat()

    app = create_app(E2EConfig)
    with app.app_context():
        db.create_all()
        from fundapp.policy.services import install_defaults
        from tests.conftest import make_cooperative, make_user

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
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield {"url": f"http://127.0.0.1:{server.server_port}", "users": users, "app": app}
    finally:
        server.shutdown()
        thread.join(timeout=10)


@pytest.fixture(scope="session")
def base_url(live_server: dict[str, Any]) -> str:
    return live_server["url"]
