"""API v1: a policy change is proposed by one board member and in force only once another
approves it; a value outside the parameter's legal range is refused with the range and the
act (issue 14 point 10: the outside probe's ``single_borrower_limit_pct=1000`` and
``overdue_rate_pct=0``)."""

from __future__ import annotations

import http.client
import threading
from collections import Counter
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select
from werkzeug.serving import make_server

from fundapp.audit.models import AuditLog
from fundapp.auth.services import issue_token
from fundapp.extensions import db
from fundapp.policy import services as policy
from fundapp.policy.models import PolicyChange, PolicyParameter
from tests.api.conftest import API, token
from tests.conftest import PG_URL, count, fresh_database, make_app, make_user
from tests.services.lending_helpers import fund_and_staff

LATER = date(2026, 12, 1)


def body(value: str, effective_from: str = "2026-12-01") -> dict[str, str]:
    return {
        "value": value,
        "effective_from": effective_from,
        "legal_reference": "Nghị quyết 04/NQ-HĐQL ngày 18/11/2026",
        "note": "Điều chỉnh theo nghị quyết",
    }


@pytest.fixture
def board(app) -> dict[str, Any]:
    staff = fund_and_staff()
    maker, checker = staff.board, make_user("board")
    return {
        "maker": maker,
        "checker": checker,
        "maker_h": token(maker),
        "checker_h": token(checker),
        "reader_h": token(make_user("controller")),
    }


def propose(client: Any, board: dict[str, Any], key: str, value: str, **over: str) -> dict:
    response = client.post(
        f"{API}/policy/{key}/versions", headers=board["maker_h"], json={**body(value), **over}
    )
    assert response.status_code == 202, response.get_json()
    return response.get_json()


@pytest.mark.parametrize(
    ("key", "value", "allowed"),
    [
        ("single_borrower_limit_pct", "1000", "lớn hơn 0 % và không quá 15 %"),
        ("overdue_rate_pct", "0", "từ 100 % đến 150 %"),
        ("related_group_limit_pct", "25.01", "không quá 25 %"),
        ("late_interest_rate", "10,01", "từ 0 % đến 10 %"),
    ],
)
def test_the_probe_values_are_refused_with_the_range_and_nothing_changes(
    client, board, key, value, allowed
):
    before = policy.snapshot(LATER)
    response = client.post(
        f"{API}/policy/{key}/versions", headers=board["maker_h"], json=body(value)
    )
    assert response.status_code == 422, response.get_json()
    problem = response.get_json()["error"]
    assert allowed in problem["fields"]["value"], problem
    assert ("Nghị định 45/2021/NĐ-CP" in problem["fields"]["value"]) or (
        "Bộ luật Dân sự 2015" in problem["fields"]["value"]
    )
    assert count(PolicyChange) == 0 and count(PolicyParameter, key=key) == 1
    assert policy.snapshot(LATER) == before


def test_one_proposes_another_approves_and_it_is_in_force_from_its_date(client, board):
    change = propose(client, board, "single_borrower_limit_pct", "12,5")
    assert (change["status"], change["value"], change["effective_from"]) == (
        "pending",
        "12.5",
        "2026-12-01",
    )
    assert policy.value("single_borrower_limit_pct", LATER) == Decimal("15")

    listed = client.get(f"{API}/policy-changes?status=pending", headers=board["checker_h"])
    assert listed.status_code == 200, listed.get_json()
    items = listed.get_json()["items"]
    assert [(c["id"], c["may_decide"]) for c in items] == [(change["id"], True)]
    mine = client.get(f"{API}/policy-changes?status=pending", headers=board["maker_h"])
    assert [c["may_decide"] for c in mine.get_json()["items"]] == [False]
    reader = client.get(
        f"{API}/policy-changes?key=single_borrower_limit_pct", headers=board["reader_h"]
    )
    assert reader.get_json()["total"] == 1
    assert reader.get_json()["items"][0]["may_decide"] is False
    assert (
        client.get(f"{API}/policy-changes?status=approved", headers=board["reader_h"]).get_json()[
            "total"
        ]
        == 0
    )

    url = f"{API}/policy-changes/{change['id']}/approve"
    own = client.post(url, headers=board["maker_h"], json={})
    assert own.status_code == 403, own.get_json()
    assert "tự phê duyệt" in own.get_json()["error"]["message"]
    assert policy.value("single_borrower_limit_pct", LATER) == Decimal("15")

    approved = client.post(url, headers=board["checker_h"], json={"note": "Đồng ý"})
    assert approved.status_code == 200, approved.get_json()
    decided = approved.get_json()
    assert (decided["status"], decided["decided_by_id"], decided["decision_note"]) == (
        "approved",
        board["checker"].id,
        "Đồng ý",
    )
    assert decided["version_id"] is not None and decided["may_decide"] is False
    assert policy.value("single_borrower_limit_pct", date(2026, 11, 30)) == Decimal("15")
    assert policy.value("single_borrower_limit_pct", LATER) == Decimal("12.5")

    again = client.post(url, headers=board["checker_h"], json={})
    assert again.status_code == 409, again.get_json()
    third = client.post(url, headers=token(make_user("board")), json={})
    assert third.status_code == 409
    assert count(PolicyParameter, key="single_borrower_limit_pct") == 2

    actions = [
        (a.action, a.user_id)
        for a in db.session.scalars(
            select(AuditLog).where(AuditLog.action.like("policy.%")).order_by(AuditLog.id)
        )
    ]
    assert actions == [
        ("policy.propose", board["maker"].id),
        ("policy.approve", board["checker"].id),
        ("policy.change", board["checker"].id),
    ]


def test_a_rejection_needs_a_reason_and_a_rejected_change_cannot_be_approved(client, board):
    change = propose(client, board, "overdue_rate_pct", "120")
    url = f"{API}/policy-changes/{change['id']}"
    missing = client.post(f"{url}/reject", headers=board["checker_h"], json={})
    assert missing.status_code == 422 and "reason" in missing.get_json()["error"]["fields"]
    blank = client.post(f"{url}/reject", headers=board["checker_h"], json={"reason": "   "})
    assert blank.status_code == 422
    own = client.post(f"{url}/reject", headers=board["maker_h"], json={"reason": "Nhầm"})
    assert own.status_code == 403
    rejected = client.post(
        f"{url}/reject", headers=board["checker_h"], json={"reason": "Trái Điều 25"}
    )
    assert rejected.status_code == 200, rejected.get_json()
    assert (rejected.get_json()["status"], rejected.get_json()["decision_note"]) == (
        "rejected",
        "Trái Điều 25",
    )
    assert client.post(f"{url}/approve", headers=board["checker_h"], json={}).status_code == 409
    assert (
        client.post(f"{url}/reject", headers=board["checker_h"], json={"reason": "x"}).status_code
        == 409
    )
    assert policy.value("overdue_rate_pct", LATER) == Decimal("150")
    assert count(AuditLog, action="policy.reject", user_id=board["checker"].id) == 1


def test_only_the_maker_withdraws(client, board):
    change = propose(client, board, "due_soon_days", "10")
    url = f"{API}/policy-changes/{change['id']}/withdraw"
    assert client.post(url, headers=board["checker_h"], json={}).status_code == 403
    withdrawn = client.post(url, headers=board["maker_h"], json={})
    assert withdrawn.status_code == 200, withdrawn.get_json()
    assert withdrawn.get_json()["status"] == "withdrawn"
    assert client.post(url, headers=board["maker_h"], json={}).status_code == 409
    approve = f"{API}/policy-changes/{change['id']}/approve"
    assert client.post(approve, headers=board["checker_h"], json={}).status_code == 409


def test_deciding_is_the_boards_and_unknown_changes_are_not_found(client, board):
    change = propose(client, board, "min_equity_pct", "25")
    for role in ("director", "officer", "accountant", "controller", "admin"):
        headers = token(make_user(role))
        for action in ("approve", "reject", "withdraw"):
            url = f"{API}/policy-changes/{change['id']}/{action}"
            assert client.post(url, headers=headers, json={"reason": "x"}).status_code == 403
    assert (
        client.get(f"{API}/policy-changes", headers=token(make_user("cooperative"))).status_code
        == 403
    )
    for action in ("approve", "reject", "withdraw"):
        url = f"{API}/policy-changes/99999/{action}"
        assert client.post(url, headers=board["checker_h"], json={"reason": "x"}).status_code == 404
    assert db.session.get(PolicyChange, change["id"]).status == "pending"
    bad = client.get(f"{API}/policy-changes?status=maybe", headers=board["reader_h"])
    assert bad.status_code == 422 and "status" in bad.get_json()["error"]["fields"]


# --- at the same moment --------------------------------------------------------------------


@pytest.fixture
def live(tmp_path: Path) -> Iterator[int]:
    """The app on a threaded server at 127.0.0.1 (the PostgreSQL pass's database, otherwise a
    SQLite file of its own); yields its port."""
    uri = PG_URL or f"sqlite:///{tmp_path / 'policy.db'}"
    app = make_app(SQLALCHEMY_DATABASE_URI=uri, SERVER_NAME=None)
    with fresh_database(app):
        server = make_server("127.0.0.1", 0, app, threaded=True)
        thread = threading.Thread(target=server.serve_forever, daemon=True)
        thread.start()
        try:
            yield server.server_port
        finally:
            server.shutdown()
            server.server_close()
            thread.join(timeout=10)


def test_parallel_approvals_by_different_board_members_write_one_version(live):
    """The change's row is locked before its state is checked: of ten board members
    approving it at once, one does, the nine others get 409."""
    fund_and_staff()
    maker = make_user("board")
    change = policy.propose(
        maker, "due_soon_days", "10", LATER, "NQ 6/2026", "Nhắc sớm hơn", date(2026, 11, 20)
    )
    change_id = change.id
    tokens = [issue_token(make_user("board"), 1, "race")[0] for _ in range(10)]
    db.session.commit()
    db.session.remove()  # no transaction (on SQLite, no lock) while the server works
    barrier = threading.Barrier(len(tokens))

    def approve(raw: str) -> int:
        connection = http.client.HTTPConnection("127.0.0.1", live, timeout=60)
        try:
            connection.connect()
            barrier.wait(timeout=30)
            connection.request(
                "POST",
                f"{API}/policy-changes/{change_id}/approve",
                body="{}",
                headers={"Content-Type": "application/json", "Authorization": f"Bearer {raw}"},
            )
            response = connection.getresponse()
            response.read()
            return response.status
        finally:
            connection.close()

    with ThreadPoolExecutor(max_workers=len(tokens)) as pool:
        answers = Counter(pool.map(approve, tokens))
    assert answers == Counter({200: 1, 409: 9}), answers
    assert count(PolicyParameter, key="due_soon_days") == 2
    assert count(AuditLog, action="policy.approve", entity_id=str(change_id)) == 1
    assert count(AuditLog, action="policy.change") == 1
    assert policy.value("due_soon_days", LATER) == 10
