from __future__ import annotations

import pytest

from fundapp.audit.models import AuditLog
from fundapp.cooperatives.models import Cooperative
from fundapp.extensions import db
from tests.conftest import login, make_cooperative, make_user

GOOD = {
    "name": "HTX Nấm Tân Dĩnh",
    "kind": "cooperative",
    "registration_no": "2405001234",
    "tax_code": "2400123456",
    "district_code": "217",
    "commune": "Xã Tân Dĩnh",
    "address": "Thôn Ngọc Sơn",
    "sector": "Sản xuất nấm",
    "representative": "Phạm Văn Nấm",
    "phone": "0912 345 678",
    "email": "namtandinh@example.vn",
    "members_count": "22",
    "bank_account": "8800123456",
    "bank_name": "Agribank Lạng Giang",
    "related_group_id": "",
}


@pytest.fixture
def officer_client(client, app):
    login(client, make_user("officer"))
    return client


def test_officer_creates_edits_and_finds_a_cooperative(officer_client):
    response = officer_client.post("/cooperatives/new", data=GOOD)
    assert response.status_code == 302
    coop = db.session.query(Cooperative).one()
    assert coop.phone == "0912345678"
    assert coop.district_name == "Huyện Lạng Giang"
    edited = officer_client.post(
        f"/cooperatives/{coop.id}/edit", data={**GOOD, "members_count": "25"}
    )
    assert edited.status_code == 302
    db.session.refresh(coop)
    assert coop.members_count == 25
    changes = db.session.query(AuditLog).filter_by(entity="cooperative").order_by(AuditLog.id).all()
    assert [c.action for c in changes] == ["cooperative.create", "cooperative.update"]
    assert changes[1].before == {"members_count": 22} and changes[1].after == {"members_count": 25}
    page = officer_client.get("/cooperatives/", query_string={"q": "nấm", "district": "217"})
    assert "HTX Nấm Tân Dĩnh" in page.get_data(as_text=True)
    none = officer_client.get("/cooperatives/", query_string={"district": "213"})
    assert "HTX Nấm Tân Dĩnh" not in none.get_data(as_text=True)


def test_thirteen_digit_tax_code_with_dash_is_accepted(officer_client):
    response = officer_client.post("/cooperatives/new", data={**GOOD, "tax_code": "2400123456-001"})
    assert response.status_code == 302
    assert db.session.query(Cooperative).one().tax_code == "2400123456001"


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("tax_code", "12345", "Mã số thuế gồm 10 hoặc 13 chữ số."),
        ("tax_code", "24001234AB", "Mã số thuế gồm 10 hoặc 13 chữ số."),
        ("district_code", "999", "Mã huyện không thuộc tỉnh Bắc Giang."),
        ("district_code", "", "Trường này là bắt buộc."),
        ("email", "not-an-email", "Địa chỉ e-mail không hợp lệ."),
        ("phone", "12345", "Số điện thoại không hợp lệ"),
        ("name", "H" * 201, "Tối đa 200 ký tự."),
        ("name", "", "Trường này là bắt buộc."),
        ("members_count", "-3", "Phải là số nguyên không âm."),
        ("members_count", "2.5", "Phải là số nguyên không âm."),
        ("kind", "bank", "Loại hình không hợp lệ."),
        ("related_group_id", "999", "Nhóm người có liên quan không tồn tại."),
    ],
)
def test_bad_cooperative_input_is_refused_with_a_field_message(
    officer_client, field, value, message
):
    response = officer_client.post("/cooperatives/new", data={**GOOD, field: value})
    assert response.status_code == 200
    assert message in response.get_data(as_text=True)
    assert db.session.query(Cooperative).count() == 0


def test_duplicate_tax_code_and_registration_are_refused(officer_client):
    existing = make_cooperative(tax_code="2400123456", registration_no="2405001234")
    response = officer_client.post("/cooperatives/new", data=GOOD)
    text = response.get_data(as_text=True)
    assert "Mã số thuế này đã có trong hệ thống." in text
    assert "Số đăng ký này đã có trong hệ thống." in text
    assert db.session.query(Cooperative).count() == 1
    # Editing the same cooperative keeps its own codes without complaint.
    ok = officer_client.post(f"/cooperatives/{existing.id}/edit", data=GOOD)
    assert ok.status_code == 302


def test_related_group_links_cooperatives(officer_client):
    response = officer_client.post(
        "/cooperatives/groups/new", data={"name": "Nhóm Thanh Hà", "note": ""}
    )
    assert response.status_code == 302
    from fundapp.cooperatives.models import RelatedGroup

    group = db.session.query(RelatedGroup).one()
    officer_client.post("/cooperatives/new", data={**GOOD, "related_group_id": str(group.id)})
    assert db.session.query(Cooperative).one().related_group_id == group.id
    page = officer_client.get("/cooperatives/groups").get_data(as_text=True)
    assert "Nhóm Thanh Hà" in page and "HTX Nấm Tân Dĩnh" in page


def test_missing_cooperative_is_404(officer_client):
    assert officer_client.get("/cooperatives/424242").status_code == 404
