"""The lending policy: legal defaults, each parameter's legal range, and a change that takes
two board members (one proposes, another approves) before it is in force.

Reproduces the outside probe of issue 14 point 10: ``single_borrower_limit_pct=1000`` and
``overdue_rate_pct=0`` were accepted by one board member and in force at once."""

from __future__ import annotations

import re
from datetime import date
from decimal import Decimal
from typing import Any

import pytest
from sqlalchemy import select

from fundapp.audit.models import AuditLog
from fundapp.extensions import db
from fundapp.policy import services
from fundapp.policy.bounds import OutOfRange
from fundapp.policy.models import PolicyChange, PolicyParameter
from fundapp.policy.parameters import BY_KEY, DEFAULTS_EFFECTIVE, PARAMS
from tests.conftest import BUSINESS_DATE, count, login, make_user

LATER = date(2026, 12, 1)  # after the business date (20/11/2026)
DECREE_45 = "Nghị định 45/2021/NĐ-CP"


def proposal(value: str, effective: str = "01/12/2026", **over: str) -> dict[str, str]:
    return {
        "value": value,
        "effective_from": effective,
        "legal_reference": "Nghị quyết HĐQL số 5/2026",
        "note": "Điều chỉnh theo nghị quyết",
        **over,
    }


def pending_id(key: str) -> int:
    change = db.session.scalars(
        select(PolicyChange).where(PolicyChange.key == key).order_by(PolicyChange.id.desc())
    ).first()
    assert change is not None
    return change.id


def board_pair(client: Any) -> tuple[Any, Any]:
    """Two board members; the client is signed in as the first (the maker)."""
    services.install_defaults()
    db.session.commit()
    maker, checker = make_user("board"), make_user("board")
    login(client, maker)
    return maker, checker


def as_user(app: Any, user: Any) -> Any:
    other = app.test_client()
    login(other, user)
    return other


# --- the legal ranges, parameter by parameter -----------------------------------------------

# (key, values the parameter may take, values it may not), for a version from 01/12/2026.
BOUNDS: list[tuple[str, tuple[str, ...], tuple[str, ...]]] = [
    ("min_equity_pct", ("20", "99.99", "35,5"), ("19.99", "100", "0")),
    ("single_borrower_limit_pct", ("0.01", "15", "12,5"), ("0", "15.01", "1000")),
    ("related_group_limit_pct", ("0,01", "25"), ("0", "25.01", "100")),
    ("default_annual_rate", ("0.01", "6,8", "20"), ("0", "20.01")),
    ("overdue_rate_pct", ("100", "120,5", "150"), ("0", "99.99", "150.01", "200")),
    ("late_interest_rate", ("0", "10"), ("10.01", "20")),
    ("self_appraisal_allowed", ("yes", "no", "có", "Không", "1", "0"), ("maybe", "2", "")),
    ("director_approval_limit", ("1", "1000000000000000"), ("0", "1000000000000001")),
    ("director_relief_limit", ("1", "1000000000000000"), ("0", "1000000000000001")),
    ("bank_batch_approval_above", ("0", "1000000000000000"), ("1000000000000001",)),
    ("short_term_max_months", ("1", "12"), ("0", "13")),
    ("medium_term_max_months", ("13", "60"), ("12", "61")),
    (
        "group_thresholds_days",
        ("10,30,90,180", "1,2,3,4", "5,20,60,120"),
        (
            "11,30,90,180",
            "10,31,90,180",
            "10,30,91,180",
            "10,30,90,181",
            "0,30,90,180",
            "10,10,90,180",
            "10,91,181,361",  # the thresholds of before 12/08/2024
        ),
    ),
    (
        "restructure_floor_groups",
        # From 12/08/2024 (Circular 14/2024 Art. 5) any first restructuring is group 2.
        ("2,2,4,5", "2,3,4,5", "3,3,4,5", "5,5,5,5"),
        ("1,3,4,5", "2,1,4,5", "2,3,3,5", "2,3,4,4", "2,3,4,6", "5,3,4,5"),
    ),
    (
        "provision_rates_pct",
        # From 11/07/2024 the microfinance rates of Decree 86/2024 are the minimum.
        ("0,2,25,50,100", "0,5,25,50,100", "0,2.5,30,50,100", "100,100,100,100,100"),
        (
            "0,1.99,25,50,100",
            "0,5,24.99,50,100",
            "0,5,20,50,100",  # the rates of before Decree 86/2024
            "0,5,25,49.99,100",
            "0,5,25,50,99.99",
            "0,5,25,50,100.01",
            "0,30,25,50,100",
            "0,0,0,0,0",
        ),
    ),
    ("general_provision_pct", ("0", "0.75", "0,5"), ("0.76", "1")),
    ("bad_debt_from_group", ("2", "3"), ("1", "4")),
    ("due_soon_days", ("1", "60"), ("0", "61")),
    (
        "eligible_kinds",
        ("cooperative", "cooperative,union,coop_member,group_member"),
        ("", "bank", "cooperative,cooperative"),
    ),
]
INSIDE = [(key, value) for key, good, _bad in BOUNDS for value in good]
OUTSIDE = [(key, value) for key, _good, bad in BOUNDS for value in bad]
# Not numbers as the fund writes them: other scripts' digits, exponents, signs, words.
MISSHAPEN = ("1e1", "１５", "١٥", "15%", "+15", "-5", "NaN", "Infinity", "1_5", "abc", "")


def test_every_parameter_has_a_legal_range_and_its_default_lies_in_it():
    assert {key for key, _good, _bad in BOUNDS} == set(BY_KEY)
    for param in PARAMS:
        assert param.bounds, param.key
        assert param.validate(param.default, DEFAULTS_EFFECTIVE), param.key
        assert param.bound_on(LATER).reference, param.key


@pytest.mark.parametrize(("key", "raw"), INSIDE)
def test_values_just_inside_the_legal_range_are_taken(key, raw):
    stored = BY_KEY[key].validate(raw, LATER)
    assert "," not in stored or BY_KEY[key].kind not in {"percent"}
    assert BY_KEY[key].parse(stored) is not None


@pytest.mark.parametrize(("key", "raw"), OUTSIDE)
def test_values_just_outside_the_legal_range_are_refused_naming_the_range(app, key, raw):
    with app.test_request_context(), pytest.raises(OutOfRange) as refused:
        BY_KEY[key].validate(raw, LATER)
    message = refused.value.message
    reference = BY_KEY[key].bound_on(LATER).reference
    assert reference in message, message


@pytest.mark.parametrize("raw", MISSHAPEN)
def test_only_ascii_digits_with_a_point_or_the_vietnamese_comma(app, raw):
    with app.test_request_context():
        for key in ("single_borrower_limit_pct", "due_soon_days"):
            with pytest.raises(OutOfRange):
                BY_KEY[key].validate(raw, LATER)


def test_values_are_stored_the_one_way_they_are_read():
    param = BY_KEY["default_annual_rate"]
    assert param.validate(" 6,8 ", LATER) == "6.8"
    assert BY_KEY["general_provision_pct"].validate("0,750", LATER) == "0.75"
    assert BY_KEY["overdue_rate_pct"].validate("150.0", LATER) == "150"
    assert BY_KEY["director_approval_limit"].validate("0700000000", LATER) == "700000000"
    assert BY_KEY["director_approval_limit"].validate("700.000.000 đ", LATER) == "700000000"
    assert BY_KEY["provision_rates_pct"].validate("0, 2.50, 25, 50, 100", LATER) == (
        "0,2.5,25,50,100"
    )


def test_the_debt_group_thresholds_follow_the_law_of_their_date():
    thresholds = BY_KEY["group_thresholds_days"]
    assert thresholds.validate("10,91,181,361", date(2024, 8, 11)) == "10,91,181,361"
    with pytest.raises(OutOfRange):
        thresholds.validate("10,91,181,361", date(2024, 8, 12))


def test_the_ranges_message_names_the_bounds_and_the_act(app):
    with app.test_request_context():
        with pytest.raises(OutOfRange) as single:
            BY_KEY["single_borrower_limit_pct"].validate("1000", LATER)
        with pytest.raises(OutOfRange) as overdue:
            BY_KEY["overdue_rate_pct"].validate("0", LATER)
    assert single.value.message == (
        "Giá trị phải lớn hơn 0 % và không quá 15 % "
        "(Nghị định 45/2021/NĐ-CP ngày 31/03/2021, Điều 23)."
    )
    assert "từ 100 % đến 150 %" in overdue.value.message
    assert "Điều 25" in overdue.value.message


# --- the defaults -------------------------------------------------------------------------


def test_defaults_are_the_legal_ones(app):
    services.install_defaults()
    db.session.commit()
    assert services.value("min_equity_pct", date(2026, 1, 1)) == Decimal("20")
    assert services.value("single_borrower_limit_pct", date(2026, 1, 1)) == Decimal("15")
    assert services.value("related_group_limit_pct", date(2026, 1, 1)) == Decimal("25")
    assert services.value("overdue_rate_pct", date(2026, 1, 1)) == Decimal("150")
    assert services.value("director_approval_limit", date(2026, 1, 1)) == 500_000_000
    # The law's dated versions (issue 15): Circular 14/2024 from 12/08/2024, Decree 86/2024.
    assert services.value("group_thresholds_days", date(2024, 8, 11)) == [10, 91, 181, 361]
    assert services.value("group_thresholds_days", date(2026, 1, 1)) == [10, 30, 90, 180]
    assert services.value("restructure_floor_groups", date(2026, 1, 1)) == [2, 2, 4, 5]
    assert services.value("provision_rates_pct", date(2024, 7, 10)) == [
        Decimal(0),
        Decimal(5),
        Decimal(20),
        Decimal(50),
        Decimal(100),
    ]
    assert services.value("provision_rates_pct", date(2026, 1, 1)) == [
        Decimal(0),
        Decimal(2),
        Decimal(25),
        Decimal(50),
        Decimal(100),
    ]
    row = db.session.query(PolicyParameter).filter_by(key="min_equity_pct").one()
    assert row.legal_reference == "Nghị định 45/2021/NĐ-CP ngày 31/03/2021, Điều 22"


# --- the probe's attack ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("key", "value", "allowed"),
    [
        ("single_borrower_limit_pct", "1000", "lớn hơn 0 % và không quá 15 %"),
        ("overdue_rate_pct", "0", "từ 100 % đến 150 %"),
    ],
)
def test_the_probe_values_are_refused_and_nothing_changes(client, app, key, value, allowed):
    board_pair(client)
    before = services.snapshot(LATER)
    response = client.post(f"/policy/{key}/change", data=proposal(value))
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert allowed in page and DECREE_45 in page
    assert count(PolicyChange) == 0
    assert count(PolicyParameter, key=key) == 1
    assert services.snapshot(LATER) == before
    assert count(AuditLog, action="policy.propose") == 0


# --- maker and checker ------------------------------------------------------------------------


def test_a_proposal_is_not_in_force_until_another_board_member_approves_it(client, app):
    maker, checker = board_pair(client)
    response = client.post("/policy/director_approval_limit/change", data=proposal("700.000.000"))
    assert response.status_code == 302
    assert response.location.endswith("/policy/director_approval_limit#pending")
    change_id = pending_id("director_approval_limit")
    change = db.session.get(PolicyChange, change_id)
    assert (change.status, change.value, change.effective_from) == ("pending", "700000000", LATER)
    assert change.proposed_by_id == maker.id
    # Nothing is in force, nor will be on its date, until approved.
    assert services.value("director_approval_limit", LATER) == 500_000_000
    assert count(PolicyParameter, key="director_approval_limit") == 1
    page = client.get("/policy/director_approval_limit").get_data(as_text=True)
    assert "Đề xuất chờ phê duyệt" in page and "700.000.000 đ" in page
    assert "Bạn đã đề xuất thay đổi này" in page
    assert f"/policy/changes/{change_id}/approve" not in page
    assert "Đề xuất thay đổi chờ phê duyệt" in client.get("/policy/").get_data(as_text=True)

    # The maker may not approve it.
    refused = client.post(f"/policy/changes/{change_id}/approve", data={})
    assert refused.status_code == 403
    assert "Người đề xuất không được tự phê duyệt" in refused.get_data(as_text=True)
    assert db.session.get(PolicyChange, change_id).status == "pending"
    assert count(PolicyParameter, key="director_approval_limit") == 1

    # Another board member sees it to decide, and approves it.
    second = as_user(app, checker)
    page = second.get("/policy/director_approval_limit").get_data(as_text=True)
    assert f"/policy/changes/{change_id}/approve" in page
    approved = second.post(f"/policy/changes/{change_id}/approve", data={})
    assert approved.status_code == 302
    db.session.expire_all()
    change = db.session.get(PolicyChange, change_id)
    assert (change.status, change.decided_by_id) == ("approved", checker.id)
    assert change.policy_parameter_id is not None
    # In force from its date, not before.
    assert services.value("director_approval_limit", date(2026, 11, 30)) == 500_000_000
    assert services.value("director_approval_limit", LATER) == 700_000_000
    version = db.session.get(PolicyParameter, change.policy_parameter_id)
    assert (version.value, version.effective_from, version.created_by_id) == (
        "700000000",
        LATER,
        checker.id,
    )
    assert version.legal_reference == "Nghị quyết HĐQL số 5/2026"

    audit = {
        a.action: a
        for a in db.session.scalars(select(AuditLog).where(AuditLog.action.like("policy.%")))
    }
    assert set(audit) == {"policy.propose", "policy.approve", "policy.change"}
    assert audit["policy.propose"].user_id == maker.id
    assert audit["policy.propose"].entity_id == str(change_id)
    assert audit["policy.propose"].after["value"] == "700000000"
    assert audit["policy.approve"].user_id == checker.id
    assert audit["policy.approve"].before == {"status": "pending"}
    assert audit["policy.approve"].after["policy_parameter_id"] == version.id
    assert audit["policy.change"].before == {
        "key": "director_approval_limit",
        "value": "500000000",
    }
    audit_page = as_user(app, make_user("controller")).get("/audit/?entity=policy_change")
    for label in ("Đề xuất thay đổi chính sách", "Phê duyệt thay đổi chính sách"):
        assert label in audit_page.get_data(as_text=True)
    page = second.get("/policy/director_approval_limit").get_data(as_text=True)
    assert "Nghị quyết HĐQL số 5/2026" in page and "Sắp áp dụng" in page
    assert "Đã phê duyệt" in page

    # A second approval, by anyone, is a conflict and writes nothing.
    third = as_user(app, make_user("board"))
    again = third.post(f"/policy/changes/{change_id}/approve", data={})
    assert again.status_code == 409
    assert "đã được xử lý" in again.get_data(as_text=True)
    assert second.post(f"/policy/changes/{change_id}/approve", data={}).status_code == 409
    assert count(PolicyParameter, key="director_approval_limit") == 2


def test_another_board_member_rejects_with_a_reason(client, app):
    _maker, checker = board_pair(client)
    assert client.post("/policy/min_equity_pct/change", data=proposal("30")).status_code == 302
    change_id = pending_id("min_equity_pct")
    second = as_user(app, checker)
    prefix = f"chg{change_id}-reject"

    no_reason = second.post(f"/policy/changes/{change_id}/reject", data={f"{prefix}-note": " "})
    assert no_reason.status_code == 422
    assert "Cần ghi lý do từ chối" in no_reason.get_data(as_text=True)
    assert db.session.get(PolicyChange, change_id).status == "pending"
    # Nor may the maker reject (or approve) his own.
    own = client.post(f"/policy/changes/{change_id}/reject", data={f"{prefix}-note": "Nhầm"})
    assert own.status_code == 403

    rejected = second.post(
        f"/policy/changes/{change_id}/reject", data={f"{prefix}-note": "Chưa có nghị quyết"}
    )
    assert rejected.status_code == 302
    db.session.expire_all()
    change = db.session.get(PolicyChange, change_id)
    assert (change.status, change.decided_by_id, change.decision_note) == (
        "rejected",
        checker.id,
        "Chưa có nghị quyết",
    )
    assert services.value("min_equity_pct", LATER) == Decimal("20")
    assert count(PolicyParameter, key="min_equity_pct") == 1
    reject_audit = db.session.scalars(select(AuditLog).filter_by(action="policy.reject")).one()
    assert (reject_audit.user_id, reject_audit.note) == (checker.id, "Chưa có nghị quyết")
    page = second.get("/policy/min_equity_pct").get_data(as_text=True)
    assert "Đã từ chối" in page and "Chưa có nghị quyết" in page
    # Approving a rejected change is a conflict.
    assert second.post(f"/policy/changes/{change_id}/approve", data={}).status_code == 409
    assert (
        as_user(app, make_user("board"))
        .post(f"/policy/changes/{change_id}/approve", data={})
        .status_code
        == 409
    )
    assert count(PolicyParameter, key="min_equity_pct") == 1


def test_the_maker_withdraws_and_no_one_else_may(client, app):
    maker, checker = board_pair(client)
    assert client.post("/policy/due_soon_days/change", data=proposal("10")).status_code == 302
    change_id = pending_id("due_soon_days")
    second = as_user(app, checker)
    assert second.post(f"/policy/changes/{change_id}/withdraw", data={}).status_code == 403
    assert client.post(f"/policy/changes/{change_id}/withdraw", data={}).status_code == 302
    db.session.expire_all()
    change = db.session.get(PolicyChange, change_id)
    assert (change.status, change.decided_by_id) == ("withdrawn", None)
    assert second.post(f"/policy/changes/{change_id}/approve", data={}).status_code == 409
    assert count(AuditLog, action="policy.withdraw", user_id=maker.id) == 1
    assert services.value("due_soon_days", LATER) == 7


def test_the_value_and_date_are_checked_again_when_approving(client, app):
    maker, checker = board_pair(client)
    # As a change proposed before the bounds existed (or by a looser rule) would be.
    stale = PolicyChange(
        key="single_borrower_limit_pct",
        value="1000",
        effective_from=date(2026, 12, 15),
        legal_reference="NQ 1",
        reason="Thử",
        status="pending",
        proposed_by_id=maker.id,
    )
    db.session.add(stale)
    db.session.commit()
    second = as_user(app, checker)
    refused = second.post(f"/policy/changes/{stale.id}/approve", data={})
    assert refused.status_code == 422
    text = refused.get_data(as_text=True)
    assert "Không phê duyệt được" in text and "không quá 15 %" in text
    assert db.session.get(PolicyChange, stale.id).status == "pending"
    assert services.value("single_borrower_limit_pct", LATER) == Decimal("15")

    # Two proposals of one parameter: once the later one is approved, the earlier one may
    # no longer be (history is never rewritten).
    for value, day in (("12", "01/01/2027"), ("13", "01/12/2026")):
        data = proposal(value, day)
        assert client.post("/policy/single_borrower_limit_pct/change", data=data).status_code == (
            302
        )
    later, earlier = (
        db.session.scalars(
            select(PolicyChange.id)
            .where(PolicyChange.status == "pending", PolicyChange.value.in_(["12", "13"]))
            .order_by(PolicyChange.value)
        )
    ).all()
    assert second.post(f"/policy/changes/{later}/approve", data={}).status_code == 302
    out_of_order = second.post(f"/policy/changes/{earlier}/approve", data={})
    assert out_of_order.status_code == 422
    assert "01/01/2027" in out_of_order.get_data(as_text=True)
    assert services.value("single_borrower_limit_pct", date(2027, 1, 1)) == Decimal("12")


def test_history_cannot_be_rewritten_and_bad_values_are_refused(client, app):
    board_pair(client)
    cases = [
        ({"value": "30", "effective_from": "01/01/2025"}, "không được trước ngày làm việc"),
        ({"value": "abc", "effective_from": "01/12/2026"}, "chỉ gồm chữ số 0–9"),
        ({"value": "-5", "effective_from": "01/12/2026"}, "chỉ gồm chữ số 0–9"),
        ({"value": "15", "effective_from": "01/12/2026"}, "từ 20 % đến dưới 100 %"),
        ({"value": "30", "effective_from": "32/12/2026"}, "Ngày không hợp lệ"),
        ({"value": "30", "effective_from": "01/12/2026", "legal_reference": ""}, "căn cứ pháp lý"),
        ({"value": "30", "effective_from": "01/12/2026", "note": ""}, "Cần ghi lý do thay đổi"),
    ]
    for data, message in cases:
        form = {"legal_reference": "QĐ 1", "note": "Lý do", **data}
        response = client.post("/policy/min_equity_pct/change", data=form)
        assert response.status_code == 200
        assert message in response.get_data(as_text=True), (data, message)
    assert db.session.query(PolicyParameter).filter_by(key="min_equity_pct").count() == 1
    assert count(PolicyChange) == 0
    # One pending proposal per parameter and date.
    assert client.post("/policy/min_equity_pct/change", data=proposal("30")).status_code == 302
    twin = client.post("/policy/min_equity_pct/change", data=proposal("35"))
    assert twin.status_code == 200
    assert "đang chờ duyệt" in twin.get_data(as_text=True)


def test_only_board_changes_policy_but_all_staff_read_it(client, app):
    services.install_defaults()
    db.session.commit()
    maker = make_user("board")
    login(client, maker)
    assert client.post("/policy/min_equity_pct/change", data=proposal("30")).status_code == 302
    change_id = pending_id("min_equity_pct")
    director = as_user(app, make_user("director"))
    assert director.get("/policy/").status_code == 200
    page = director.get("/policy/").get_data(as_text=True)
    assert "Vốn đối ứng tối thiểu" in page and "Đề xuất thay đổi chờ phê duyệt" in page
    # The approvals page lists only what its viewer decides (issue 16): another board
    # member sees the change, the director does not.
    approvals = director.get("/loans/approvals").get_data(as_text=True)
    assert "Đề xuất thay đổi chính sách" not in approvals
    checker = as_user(app, make_user("board"))
    approvals = checker.get("/loans/approvals").get_data(as_text=True)
    assert "Đề xuất thay đổi chính sách" in approvals and "30 %" in approvals
    assert f"/policy/min_equity_pct#change-{change_id}" in approvals
    assert director.post("/policy/min_equity_pct/change", data={"value": "30"}).status_code == 403
    for action in ("approve", "reject", "withdraw"):
        assert director.post(f"/policy/changes/{change_id}/{action}", data={}).status_code == 403
    assert director.get("/policy/no_such_key").status_code == 404
    board = as_user(app, make_user("board"))
    assert board.post("/policy/changes/999999/approve", data={}).status_code == 404
    assert db.session.get(PolicyChange, change_id).status == "pending"


def test_the_change_form_shows_the_allowed_range(client, app):
    board_pair(client)
    page = client.get("/policy/overdue_rate_pct/change").get_data(as_text=True)
    assert re.search(r"từ 100 % đến 150 %.*Điều 25", page)
    assert "một thành viên Hội đồng quản lý khác phê duyệt" in page
    assert BUSINESS_DATE.strftime("%d/%m/%Y") in page


def test_fund_check_names_a_stored_value_outside_its_legal_range(app, runner):
    """A version stored before the ranges existed (the probe's 1000 %), or written by hand,
    fails `flask fund check` with the parameter, the value and the range."""
    services.install_defaults()
    db.session.commit()
    ok = runner.invoke(args=["fund", "check"])
    assert ok.exit_code == 0, ok.output
    db.session.add(
        PolicyParameter(
            key="single_borrower_limit_pct",
            value="1000",
            effective_from=date(2026, 6, 1),
            legal_reference="stored before the ranges",
            note="",
        )
    )
    db.session.commit()
    broken = runner.invoke(args=["fund", "check"])
    assert broken.exit_code == 1
    assert "single_borrower_limit_pct = '1000' from 2026-06-01" in broken.output
    assert "15 %" in broken.output


def test_the_board_sees_each_dated_version_with_its_legal_reference(client, app):
    # Issue 15: the law's versions of 2021 and of 12/08/2024 (Circular 14/2024), each with
    # its act, on the parameter's page; the index shows the one in force today.
    services.install_defaults()
    db.session.commit()
    login(client, make_user("board"))
    page = client.get("/policy/group_thresholds_days").get_data(as_text=True)
    assert "Nhóm 3: từ 91 ngày" in page and "Nhóm 3: từ 30 ngày" in page
    assert "12/08/2024" in page and "Thông tư 14/2024/TT-NHNN" in page
    assert "Thông tư 11/2021/TT-NHNN" in page
    page = client.get("/policy/provision_rates_pct").get_data(as_text=True)
    assert "Nhóm 3: 25 %" in page and "Nhóm 3: 20 %" in page
    assert "11/07/2024" in page and "Nghị định 86/2024/NĐ-CP" in page
