"""Issue 16, defect 4: the approvals page lists everything awaiting a decision (loan
applications appraised, disbursements, reversals, restructurings, write-offs, policy
changes, interest reliefs, removals) and the dashboard's count equals its rows."""

from __future__ import annotations

import re
from datetime import date

import pytest

from fundapp.extensions import db
from fundapp.lending import services as ls
from fundapp.policy import services as policy
from tests.conftest import login, make_cooperative, make_user
from tests.services.lending_helpers import contracted_loan, fund_and_staff

TODAY = date(2026, 11, 20)  # the tests' business date
TBODY = re.compile(r"<tbody>(.*?)</tbody>", re.S)


def rows(page: str) -> int:
    """Rows of the page's tables: one per item awaiting a decision."""
    return sum(body.count("<tr") for body in TBODY.findall(page))


def _appraised(staff, amount: int) -> None:
    app = ls.create_application(
        staff.officer,
        {
            "cooperative_id": make_cooperative().id,
            "project_name": f"Dự án {amount}",
            "total_project_cost": amount * 2,
            "own_equity": amount,
            "requested_amount": amount,
            "term_months": 24,
            "annual_rate": "6",
            "principal_method": "equal_principal",
        },
        TODAY,
    )
    ls.submit(staff.officer, app)
    ls.appraise(staff.appraiser, app, amount, "Phương án khả thi", TODAY)


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
    ls.record_disbursement(staff.accountant, loan.id, {"amount": 50_000_000, "date": TODAY}, TODAY)
    policy.propose(
        staff.board,
        "min_equity_pct",
        "30",
        date(2026, 12, 1),
        "Nghị quyết HĐQL số 5/2026",
        "Siết vốn đối ứng",
        TODAY,
    )
    waiting = ls.create_application(
        staff.officer,
        {
            "cooperative_id": make_cooperative().id,
            "project_name": "Chưa thẩm định",
            "total_project_cost": 200_000_000,
            "own_equity": 100_000_000,
            "requested_amount": 100_000_000,
            "term_months": 24,
            "annual_rate": "6",
            "principal_method": "equal_principal",
        },
        TODAY,
    )
    ls.submit(staff.officer, waiting)
    db.session.commit()
    return staff


@pytest.mark.parametrize("role", ["director", "board"])
def test_the_approvals_page_lists_every_decision_and_the_dashboard_counts_its_rows(
    client, queue, role
):
    login(client, make_user(role))
    page = client.get("/loans/approvals").get_data(as_text=True)
    assert "Hồ sơ vay chờ phê duyệt" in page
    assert "Dự án 400000000" in page and "Dự án 600000000" in page
    assert "Chưa thẩm định" not in page
    assert "Giải ngân chờ duyệt" in page and "Đề xuất thay đổi chính sách" in page
    assert rows(page) == 4  # 2 applications + 1 disbursement + 1 policy change
    # The file above the director's limit is marked for the board.
    board_row = re.search(r"Dự án 600000000.*?</tr>", page, re.S)
    assert board_row and "Hội đồng quản lý" in board_row.group(0)
    dashboard = client.get("/dashboard").get_data(as_text=True)
    assert re.search(r'id="pending-decisions".*?data-count="4"', dashboard, re.S)
    assert re.search(
        r'href="/applications/\?status=appraised">Hồ sơ chờ phê duyệt cho vay</a>\s*'
        r'<span class="badge badge-warning">2</span>',
        dashboard,
    )
    loans = client.get("/loans/").get_data(as_text=True)
    assert re.search(r'href="/loans/approvals">.*?badge-warning">4<', loans, re.S)


def test_an_empty_queue_says_so_and_counts_zero(client, app):
    fund_and_staff()
    login(client, make_user("director"))
    page = client.get("/loans/approvals").get_data(as_text=True)
    assert "Không có việc nào chờ phê duyệt." in page and rows(page) == 0
    dashboard = client.get("/dashboard").get_data(as_text=True)
    assert re.search(r'id="pending-decisions".*?data-count="0"', dashboard, re.S)
