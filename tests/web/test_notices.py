"""Notices of the close of day: who sees them, marking them read, e-mail delivery."""

from __future__ import annotations

import logging
import re
from datetime import date
from typing import Any

import pytest
from sqlalchemy import func, select

from fundapp.extensions import db
from fundapp.loans.days import Notice
from fundapp.notices.delivery import deliver_pending
from fundapp.servicing.close_day import run_close_day, run_pending
from tests.conftest import login, make_cooperative, make_user
from tests.services.lending_helpers import contracted_loan, disburse, fund_and_staff

D0 = date(2026, 2, 15)  # the first instalment's due date; it goes unpaid


def _overdue_loan(officer_email: str | None = None) -> tuple[Any, Any]:
    """A 6 %, 12-month loan of 120.000.000 đ disbursed 15/01/2026 whose first instalment
    (due 15/02/2026) is not paid, closed up to 16/02/2026."""
    staff = fund_and_staff()
    if officer_email:
        staff.officer.email = officer_email
        db.session.commit()
    loan = contracted_loan(staff, cooperative=make_cooperative(name="HTX Vải thiều Lục Ngạn"))
    disburse(staff, loan, 120_000_000, date(2026, 1, 15))
    assert run_close_day(D0, "cli").ran
    db.session.commit()
    run_pending(date(2026, 2, 16), "cli")
    return staff, loan


def _notices(**where: Any) -> list[Notice]:
    return list(
        db.session.scalars(
            select(Notice).filter_by(**where).order_by(Notice.recipient_key, Notice.id)
        )
    )


def _badge(html: str) -> int:
    """The unread count shown in the page header (0 when the badge is absent)."""
    match = re.search(r'id="unread-notices">(\d+)<', html)
    return int(match.group(1)) if match else 0


def test_close_of_day_sends_the_overdue_transfer_to_the_cooperative_and_the_officer(app):
    staff, loan = _overdue_loan()
    notices = _notices(kind="overdue_transfer", loan_id=loan.id)
    assert [n.recipient_key for n in notices] == [
        f"coop:{loan.cooperative_id}",
        f"user:{staff.officer.id}",
    ]
    coop_notice, officer_notice = notices
    assert coop_notice.cooperative_id == loan.cooperative_id and coop_notice.user_id is None
    assert officer_notice.user_id == staff.officer.id and officer_notice.cooperative_id is None
    for notice in notices:
        assert notice.business_date == date(2026, 2, 16)
        assert notice.data["overdue_principal"] == 10_000_000
        assert notice.data["overdue_rate"] == "9"
        assert notice.data["due_date"] == "2026-02-15"
        assert notice.read_at is None


def _due_soon(loan: Any, due: str) -> list[Notice]:
    return [n for n in _notices(kind="due_soon", loan_id=loan.id) if n.data["due_date"] == due]


def test_due_soon_seven_days_before_and_no_duplicate_on_a_second_run(app):
    staff, loan = _overdue_loan()
    run_pending(date(2026, 3, 7), "cli")  # closes 17/02 … 07/03 in order
    assert _due_soon(loan, "2026-03-15") == []
    run_pending(date(2026, 3, 8), "cli")
    due_soon = _due_soon(loan, "2026-03-15")
    assert [n.recipient_key for n in due_soon] == [
        f"coop:{loan.cooperative_id}",
        f"user:{staff.officer.id}",
    ]
    assert {n.business_date for n in due_soon} == {date(2026, 3, 8)}
    assert due_soon[0].data["principal"] == 10_000_000

    before = db.session.scalar(select(func.count(Notice.id)))
    again = run_close_day(date(2026, 3, 8), "cli")
    db.session.commit()
    assert not again.ran and again.reason == "already_done"
    assert run_pending(date(2026, 3, 8), "cli") == []
    assert db.session.scalar(select(func.count(Notice.id))) == before


def test_cooperative_user_reads_its_notices_and_the_header_count_drops(client, app):
    _, loan = _overdue_loan()
    user = make_user("cooperative", cooperative=loan.cooperative)
    login(client, user)
    unread = db.session.scalar(
        select(func.count(Notice.id)).where(
            Notice.cooperative_id == loan.cooperative_id, Notice.read_at.is_(None)
        )
    )
    assert unread >= 1

    page = client.get("/notices/")
    html = page.get_data(as_text=True)
    assert page.status_code == 200
    assert _badge(html) == unread
    assert "Chuyển nợ quá hạn" in html
    assert "Thông báo chuyển nợ quá hạn" in html
    assert "10.000.000" in html and "9 %/năm" in html and "16/02/2026" in html
    assert loan.contract_no in html
    assert f"/loans/{loan.id}" not in html  # no staff page links for a cooperative
    # The badge is on every page, the portal too.
    assert _badge(client.get("/portal/").get_data(as_text=True)) == unread

    notice = _notices(kind="overdue_transfer", cooperative_id=loan.cooperative_id)[0]
    response = client.post(f"/notices/{notice.id}/read", data={"next": "/notices/?status=unread"})
    assert response.status_code == 302
    assert response.headers["Location"].endswith("/notices/?status=unread")
    db.session.expire_all()
    first_read = db.session.get(Notice, notice.id).read_at
    assert first_read is not None
    assert _badge(client.get("/notices/").get_data(as_text=True)) == unread - 1
    unread_list = client.get("/notices/?status=unread").get_data(as_text=True)
    assert f"/notices/{notice.id}/read" not in unread_list

    # Idempotent: marking again keeps the first time.
    assert client.post(f"/notices/{notice.id}/read").status_code == 302
    db.session.expire_all()
    assert db.session.get(Notice, notice.id).read_at == first_read

    # An unsafe "next" falls back to the list.
    response = client.post(f"/notices/{notice.id}/read", data={"next": "https://evil.example"})
    assert response.headers["Location"].endswith("/notices/")

    assert client.post("/notices/read-all").status_code == 302
    assert _badge(client.get("/notices/").get_data(as_text=True)) == 0
    assert client.get("/notices/?status=unread").get_data(as_text=True).count("<article") == 0


def test_another_cooperative_neither_sees_nor_marks_the_notice(client, app):
    _, loan = _overdue_loan()
    coop_notice, officer_notice = _notices(kind="overdue_transfer", loan_id=loan.id)
    stranger = make_user("cooperative", cooperative=make_cooperative(name="HTX Hàng xóm"))
    login(client, stranger)
    html = client.get("/notices/").get_data(as_text=True)
    assert loan.contract_no not in html and _badge(html) == 0
    assert "Chưa có thông báo nào." in html
    assert client.post(f"/notices/{coop_notice.id}/read").status_code == 404
    assert client.post(f"/notices/{officer_notice.id}/read").status_code == 404
    assert client.post("/notices/999999/read").status_code == 404
    assert client.post("/notices/read-all").status_code == 302
    db.session.expire_all()
    assert db.session.get(Notice, coop_notice.id).read_at is None
    assert db.session.get(Notice, officer_notice.id).read_at is None
    # "scope=all" is for supervisors only; for anyone else it is ignored.
    assert loan.contract_no not in client.get("/notices/?scope=all").get_data(as_text=True)


def test_the_officer_sees_the_officer_notice_with_the_loan_link(client, app):
    staff, loan = _overdue_loan()
    coop_notice, officer_notice = _notices(kind="overdue_transfer", loan_id=loan.id)
    login(client, staff.officer)
    html = client.get("/notices/").get_data(as_text=True)
    assert _badge(html) >= 1
    assert f'href="/loans/{loan.id}"' in html
    assert f"/notices/{officer_notice.id}/read" in html
    assert f"/notices/{coop_notice.id}/read" not in html
    assert client.post(f"/notices/{coop_notice.id}/read").status_code == 404
    assert client.post(f"/notices/{officer_notice.id}/read").status_code == 302
    db.session.expire_all()
    assert db.session.get(Notice, officer_notice.id).read_at is not None
    assert db.session.get(Notice, coop_notice.id).read_at is None

    # Another officer has nothing.
    other = app.test_client()
    login(other, staff.appraiser)
    html = other.get("/notices/").get_data(as_text=True)
    assert loan.contract_no not in html and _badge(html) == 0


def test_kind_filter_and_group_change_badge(client, app):
    staff, _ = _overdue_loan()
    run_pending(date(2026, 3, 8), "cli")  # 10 days past due: the loan moves to group 2
    assert _notices(kind="group_change", user_id=staff.officer.id)
    login(client, staff.officer)
    html = client.get("/notices/").get_data(as_text=True)
    for label in ("Sắp đến hạn", "Chuyển nợ quá hạn", "Thay đổi nhóm nợ"):
        assert f">{label}</span>" in html
    only_soon = client.get("/notices/?kind=due_soon").get_data(as_text=True)
    assert only_soon.count("<article") == len(_notices(kind="due_soon", user_id=staff.officer.id))
    assert ">Sắp đến hạn</span>" in only_soon
    assert ">Chuyển nợ quá hạn</span>" not in only_soon
    assert client.get("/notices/?kind=bogus").status_code == 200


@pytest.mark.parametrize("role", ["director", "controller"])
def test_director_and_controller_may_list_every_notice_read_only(client, app, role):
    staff, loan = _overdue_loan()
    coop_notice, _officer_notice = _notices(kind="overdue_transfer", loan_id=loan.id)
    supervisor = staff.director if role == "director" else make_user("controller")
    login(client, supervisor)
    own = client.get("/notices/").get_data(as_text=True)
    assert loan.contract_no not in own
    everything = client.get("/notices/?scope=all").get_data(as_text=True)
    assert everything.count("<article") == db.session.scalar(select(func.count(Notice.id)))
    assert "HTX Vải thiều Lục Ngạn" in everything
    assert "/read" not in everything.split("<article", 1)[1]  # no mark buttons on others'
    assert client.post(f"/notices/{coop_notice.id}/read").status_code == 404


def test_board_and_accountant_have_no_supervision_list(app):
    staff, loan = _overdue_loan()
    for user in (staff.board, staff.accountant):
        client = app.test_client()
        login(client, user)
        html = client.get("/notices/?scope=all").get_data(as_text=True)
        assert "Chưa có thông báo nào." in html and loan.contract_no not in html


def test_anonymous_is_sent_to_login(client, app):
    assert "/login" in client.get("/notices/").headers["Location"]
    assert "/login" in client.post("/notices/read-all").headers["Location"]


def test_deliver_pending_logs_each_mail_once(app, caplog):
    staff = fund_and_staff()
    staff.officer.email = "canbo@example.vn"
    db.session.commit()
    loan = contracted_loan(staff)
    disburse(staff, loan, 120_000_000, date(2026, 1, 15))
    # Closed without run_pending, so nothing has been delivered yet.
    for day in (D0, date(2026, 2, 16)):
        assert run_close_day(day, "cli").ran
        db.session.commit()
    notices = _notices(kind="overdue_transfer")
    assert [n.email_to for n in notices] == [loan.cooperative.email, "canbo@example.vn"]
    assert all(n.emailed_at is None for n in notices)

    to_send = db.session.scalar(select(func.count(Notice.id)).where(Notice.email_to != ""))

    caplog.set_level(logging.INFO, logger="fundapp.mail")
    assert deliver_pending() == to_send
    db.session.commit()
    mails = [r.getMessage() for r in caplog.records if r.name == "fundapp.mail"]
    assert len(mails) == to_send
    for address in (loan.cooperative.email, "canbo@example.vn"):
        transfer = [m for m in mails if address in m and "Thông báo chuyển nợ quá hạn" in m]
        assert len(transfer) == 1 and "10.000.000" in transfer[0]
    db.session.expire_all()
    assert all(n.emailed_at is not None for n in _notices())

    caplog.clear()
    assert deliver_pending() == 0
    assert [r for r in caplog.records if r.name == "fundapp.mail"] == []


def test_run_pending_delivers_after_the_commit(app, caplog):
    caplog.set_level(logging.INFO, logger="fundapp.mail")
    _, loan = _overdue_loan()
    coop_notice = _notices(kind="overdue_transfer", cooperative_id=loan.cooperative_id)[0]
    assert coop_notice.emailed_at is not None
    assert any(
        r.name == "fundapp.mail" and loan.cooperative.email in r.getMessage()
        for r in caplog.records
    )
