"""The close of day by hand: ``POST /api/v1/close-day`` and the web button — who may run
it, what it answers, and the page that shows the runs."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from fundapp.extensions import db
from fundapp.loans.days import CloseDayFailure
from fundapp.servicing import close_day, provisions
from tests.conftest import (
    BUSINESS_DATE,
    api_token,
    fresh_database,
    login,
    make_app,
    make_user,
)
from tests.jobs.helpers import FIRST, book_in_arrears, days, runs

# --- API ------------------------------------------------------------------------------------


@pytest.mark.parametrize("role", ["accountant", "director"])
def test_api_closes_up_to_a_date_then_up_to_the_business_date(client, app, role):
    book_in_arrears(loans=1)
    headers = api_token(client, make_user(role))

    response = client.post("/api/v1/close-day", json={"date": FIRST.isoformat()}, headers=headers)
    assert response.status_code == 200, response.get_json()
    (result,) = response.get_json()["results"]
    assert result["date"] == FIRST.isoformat() and result["ran"] is True
    assert result["reason"] == ""
    assert result["counts"]["loans_examined"] == 1
    assert result["counts"]["overdue_transfers"] >= 0

    response = client.post("/api/v1/close-day", headers=headers)  # no body: business date
    assert response.status_code == 200, response.get_json()
    results = response.get_json()["results"]
    expected = days(FIRST + timedelta(days=1), BUSINESS_DATE)
    assert [(r["date"], r["ran"]) for r in results] == [(d.isoformat(), True) for d in expected]
    assert [(d, t) for _i, d, t in runs()] == [(d, "api") for d in [FIRST, *expected]]

    response = client.post("/api/v1/close-day", json={}, headers=headers)
    assert response.status_code == 200
    assert response.get_json() == {"results": []}


def test_api_lists_the_runs_to_staff(client, app):
    book_in_arrears(loans=1)
    close_day.run_pending(FIRST, "cli")
    close_day.run_pending(FIRST + timedelta(days=2), "api")
    headers = api_token(client, make_user("controller"))
    response = client.get("/api/v1/close-day/runs?per_page=2", headers=headers)
    assert response.status_code == 200, response.get_json()
    data = response.get_json()
    assert data["total"] == 3 and data["per_page"] == 2
    assert [(r["date"], r["trigger"]) for r in data["items"]] == [
        ((FIRST + timedelta(days=2)).isoformat(), "api"),
        ((FIRST + timedelta(days=1)).isoformat(), "api"),
    ]
    first = data["items"][0]
    assert first["started_at"].endswith("Z") and first["finished_at"].endswith("Z")
    assert set(first["counts"]) >= {"loans_examined", "provision_change"}


@pytest.mark.parametrize("role", ["controller", "cooperative", "officer", "board", "admin"])
def test_api_close_day_is_for_the_accountant_and_the_director_only(client, app, role):
    headers = api_token(client, make_user(role))
    response = client.post("/api/v1/close-day", json={}, headers=headers)
    assert response.status_code == 403
    assert response.get_json()["error"]["code"] == "forbidden"
    assert runs() == []


def test_api_close_day_runs_are_not_for_a_cooperative(client, app):
    headers = api_token(client, make_user("cooperative"))
    assert client.get("/api/v1/close-day/runs", headers=headers).status_code == 403
    assert client.get("/api/v1/close-day/runs").status_code == 401
    assert client.post("/api/v1/close-day", json={}).status_code == 401


@pytest.mark.parametrize(
    ("payload", "field"),
    [
        ({"date": (BUSINESS_DATE + timedelta(days=1)).isoformat()}, "date"),
        ({"date": "2026-13-01"}, "date"),
        ({"date": 20261120}, "date"),
        ({"date": "2026-11-19", "force": True}, "force"),
    ],
)
def test_api_close_day_refuses_a_future_or_malformed_date(client, app, payload, field):
    headers = api_token(client, make_user("accountant"))
    response = client.post("/api/v1/close-day", json=payload, headers=headers)
    assert response.status_code == 422, response.get_json()
    error = response.get_json()["error"]
    assert error["code"] == "validation_error" and field in error["fields"]
    assert runs() == []


def test_api_close_day_refuses_a_body_that_is_not_an_object(client, app):
    headers = api_token(client, make_user("accountant"))
    response = client.post("/api/v1/close-day", json=["2026-11-20"], headers=headers)
    assert response.status_code == 422
    assert runs() == []


# --- web ------------------------------------------------------------------------------------


@pytest.mark.parametrize("role", ["accountant", "director"])
def test_the_button_closes_up_to_the_business_date_and_says_what_it_closed(client, app, role):
    book_in_arrears(loans=1)
    close_day.run_pending(FIRST, "cli")
    login(client, make_user(role))

    page = client.get("/close-day/").get_data(as_text=True)
    assert "Chạy khóa sổ đến ngày làm việc" in page
    assert 'id="pending-count">6<' in page
    assert 'id="next-date">15/11/2026<' in page

    response = client.post("/close-day/run", follow_redirects=True)
    assert response.status_code == 200
    text = response.get_data(as_text=True)
    assert "Đã khóa sổ 6 ngày, từ 15/11/2026 đến 20/11/2026." in text
    assert 'id="pending-count">0<' in text
    assert 'id="next-date">21/11/2026<' in text
    assert "Trên web" in text and "Dòng lệnh" in text
    assert "Chuyển nợ quá hạn" in text  # the counts, in words
    expected = days(FIRST + timedelta(days=1), BUSINESS_DATE)
    assert [(d, t) for _i, d, t in runs()] == [(FIRST, "cli")] + [(d, "web") for d in expected]

    again = client.post("/close-day/run", follow_redirects=True).get_data(as_text=True)
    assert "Không còn ngày nào cần khóa sổ: đã khóa sổ đến ngày 20/11/2026." in again
    assert len(runs()) == 7


def test_staff_read_the_page_but_only_runners_see_the_button(client, app):
    login(client, make_user("controller"))
    response = client.get("/close-day/")
    assert response.status_code == 200
    text = response.get_data(as_text=True)
    assert "Khóa sổ cuối ngày" in text and "Chưa khóa sổ ngày nào." in text
    assert "Chạy khóa sổ đến ngày làm việc" not in text
    assert "hằng ngày lúc 00:15 (Asia/Ho_Chi_Minh)" in text


@pytest.mark.parametrize("role", ["controller", "cooperative", "officer", "board", "admin"])
def test_the_button_is_refused_to_other_roles(client, app, role):
    login(client, make_user(role))
    assert client.post("/close-day/run", data={"x": "1"}).status_code == 403
    assert runs() == []


@pytest.mark.parametrize("role", ["cooperative", "admin"])
def test_the_page_is_for_staff_only(client, app, role):
    login(client, make_user(role))
    assert client.get("/close-day/").status_code == 403


def test_anonymous_is_sent_to_login(client, app):
    assert client.get("/close-day/").status_code == 302
    assert client.post("/close-day/run").status_code == 302
    assert runs() == []


def test_a_failed_run_from_the_web_is_flashed_and_listed_with_its_error(client, app, monkeypatch):
    book_in_arrears(loans=1)
    close_day.run_pending(FIRST, "cli")
    login(client, make_user("accountant"))
    real = provisions.post_provisions

    def broken_on_the_17th(day, *args):
        if day == FIRST + timedelta(days=3):
            raise RuntimeError("provision table locked by the auditor")
        return real(day, *args)

    monkeypatch.setattr(provisions, "post_provisions", broken_on_the_17th)
    response = client.post("/close-day/run", follow_redirects=True)
    assert response.status_code == 200
    text = response.get_data(as_text=True)
    assert "Đã khóa sổ đến ngày 16/11/2026." in text
    assert "Khóa sổ bị lỗi (lỗi hệ thống)" in text
    assert "provision table locked by the auditor" in text  # the failures table
    assert "Chưa khóa sổ" in text
    assert 'id="pending-count">4<' in text
    assert [d for _i, d, _t in runs()] == days(FIRST, FIRST + timedelta(days=2))
    failure = db.session.scalar(select(CloseDayFailure))
    assert failure.business_date == FIRST + timedelta(days=3)

    monkeypatch.undo()
    text = client.post("/close-day/run", follow_redirects=True).get_data(as_text=True)
    assert "Đã khóa sổ 4 ngày, từ 17/11/2026 đến 20/11/2026." in text
    assert "Đã khóa sổ lại" in text


def test_the_button_needs_the_csrf_token():
    with fresh_database(make_app(WTF_CSRF_ENABLED=True)) as app:
        client = app.test_client()
        user = make_user("accountant")
        page = client.get("/login").get_data(as_text=True)
        token = page.split('name="csrf_token" type="hidden" value="')[1].split('"')[0]
        client.post(
            "/login",
            data={"username": user.username, "password": "Matkhau2026", "csrf_token": token},
        )
        assert client.get("/close-day/").status_code == 200
        assert client.post("/close-day/run").status_code == 400
        assert runs() == []
        index = client.get("/close-day/").get_data(as_text=True)
        token = index.split('name="csrf_token" type="hidden" value="')[1].split('"')[0]
        assert client.post("/close-day/run", data={"csrf_token": token}).status_code == 302
        assert [d for _i, d, _t in runs()] == [BUSINESS_DATE]
