"""Notifications of work: once per event and recipient, to the right people, never to the
maker, rolled back with the work, e-mailed once through the configured backend."""

from __future__ import annotations

import logging
from datetime import date

import pytest
from sqlalchemy import select

from fundapp.extensions import db
from fundapp.lending import applications, disbursements
from fundapp.loans.days import Notice
from fundapp.loans.models import ApplicationDocument
from fundapp.policy import services as policy
from fundapp.work import notify
from tests.conftest import make_cooperative, make_user
from tests.services.lending_helpers import application_data, contracted_loan, fund_and_staff

ON = date(2026, 1, 5)
PROJECT = "Nhà xưởng sấy vải"


def _work(user=None, kind=None):
    query = select(Notice).where(Notice.kind.in_(notify.WORK_KINDS))
    if user is not None:
        query = query.where(Notice.user_id == user.id)
    if kind is not None:
        query = query.where(Notice.kind == kind)
    return list(db.session.scalars(query.order_by(Notice.id)))


@pytest.fixture
def staff(app):
    return fund_and_staff()


def test_pending_disbursement_tells_each_director_once(staff):
    second_director = make_user("director")
    loan = contracted_loan(staff, 120_000_000, ON)
    before = {u.id: len(_work(u)) for u in (staff.director, second_director)}
    d = disbursements.record_disbursement(
        staff.accountant, loan.id, {"amount": 50_000_000, "date": ON}, ON
    )
    db.session.commit()
    for user in (staff.director, second_director):
        notes = _work(user)
        assert len(notes) == before[user.id] + 1
        assert notes[-1].event_key == f"disbursement:{d.id}"
        assert notes[-1].data["link"] == f"/loans/{loan.id}"
    # Not to the accountant who recorded it, nor to the officer.
    assert _work(staff.accountant) == [] and _work(staff.officer) == []
    assert _work(second_director)[-1].read_at is None
    # Later units of work (the approval) add nothing for the same event, and the decision
    # marks the notice done for every director it was sent to.
    disbursements.approve_disbursement(staff.director, d.id, ON)
    db.session.commit()
    assert len(_work(staff.director)) == before[staff.director.id] + 1
    db.session.expire_all()
    assert _work(second_director)[-1].read_at is not None
    assert all(n.read_at is not None for n in _work())  # the appraisal was decided too
    # Writing the same event again is skipped by the unique key.
    event = notify.Event("decision", f"disbursement:{d.id}", ("director",), "t", "b", "/")
    assert notify.write([event], ON) == 0


def test_appraised_application_goes_to_the_director_within_his_limit_and_board_above(staff):
    coop = make_cooperative()
    small = applications.create_application(
        staff.officer, application_data(coop, 100_000_000, project_name=PROJECT), ON
    )
    big = applications.create_application(
        staff.officer, application_data(coop, 900_000_000, project_name=PROJECT), ON
    )
    for app in (small, big):
        applications.submit(staff.officer, app)
        db.session.commit()
    assert _work(staff.director) == [] and _work(staff.board) == []
    applications.appraise(staff.appraiser, small, 100_000_000, "Khả thi", ON)
    applications.appraise(staff.appraiser, big, 900_000_000, "Khả thi", ON)
    db.session.commit()
    # The default approval limit of the director is 500.000.000 đ.
    assert [n.event_key for n in _work(staff.director)] == [f"application:{small.id}:appraised"]
    assert [n.event_key for n in _work(staff.board)] == [f"application:{big.id}:appraised"]
    assert _work(staff.appraiser) == []
    applications.approve(staff.director, small, "Đồng ý", ON)
    db.session.commit()
    db.session.expire_all()
    assert _work(staff.director)[0].read_at is not None
    assert _work(staff.board)[0].read_at is None  # still awaiting the board


def test_work_rolled_back_sends_nothing(staff):
    loan = contracted_loan(staff, 120_000_000, ON)
    count = len(_work())
    disbursements.record_disbursement(
        staff.accountant, loan.id, {"amount": 50_000_000, "date": ON}, ON
    )
    db.session.flush()
    db.session.rollback()
    db.session.commit()
    assert len(_work()) == count


def test_online_application_and_upload_tell_the_cooperatives_officer(staff):
    coop = make_cooperative()
    contracted_loan(staff, 120_000_000, ON, coop)  # staff.officer now follows this coop
    other_officer = make_user("officer")
    rep = make_user("cooperative", cooperative=coop)
    data = {
        k: v
        for k, v in application_data(coop, 80_000_000, project_name=PROJECT).items()
        if k != "annual_rate"
    }
    app = applications.create_application(rep, data, ON)  # a cooperative does not set the rate
    db.session.commit()
    assert _work(kind="coop_application") == []  # a draft is not an application yet
    applications.submit(rep, app)
    db.session.commit()
    notes = _work(kind="coop_application")
    assert [(n.user_id, n.event_key) for n in notes] == [
        (staff.officer.id, f"application:{app.id}:submitted")
    ]
    doc = ApplicationDocument(
        application_id=app.id,
        original_name="phuong-an.pdf",
        stored_name="x" * 32,
        content_type="application/pdf",
        size=10,
        uploaded_by_id=rep.id,
    )
    db.session.add(doc)
    db.session.commit()
    notes = _work(kind="coop_document")
    assert [(n.user_id, n.event_key) for n in notes] == [(staff.officer.id, f"document:{doc.id}")]
    assert _work(other_officer) == []


def test_email_goes_once_through_the_backend(staff, caplog):
    staff.director.email = "giamdoc@example.vn"
    db.session.commit()
    loan = contracted_loan(staff, 120_000_000, ON)
    disbursements.record_disbursement(
        staff.accountant, loan.id, {"amount": 50_000_000, "date": ON}, ON
    )
    db.session.commit()
    with caplog.at_level(logging.INFO, logger="fundapp.mail"):
        sent = notify.deliver()
        again = notify.deliver()
    mails = [r for r in caplog.records if "giamdoc@example.vn" in r.getMessage()]
    # The contracted loan's appraisal was decided in its own unit of work (no notice); the
    # pending disbursement: one notice, one e-mail, then nothing more.
    assert (sent, again, len(mails)) == (1, 0, 1)


def test_policy_change_tells_the_other_board_members(staff):
    second = make_user("board")
    change = policy.propose(
        staff.board,
        "due_soon_days",
        "10",
        date(2026, 12, 1),
        "Quyết định 1/QĐ",
        "Thử",
        date(2026, 11, 20),
    )
    db.session.commit()
    assert [n.event_key for n in _work(second)] == [f"policy_change:{change.id}"]
    assert _work(staff.board) == []
