"""API v1: interest relief (miễn, giảm lãi) and removal from off-balance tracking (xuất toán):
hand-checked figures, maker/checker, the director's authority, bad input that changes
nothing, an idempotent approval, and the five-year rule of removal."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest
from sqlalchemy import func, select

from fundapp.extensions import db
from fundapp.ledger.models import JournalEntry
from fundapp.ledger.services import check_invariants
from fundapp.lending import writeoffs
from fundapp.loans.relief import InterestRelief, OffBalanceRemoval
from fundapp.policy.models import PolicyParameter
from fundapp.servicing.close_day import run_close_day
from tests.conftest import BUSINESS_DATE, count, make_user
from tests.services.lending_helpers import contracted_loan, disburse

LONG_AGO = date(2025, 6, 2)


def unpaid_loan(staff: Any) -> Any:
    """120.000.000 đ, 12 months at 6 %, monthly, disbursed 02/06/2025, never repaid; closed
    on the business date, so its billed interest is on the books (off-balance: group 5)."""
    loan = contracted_loan(staff, on=LONG_AGO)
    disburse(staff, loan, 120_000_000, LONG_AGO)
    run_close_day(BUSINESS_DATE, "cli")
    db.session.commit()
    return loan


REQUEST = {
    "kind": "reduction",
    "reason_code": "unable_to_pay",
    "interest": 3_500_000,
    "reason": "Dịch bệnh trên đàn gà đồi",
    "evidence": "Biên bản của Trạm thú y ngày 10/11/2026",
}


def test_a_relief_through_the_api_lowers_the_balances_by_the_amount(staff, api):
    loan = unpaid_loan(staff)
    before = api.get(f"/loans/{loan.id}", staff.officer).get_json()["balances"]
    can = api.get(f"/loans/{loan.id}/interest-reliefs/waivable", staff.officer).get_json()
    # Nothing paid: every row due by 20/11/2026 is owed (02/07/2025 … 02/11/2026).
    assert can["interest"] == before["interest_overdue"] + before["interest_due"]
    assert can["penalty"] == before["penalty_due"]
    assert can["director_limit"] == 500_000_000

    response = api.post(f"/loans/{loan.id}/interest-reliefs", staff.officer, REQUEST)
    assert response.status_code == 201, response.get_json()
    relief = response.get_json()
    assert (relief["status"], relief["total"], relief["allocations"]) == ("pending", 3_500_000, [])
    response = api.post(
        f"/interest-reliefs/{relief['id']}/approve", staff.director, {"note": "Đồng ý"}
    )
    assert response.status_code == 200, response.get_json()
    relief = response.get_json()
    assert relief["status"] == "approved" and relief["effective_date"] == "2026-11-20"
    assert relief["journal_entry_id"] is not None

    after = api.get(f"/loans/{loan.id}", staff.officer).get_json()["balances"]
    assert before["interest_overdue"] - after["interest_overdue"] == 3_500_000
    assert before["total_due"] - after["total_due"] == 3_500_000
    assert after["principal_outstanding"] == before["principal_outstanding"] == 120_000_000

    # Oldest row first: row 1 is 120.000.000 × 6 % × 30/365 (02/06 → 02/07/2025)
    # = 591.780,8 → 591.781, waived whole; the lines add up to the relief.
    lines = relief["allocations"]
    assert lines[0] == {"no": 1, "component": "interest", "amount": 591_781}
    assert sum(line["amount"] for line in lines) == 3_500_000
    rows = api.get(f"/loans/{loan.id}/schedule", staff.officer).get_json()["instalments"]
    waived = {line["no"]: line["amount"] for line in lines}
    for row in rows:
        assert row["interest_waived"] == waived.get(row["no"], 0)
        assert row["interest_paid"] == 0  # no money came in
    # Every row but the last one touched is waived whole.
    for line in lines[:-1]:
        assert line["amount"] == rows[line["no"] - 1]["interest"]

    listed = api.get(f"/loans/{loan.id}/interest-reliefs", make_user("controller")).get_json()
    assert [r["id"] for r in listed["items"]] == [relief["id"]]
    assert api.get("/interest-reliefs", staff.officer, status="pending").get_json()["total"] == 0
    assert check_invariants().ok


@pytest.fixture
def pending(staff, api):
    loan = unpaid_loan(staff)
    response = api.post(f"/loans/{loan.id}/interest-reliefs", staff.officer, REQUEST)
    assert response.status_code == 201
    return loan, response.get_json()


def test_the_requester_may_not_decide(staff, api):
    both = make_user("officer", "director")
    loan = unpaid_loan(staff)
    relief = api.post(f"/loans/{loan.id}/interest-reliefs", both, REQUEST).get_json()
    response = api.post(f"/interest-reliefs/{relief['id']}/approve", both, {})
    assert response.status_code == 403
    assert "tự phê duyệt" in response.get_json()["error"]["message"]
    assert db.session.get(InterestRelief, relief["id"]).status == "pending"


def test_above_the_directors_limit_only_the_board_decides(staff, api, pending):
    _loan, relief = pending
    db.session.add(
        PolicyParameter(
            key="director_relief_limit", value="3000000", effective_from=date(2026, 1, 1)
        )
    )
    db.session.commit()
    entries = count(JournalEntry)
    response = api.post(f"/interest-reliefs/{relief['id']}/approve", staff.director, {})
    assert response.status_code == 403
    assert "vượt thẩm quyền" in response.get_json()["error"]["message"]
    assert count(JournalEntry) == entries
    response = api.post(f"/interest-reliefs/{relief['id']}/approve", staff.board, {})
    assert response.status_code == 200
    assert count(JournalEntry) == entries + 1


def test_a_second_approval_under_the_same_key_replays_the_answer(staff, api, pending):
    _loan, relief = pending
    key = {"Idempotency-Key": "ir-1"}
    first = api.post(f"/interest-reliefs/{relief['id']}/approve", staff.director, {}, **key)
    again = api.post(f"/interest-reliefs/{relief['id']}/approve", staff.director, {}, **key)
    assert first.status_code == again.status_code == 200
    assert first.get_json() == again.get_json()
    other = api.post(f"/interest-reliefs/{relief['id']}/approve", staff.board, {})
    assert other.status_code == 422  # already decided
    assert count(JournalEntry) == db.session.scalar(select(func.count(JournalEntry.id)))


def test_a_rejection_waives_nothing(staff, api, pending):
    loan, relief = pending
    before = api.get(f"/loans/{loan.id}", staff.officer).get_json()["balances"]
    response = api.post(
        f"/interest-reliefs/{relief['id']}/reject", staff.director, {"reason": "Thiếu hồ sơ"}
    )
    assert response.status_code == 200
    assert response.get_json()["status"] == "rejected"
    assert api.get(f"/loans/{loan.id}", staff.officer).get_json()["balances"] == before


@pytest.mark.parametrize(
    "change",
    [
        {"interest": 1.5},
        {"interest": -1},
        {"interest": "3500000"},
        {"kind": "forgiveness"},
        {"reason_code": "tired"},
        {"evidence": ""},
        {"interest": 0},
        {"interest": 999_999_999},
        {"extra": 1},
    ],
)
def test_bad_requests_answer_422_and_change_nothing(staff, api, change):
    loan = unpaid_loan(staff)
    response = api.post(f"/loans/{loan.id}/interest-reliefs", staff.officer, {**REQUEST, **change})
    assert response.status_code == 422, response.get_json()
    assert set(response.get_json()["error"]) >= {"code", "message"}
    assert count(InterestRelief) == 0


def test_removal_before_five_years_is_refused_with_the_date(staff, api):
    loan = unpaid_loan(staff)
    proposal = writeoffs.propose_write_off(
        staff.director, loan.id, "Mất khả năng trả nợ", date(2026, 11, 20)
    )
    writeoffs.decide_write_off(staff.board, proposal.id, True, "", date(2026, 11, 20))
    db.session.commit()
    response = api.post(f"/loans/{loan.id}/removals", staff.director, {"reason": "Hết hạn"})
    assert response.status_code == 422
    # Risk handled on 20/11/2026: removal from 20/11/2031.
    assert "20/11/2031" in response.get_json()["error"]["message"]
    assert count(OffBalanceRemoval) == 0
    listed = api.get(f"/loans/{loan.id}/removals", make_user("controller")).get_json()
    assert listed["total"] == 0


def test_the_approvals_queue_lists_a_pending_relief_for_its_deciders(staff, api, pending):
    _loan, relief = pending
    queue = api.get("/approvals", staff.director, kind="interest_relief").get_json()
    (item,) = queue["items"]
    assert (item["id"], item["amount"], item["may_decide"]) == (relief["id"], 3_500_000, True)
    assert item["approve_path"] == f"/interest-reliefs/{relief['id']}/approve"
    mine = api.get("/approvals", staff.officer, kind="interest_relief").get_json()
    assert mine["items"][0]["may_decide"] is False  # the requester
