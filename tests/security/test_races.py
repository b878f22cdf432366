"""Real parallel requests at a real threaded server (issue 14): a check and the write it
guards are one step on SQLite (a file database, as ``make run`` serves it) as on
PostgreSQL.

Each test builds its scenario, lets go of every connection, then sends N copies of one
request to 127.0.0.1 at once (the connections are opened first, then a barrier releases
them together), and counts the answers and the rows they left.
"""

from __future__ import annotations

import http.client
import json
import threading
from collections import Counter
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import func, select
from werkzeug.serving import make_server

from fundapp.audit.models import AuditLog
from fundapp.auth.models import LoginThrottle
from fundapp.auth.services import issue_token
from fundapp.extensions import db
from fundapp.ledger.models import JournalEntry
from fundapp.ledger.services import check_invariants
from fundapp.lending import applications, disbursements, restructuring, writeoffs
from fundapp.loans.models import (
    Application,
    Disbursement,
    DisbursementStatus,
    Loan,
    Repayment,
    Restructuring,
    Reversal,
    WriteOff,
)
from fundapp.repayments import services as rs
from tests.conftest import (
    BUSINESS_DATE,
    PG_URL,
    fresh_database,
    make_app,
    make_cooperative,
    make_user,
)
from tests.services.lending_helpers import (
    Staff,
    application_data,
    contracted_loan,
    disburse,
    fund_and_staff,
)

PARALLEL = 10


@dataclass
class Live:
    app: Flask
    port: int

    def fire(
        self, count: int, path: str, body: dict[str, Any], token: str | None = None
    ) -> list[tuple[int, dict[str, Any]]]:
        """``count`` copies of ``POST /api/v1{path}`` sent at the same moment; each answer's
        status and JSON body, in no particular order."""
        barrier = threading.Barrier(count)
        headers = {"Content-Type": "application/json"}
        if token:
            headers["Authorization"] = f"Bearer {token}"
        payload = json.dumps(body)

        def send(_n: int) -> tuple[int, dict[str, Any]]:
            connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=60)
            try:
                connection.connect()
                barrier.wait(timeout=30)
                connection.request("POST", f"/api/v1{path}", body=payload, headers=headers)
                response = connection.getresponse()
                return response.status, json.loads(response.read() or b"{}")
            finally:
                connection.close()

        with ThreadPoolExecutor(max_workers=count) as pool:
            return list(pool.map(send, range(count)))


@pytest.fixture
def live(tmp_path: Path) -> Iterator[Live]:
    """The app on a threaded werkzeug server at 127.0.0.1: on the PostgreSQL pass with the
    test server's database, otherwise with a SQLite file of its own."""
    uri = PG_URL or f"sqlite:///{tmp_path / 'races.db'}"
    app = make_app(
        SQLALCHEMY_DATABASE_URI=uri, SERVER_NAME=None, UPLOAD_FOLDER=str(tmp_path / "uploads")
    )
    with fresh_database(app):
        server = make_server("127.0.0.1", 0, app, threaded=True)
        thread = threading.Thread(target=server.serve_forever, daemon=True)
        thread.start()
        try:
            yield Live(app, server.server_port)
        finally:
            server.shutdown()
            server.server_close()
            thread.join(timeout=10)


def token_of(user: Any) -> str:
    raw, _token = issue_token(user, 1, "races")
    db.session.commit()
    return raw


def let_go() -> None:
    """Commit and give back the test's own connection: it must hold no transaction (on
    SQLite, no lock) while the server works."""
    db.session.commit()
    db.session.remove()


def statuses(answers: list[tuple[int, dict[str, Any]]]) -> Counter[int]:
    return Counter(status for status, _body in answers)


def one_wins(answers: list[tuple[int, dict[str, Any]]]) -> None:
    """Exactly one 200; every other answer refuses the repeat (409 or 422, with a message)."""
    seen = statuses(answers)
    assert seen[200] == 1, answers
    refused = [body for status, body in answers if status != 200]
    assert all(status in (409, 422) for status, _body in answers if status != 200), answers
    assert all(body["error"]["message"] for body in refused), refused


def audited(action: str, entity_id: int) -> int:
    return db.session.scalar(
        select(func.count(AuditLog.id)).where(
            AuditLog.action == action, AuditLog.entity_id == str(entity_id)
        )
    )


def entries(kind: str) -> int:
    return db.session.scalar(select(func.count(JournalEntry.id)).where(JournalEntry.kind == kind))


def books_hold() -> None:
    result = check_invariants()
    assert result.ok, result.problems


def test_parallel_wrong_passwords_count_each_failure_and_lock_at_the_limit(live):
    username = make_user("accountant").username
    limit = live.app.config["LOGIN_MAX_FAILURES"]
    let_go()
    answers = live.fire(40, "/tokens", {"username": username, "password": "sai-mat-khau"})
    assert statuses(answers) == {401: limit, 429: 40 - limit}, answers
    row = db.session.get(LoginThrottle, f"u:{username}")
    assert row.failures == limit and row.locked_until is not None


def test_parallel_disbursements_of_what_remains_make_one_pending_tranche(live):
    staff = fund_and_staff()
    loan = contracted_loan(staff)  # 120.000.000 đ
    disburse(staff, loan, 20_000_000, date(2026, 1, 15))
    loan_id, token = loan.id, token_of(staff.accountant)
    let_go()
    body = {"amount": 100_000_000, "date": BUSINESS_DATE.isoformat()}
    answers = live.fire(PARALLEL, f"/loans/{loan_id}/disbursements", body, token)
    assert statuses(answers) == {201: 1, 422: PARALLEL - 1}, answers
    for status, answer in answers:
        if status == 422:
            assert "0 đ" in answer["error"]["fields"]["amount"], answer  # nothing remains
    pending = db.session.scalars(
        select(Disbursement).where(
            Disbursement.loan_id == loan_id, Disbursement.status == DisbursementStatus.PENDING
        )
    ).all()
    assert [d.amount for d in pending] == [100_000_000]
    receipts = db.session.scalars(select(Disbursement.receipt_no)).all()
    assert len(receipts) == 2 and len(set(receipts)) == 2
    assert audited("disbursement.create", pending[0].id) == 1


def test_parallel_approvals_of_one_tranche_post_it_once(live):
    staff = fund_and_staff()
    loan = contracted_loan(staff)
    tranche = disbursements.record_disbursement(
        staff.accountant, loan.id, {"amount": 120_000_000, "date": "2026-01-15"}, BUSINESS_DATE
    )
    loan_id, tranche_id, token = loan.id, tranche.id, token_of(staff.director)
    let_go()
    one_wins(live.fire(PARALLEL, f"/disbursements/{tranche_id}/approve", {}, token))
    assert audited("disbursement.approve", tranche_id) == 1
    assert entries("disbursement") == 1
    assert audited("loan.active", loan_id) == 1
    loan = db.session.get(Loan, loan_id)
    assert (loan.status, loan.disbursed, loan.principal_outstanding) == (
        "active",
        120_000_000,
        120_000_000,
    )
    books_hold()


def test_parallel_approvals_of_one_reversal_reverse_once(live):
    staff = fund_and_staff()
    loan = contracted_loan(staff)
    disburse(staff, loan, 120_000_000, date(2026, 1, 15))
    repayment = rs.record_repayment(
        staff.accountant, loan.id, {"amount": 5_000_000, "date": "2026-02-15"}, BUSINESS_DATE
    )
    reversal = rs.request_reversal(staff.accountant, repayment.id, "Nhập nhầm số tiền")
    repayment_id, reversal_id, token = repayment.id, reversal.id, token_of(staff.director)
    let_go()
    one_wins(live.fire(PARALLEL, f"/reversals/{reversal_id}/approve", {}, token))
    assert audited("reversal.approve", reversal_id) == 1
    assert entries("reversal") == 1
    assert db.session.get(Reversal, reversal_id).status == "approved"
    assert db.session.get(Repayment, repayment_id).reversed
    books_hold()


def test_parallel_approvals_of_one_restructuring_apply_it_once(live):
    staff = fund_and_staff()
    loan = contracted_loan(staff, on=date(2026, 11, 2))
    disburse(staff, loan, 120_000_000, date(2026, 11, 2))
    request = restructuring.request_restructuring(
        staff.officer,
        loan.id,
        {
            "kind": "extension",
            "effective_date": BUSINESS_DATE.isoformat(),
            "new_maturity": "2028-05-02",
            "reason": "Mất mùa do mưa đá",
        },
        BUSINESS_DATE,
    )
    loan_id, request_id, token = loan.id, request.id, token_of(staff.director)
    let_go()
    one_wins(live.fire(PARALLEL, f"/restructurings/{request_id}/approve", {}, token))
    assert audited("restructuring.approve", request_id) == 1
    assert db.session.get(Restructuring, request_id).status == "approved"
    assert db.session.get(Loan, loan_id).extensions == 1
    books_hold()


def test_parallel_approvals_of_one_write_off_post_it_once(live):
    staff = fund_and_staff()
    loan = contracted_loan(staff, on=date(2025, 6, 2))
    disburse(staff, loan, 120_000_000, date(2025, 6, 2))  # never repaid: group 5 by now
    proposal = writeoffs.propose_write_off(staff.director, loan.id, "HTX giải thể", BUSINESS_DATE)
    loan_id, proposal_id, token = loan.id, proposal.id, token_of(staff.board)
    let_go()
    one_wins(live.fire(PARALLEL, f"/write-offs/{proposal_id}/approve", {}, token))
    assert audited("write_off.approve", proposal_id) == 1
    assert db.session.get(WriteOff, proposal_id).status == "approved"
    assert db.session.get(Loan, loan_id).status == "written_off"
    books_hold()


def test_parallel_approvals_of_one_application_make_one_loan(live):
    staff: Staff = fund_and_staff()
    application = applications.create_application(
        staff.officer,
        application_data(make_cooperative(), 120_000_000, project_name="Nhà sơ chế vải thiều"),
        BUSINESS_DATE,
    )
    applications.submit(staff.officer, application)
    applications.appraise(
        staff.appraiser, application, 120_000_000, "Phương án khả thi", BUSINESS_DATE
    )
    application_id, token = application.id, token_of(staff.director)
    let_go()
    body = {"note": "Đồng ý"}
    one_wins(live.fire(PARALLEL, f"/applications/{application_id}/approve", body, token))
    assert audited("application.approved", application_id) == 1
    assert db.session.get(Application, application_id).status == "approved"
    loans = db.session.scalars(select(Loan).where(Loan.application_id == application_id)).all()
    assert len(loans) == 1
    assert audited("loan.create", loans[0].id) == 1
