"""Issue 16, defect 4: the approvals page lists everything awaiting a decision (loan
applications appraised, disbursements, reversals, restructurings, write-offs, policy
changes, interest reliefs, removals) and the dashboard's count equals its rows."""

from __future__ import annotations

import re
from datetime import date

import pytest

from fundapp.auth.models import UserRole
from fundapp.extensions import db
from fundapp.lending import applications, disbursements
from fundapp.policy import services as policy
from fundapp.work.decisions import decisions_for
from tests.conftest import api_token, login, make_cooperative, make_user
from tests.services.lending_helpers import application_data, contracted_loan, fund_and_staff

TODAY = date(2026, 11, 20)  # the tests' business date
TBODY = re.compile(r"<tbody>(.*?)</tbody>", re.S)


def rows(page: str) -> int:
    """Rows of the page's tables: one per item awaiting a decision."""
    return sum(body.count("<tr") for body in TBODY.findall(page))


def _appraised(staff, amount: int) -> None:
    app = applications.create_application(
        staff.officer,
        application_data(
            make_cooperative(), amount, project_name=f"Dự án {amount}", term_months=24
        ),
        TODAY,
    )
    applications.submit(staff.officer, app)
    applications.appraise(staff.appraiser, app, amount, "Phương án khả thi", TODAY)


@pytest.fixture
def queue(app):
    """Waiting: two appraised applications (400.000.000 within the director's limit of
    500.000.000, 600.000.000 beyond it), one disbursement recorded, one policy change
    proposed: 2 + 1 + 1 = 4 decisions. One application submitted, not yet appraised, is an
    officer's work, not a decision: not counted."""
    staff = fund_and_staff()
    _appraised(staff, 400_000_000)
    _appraised(staff, 600_000_000)
    loan = contracted_loan(staff, 50_000_000, TODAY)
    disbursements.record_disbursement(
        staff.accountant, loan.id, {"amount": 50_000_000, "date": TODAY}, TODAY
    )
    policy.propose(
        staff.board,
        "min_equity_pct",
        "30",
        date(2026, 12, 1),
        "Nghị quyết HĐQL số 5/2026",
        "Siết vốn đối ứng",
        TODAY,
    )
    waiting = applications.create_application(
        staff.officer,
        application_data(
            make_cooperative(), 100_000_000, project_name="Chưa thẩm định", term_months=24
        ),
        TODAY,
    )
    applications.submit(staff.officer, waiting)
    db.session.commit()
    return staff


# Who sees what (hand-checked): the director's limit is 500.000.000.
#   director: "Dự án 400000000" (400.000.000 <= 500.000.000) + the disbursement = 2 rows;
#   board:    "Dự án 600000000" (600.000.000 >  500.000.000) + the policy change = 2 rows.
# The dashboard still counts the whole fund's queue: 2 applications + 1 disbursement + 1 policy
# change = 4.
QUEUES = {
    "director": (
        "Dự án 400000000",
        "Dự án 600000000",
        "Giải ngân chờ duyệt",
        {"application", "disbursement"},
    ),
    "board": (
        "Dự án 600000000",
        "Dự án 400000000",
        "Đề xuất thay đổi chính sách",
        {"application", "policy_change"},
    ),
}


def _landing_count(client) -> int:
    landing = client.get("/work/").get_data(as_text=True)
    match = re.search(r'id="decisions-title">.*?<span class="badge[^"]*">(\d+)<', landing, re.S)
    assert match, "the landing page shows the decisions card"
    assert landing.count('class="decision-item"') == int(match.group(1))
    return int(match.group(1))


@pytest.mark.parametrize("role", ["director", "board"])
def test_each_decider_sees_only_his_queue_and_page_landing_and_api_agree(client, queue, role):
    user = make_user(role)
    sees, not_sees, section, kinds = QUEUES[role]
    login(client, user)
    page = client.get("/loans/approvals").get_data(as_text=True)
    assert "Hồ sơ vay chờ phê duyệt" in page and section in page
    assert sees in page and not_sees not in page
    assert "Chưa thẩm định" not in page
    assert rows(page) == 2
    # The landing page (/work/) counts and lists the same items.
    assert _landing_count(client) == 2
    # The loans list's badge is the same count.
    loans = client.get("/loans/").get_data(as_text=True)
    assert re.search(r'href="/loans/approvals">.*?badge-warning">2<', loans, re.S)
    # The whole fund's queue on the dashboard: 4.
    dashboard = client.get("/dashboard").get_data(as_text=True)
    assert re.search(r'id="pending-decisions".*?data-count="4"', dashboard, re.S)
    # The API lists every item, with may_decide true on exactly this user's rows.
    api = client.get("/api/v1/approvals", headers=api_token(client, user)).get_json()
    assert api["total"] == 4
    assert {i["kind"] for i in api["items"]} == {"application", "disbursement", "policy_change"}
    mine = client.get("/api/v1/approvals?mine=true", headers=api_token(client, user)).get_json()
    assert mine["total"] == 2 and {i["kind"] for i in mine["items"]} == kinds
    application = next(i for i in mine["items"] if i["kind"] == "application")
    assert application["reference"] == sees and application["loan_id"] is None
    assert application["approve_path"] == f"/applications/{application['id']}/approve"


def test_the_maker_does_not_get_his_own_item(client, queue):
    """The board member who proposed the policy change sees only the 600.000.000 file:
    1 row, count 1; the API marks his change not his to decide."""
    login(client, queue.board)
    page = client.get("/loans/approvals").get_data(as_text=True)
    assert "Dự án 600000000" in page and "Đề xuất thay đổi chính sách" not in page
    assert rows(page) == 1
    assert _landing_count(client) == 1
    items = client.get("/api/v1/approvals", headers=api_token(client, queue.board)).get_json()
    change = next(i for i in items["items"] if i["kind"] == "policy_change")
    assert change["may_decide"] is False and change["requested_by_id"] == queue.board.id
    # The appraiser of a file may not decide it either (he is no director: nothing at all).
    assert _queue_of(queue.appraiser) == []


def _queue_of(user) -> list[str]:
    return [d.kind for d in decisions_for(user, TODAY)]


def test_an_appraiser_who_is_also_director_does_not_decide_his_own_file(app, queue):
    db.session.add(UserRole(user_id=queue.appraiser.id, role="director"))
    db.session.commit()
    db.session.refresh(queue.appraiser)
    # Both files were appraised by him: only the disbursement is left for him.
    assert _queue_of(queue.appraiser) == ["disbursement"]


def test_an_empty_queue_says_so_and_counts_zero(client, app):
    fund_and_staff()
    login(client, make_user("director"))
    page = client.get("/loans/approvals").get_data(as_text=True)
    assert "Không có việc nào chờ phê duyệt." in page and rows(page) == 0
    dashboard = client.get("/dashboard").get_data(as_text=True)
    assert re.search(r'id="pending-decisions".*?data-count="0"', dashboard, re.S)
