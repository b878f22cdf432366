"""Faults during a request: the database unreachable or dropping the connection in the middle
of a write, and an upload the server cannot store. Each gives the user a message (never a
stack trace) and leaves nothing half-saved."""

from __future__ import annotations

import errno
from datetime import date
from pathlib import Path

import pytest
from sqlalchemy import event, func, select
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session

from fundapp.extensions import db
from fundapp.ledger.models import JournalEntry
from fundapp.lending import uploads
from fundapp.loans.models import ApplicationDocument, Loan, Repayment
from tests.conftest import make_app, make_cooperative
from tests.services.lending_helpers import contracted_loan, disburse, fund_and_staff
from tests.web.test_applications import PDF, client_for, create, upload

UNAVAILABLE = "không kết nối được cơ sở dữ liệu"


def _count(model) -> int:
    return db.session.scalar(select(func.count()).select_from(model)) or 0


def test_an_unreachable_database_gives_a_page_and_a_json_error_not_a_trace() -> None:
    app = make_app(SQLALCHEMY_DATABASE_URI="postgresql+psycopg://fund@127.0.0.1:1/fund")
    client = app.test_client()
    with app.app_context():
        page = client.post("/login", data={"username": "ketoan", "password": "x"})
        api = client.post("/api/v1/tokens", json={"username": "ketoan", "password": "x"})
    assert page.status_code == 503 and page.headers["Retry-After"] == "30"
    body = page.get_data(as_text=True)
    assert UNAVAILABLE in body and "Traceback" not in body and "psycopg" not in body
    assert 'href="/login"' in body  # "try again" reloads the same page

    assert api.status_code == 503
    assert api.get_json()["error"]["code"] == "unavailable"
    assert UNAVAILABLE in api.get_json()["error"]["message"]


def test_a_connection_lost_in_the_middle_of_a_repayment_writes_nothing(app) -> None:
    staff = fund_and_staff()
    loan = contracted_loan(staff, on=date(2026, 1, 5))
    disburse(staff, loan, 120_000_000, date(2026, 1, 5))
    loan_id = loan.id
    entries = _count(JournalEntry)
    accountant, _user = client_for(app, "accountant")

    def drop_connection(session, _context) -> None:
        # The repayment and its journal lines are flushed; then the server goes away.
        if any(isinstance(obj, Repayment) for obj in session.new) or any(
            isinstance(obj, Repayment) for obj in session.identity_map.values()
        ):
            raise OperationalError("COMMIT", {}, Exception("server closed the connection"))

    event.listen(Session, "after_flush", drop_connection)
    try:
        response = accountant.post(
            f"/loans/{loan_id}/repayments",
            data={
                "repay-amount": "10.611.507",
                "repay-date": "05/02/2026",
                "repay-method": "bank",
                "repay-reference": "GBC 1",
            },
        )
    finally:
        event.remove(Session, "after_flush", drop_connection)
    assert response.status_code == 503
    assert UNAVAILABLE in response.get_data(as_text=True)
    db.session.expire_all()
    assert _count(Repayment) == 0 and _count(JournalEntry) == entries
    assert db.session.get(Loan, loan_id).principal_outstanding == 120_000_000


@pytest.fixture
def funded_app(app, tmp_path):
    from tests.web.test_applications import _fund

    _fund()
    return app


def test_an_upload_folder_that_cannot_be_created_gives_a_message(funded_app, tmp_path) -> None:
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("a file where the uploads folder should be")
    funded_app.config["UPLOAD_FOLDER"] = str(blocker / "uploads")
    officer, _user = client_for(funded_app, "officer")
    application = create(officer, make_cooperative())
    response = upload(officer, application.id, PDF, "phuong-an.pdf")
    assert response.status_code == 422
    assert "không lưu được tệp" in response.get_data(as_text=True)
    assert _count(ApplicationDocument) == 0
    assert blocker.read_text() == "a file where the uploads folder should be"


def test_a_full_disk_leaves_no_partial_file_and_no_row(funded_app, tmp_path, monkeypatch) -> None:
    folder = tmp_path / "uploads"
    funded_app.config["UPLOAD_FOLDER"] = str(folder)
    officer, _user = client_for(funded_app, "officer")
    application = create(officer, make_cooperative())

    def disk_full(_fd: int) -> None:
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(uploads.os, "fsync", disk_full)
    response = upload(officer, application.id, PDF, "phuong-an.pdf")
    assert response.status_code == 422
    assert "hết dung lượng" in response.get_data(as_text=True)
    assert _count(ApplicationDocument) == 0
    assert list(Path(folder).iterdir()) == []
