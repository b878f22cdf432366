"""The dashboard page and its API: access, the date filter, the same figures in both."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET

import pytest

from fundapp.domain.money import format_dong
from tests.conftest import api_token, login, make_user
from tests.dashboard.scenario import build

SVG_BLOCK = re.compile(r"<svg\b.*?</svg>", re.S)


@pytest.fixture
def fund(app):
    return build()


def test_director_sees_figures_and_the_four_charts(client, fund):
    login(client, fund.staff.director)
    response = client.get("/dashboard")
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert "Bảng điều khiển" in page
    assert "Số liệu đến hết ngày 20/11/2026" in page
    assert "15.000.000.000 đ" in page  # capital
    assert "90.000.000 đ" in page  # outstanding
    assert "14.914.029.040 đ" in page  # cash available to lend
    assert "33,33 %" in page and "66,67 %" in page  # overdue, bad-debt ratios
    assert "94.029.040 đ" in page  # collected this year
    assert "Dự án: 2 · HTX và thành viên: 2" in page
    svgs = SVG_BLOCK.findall(page)
    assert len(svgs) == 4
    for svg in svgs:
        root = ET.fromstring(svg)  # noqa: S314 (our own markup)
        assert all("style" not in e.attrib for e in root.iter())
    assert ' style="' not in page and "<script>" not in page
    # By today's commune by default; by former district or province when asked.
    assert "Phường Bắc Giang" in svgs[1]
    by_district = client.get("/dashboard?by=former_district").get_data(as_text=True)
    assert "Thành phố Bắc Giang" in SVG_BLOCK.findall(by_district)[1]
    by_province = client.get("/dashboard?by=former_province").get_data(as_text=True)
    assert "Tỉnh Bắc Giang" in SVG_BLOCK.findall(by_province)[1]
    assert "Nhóm 3 – dưới tiêu chuẩn" in svgs[2]


def test_pending_work_links_to_its_queue(client, fund):
    login(client, fund.staff.director)
    page = client.get("/dashboard").get_data(as_text=True)
    assert re.search(
        r'href="/applications/\?status=submitted">Hồ sơ chờ thẩm định</a>\s*'
        r'<span class="badge badge-warning">1</span>',
        page,
    )
    assert re.search(
        r'href="/loans/approvals">Giải ngân chờ duyệt</a>\s*'
        r'<span class="badge badge-warning">1</span>',
        page,
    )


def test_an_earlier_date(client, fund):
    login(client, fund.staff.director)
    page = client.get("/dashboard?as_of=31/10/2026").get_data(as_text=True)
    assert "Số liệu đến hết ngày 31/10/2026" in page
    assert "0,00 %" in page  # nothing overdue before the close of day of 20/11
    assert "30.907.397 đ" in page  # collected in October


@pytest.mark.parametrize(
    ("as_of", "message"),
    [
        ("21/11/2026", "không được sau ngày làm việc hiện tại (20/11/2026)"),
        ("2026-13-01", "Ngày không hợp lệ"),
        ("hôm qua", "Ngày không hợp lệ"),
    ],
)
def test_a_bad_date_is_refused_with_a_message(client, fund, as_of, message):
    login(client, fund.staff.director)
    response = client.get("/dashboard", query_string={"as_of": as_of})
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert message in page
    assert 'aria-invalid="true"' in page


@pytest.mark.parametrize("role", ["director", "board", "accountant", "controller", "officer"])
def test_staff_may_read_it(client, app, role):
    login(client, make_user(role))
    assert client.get("/dashboard").status_code == 200


def test_cooperative_and_admin_users_are_refused(client, app):
    login(client, make_user("cooperative"))
    assert client.get("/dashboard").status_code == 403
    client.post("/logout")
    login(client, make_user("admin"))
    assert client.get("/dashboard").status_code == 403


def test_staff_land_on_their_work_and_the_controller_on_the_fund(client, app):
    # Issue 16: every deciding or working role lands on its page of work (/work/), which
    # links the dashboard; the controller, who reads, on the fund's overview.
    login(client, make_user("director"))
    assert client.get("/").headers["Location"] == "/work/"
    client.post("/logout")
    login(client, make_user("accountant"))
    assert client.get("/").headers["Location"] == "/work/"
    client.post("/logout")
    login(client, make_user("controller"))
    assert client.get("/").headers["Location"] == "/fund"


def test_api_carries_the_page_figures(client, fund):
    headers = api_token(client, fund.staff.director)
    response = client.get("/api/v1/dashboard", headers=headers)
    assert response.status_code == 200
    data = response.get_json()
    assert data["as_of"] == "2026-11-20"
    assert data["capital"]["total"] == 15_000_000_000
    assert data["outstanding"] == {
        "total": 90_000_000,
        "in_term": 60_000_000,
        "overdue": 30_000_000,
        "bad_debt": 60_000_000,
    }
    assert data["available_to_lend"] == 14_914_029_040
    assert data["ratios"] == {"overdue": "33.33", "bad_debt": "66.67"}
    assert data["this_year"]["interest_collected"] == 4_029_040
    assert data["pending_approvals"]["total"] == 2
    assert data["series"]["debt_groups"][3] == {"group": 4, "outstanding": 60_000_000}
    assert len(data["series"]["outstanding_by_month"]) == 24
    assert len(data["series"]["collections"]) == 12

    login(client, fund.staff.director)
    page = client.get("/dashboard").get_data(as_text=True)
    for amount in (
        data["capital"]["total"],
        data["outstanding"]["total"],
        data["outstanding"]["in_term"],
        data["outstanding"]["bad_debt"],
        data["available_to_lend"],
        data["this_year"]["disbursed"],
        data["this_year"]["collected"],
        data["this_year"]["principal_collected"],
        data["this_year"]["interest_collected"],
    ):
        assert format_dong(amount) in page


def test_api_refuses_future_and_bad_dates(client, fund):
    headers = api_token(client, fund.staff.director)
    future = client.get("/api/v1/dashboard?as_of=2026-11-21", headers=headers)
    assert future.status_code == 422
    error = future.get_json()["error"]
    assert error["code"] == "validation_error"
    assert "as_of" in error["fields"]
    assert "20/11/2026" in error["message"]
    assert client.get("/api/v1/dashboard?as_of=x", headers=headers).status_code == 422
    earlier = client.get("/api/v1/dashboard?as_of=2026-10-31", headers=headers).get_json()
    assert earlier["this_month"]["collected"] == 30_907_397


def test_api_refuses_cooperatives_and_anonymous(client, app):
    headers = api_token(client, make_user("cooperative"))
    assert client.get("/api/v1/dashboard", headers=headers).status_code == 403
    assert client.get("/api/v1/dashboard").status_code == 401
