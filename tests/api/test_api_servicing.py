"""API v1 servicing: cancellation, collateral, loan-use inspections, write-offs, a loan's
history lists and the approvals queue — figures checked by hand, the role matrix, the own-
cooperative rule, bad input that changes nothing, and an idempotent write-off approval."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest
from sqlalchemy import select

from fundapp.extensions import db
from fundapp.ledger import accounts as acc
from fundapp.ledger.models import JournalEntry
from fundapp.ledger.services import balances, check_invariants
from fundapp.lending import contracts, disbursements, restructuring, writeoffs
from fundapp.loans.models import Collateral, Inspection, Loan, WriteOff
from fundapp.repayments import services as rs
from fundapp.servicing.close_day import run_close_day
from tests.api.conftest import error
from tests.conftest import BUSINESS_DATE, count, make_cooperative, make_user
from tests.services.lending_helpers import contracted_loan, disburse

LONG_AGO = date(2025, 6, 2)


def unpaid_loan(staff: Any, **kwargs: Any) -> Loan:
    """120.000.000 đ, 12 months at 6 %, disbursed 02/06/2025 and never repaid: the first
    instalment (02/07/2025) is 506 days past due on 20/11/2026, so the loan is group 5."""
    loan = contracted_loan(staff, on=LONG_AGO, **kwargs)
    disburse(staff, loan, 120_000_000, LONG_AGO)
    return loan


# --- cancellation -----------------------------------------------------------------------------


def test_director_cancels_a_contracted_loan_with_a_reason(staff, api):
    loan = contracted_loan(staff)
    response = api.post(f"/loans/{loan.id}/cancel", staff.director, {"reason": "HTX rút đề nghị"})
    assert response.status_code == 200, response.get_json()
    body = response.get_json()
    assert body["status"] == "cancelled" and body["disbursed"] == 0
    assert body["balances"]["principal_outstanding"] == 0
    history = api.get(f"/loans/{loan.id}/transitions", staff.officer).get_json()["items"]
    assert [(t["from_status"], t["to_status"]) for t in history] == [
        ("", "approved"),
        ("approved", "contracted"),
        ("contracted", "cancelled"),
    ]
    assert history[-1]["reason"] == "HTX rút đề nghị"
    assert history[-1]["user_id"] == staff.director.id


def test_cancellation_needs_the_director_or_board_a_reason_and_no_disbursement(staff, api):
    loan = contracted_loan(staff)
    for who in (staff.officer, staff.accountant, make_user("controller")):
        assert api.post(f"/loans/{loan.id}/cancel", who, {"reason": "x"}).status_code == 403
    coop_user = make_user("cooperative", cooperative=loan.cooperative)
    assert api.post(f"/loans/{loan.id}/cancel", coop_user, {"reason": "x"}).status_code == 403
    assert "reason" in error(api.post(f"/loans/{loan.id}/cancel", staff.board, {}))["fields"]
    blank = error(api.post(f"/loans/{loan.id}/cancel", staff.board, {"reason": "  "}))
    assert blank["fields"]["reason"] == "Cần ghi lý do hủy."
    assert (
        "x"
        in error(api.post(f"/loans/{loan.id}/cancel", staff.board, {"reason": "a", "x": 1}))[
            "fields"
        ]
    )
    assert api.post("/loans/999999/cancel", staff.board, {"reason": "x"}).status_code == 404
    assert api.post(f"/loans/{2**40}/cancel", staff.board, {"reason": "x"}).status_code == 404
    disbursements.record_disbursement(
        staff.accountant, loan.id, {"amount": 1_000_000, "date": BUSINESS_DATE}, BUSINESS_DATE
    )
    db.session.commit()
    pending = error(api.post(f"/loans/{loan.id}/cancel", staff.board, {"reason": "Thôi"}))
    assert "đã có giải ngân" in pending["message"]
    assert db.session.get(Loan, loan.id).status == "contracted"


# --- collateral ---------------------------------------------------------------------------------


def test_collateral_lowers_the_provision_from_the_next_close_of_day(staff, api):
    loan = unpaid_loan(staff)
    assert run_close_day(BUSINESS_DATE).ran
    db.session.commit()
    # Group 5 is provisioned at 100 %: 120.000.000 đ, nothing to deduct yet.
    assert db.session.get(Loan, loan.id).debt_group == 5
    assert balances()[acc.PROVISION] == 120_000_000

    response = api.post(
        f"/loans/{loan.id}/collateral",
        staff.officer,
        {
            "kind": "Quyền sử dụng đất",
            "description": "Thửa 112, tờ bản đồ số 7, xã Thanh Hà",
            "valuation": 100_000_000,
            "discount_factor": "0.5",
        },
    )
    assert response.status_code == 201, response.get_json()
    item = response.get_json()
    assert (item["valuation"], item["discount_factor"], item["counted"]) == (
        100_000_000,
        "0.5",
        50_000_000,
    )
    listed = api.get(f"/loans/{loan.id}/collateral", make_user("controller")).get_json()
    assert [c["id"] for c in listed["items"]] == [item["id"]] and listed["total"] == 1

    assert run_close_day(date(2026, 11, 21)).ran
    db.session.commit()
    # 100 % × (120.000.000 − 100.000.000 × 0,5) = 70.000.000 đ: 50.000.000 released.
    assert balances()[acc.PROVISION] == 70_000_000
    # The release is income (7901), not a credit to the expense, which keeps 120.000.000.
    assert balances()[acc.PROVISION_EXPENSE] == 120_000_000
    assert balances()[acc.PROVISION_RELEASE_INCOME] == 50_000_000
    assert check_invariants().ok


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"valuation": 0}, "valuation"),
        ({"valuation": -5}, "valuation"),
        ({"valuation": "100.000.000"}, "valuation"),
        ({"valuation": 1.5}, "valuation"),
        ({"discount_factor": "1.5"}, "discount_factor"),
        ({"discount_factor": "nửa"}, "discount_factor"),
        ({"kind": ""}, "kind"),
        ({"kind": "x" * 61}, "kind"),
        ({"owner": "HTX"}, "owner"),
    ],
)
def test_bad_collateral_is_refused_and_nothing_is_stored(staff, api, changes, field):
    loan = contracted_loan(staff)
    data = {"kind": "Máy móc", "valuation": 50_000_000, "discount_factor": "0.3", **changes}
    assert field in error(api.post(f"/loans/{loan.id}/collateral", staff.officer, data))["fields"]
    assert count(Collateral) == 0


def test_collateral_roles_state_and_own_cooperative(staff, api):
    loan = contracted_loan(staff)
    data = {"kind": "Máy móc", "valuation": 50_000_000}
    for who in (staff.accountant, staff.director, make_user("controller")):
        assert api.post(f"/loans/{loan.id}/collateral", who, data).status_code == 403
    member = make_user("cooperative", cooperative=loan.cooperative)
    assert api.post(f"/loans/{loan.id}/collateral", member, data).status_code == 403
    assert api.get(f"/loans/{loan.id}/collateral", member).status_code == 403
    contracts.cancel(staff.director, loan, "HTX rút đề nghị")
    db.session.commit()
    closed = error(api.post(f"/loans/{loan.id}/collateral", staff.officer, data))
    assert closed["message"] == "Chỉ thêm tài sản bảo đảm cho khoản vay chưa kết thúc."
    assert api.get("/loans/999999/collateral", staff.officer).status_code == 404
    assert count(Collateral) == 0


# --- inspections --------------------------------------------------------------------------------


def test_officer_records_inspections_listed_latest_first(staff, api):
    loan = contracted_loan(staff)
    disburse(staff, loan, 120_000_000, date(2026, 1, 15))
    first = api.post(
        f"/loans/{loan.id}/inspections",
        staff.officer,
        {"inspected_on": "2026-03-10", "finding": "proper", "notes": "Đã mua 2 máy bơm"},
    )
    assert first.status_code == 201, first.get_json()
    assert first.get_json()["finding_label"] == "Đúng mục đích"
    second = api.post(
        f"/loans/{loan.id}/inspections",
        staff.appraiser,
        {"inspected_on": "2026-09-01", "finding": "partial"},
    )
    assert second.status_code == 201
    assert second.get_json()["inspector_id"] == staff.appraiser.id
    listed = api.get(f"/loans/{loan.id}/inspections", staff.director).get_json()
    assert [(i["inspected_on"], i["finding"]) for i in listed["items"]] == [
        ("2026-09-01", "partial"),
        ("2026-03-10", "proper"),
    ]


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"inspected_on": "2026-01-14"}, "inspected_on"),  # before the disbursement
        ({"inspected_on": "2026-11-21"}, "inspected_on"),  # after the business date
        ({"inspected_on": "14/03/2026"}, "inspected_on"),
        ({"finding": "good"}, "finding"),
        ({"notes": "x" * 5001}, "notes"),
    ],
)
def test_bad_inspections_are_refused(staff, api, changes, field):
    loan = contracted_loan(staff)
    disburse(staff, loan, 120_000_000, date(2026, 1, 15))
    data = {"inspected_on": "2026-03-10", "finding": "proper", **changes}
    assert field in error(api.post(f"/loans/{loan.id}/inspections", staff.officer, data))["fields"]
    assert count(Inspection) == 0


def test_inspections_need_a_disbursed_loan_and_an_officer(staff, api):
    loan = contracted_loan(staff)
    data = {"inspected_on": "2026-03-10", "finding": "proper"}
    refused = error(api.post(f"/loans/{loan.id}/inspections", staff.officer, data))
    assert refused["message"] == "Chỉ kiểm tra sử dụng vốn khi đã giải ngân."
    for who in (staff.director, make_user("cooperative", cooperative=loan.cooperative)):
        assert api.post(f"/loans/{loan.id}/inspections", who, data).status_code == 403
    assert count(Inspection) == 0


# --- write-offs ---------------------------------------------------------------------------------


def test_write_off_approved_once_uses_the_provision_and_posts_a_balanced_entry(staff, api):
    loan = unpaid_loan(staff)
    assert run_close_day(BUSINESS_DATE).ran
    db.session.commit()
    before = balances()
    assert before[acc.LOANS_OVERDUE] == 120_000_000 and before[acc.LOANS_IN_TERM] == 0
    assert before[acc.PROVISION] == 120_000_000

    proposed = api.post(
        f"/loans/{loan.id}/write-offs",
        staff.director,
        {"reason": "HTX giải thể, không còn tài sản"},
    )
    assert proposed.status_code == 201, proposed.get_json()
    proposal = proposed.get_json()
    assert (proposal["status"], proposal["amount"]) == ("pending", 120_000_000)
    assert proposal["proposed_by_id"] == staff.director.id

    path = f"/write-offs/{proposal['id']}/approve"
    key = {"Idempotency-Key": "wo-1"}
    approved = api.post(path, staff.board, {"note": "Đồng ý xử lý"}, **key)
    assert approved.status_code == 200, approved.get_json()
    result = approved.get_json()
    assert result["status"] == "approved" and result["approved_by_id"] == staff.board.id
    again = api.post(path, staff.board, {"note": "Đồng ý xử lý"}, **key)
    assert again.status_code == 200 and again.get_json() == result
    assert again.headers["Idempotent-Replayed"] == "true"
    assert count(WriteOff) == 1

    loan = db.session.get(Loan, loan.id)
    assert loan.status == "written_off"
    assert (loan.written_off, loan.principal_outstanding) == (120_000_000, 0)
    after = balances()
    # The provision held covers the whole principal: it is used up, nothing more expensed.
    assert after[acc.PROVISION] == 0
    assert after[acc.PROVISION_EXPENSE] == before[acc.PROVISION_EXPENSE] == 120_000_000
    assert after[acc.LOANS_OVERDUE] == 0 and after[acc.WRITTEN_OFF_MEMO] == 120_000_000
    entries = db.session.scalars(select(JournalEntry).where(JournalEntry.kind == "write_off"))
    (entry,) = list(entries)
    assert entry.id == result["journal_entry_id"]
    lines = sorted((line.account, line.debit, line.credit) for line in entry.lines)
    assert lines == sorted(
        [
            (acc.PROVISION, 120_000_000, 0),
            (acc.LOANS_OVERDUE, 0, 120_000_000),
            (acc.WRITTEN_OFF_MEMO, 120_000_000, 0),
            (acc.MEMO_CONTRA, 0, 120_000_000),
        ]
    )
    assert sum(d for _a, d, _c in lines) == sum(c for _a, _d, c in lines) == 240_000_000
    assert check_invariants().ok
    journal = api.get("/journal", staff.accountant, kind="write_off").get_json()
    assert [e["id"] for e in journal["items"]] == [entry.id]
    assert journal["items"][0]["total"] == 240_000_000


def test_write_off_roles_and_separation_of_duties(staff, api):
    loan = unpaid_loan(staff)
    reason = {"reason": "Mất khả năng trả nợ"}
    for who in (staff.officer, staff.accountant, staff.board, make_user("controller")):
        assert api.post(f"/loans/{loan.id}/write-offs", who, reason).status_code == 403
    member = make_user("cooperative", cooperative=loan.cooperative)
    assert api.post(f"/loans/{loan.id}/write-offs", member, reason).status_code == 403
    assert api.get(f"/loans/{loan.id}/write-offs", member).status_code == 403

    both = make_user("director", "board")
    proposal = api.post(f"/loans/{loan.id}/write-offs", both, reason).get_json()
    path = f"/write-offs/{proposal['id']}/approve"
    assert api.post(path, staff.director).status_code == 403  # not the board
    own = error(api.post(path, both), 403)
    assert own["message"] == "Người đề nghị không được tự phê duyệt."
    twice = error(api.post(f"/loans/{loan.id}/write-offs", staff.director, reason))
    assert twice["message"] == "Khoản vay đã có đề nghị xử lý rủi ro đang chờ phê duyệt."
    assert count(WriteOff) == 1
    assert db.session.get(Loan, loan.id).status == "active"

    rejected = api.post(f"/write-offs/{proposal['id']}/reject", staff.board, {"reason": "Còn TSBĐ"})
    assert rejected.status_code == 200 and rejected.get_json()["status"] == "rejected"
    assert error(api.post(path, staff.board))["message"] == "Đề nghị này đã được xử lý."
    assert db.session.get(Loan, loan.id).status == "active"
    assert [
        w["status"]
        for w in api.get(f"/loans/{loan.id}/write-offs", staff.officer).get_json()["items"]
    ] == ["rejected"]
    assert api.post("/write-offs/999999/approve", staff.board).status_code == 404
    assert api.post(f"/write-offs/{2**40}/reject", staff.board).status_code == 404


def test_write_off_input_and_the_group_five_rule(staff, api):
    recent = contracted_loan(staff, on=date(2026, 5, 20))
    disburse(staff, recent, 120_000_000, date(2026, 5, 20))
    early = error(api.post(f"/loans/{recent.id}/write-offs", staff.director, {"reason": "Mất mùa"}))
    # Due 20/06/2026, unpaid: 153 days past due on 20/11/2026, below group 5's 180
    # (Circular 14/2024/TT-NHNN, from 12/08/2024).
    assert "quá hạn 153 ngày" in early["message"]
    missing = error(api.post(f"/loans/{recent.id}/write-offs", staff.director, {}))
    assert missing["fields"]["reason"] == "Bắt buộc."
    blank = error(api.post(f"/loans/{recent.id}/write-offs", staff.director, {"reason": " "}))
    assert blank["fields"]["reason"] == "Cần ghi lý do."
    nul = error(api.post(f"/loans/{recent.id}/write-offs", staff.director, {"reason": "a\x00b"}))
    assert "reason" in nul["fields"]
    assert count(WriteOff) == 0


# --- the loan's lists -----------------------------------------------------------------------------


def test_a_cooperative_lists_its_own_disbursements_only(staff, api):
    own = contracted_loan(staff)
    disburse(staff, own, 100_000_000, date(2026, 1, 15))
    other = contracted_loan(staff, cooperative=make_cooperative())
    disburse(staff, other, 120_000_000, date(2026, 1, 15))
    disbursements.record_disbursement(
        staff.accountant, own.id, {"amount": 5_000_000, "date": BUSINESS_DATE}, BUSINESS_DATE
    )
    db.session.commit()
    member = make_user("cooperative", cooperative=own.cooperative)
    listed = api.get(f"/loans/{own.id}/disbursements", member).get_json()
    # The tranche still awaiting the director is the fund's business, not yet the borrower's.
    assert [(d["amount"], d["status"], d["date"]) for d in listed["items"]] == [
        (100_000_000, "posted", "2026-01-15")
    ]
    every = api.get(f"/loans/{own.id}/disbursements", staff.accountant).get_json()
    assert [(d["amount"], d["status"]) for d in every["items"]] == [
        (100_000_000, "posted"),
        (5_000_000, "pending"),
    ]
    assert api.get(f"/loans/{other.id}/disbursements", member).status_code == 404
    for path in ("reversals", "restructurings", "transitions", "inspections", "write-offs"):
        assert api.get(f"/loans/{own.id}/{path}", member).status_code == 403, path


def test_reversals_and_restructurings_of_a_loan(staff, api):
    loan = contracted_loan(staff)
    disburse(staff, loan, 120_000_000, date(2026, 1, 15))
    repayment = rs.record_repayment(
        staff.accountant,
        loan.id,
        {"amount": 10_600_000, "date": "2026-02-15", "reference": "GNC", "method": "bank"},
        BUSINESS_DATE,
    )
    rs.request_reversal(staff.accountant, repayment.id, "Ghi nhầm khoản vay")
    restructuring.request_restructuring(
        staff.officer,
        loan.id,
        {
            "kind": "extension",
            "effective_date": "2026-11-20",
            "new_maturity": "2027-07-15",
            "reason": "Mất mùa",
        },
        BUSINESS_DATE,
    )
    db.session.commit()
    reversals = api.get(f"/loans/{loan.id}/reversals", staff.director).get_json()["items"]
    assert [(r["repayment_id"], r["status"], r["reason"]) for r in reversals] == [
        (repayment.id, "pending", "Ghi nhầm khoản vay")
    ]
    restructurings = api.get(f"/loans/{loan.id}/restructurings", staff.board).get_json()
    assert [(r["kind"], r["new_maturity"]) for r in restructurings["items"]] == [
        ("extension", "2027-07-15")
    ]


# --- the approvals queue -----------------------------------------------------------------------


def test_the_approvals_queue_says_who_may_decide_what(staff, api):
    active = unpaid_loan(staff)
    waiting = contracted_loan(staff, cooperative=make_cooperative())
    d = disbursements.record_disbursement(
        staff.accountant, waiting.id, {"amount": 30_000_000, "date": BUSINESS_DATE}, BUSINESS_DATE
    )
    current = contracted_loan(staff, cooperative=make_cooperative())
    disburse(staff, current, 120_000_000, date(2026, 1, 15))
    r = restructuring.request_restructuring(
        staff.officer,
        current.id,
        {
            "kind": "extension",
            "effective_date": "2026-11-20",
            "new_maturity": "2027-07-15",
            "reason": "Mất mùa",
        },
        BUSINESS_DATE,
    )
    w = writeoffs.propose_write_off(staff.director, active.id, "HTX giải thể", BUSINESS_DATE)
    db.session.commit()

    queue = api.get("/approvals", staff.director).get_json()
    assert queue["total"] == 3
    assert [(i["kind"], i["id"], i["may_decide"]) for i in queue["items"]] == [
        ("disbursement", d.id, True),
        ("restructuring", r.id, True),
        ("write_off", w.id, False),  # the board decides, and the director proposed it
    ]
    first = queue["items"][0]
    assert (first["amount"], first["reference"], first["contract_no"]) == (
        30_000_000,
        d.receipt_no,
        waiting.contract_no,
    )
    assert first["approve_path"] == f"/disbursements/{d.id}/approve"
    assert queue["items"][2]["approve_path"] == f"/write-offs/{w.id}/approve"

    mine = api.get("/approvals", staff.board, mine="true").get_json()
    assert [(i["kind"], i["id"]) for i in mine["items"]] == [
        ("restructuring", r.id),
        ("write_off", w.id),
    ]
    only = api.get("/approvals", staff.accountant, kind="disbursement").get_json()
    assert [(i["id"], i["may_decide"]) for i in only["items"]] == [(d.id, False)]
    assert "kind" in error(api.get("/approvals", staff.director, kind="repayment"))["fields"]
    member = make_user("cooperative", cooperative=active.cooperative)
    assert api.get("/approvals", member).status_code == 403
