from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import select

from fundapp.areas import services as areas
from fundapp.audit.models import AuditLog
from fundapp.cooperatives.models import Cooperative
from fundapp.extensions import db
from tests.conftest import login, make_cooperative, make_user

GOOD = {
    "name": "HTX Nấm Tân Dĩnh",
    "kind": "cooperative",
    "registration_no": "2405001234",
    "tax_code": "2400123456",
    "commune_code": "07432",  # Xã Tân Dĩnh, Bắc Ninh (former Huyện Lạng Giang, Bắc Giang)
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
        (
            "commune_code",
            "07201",
            "Mã 07201 (Phường Thọ Xương) đã hết hiệu lực từ 01/07/2025; "
            "đơn vị kế thừa: 07210 Phường Bắc Giang",
        ),
        (
            "commune_code",
            "99999",
            "Mã 99999 không phải mã xã, phường, thị trấn trong danh mục đơn vị hành chính.",
        ),
        ("commune_code", "", "Trường này là bắt buộc."),
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


@pytest.mark.parametrize(
    ("code", "commune", "former_district", "former_province"),
    [
        # Phường Chũ: Thị trấn Chũ of Huyện Lục Ngạn in 2021, of Thị xã Chũ from 01/01/2025.
        ("07525", "Phường Chũ", "Thị xã Chũ", "Tỉnh Bắc Giang"),
        # Phường Kinh Bắc: communes of Thành phố Bắc Ninh, former Bắc Ninh province.
        ("09187", "Phường Kinh Bắc", "Thành phố Bắc Ninh", "Tỉnh Bắc Ninh"),
    ],
)
def test_the_form_registers_with_todays_commune_and_shows_the_former_units(
    officer_client, code, commune, former_district, former_province
):
    form = officer_client.get("/cooperatives/new").get_data(as_text=True)
    assert f'<option value="{code}"' in form and "<optgroup" in form
    response = officer_client.post("/cooperatives/new", data={**GOOD, "commune_code": code})
    assert response.status_code == 302
    coop = db.session.query(Cooperative).one()
    area = coop.area
    assert (area.commune_code, area.commune_name) == (code, commune)
    assert (area.province_code, area.province_name) == ("24", "Tỉnh Bắc Ninh")
    assert (area.former_district_name, area.former_province_name) == (
        former_district,
        former_province,
    )
    page = officer_client.get(f"/cooperatives/{coop.id}").get_data(as_text=True)
    for text in (commune, former_district, former_province, "Lịch sử địa chỉ"):
        assert text in page


def test_an_address_change_keeps_the_old_address_with_its_dates(app, officer_client):
    from datetime import date

    from fundapp.cooperatives import services
    from fundapp.cooperatives.models import CooperativeAddress

    officer_client.post("/cooperatives/new", data=GOOD)
    coop = db.session.query(Cooperative).one()
    # Moved on 01/12/2026 (after the business date 20/11/2026 the address was entered).
    services.update(None, coop, {**coop.to_dict(), "commune_code": "07525"}, date(2026, 12, 1))
    db.session.commit()
    rows = (
        db.session.query(CooperativeAddress)
        .filter_by(cooperative_id=coop.id)
        .order_by(CooperativeAddress.valid_from)
        .all()
    )
    assert [(r.commune_unit.code, r.valid_from, r.valid_to) for r in rows] == [
        ("07432", date(2026, 11, 20), date(2026, 11, 30)),
        ("07525", date(2026, 12, 1), None),
    ]
    page = officer_client.get(f"/cooperatives/{coop.id}").get_data(as_text=True)
    assert "20/11/2026" in page and "30/11/2026" in page and "01/12/2026" in page
    # A change of another field keeps the address row as it is.
    services.update(None, coop, {**coop.to_dict(), "members_count": 30}, date(2026, 12, 2))
    assert db.session.query(CooperativeAddress).filter_by(cooperative_id=coop.id).count() == 2


def test_the_communes_to_confirm_page_lists_a_vanished_commune(officer_client):
    # Xã Phúc Sơn (07318, Huyện Tân Yên) ceased on 01/01/2025; the data names no successor.
    kept = make_cooperative(name="HTX Chè Phúc Sơn", district_code="216")
    from fundapp.cooperatives import services
    from tests.conftest import REGISTERED_2021

    doubtful = services.create(
        None,
        {
            "name": "HTX Vải sớm Phúc Sơn",
            "kind": "cooperative",
            "registration_no": "2405009999",
            "tax_code": "2400999999",
            "commune_code": "07318",
        },
        entered_on=REGISTERED_2021,
    )
    db.session.commit()
    assert doubtful.area.needs_confirming and doubtful.area.commune_code is None
    assert doubtful.area.former_district_name == "Huyện Tân Yên"
    page = officer_client.get("/cooperatives/communes-to-confirm").get_data(as_text=True)
    assert "HTX Vải sớm Phúc Sơn" in page and kept.name not in page


def test_an_officer_confirms_a_commune_by_saving_the_form(app, officer_client):
    from fundapp.areas.models import AdminUnit, UnitSuccession
    from fundapp.cooperatives import services

    # A made-up commune of the 2025-01 list divided on 01/07/2025 into 07525 (the data's
    # default) and 07432 (removed again below: PostgreSQL keeps the reference tables).
    district = db.session.scalar(
        select(AdminUnit).where(AdminUnit.code == "224", AdminUnit.level == "district")
    )
    old = AdminUnit(era="2025-01", level="commune", code="99001", name="Xã Thử Chia",
                    parent_id=district.id, valid_from=date(2025, 1, 1),
                    valid_to=date(2025, 6, 30), legal_act="thử")  # fmt: skip
    db.session.add(old)
    db.session.flush()
    for code, default in (("07525", True), ("07432", False)):
        new = db.session.scalar(
            select(AdminUnit).where(AdminUnit.code == code, AdminUnit.era == "2025-07")
        )
        db.session.add(UnitSuccession(old_unit_id=old.id, new_unit_id=new.id,
                                      effective=date(2025, 7, 1), kind="divided",
                                      is_default=default))  # fmt: skip
    db.session.commit()
    areas.forget()
    try:
        coop = services.create(
            None,
            {**GOOD, "commune_code": "99001", "former_district_code": "224"},
            entered_on=date(2025, 3, 1),
        )
        db.session.commit()
        assert (coop.area.commune_code, coop.area.needs_confirming) == ("07525", True)
        # A contact change through the portal or the API keeps it to confirm …
        services.update(None, coop, {**coop.to_dict(), "phone": "0987654321"})
        assert coop.area.needs_confirming
        # … the officer's save of the form with the commune shown confirms it.
        page = officer_client.post(
            f"/cooperatives/{coop.id}/edit", data=GOOD | {"commune_code": "07525"}
        )
        assert page.status_code == 302
        db.session.refresh(coop)
        assert (coop.area.commune_code, coop.area.needs_confirming) == ("07525", False)
        assert coop.former_district_code == "224"
        assert len(coop.addresses) == 2
    finally:
        db.session.rollback()
        db.session.execute(Cooperative.__table__.delete())
        db.session.execute(AdminUnit.__table__.delete().where(AdminUnit.code == "99001"))
        db.session.commit()
        areas.forget()
