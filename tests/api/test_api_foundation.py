from __future__ import annotations

from datetime import timedelta

import pytest

from fundapp.auth.models import ApiToken
from fundapp.cooperatives.models import Cooperative
from fundapp.extensions import db
from fundapp.ledger.models import CapitalEntry, JournalEntry
from tests.conftest import PASSWORD, api_token, make_cooperative, make_user


def test_token_then_me(client, app):
    coop = make_cooperative()
    user = make_user("cooperative", cooperative=coop)
    response = client.post("/api/v1/tokens", json={"username": user.username, "password": PASSWORD})
    assert response.status_code == 201
    body = response.get_json()
    assert set(body) == {"token", "expires_at"}
    stored = db.session.query(ApiToken).one()
    assert stored.token_hash != body["token"] and len(stored.token_hash) == 64
    me = client.get("/api/v1/me", headers={"Authorization": f"Bearer {body['token']}"})
    assert me.get_json() == {
        "id": user.id,
        "username": user.username,
        "full_name": user.full_name,
        "email": None,
        "roles": ["cooperative"],
        "cooperative_id": coop.id,
    }


@pytest.mark.parametrize(
    "payload",
    [
        None,
        [],
        {"username": "x"},
        {"username": 1, "password": 2},
        {"username": "a", "password": "b", "extra": 1},
    ],
)
def test_bad_token_requests_are_4xx_json(client, app, payload):
    response = (
        client.post("/api/v1/tokens", json=payload)
        if payload is not None
        else client.post("/api/v1/tokens", data="not json", content_type="application/json")
    )
    assert 400 <= response.status_code < 500
    assert set(response.get_json()["error"]) >= {"code", "message"}


def test_wrong_password_is_401_with_error_body(client, app):
    user = make_user("officer")
    response = client.post(
        "/api/v1/tokens", json={"username": user.username, "password": "wrong-pass1"}
    )
    assert response.status_code == 401
    assert response.get_json()["error"]["code"] == "unauthorized"


def test_expired_revoked_and_tampered_tokens_are_refused(client, app):
    user = make_user("officer")
    headers = api_token(client, user)
    assert client.get("/api/v1/me", headers=headers).status_code == 200
    tampered = {"Authorization": headers["Authorization"][:-2] + "xx"}
    assert client.get("/api/v1/me", headers=tampered).status_code == 401
    token = db.session.query(ApiToken).one()
    token.expires_at = token.created_at - timedelta(seconds=1)
    db.session.commit()
    assert client.get("/api/v1/me", headers=headers).status_code == 401
    fresh = api_token(client, user)
    assert client.delete("/api/v1/tokens/current", headers=fresh).status_code == 204
    assert client.get("/api/v1/me", headers=fresh).status_code == 401


def test_officer_creates_cooperative_and_bad_input_is_422(client, app):
    headers = api_token(client, make_user("officer"))
    good = {
        "name": "HTX Măng Sơn Động",
        "kind": "cooperative",
        "registration_no": "2405009999",
        "tax_code": "2400999999",
        "commune_code": "07615",  # Xã Sơn Động (Thị trấn An Châu until 30/06/2025)
        "sector": "Chế biến măng",
        "representative": "Hoàng Thị Mai",
        "phone": "0987654321",
        "email": "mang@example.vn",
    }
    created = client.post("/api/v1/cooperatives", json=good, headers=headers)
    assert created.status_code == 201
    body = created.get_json()
    assert (body["commune_code"], body["commune_name"]) == ("07615", "Xã Sơn Động")
    assert (body["province_code"], body["province_name"]) == ("24", "Tỉnh Bắc Ninh")
    assert (body["former_district_code"], body["former_district_name"]) == ("220", "Huyện Sơn Động")
    assert (body["former_province_code"], body["former_province_name"]) == ("24", "Tỉnh Bắc Giang")
    dup = client.post("/api/v1/cooperatives", json=good, headers=headers)
    assert dup.status_code == 422
    assert set(dup.get_json()["error"]["fields"]) == {"registration_no", "tax_code"}
    bad = client.post(
        "/api/v1/cooperatives",
        json={
            **good,
            "registration_no": "X1",
            "tax_code": "123",
            "commune_code": "07201",
            "name": "N" * 500,
        },
        headers=headers,
    )
    assert bad.status_code == 422
    assert set(bad.get_json()["error"]["fields"]) == {"tax_code", "commune_code", "name"}
    assert bad.get_json()["error"]["fields"]["commune_code"] == (
        "Mã 07201 (Phường Thọ Xương) đã hết hiệu lực từ 01/07/2025; "
        "đơn vị kế thừa: 07210 Phường Bắc Giang"
    )
    # The old district field is gone: refused as unknown, not silently ignored.
    old = client.post(
        "/api/v1/cooperatives",
        json={**good, "registration_no": "X2", "district_code": "220"},
        headers=headers,
    )
    assert old.status_code == 422
    assert db.session.query(Cooperative).count() == 1
    got = client.get(f"/api/v1/cooperatives/{created.get_json()['id']}", headers=headers)
    assert got.get_json()["tax_code"] == "2400999999"
    assert client.get("/api/v1/cooperatives/99999", headers=headers).status_code == 404


@pytest.mark.parametrize(
    ("amount", "field_message"),
    [
        (-1, "lớn hơn 0"),
        (0, "lớn hơn 0"),
        (1.5, "không có phần thập phân"),
        ("1000", "không phải chuỗi"),
        ("12abc", "không phải chuỗi"),
        (None, "Nhập số tiền"),
        (10**20, "quá lớn"),
        (True, "số nguyên đồng"),
    ],
)
def test_capital_entry_api_refuses_bad_amounts(client, app, amount, field_message):
    headers = api_token(client, make_user("accountant"))
    response = client.post(
        "/api/v1/capital-entries",
        json={"source": "charter", "amount": amount, "date": "2026-11-01"},
        headers=headers,
    )
    assert response.status_code == 422
    assert field_message in response.get_json()["error"]["fields"]["amount"]
    assert db.session.query(CapitalEntry).count() == 0
    assert db.session.query(JournalEntry).count() == 0


def test_capital_entry_api_posts_and_lists(client, app):
    accountant = make_user("accountant")
    headers = api_token(client, accountant)
    body = {
        "source": "entrusted",
        "source_name": "Quỹ HTX Trung ương",
        "amount": 2_000_000_000,
        "date": "2026-10-01",
        "reference": "HĐ 1/2026",
    }
    response = client.post("/api/v1/capital-entries", json=body, headers=headers)
    assert response.status_code == 201
    assert response.get_json()["amount"] == 2_000_000_000
    listing = client.get("/api/v1/capital-entries", headers=headers).get_json()
    assert listing["total"] == 1 and listing["items"][0]["source_name"] == "Quỹ HTX Trung ương"
    position = client.get("/api/v1/fund/position", headers=headers).get_json()
    assert position["total_capital"] == 2_000_000_000
    assert position["uses"]["cash"] == 2_000_000_000


def test_idempotency_key_records_one_capital_entry(client, app):
    headers = {**api_token(client, make_user("accountant")), "Idempotency-Key": "cap-001"}
    body = {"source": "charter", "amount": 1_000_000, "date": "2026-11-01"}
    first = client.post("/api/v1/capital-entries", json=body, headers=headers)
    second = client.post("/api/v1/capital-entries", json=body, headers=headers)
    assert first.status_code == second.status_code == 201
    assert first.get_json() == second.get_json()
    assert second.headers.get("Idempotent-Replayed") == "true"
    assert db.session.query(CapitalEntry).count() == 1
    other = client.post(
        "/api/v1/capital-entries", json={**body, "amount": 2_000_000}, headers=headers
    )
    assert other.status_code == 409
    assert db.session.query(CapitalEntry).count() == 1


def test_unknown_fields_and_bad_paging_are_422(client, app):
    headers = api_token(client, make_user("accountant"))
    response = client.post(
        "/api/v1/capital-entries",
        json={"source": "charter", "amount": 5, "date": "2026-11-01", "hack": 1},
        headers=headers,
    )
    assert response.status_code == 422
    assert "hack" in response.get_json()["error"]["fields"]
    assert client.get("/api/v1/capital-entries?page=0", headers=headers).status_code == 422
    assert client.get("/api/v1/capital-entries?per_page=abc", headers=headers).status_code == 422


def test_unknown_api_path_is_json_404(client, app):
    response = client.get("/api/v1/nothing-here")
    assert response.status_code == 404
    assert response.get_json()["error"]["code"] == "not_found"
