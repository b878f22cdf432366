"""API v1 notices: a cooperative's and an officer's own notices, the unread count, marking
one or all read, the supervisors' list of every notice, filters and bad input."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest
from flask import current_app
from sqlalchemy import select

from fundapp.extensions import db
from fundapp.loans.days import Notice
from fundapp.servicing.close_day import run_close_day, run_pending
from tests.api.conftest import API, token
from tests.conftest import make_cooperative, make_user
from tests.services.lending_helpers import contracted_loan, disburse, fund_and_staff


@pytest.fixture
def overdue(app):
    """A 6 %, 12-month loan of 120.000.000 đ disbursed 15/01/2026 whose first instalment
    (10.000.000 đ principal, due 15/02/2026) is not paid; closed on 15/02/2026 (the due-soon
    notice of that instalment) and 16/02/2026 (its overdue transfer), each notice sent to
    the cooperative and to the loan's officer."""
    staff = fund_and_staff()
    loan = contracted_loan(staff, cooperative=make_cooperative(name="HTX Vải thiều Lục Ngạn"))
    disburse(staff, loan, 120_000_000, date(2026, 1, 15))
    assert run_close_day(date(2026, 2, 15), "cli").ran
    db.session.commit()
    run_pending(date(2026, 2, 16), "cli")
    member = make_user("cooperative", cooperative=loan.cooperative)
    return staff, loan, member


def listing(client: Any, who: Any, **query: Any) -> Any:
    return client.get(API + "/notices", headers=token(who), query_string=query)


def test_a_cooperative_reads_its_overdue_notice_and_the_unread_count_falls(client, overdue):
    staff, loan, member = overdue
    response = listing(client, member)
    assert response.status_code == 200, response.get_json()
    body = response.get_json()
    assert (body["total"], body["unread"]) == (2, 2)
    notice, due_soon = body["items"]  # newest first
    assert notice["kind"] == "overdue_transfer" and notice["kind_label"] == "Chuyển nợ quá hạn"
    assert (notice["loan_id"], notice["cooperative_id"], notice["user_id"]) == (
        loan.id,
        loan.cooperative_id,
        None,
    )
    assert notice["business_date"] == "2026-02-16"
    # 6 % × 150 % = 9 %/year on the 10.000.000 đ of principal due 15/02/2026; the interest
    # left unpaid is 120.000.000 × 6 % × 31 / 365 = 611.506,85 → 611.507 đ.
    assert notice["data"]["overdue_principal"] == 10_000_000
    assert notice["data"]["unpaid_interest"] == 611_507
    assert notice["data"]["overdue_rate"] == "9"
    assert notice["read_at"] is None and notice["own"] is True
    assert (due_soon["kind"], due_soon["business_date"]) == ("due_soon", "2026-02-15")

    marked = client.post(f"{API}/notices/{notice['id']}/read", headers=token(member))
    assert marked.status_code == 200, marked.get_json()
    read_at = marked.get_json()["read_at"]
    assert read_at is not None and read_at.endswith("Z")
    again = client.post(f"{API}/notices/{notice['id']}/read", headers=token(member))
    assert again.get_json()["read_at"] == read_at  # the first reading stands
    after = listing(client, member).get_json()
    assert (after["total"], after["unread"]) == (2, 1)
    unread = listing(client, member, unread="true").get_json()
    assert [n["id"] for n in unread["items"]] == [due_soon["id"]]
    # The officer's own copy of the same notice is still unread.
    officer_copy = db.session.scalar(
        select(Notice).where(Notice.user_id == staff.officer.id, Notice.kind == "overdue_transfer")
    )
    assert officer_copy.read_at is None


def test_nobody_sees_or_marks_another_recipients_notice(client, overdue):
    staff, loan, member = overdue
    coop_notice = db.session.scalars(
        select(Notice).where(Notice.cooperative_id == loan.cooperative_id)
    ).first()
    neighbour = make_user("cooperative", cooperative=make_cooperative(name="HTX Hàng xóm"))
    assert listing(client, neighbour).get_json() == {
        "items": [],
        "page": 1,
        "per_page": current_app.config["PAGE_SIZE"],
        "total": 0,
        "unread": 0,
    }
    for who in (neighbour, staff.officer, staff.director):
        response = client.post(f"{API}/notices/{coop_notice.id}/read", headers=token(who))
        assert response.status_code == 404, who
    assert client.post(f"{API}/notices/{2**40}/read", headers=token(member)).status_code == 404
    assert client.post(f"{API}/notices/999999/read", headers=token(member)).status_code == 404
    assert listing(client, neighbour, scope="all").status_code == 403
    db.session.refresh(coop_notice)
    assert coop_notice.read_at is None


def test_the_officer_marks_all_own_notices_read(client, overdue):
    staff, _loan, member = overdue
    own = listing(client, staff.officer).get_json()
    assert [(n["kind"], n["user_id"]) for n in own["items"]] == [
        ("overdue_transfer", staff.officer.id),
        ("due_soon", staff.officer.id),
    ]
    assert own["unread"] == 2
    response = client.post(f"{API}/notices/read-all", headers=token(staff.officer))
    assert response.get_json() == {"marked": 2, "unread": 0}
    again = client.post(f"{API}/notices/read-all", headers=token(staff.officer))
    assert again.get_json() == {"marked": 0, "unread": 0}
    # The cooperative's notices were not the officer's to mark.
    assert listing(client, member).get_json()["unread"] == 2


def test_director_and_controller_supervise_every_notice_read_only(client, overdue):
    staff, loan, _member = overdue
    everything = listing(client, staff.director, scope="all", kind="overdue_transfer").get_json()
    assert everything["total"] == 2
    assert [(n["cooperative_id"], n["user_id"], n["own"]) for n in everything["items"]] == [
        (None, staff.officer.id, False),  # same day: the later one first
        (loan.cooperative_id, None, False),
    ]
    assert everything["unread"] == 0  # nothing is addressed to the director
    controller = make_user("controller")
    assert listing(client, controller, scope="all").get_json()["total"] == 4
    assert listing(client, controller).get_json()["total"] == 0
    refused = listing(client, staff.officer, scope="all")
    assert refused.status_code == 403
    assert refused.get_json()["error"]["code"] == "forbidden"


def test_kind_filter_and_pages(client, overdue):
    _staff, _loan, member = overdue
    # 25/02/2026: 10 days past due, group 2. 08/03/2026: seven days before the instalment
    # of 15/03/2026, whose interest is 110.000.000 × 6 % × 28 / 365 = 506.301,37 → 506.301 đ.
    run_pending(date(2026, 3, 8), "cli")
    every = listing(client, member).get_json()
    assert [(n["kind"], n["business_date"]) for n in every["items"]] == [
        ("due_soon", "2026-03-08"),
        ("group_change", "2026-02-25"),
        ("overdue_transfer", "2026-02-16"),
        ("due_soon", "2026-02-15"),
    ]
    due_soon = listing(client, member, kind="due_soon").get_json()
    assert [(n["data"]["due_date"], n["data"]["interest"]) for n in due_soon["items"]] == [
        ("2026-03-15", 506_301),
        ("2026-02-15", 611_507),
    ]
    change = listing(client, member, kind="group_change").get_json()["items"]
    assert [n["data"] for n in change] == [{"from": 1, "to": 2}]
    first = listing(client, member, per_page=3).get_json()
    second = listing(client, member, per_page=3, page=2).get_json()
    assert (first["total"], len(first["items"])) == (4, 3)
    assert [n["business_date"] for n in second["items"]] == ["2026-02-15"]


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ({"kind": "reminder"}, "kind"),
        ({"unread": "maybe"}, "unread"),
        ({"scope": "everyone"}, "scope"),
        ({"page": "0"}, "page"),
        ({"per_page": "500"}, "per_page"),
        ({"loan_id": "1"}, "loan_id"),
    ],
)
def test_bad_filters_are_refused(client, overdue, query, field):
    member = overdue[2]
    response = listing(client, member, **query)
    assert response.status_code == 422, response.get_json()
    assert field in response.get_json()["error"]["fields"]


def test_notices_need_a_token(client, app):
    assert client.get(API + "/notices").status_code == 401
    assert client.post(API + "/notices/read-all").status_code == 401
