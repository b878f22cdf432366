"""Who may read the reports, and clear messages for bad filters (never a 500)."""

from __future__ import annotations

import pytest

from tests.conftest import BUSINESS_DATE, api_token, login, make_user

PAGES = ("fund-balance", "lending-activity", "classification", "par")


@pytest.mark.parametrize("role", ["officer", "accountant", "director", "board", "controller"])
def test_staff_read_every_report(app, client, role):
    login(client, make_user(role))
    index = client.get("/reports/")
    assert index.status_code == 200
    html = index.get_data(as_text=True)
    for slug in PAGES:
        assert f'href="/reports/{slug}"' in html
        assert client.get(f"/reports/{slug}").status_code == 200
    assert client.get("/reports/par.xlsx").status_code == 200


@pytest.mark.parametrize("role", ["cooperative", "admin"])
def test_cooperatives_and_admins_never_see_them(app, client, role):
    user = make_user(role)
    login(client, user)
    for slug in PAGES:
        for suffix in ("", ".pdf", ".xlsx"):
            assert client.get(f"/reports/{slug}{suffix}").status_code == 403
    headers = api_token(client, user)
    for slug in PAGES:
        for suffix in ("", ".pdf", ".xlsx"):
            assert client.get(f"/api/v1/reports/{slug}{suffix}", headers=headers).status_code == 403


def test_anonymous_is_sent_to_login_and_the_api_needs_a_token(app, client):
    assert client.get("/reports/fund-balance").status_code == 302
    response = client.get("/api/v1/reports/fund-balance")
    assert response.status_code == 401
    assert response.get_json()["error"]["code"] == "unauthorized"


@pytest.mark.parametrize(
    ("path", "field", "words"),
    [
        ("fund-balance?as_of=2026-02-30", "as_of", "Ngày không hợp lệ"),
        ("fund-balance?as_of=hôm-qua", "as_of", "Ngày không hợp lệ"),
        ("fund-balance?as_of=2026-11-21", "as_of", "sau ngày làm việc hiện tại (20/11/2026)"),
        ("fund-balance?as_of=2026-03-31&from=2026-04-01", "from", "Ngày bắt đầu 01/04/2026 sau"),
        ("lending-activity?from=2026-06-01&to=2026-05-31", "from", "Ngày bắt đầu 01/06/2026 sau"),
        ("lending-activity?to=2027-01-01", "to", "sau ngày làm việc hiện tại"),
        ("lending-activity?group_by=officer", "group_by", "Cách nhóm không hợp lệ"),
        ("classification?quarter=2026-Q5", "quarter", "Quý không hợp lệ"),
        ("classification?quarter=Q3", "quarter", "Quý không hợp lệ"),
        ("classification?quarter=2026-Q4", "quarter", "Quý 2026-Q4 chưa kết thúc"),
        ("par?as_of=2026-12-31", "as_of", "sau ngày làm việc hiện tại"),
    ],
)
def test_bad_filters_get_a_clear_message(app, client, path, field, words):
    user = make_user("director")
    headers = api_token(client, user)
    for suffix in ("", ".pdf", ".xlsx"):
        slug, _sep, query = path.partition("?")
        response = client.get(f"/api/v1/reports/{slug}{suffix}?{query}", headers=headers)
        assert response.status_code == 422, (path, suffix)
        error = response.get_json()["error"]
        assert error["code"] == "validation_error"
        assert words in error["fields"][field]
    login(client, user)
    page = client.get(f"/reports/{path}")
    assert page.status_code == 422
    html = page.get_data(as_text=True)
    assert words in html
    assert 'aria-invalid="true"' in html
    assert client.get(f"/reports/{path.replace('?', '.pdf?')}").status_code == 422


def test_defaults_are_the_business_date_and_the_last_ended_quarter(app, client):
    headers = api_token(client, make_user("controller"))
    fund = client.get("/api/v1/reports/fund-balance", headers=headers).get_json()
    assert fund["as_of"] == BUSINESS_DATE.isoformat()
    assert fund["period"]["start"] == "2026-01-01"
    quarter = client.get("/api/v1/reports/classification", headers=headers).get_json()
    assert (quarter["quarter"], quarter["as_of"]) == ("2026-Q3", "2026-09-30")
    activity = client.get("/api/v1/reports/lending-activity", headers=headers).get_json()
    assert activity["filters"] == {
        "from": "2026-01-01",
        "to": "2026-11-20",
        "group_by": "area",
        "by": "commune",
    }
    assert client.get("/api/v1/reports/par?as_of=2026-11-20", headers=headers).status_code == 200
    # The API reads YYYY-MM-DD only (the pages also take dd/mm/yyyy).
    assert client.get("/api/v1/reports/par?as_of=20/11/2026", headers=headers).status_code == 422
