"""The risk committee (Decree 45/2021 Art. 29): a meeting for an ended quarter, the
decision on each risk handling proposal, the close that applies them through the board's
write-off decision, read-only afterwards; its pages, API and quarterly pack PDF."""

from __future__ import annotations

from datetime import date

import pytest

from fundapp.audit.models import AuditLog
from fundapp.domain.errors import DomainError, PermissionDenied, ValidationFailed
from fundapp.extensions import db
from fundapp.ledger import accounts as acc
from fundapp.ledger.models import JournalLine
from fundapp.ledger.services import balances, check_invariants
from fundapp.lending import committee, writeoffs
from fundapp.loans import posting
from fundapp.loans.committee import CommitteeMeeting
from fundapp.loans.models import Loan, LoanStatus, WriteOff
from fundapp.servicing.close_day import run_close_day
from tests.conftest import BUSINESS_DATE, api_token, client_for, make_user
from tests.services.lending_helpers import contracted_loan, disburse, fund_and_staff

LONG_AGO = date(2025, 6, 2)
QUARTER_END = date(2026, 9, 30)
HELD_ON = date(2026, 10, 15)
MEETING = committee.MeetingInput(
    HELD_ON,
    "Trụ sở Quỹ",
    "Nguyễn Văn An — Chủ tịch\nTrần Thị Bình — Giám đốc\nLê Văn Cường — Kế toán trưởng",
    "Hội đồng xem xét phân loại nợ quý III và đề nghị xử lý rủi ro.",
)


@pytest.fixture
def book(app):
    """Two loans of 120.000.000 đ from 02/06/2025, nothing repaid: group 5 at 30/09/2026
    (the first instalment, 02/07/2025, is 455 days past due); each proposed for risk
    handling by the director."""
    staff = fund_and_staff()
    loans = []
    for _ in range(2):
        loan = contracted_loan(staff, on=LONG_AGO)
        disburse(staff, loan, 120_000_000, LONG_AGO)
        loans.append(loan)
    run_close_day(QUARTER_END, "cli")
    db.session.commit()
    proposals = [
        writeoffs.propose_write_off(staff.director, loan.id, "Mất khả năng trả nợ", BUSINESS_DATE)
        for loan in loans
    ]
    db.session.commit()
    return staff, loans, proposals


def _open(staff):
    meeting = committee.open_meeting(staff.board, "2026-Q3", MEETING, BUSINESS_DATE)
    db.session.commit()
    return meeting


def _lines(entry_id):
    return {
        line.account: (line.debit, line.credit)
        for line in db.session.query(JournalLine).filter_by(entry_id=entry_id)
    }


def test_closing_applies_each_decision_through_the_board_write_off(book):
    staff, (first, second), (approve_it, reject_it) = book
    meeting = _open(staff)
    assert [p.id for p in committee.proposals(meeting)] == [approve_it.id, reject_it.id]
    committee.record_decision(staff.board, meeting.id, approve_it.id, "defer", "Cần thêm hồ sơ")
    committee.record_decision(staff.board, meeting.id, approve_it.id, "approve", "Đủ điều kiện")
    committee.record_decision(staff.board, meeting.id, reject_it.id, "reject", "Còn tài sản")
    db.session.commit()
    # Nothing is posted before the close.
    assert first.status == LoanStatus.ACTIVE and approve_it.status == "pending"

    committee.close_meeting(staff.board, meeting.id, BUSINESS_DATE)
    db.session.commit()
    assert meeting.status == "closed" and meeting.closed_by_id == staff.board.id
    assert approve_it.status == "approved" and approve_it.approved_by_id == staff.board.id
    assert reject_it.status == "rejected"
    assert first.status == LoanStatus.WRITTEN_OFF and first.principal_outstanding == 0
    assert second.status == LoanStatus.ACTIVE
    # By hand: 120.000.000 đ overdue since 02/07/2025, provisioned 100 % (group 5) at the
    # close of 30/09/2026, so the provision absorbs it exactly: Dr 2191 / Cr 2112, and the
    # memo Dr written-off loans / Cr its contra; nothing expensed or released.
    assert _lines(approve_it.journal_entry_id) == {
        acc.PROVISION: (120_000_000, 0),
        acc.LOANS_OVERDUE: (0, 120_000_000),
        acc.WRITTEN_OFF_MEMO: (120_000_000, 0),
        acc.MEMO_CONTRA: (0, 120_000_000),
    }
    assert approve_it.amount == first.written_off == 120_000_000
    assert balances()[acc.WRITTEN_OFF_MEMO] == 120_000_000
    position = posting.ledger_position(first.id)
    assert (position[acc.LOANS_OVERDUE], position[acc.PROVISION]) == (0, 0)
    assert posting.ledger_position(second.id)[acc.LOANS_OVERDUE] == 120_000_000
    result = check_invariants()
    assert result.ok, result.problems
    actions = [a.action for a in db.session.query(AuditLog).order_by(AuditLog.id)]
    for action in (
        "committee.open",
        "committee.decision",
        "write_off.approve",
        "write_off.reject",
        "committee.close",
    ):
        assert action in actions


def test_a_closed_meeting_is_read_only_and_a_deferral_stays_pending(book):
    staff, _loans, (deferred, _other) = book
    meeting = _open(staff)
    committee.record_decision(staff.board, meeting.id, deferred.id, "defer", "Bổ sung hồ sơ")
    committee.close_meeting(staff.board, meeting.id, BUSINESS_DATE)
    db.session.commit()
    assert deferred.status == "pending"
    assert [p.id for p in committee.proposals(meeting)] == [deferred.id]  # decided here only
    for attempt in (
        lambda: committee.update_meeting(staff.board, meeting.id, MEETING, BUSINESS_DATE),
        lambda: committee.record_decision(staff.board, meeting.id, deferred.id, "approve", "x"),
        lambda: committee.close_meeting(staff.board, meeting.id, BUSINESS_DATE),
    ):
        with pytest.raises(DomainError, match="đã kết thúc"):
            attempt()
        db.session.rollback()


def test_only_the_board_records_and_the_proposer_never_decides(book):
    staff, _loans, (proposal, _other) = book
    with pytest.raises(PermissionDenied):
        committee.open_meeting(staff.director, "2026-Q3", MEETING, BUSINESS_DATE)
    db.session.rollback()
    meeting = _open(staff)
    with pytest.raises(PermissionDenied):
        committee.record_decision(staff.director, meeting.id, proposal.id, "approve", "x")
    db.session.rollback()
    # A board member who also proposed it: the write-off's rule refuses at the close.
    both = make_user("director", "board")
    loan = contracted_loan(staff, on=LONG_AGO)
    disburse(staff, loan, 50_000_000, LONG_AGO)
    own = writeoffs.propose_write_off(both, loan.id, "Mất khả năng trả nợ", BUSINESS_DATE)
    committee.record_decision(both, meeting.id, own.id, "approve", "Đồng ý")
    db.session.commit()
    with pytest.raises(PermissionDenied, match=loan.contract_no):
        committee.close_meeting(both, meeting.id, BUSINESS_DATE)
    db.session.rollback()
    assert db.session.get(CommitteeMeeting, meeting.id).status == "draft"
    assert db.session.get(WriteOff, own.id).status == "pending"


def test_a_proposal_decided_elsewhere_meanwhile_can_only_be_deferred(book):
    staff, (first, _second), (proposal, _other) = book
    meeting = _open(staff)
    committee.record_decision(staff.board, meeting.id, proposal.id, "approve", "Đồng ý")
    writeoffs.decide_write_off(staff.board, proposal.id, False, "Từ chối", BUSINESS_DATE)
    db.session.commit()
    with pytest.raises(DomainError, match=first.contract_no):
        committee.close_meeting(staff.board, meeting.id, BUSINESS_DATE)
    db.session.rollback()
    with pytest.raises(DomainError):
        committee.record_decision(staff.board, meeting.id, proposal.id, "reject", "x")
    db.session.rollback()
    committee.record_decision(staff.board, meeting.id, proposal.id, "defer", "Đã xử lý riêng")
    committee.close_meeting(staff.board, meeting.id, BUSINESS_DATE)
    db.session.commit()
    assert proposal.status == "rejected" and first.status == LoanStatus.ACTIVE


@pytest.mark.parametrize(
    ("quarter", "changes", "field"),
    [
        ("2026-Q5", {}, "quarter"),
        ("2026-Q4", {}, "quarter"),  # not ended on 20/11/2026
        ("2026-Q3", {"held_on": date(2026, 9, 30)}, "held_on"),
        ("2026-Q3", {"held_on": date(2026, 11, 21)}, "held_on"),
        ("2026-Q3", {"held_on": None}, "held_on"),
        ("2026-Q3", {"place": " "}, "place"),
        ("2026-Q3", {"members": ""}, "members"),
    ],
)
def test_bad_meetings_are_refused_naming_the_field(book, quarter, changes, field):
    staff = book[0]
    data = committee.MeetingInput(**{**vars(MEETING), **changes})
    with pytest.raises(ValidationFailed) as caught:
        committee.open_meeting(staff.board, quarter, data, BUSINESS_DATE)
    assert field in caught.value.fields and caught.value.status_code == 422


def test_bad_decisions_and_a_second_meeting_are_refused(book):
    staff, _loans, (proposal, _other) = book
    meeting = _open(staff)
    with pytest.raises(ValidationFailed):
        committee.open_meeting(staff.board, "2026-Q3", MEETING, BUSINESS_DATE)
    with pytest.raises(ValidationFailed):
        committee.record_decision(staff.board, meeting.id, proposal.id, "maybe", "x")
    with pytest.raises(ValidationFailed):
        committee.record_decision(staff.board, meeting.id, proposal.id, "approve", "  ")
    no_minutes = committee.MeetingInput(HELD_ON, "Trụ sở", "An", "")
    committee.update_meeting(staff.board, meeting.id, no_minutes, BUSINESS_DATE)
    with pytest.raises(ValidationFailed) as caught:
        committee.close_meeting(staff.board, meeting.id, BUSINESS_DATE)
    assert "minutes" in caught.value.fields


def test_pages_and_access(app, book):
    staff, (first, _second), (proposal, _other) = book
    officer = client_for(app, staff.officer)
    assert officer.get("/committee").status_code == 403
    director = client_for(app, staff.director)
    assert director.get("/committee").status_code == 200
    form = {
        "quarter": "2026-Q3",
        "held_on": "15/10/2026",
        "place": "Trụ sở Quỹ",
        "members": "Nguyễn Văn An\nTrần Thị Bình",
        "minutes": "Hội đồng họp.",
    }
    assert director.post("/committee", data=form).status_code == 403
    board = client_for(app, staff.board)
    bad = board.post("/committee", data={**form, "quarter": "2026-Q9"})
    assert bad.status_code == 422 and "2026-Q3" in bad.get_data(as_text=True)
    response = board.post("/committee", data=form)
    assert response.status_code == 302
    meeting = db.session.query(CommitteeMeeting).one()
    page = board.get(f"/committee/{meeting.id}").get_data(as_text=True)
    assert first.contract_no in page
    assert f'action="/committee/{meeting.id}/decisions/{proposal.id}"' in page
    url = f"/committee/{meeting.id}/decisions/{proposal.id}"
    prefix = f"d{proposal.id}-"
    assert board.post(url, data={prefix + "decision": "approve"}).status_code == 422
    done = board.post(url, data={prefix + "decision": "approve", prefix + "reason": "Đủ"})
    assert done.status_code == 302
    assert director.post(f"/committee/{meeting.id}/close").status_code == 403
    assert board.post(f"/committee/{meeting.id}/close").status_code == 302
    db.session.expire_all()
    assert db.session.get(Loan, first.id).status == LoanStatus.WRITTEN_OFF
    page = board.get(f"/committee/{meeting.id}").get_data(as_text=True)
    assert f"/committee/{meeting.id}/close" not in page  # read-only
    assert f'action="/committee/{meeting.id}/decisions/' not in page
    assert director.get(f"/committee/{meeting.id}").status_code == 200
    pdf = director.get(f"/committee/{meeting.id}/pack.pdf")
    assert pdf.status_code == 200 and pdf.mimetype == "application/pdf"
    assert officer.get(f"/committee/{meeting.id}/pack.pdf").status_code == 403


def test_api(app, book):
    staff, (first, _second), (proposal, _other) = book
    client = app.test_client()
    board = api_token(client, staff.board)
    officer = api_token(client, staff.officer)
    controller = api_token(client, make_user("controller"))
    body = {
        "quarter": "2026-Q3",
        "held_on": "2026-10-15",
        "place": "Trụ sở Quỹ",
        "members": "Nguyễn Văn An",
    }
    base = "/api/v1/committee/meetings"
    assert client.post(base, json=body, headers=officer).status_code == 403
    early = client.post(base, json={**body, "held_on": "2026-09-30"}, headers=board)
    assert early.status_code == 422 and "held_on" in str(early.get_json())
    assert client.post(base, json={**body, "extra": 1}, headers=board).status_code == 422
    created = client.post(base, json=body, headers=board)
    assert created.status_code == 201, created.get_json()
    meeting_id = created.get_json()["id"]
    assert created.get_json()["proposals"][0]["write_off_id"] == proposal.id
    url = f"{base}/{meeting_id}/decisions/{proposal.id}"
    bad = client.put(url, json={"decision": "maybe", "reason": "x"}, headers=board)
    assert bad.status_code == 422
    ok = client.put(url, json={"decision": "approve", "reason": "Đủ điều kiện"}, headers=board)
    assert ok.status_code == 200
    closing = client.post(f"{base}/{meeting_id}/close", headers=board)
    assert closing.status_code == 422  # no minutes yet
    changed = client.patch(f"{base}/{meeting_id}", json={"minutes": "Đã họp."}, headers=board)
    assert changed.status_code == 200 and changed.get_json()["minutes"] == "Đã họp."
    closed = client.post(f"{base}/{meeting_id}/close", headers=board)
    assert closed.status_code == 200 and closed.get_json()["status"] == "closed"
    db.session.expire_all()
    assert db.session.get(Loan, first.id).status == LoanStatus.WRITTEN_OFF
    again = client.patch(f"{base}/{meeting_id}", json={"minutes": "sửa"}, headers=board)
    assert again.status_code == 422
    assert client.get(base, headers=controller).get_json()["items"][0]["status"] == "closed"
    pdf = client.get(f"{base}/{meeting_id}/pack.pdf", headers=controller)
    assert pdf.status_code == 200 and pdf.data.startswith(b"%PDF-")
    assert client.get(f"{base}/{meeting_id}", headers=officer).status_code == 403
