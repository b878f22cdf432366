"""The readiness check on the portal, on the staff application page and in the API.

Figures (policy defaults: own equity at least 20 %): cost 500.000.000, equity 80.000.000
→ 100.000.000 needed, 20.000.000 đ missing; the loan asked, 400.000.000, is within
500.000.000 − 80.000.000 = 420.000.000, so the equity condition is the only one failing.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from fundapp.extensions import db
from fundapp.lending import applications
from tests.conftest import api_token, client_for, make_cooperative, make_user
from tests.services.lending_helpers import application_data, fund_and_staff
from tests.web.test_portal import block, text

SHORT = {
    "total_project_cost": "500.000.000",
    "own_equity": "80.000.000",
    "requested_amount": "400.000.000",
    "purpose": "Mua máy sấy vải",
    "collateral": "yes",
}
CODES = ("legal_status", "project", "equity", "no_bad_debt", "collateral")


def passed(html: str, code: str) -> bool:
    row = block(html, f"readiness-{code}")
    return 'data-passed="yes"' in row


def test_the_portal_check_shows_the_equity_missing_and_nothing_else_failing(app):
    fund_and_staff()
    coop = make_cooperative(name="HTX Vải thiều Thanh Hà")
    client = client_for(app, make_user("cooperative", cooperative=coop))

    home = text(client.get("/portal/"))
    assert 'href="/portal/readiness"' in home
    assert 'href="/portal/readiness"' in text(client.get("/portal/applications/new"))

    empty = client.get("/portal/readiness")
    assert empty.status_code == 200
    assert 'id="readiness-result"' not in text(empty)

    response = client.get("/portal/readiness", query_string=SHORT)
    assert response.status_code == 200
    html = text(response)
    assert [code for code in CODES if not passed(html, code)] == ["equity"]
    equity = block(html, "readiness-equity")
    assert "Còn thiếu 20.000.000 đ" in equity
    assert "100.000.000 đ" in equity
    assert coop.registration_no in block(html, "readiness-legal_status")


def test_bad_amounts_are_shown_under_their_fields(app):
    client = client_for(app, make_user("cooperative"))
    response = client.get("/portal/readiness", query_string={**SHORT, "own_equity": "abc"})
    assert response.status_code == 422
    html = text(response)
    assert 'id="own_equity-error"' in html
    assert 'id="readiness-result"' not in html


def test_a_cooperative_checks_only_its_own_profile(app):
    fund_and_staff()
    own = make_cooperative(name="HTX Của mình")
    other = make_cooperative(name="HTX Hàng xóm")
    user = make_user("cooperative", cooperative=own)
    client = client_for(app, user)
    html = text(client.get("/portal/readiness", query_string={**SHORT, "cooperative_id": other.id}))
    legal = block(html, "readiness-legal_status")
    assert own.registration_no in legal
    assert other.registration_no not in html

    headers = api_token(client, user)
    answer = client.get("/api/v1/portal/readiness", query_string={**_api(SHORT)}, headers=headers)
    assert answer.status_code == 200, answer.get_json()
    data = answer.get_json()
    assert data["cooperative_id"] == own.id
    assert data["ready"] is False
    failing = [c for c in data["conditions"] if not c["passed"]]
    assert [(c["code"], c["missing"]) for c in failing] == [("equity", 20_000_000)]
    refused = client.get(
        "/api/v1/portal/readiness",
        query_string={**_api(SHORT), "cooperative_id": other.id},
        headers=headers,
    )
    assert refused.status_code == 404


def test_staff_are_refused_the_portal_page_and_name_the_borrower_in_the_api(app):
    fund_and_staff()
    coop = make_cooperative()
    officer = make_user("officer")
    client = client_for(app, officer)
    assert client.get("/portal/readiness", query_string=SHORT).status_code == 403
    headers = api_token(client, officer)
    missing = client.get("/api/v1/portal/readiness", query_string=_api(SHORT), headers=headers)
    assert missing.status_code == 422
    answer = client.get(
        "/api/v1/portal/readiness",
        query_string={**_api(SHORT), "cooperative_id": coop.id},
        headers=headers,
    )
    assert answer.status_code == 200
    assert answer.get_json()["cooperative_id"] == coop.id


def _api(form: dict[str, str]) -> dict[str, Any]:
    return {
        "total_project_cost": 500_000_000,
        "own_equity": 80_000_000,
        "requested_amount": 400_000_000,
        "purpose": form["purpose"],
        "collateral": "true",
    }


def test_the_officer_sees_the_checklist_on_the_application(app):
    staff = fund_and_staff()
    coop = make_cooperative()
    data = application_data(
        coop,
        400_000_000,
        total_project_cost=500_000_000,
        own_equity=80_000_000,
        purpose="Mua máy sấy vải",
        collateral_offered="Quyền sử dụng đất thửa 123",
    )
    application = applications.create_application(staff.officer, data, date(2026, 11, 2))
    db.session.commit()
    client = client_for(app, staff.officer)
    html = text(client.get(f"/applications/{application.id}"))
    assert "Kiểm tra điều kiện cho vay" in html  # the lending checks card stays
    assert [code for code in CODES if not passed(html, code)] == ["equity"]
    assert "Còn thiếu 20.000.000 đ" in block(html, "readiness-equity")

    headers = api_token(client, staff.officer)
    answer = client.get(f"/api/v1/applications/{application.id}/readiness", headers=headers)
    assert answer.status_code == 200
    equity = next(c for c in answer.get_json()["conditions"] if c["code"] == "equity")
    assert (equity["passed"], equity["missing"]) == (False, 20_000_000)

    # Another cooperative's user does not find it.
    stranger = make_user("cooperative")
    other = client_for(app, stranger)
    refused = other.get(
        f"/api/v1/applications/{application.id}/readiness", headers=api_token(other, stranger)
    )
    assert refused.status_code == 404
