"""The API registers a cooperative with a commune of today and shows its former units."""

from __future__ import annotations

from typing import Any

import pytest

from fundapp.cooperatives.models import Cooperative
from fundapp.extensions import db
from tests.conftest import api_token, make_user

BODY = {
    "name": "HTX Thử địa bàn",
    "kind": "cooperative",
    "registration_no": "2405007777",
    "tax_code": "2400777777",
    "sector": "Trồng vải thiều",
}


@pytest.mark.parametrize(
    ("code", "expected"),
    [
        (
            "07525",
            {
                "commune_name": "Phường Chũ",
                "province_code": "24",
                "province_name": "Tỉnh Bắc Ninh",
                "former_district_code": "224",
                "former_district_name": "Thị xã Chũ",
                "former_province_code": "24",
                "former_province_name": "Tỉnh Bắc Giang",
                "commune_needs_confirming": False,
            },
        ),
        (
            "09367",  # Phường Từ Sơn, of former Bắc Ninh province (Thành phố Từ Sơn, 261)
            {
                "commune_name": "Phường Từ Sơn",
                "province_code": "24",
                "province_name": "Tỉnh Bắc Ninh",
                "former_district_code": "261",
                "former_district_name": "Thành phố Từ Sơn",
                "former_province_code": "27",
                "former_province_name": "Tỉnh Bắc Ninh",
                "commune_needs_confirming": False,
            },
        ),
    ],
)
def test_registration_with_a_commune_of_today(
    client: Any, app: Any, code: str, expected: dict
) -> None:
    headers = api_token(client, make_user("officer"))
    created = client.post(
        "/api/v1/cooperatives", json={**BODY, "commune_code": code}, headers=headers
    )
    assert created.status_code == 201, created.get_json()
    body = created.get_json()
    assert body["commune_code"] == code
    assert {k: body[k] for k in expected} == expected
    listed = client.get(f"/api/v1/cooperatives?commune_code={code}", headers=headers).get_json()
    assert [c["id"] for c in listed["items"]] == [body["id"]]
    by_district = client.get(
        f"/api/v1/cooperatives?former_district_code={expected['former_district_code']}",
        headers=headers,
    ).get_json()
    assert [c["id"] for c in by_district["items"]] == [body["id"]]
    # A change of another field keeps the commune; the read-only fields are ignored.
    patched = client.patch(
        f"/api/v1/cooperatives/{body['id']}", json={"members_count": 30}, headers=headers
    )
    assert patched.status_code == 200 and patched.get_json()["commune_code"] == code


@pytest.mark.parametrize(
    ("code", "message"),
    [
        (
            "07201",
            "Mã 07201 (Phường Thọ Xương) đã hết hiệu lực từ 01/07/2025; "
            "đơn vị kế thừa: 07210 Phường Bắc Giang",
        ),
        # Phường Thanh Hải of Thị xã Chũ (2025-01), merged into Phường Chũ on 01/07/2025.
        (
            "07549",
            "Mã 07549 (Phường Thanh Hải) đã hết hiệu lực từ 01/07/2025; "
            "đơn vị kế thừa: 07525 Phường Chũ",
        ),
        ("", "Trường này là bắt buộc."),
    ],
)
def test_an_expired_or_missing_code_is_refused_naming_the_successor(
    client: Any, app: Any, code: str, message: str
) -> None:
    headers = api_token(client, make_user("officer"))
    refused = client.post(
        "/api/v1/cooperatives", json={**BODY, "commune_code": code}, headers=headers
    )
    assert refused.status_code == 422
    error = refused.get_json()["error"]
    assert error["fields"]["commune_code"] == message
    assert db.session.query(Cooperative).count() == 0
