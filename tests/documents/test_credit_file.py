"""The credit file: documents made from the file's data with the fund's wording, a version
kept each time the data or the wording changes, who may open what, and the wording's
sandbox."""

from __future__ import annotations

from datetime import date
from typing import Any

from sqlalchemy import select

from fundapp.documents.file_models import FileDocument, FormTemplate
from fundapp.extensions import db
from fundapp.lending import applications
from fundapp.lending.collateral import add_collateral
from fundapp.loans.models import Application, Instalment
from tests.conftest import api_token, client_for, count, login, make_cooperative, make_user
from tests.documents.conftest import squeeze
from tests.documents.helpers import story
from tests.services.lending_helpers import application_data, contracted_loan, fund_and_staff


def _get(client: Any, url: str, **kwargs: Any) -> Any:
    response = client.get(url, **kwargs)
    assert response.status_code == 200, response.get_data(as_text=True)[:400]
    assert response.mimetype == "application/pdf"
    return response


def _versions(kind: str, subject_id: int) -> list[FileDocument]:
    return list(
        db.session.scalars(
            select(FileDocument)
            .where(FileDocument.kind == kind, FileDocument.subject_id == subject_id)
            .order_by(FileDocument.version)
        )
    )


# --- the documents ---------------------------------------------------------------------------


def test_the_contract_prints_the_parties_the_terms_and_the_loans_own_schedule(
    app, client, pdf
) -> None:
    s = story()
    login(client, s.staff.officer)
    flat = squeeze(pdf(_get(client, f"/file/contract/{s.loan.id}.pdf").data))
    coop = s.loan.cooperative
    for wording in (
        "HỢP ĐỒNG TÍN DỤNG",
        f"Số: {s.loan.contract_no} · Số hồ sơ: 0001/2026/HĐTD",
        "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM",
        "Hôm nay, ngày 05/01/2026",
        f"Bên vay (Bên B): {coop.name}",
        f"Mã số thuế · Số đăng ký {coop.tax_code} · {coop.registration_no}",
        "vay số tiền 120.000.000 đ (bằng chữ: Một trăm hai mươi triệu đồng chẵn)",
        "Thời hạn cho vay. 12 tháng kể từ ngày giải ngân lần đầu",
        "Lãi suất cho vay trong hạn 6 %/năm",
        "dư nợ gốc bị quá hạn: 9 %/năm (bằng 150% lãi suất trong hạn)",
        "Đã giải ngân: 120.000.000 đ ngày 05/01/2026 (khế ước KU-2026-0001)",
        "Chuyển nợ quá hạn",
        "Thu hồi nợ trước hạn",
        "Giải quyết tranh chấp",
        "ĐẠI DIỆN BÊN B",
    ):
        assert wording in flat, wording
    # The schedule of the contract is the loan's, row for row (10.000.000 + 611.507 first).
    rows = db.session.scalars(
        select(Instalment).where(Instalment.loan_id == s.loan.id).order_by(Instalment.no)
    ).all()
    assert len(rows) == 12
    for r in rows:
        line = (
            f"{r.no} {r.due_date:%d/%m/%Y} {r.principal:,} {r.interest:,} "
            f"{r.principal + r.interest:,}"
        ).replace(",", ".")
        assert line in flat, line
    assert "1 05/02/2026 10.000.000 611.507 10.611.507" in flat
    total_interest = sum(r.interest for r in rows)
    assert f"Cộng 120.000.000 {total_interest:,}".replace(",", ".") in flat


def test_a_contract_before_any_disbursement_prints_the_indicative_schedule(
    app, client, pdf
) -> None:
    staff = fund_and_staff()
    loan = contracted_loan(staff)
    login(client, staff.officer)
    flat = squeeze(pdf(_get(client, f"/file/contract/{loan.id}.pdf").data))
    assert "Lịch trả nợ dự kiến (giải ngân toàn bộ ngày 05/01/2026" in flat
    # 120.000.000 over 12 months from 05/01/2026: the first month's interest on the whole
    # amount for 31 days at 6 %: 120.000.000 × 6 % × 31 / 365 = 611.507.
    assert "1 05/02/2026 10.000.000 611.507 10.611.507" in flat
    assert "12 05/01/2027 10.000.000" in flat


def test_application_form_and_the_decision_or_the_refusal(app, client, pdf) -> None:
    s = story()
    application = db.session.get(Application, s.loan.application_id)
    login(client, s.staff.officer)
    form = squeeze(pdf(_get(client, f"/file/application/{application.id}.pdf").data))
    for wording in (
        "GIẤY ĐỀ NGHỊ VAY VỐN",
        "Số: 0001/",
        f"Kính gửi: {app.config['FUNDAPP_NAME']}",
        "Mở rộng vườn vải thiều",
        "Tổng mức đầu tư 240.000.000 đ",
        "Vốn đối ứng của đơn vị 120.000.000 đ (50,0% tổng mức đầu tư)",
        "Số tiền đề nghị vay 120.000.000 đ",
        "Viết bằng chữ Một trăm hai mươi triệu đồng chẵn",
        "Thời hạn vay 12 tháng",
    ):
        assert wording in form, wording
    decision = squeeze(pdf(_get(client, f"/file/decision/{application.id}.pdf").data))
    for wording in (
        "QUYẾT ĐỊNH CHO VAY",
        "Số tiền cho vay 120.000.000 đ",
        "Lãi suất quá hạn 9 %/năm trên dư nợ gốc quá hạn",
        f"Hợp đồng tín dụng số {s.loan.contract_no}",
        "Ghi chú: Đồng ý",
    ):
        assert wording in decision, wording

    refused = applications.create_application(
        s.staff.officer, application_data(make_cooperative(), 50_000_000), date(2026, 2, 1)
    )
    db.session.commit()
    assert client.get(f"/file/decision/{refused.id}.pdf").status_code == 404  # not decided
    applications.submit(s.staff.officer, refused)
    applications.appraise(s.staff.appraiser, refused, 50_000_000, "Thiếu vốn", date(2026, 2, 1))
    applications.reject(s.staff.director, refused, "Chưa đủ vốn đối ứng theo quy định")
    db.session.commit()
    text = squeeze(pdf(_get(client, f"/file/decision/{refused.id}.pdf").data))
    assert "THÔNG BÁO TỪ CHỐI CHO VAY" in text
    assert "không cho vay với lý do sau: Chưa đủ vốn đối ứng theo quy định" in text


def test_collateral_contract_one_per_collateral(app, client, pdf) -> None:
    s = story()
    item = add_collateral(
        s.staff.officer,
        s.loan,
        {"kind": "Quyền sử dụng đất", "description": "Thửa 123, tờ bản đồ 4",
         "valuation": "300000000", "discount_factor": "0.5"},
    )  # fmt: skip
    db.session.commit()
    login(client, s.staff.officer)
    flat = squeeze(pdf(_get(client, f"/file/collateral_contract/{item.id}.pdf").data))
    assert "HỢP ĐỒNG BẢO ĐẢM TIỀN VAY" in flat
    assert f"Hợp đồng tín dụng số {s.loan.contract_no}" in flat
    assert "Giá trị định giá 300.000.000 đ" in flat
    assert "Viết bằng chữ Ba trăm triệu đồng chẵn" in flat


# --- versions --------------------------------------------------------------------------------


def test_the_same_facts_give_the_same_version_a_change_the_next_one(app, client, pdf) -> None:
    s = story()
    login(client, s.staff.officer)
    first = _get(client, f"/file/contract/{s.loan.id}.pdf").data
    assert _get(client, f"/file/contract/{s.loan.id}.pdf").data == first
    assert [v.version for v in _versions("contract", s.loan.id)] == [1]
    # A collateral is added: the contract's article on security changes.
    add_collateral(s.staff.officer, s.loan, {"kind": "Máy sấy", "valuation": "80000000"})
    db.session.commit()
    second = squeeze(pdf(_get(client, f"/file/contract/{s.loan.id}.pdf").data))
    assert "Máy sấy, giá trị định giá 80.000.000 đ" in second
    assert "bản 2" in second
    v1, v2 = _versions("contract", s.loan.id)
    assert (v1.version, v2.version) == (1, 2)
    assert v1.reference_no == v2.reference_no == "0001/2026/HĐTD"
    assert v1.data["collaterals"] == [] and v2.data["collaterals"][0]["valuation"] == 80_000_000
    # The first version stays as it was issued.
    assert _get(client, f"/file/contract/{s.loan.id}/v1.pdf").data == first
    assert client.get(f"/file/contract/{s.loan.id}/v3.pdf").status_code == 404


# --- who may open what -----------------------------------------------------------------------


def test_readers_who_change_nothing_get_the_last_issued_version(app, client) -> None:
    s = story()
    coop_user = make_user("cooperative", cooperative=s.loan.cooperative)
    controller = make_user("controller")
    url = f"/file/contract/{s.loan.id}.pdf"
    assert client_for(app, controller).get(url).status_code == 404  # none issued yet
    issued = _get(client_for(app, s.staff.officer), url).data
    for user in (controller, coop_user):
        assert _get(client_for(app, user), url).data == issued
    assert count(FileDocument) == 1
    # Another cooperative sees nothing of this file.
    other = client_for(app, make_user("cooperative", cooperative=make_cooperative()))
    assert other.get(url).status_code == 404
    assert other.get(f"/file/contract/{s.loan.id}/v1.pdf").status_code == 404
    assert other.get(f"/file/nonsense/{s.loan.id}.pdf").status_code == 404


def test_the_application_page_lists_the_file_with_its_versions(app, client) -> None:
    s = story()
    login(client, s.staff.officer)
    _get(client, f"/file/application/{s.loan.application_id}.pdf")
    page = client.get(f"/applications/{s.loan.application_id}").get_data(as_text=True)
    assert "Hồ sơ tín dụng" in page
    assert f"/file/application/{s.loan.application_id}/v1.pdf" in page
    assert f"/file/decision/{s.loan.application_id}.pdf" in page


# --- the wording -----------------------------------------------------------------------------


def test_a_new_wording_is_a_new_version_used_from_then_on(app, client, pdf) -> None:
    s = story()
    director = make_user("director")
    login(client, director)
    page = client.get("/admin/forms/contract")
    assert page.status_code == 200
    body = db.session.scalar(select(FormTemplate.body).where(FormTemplate.kind == "contract"))
    assert "d.amount.words" in page.get_data(as_text=True)  # the field list and the text
    changed = body.replace("Hai bên thỏa thuận", "Hai bên cùng thống nhất")
    response = client.post("/admin/forms/contract", data={"body": changed, "note": "Sửa lời dẫn"})
    assert response.status_code == 302
    versions = db.session.scalars(
        select(FormTemplate.version).where(FormTemplate.kind == "contract")
    ).all()
    assert sorted(versions) == [1, 2]
    officer = client_for(app, s.staff.officer)
    flat = squeeze(pdf(_get(officer, f"/file/contract/{s.loan.id}.pdf").data))
    assert "Hai bên cùng thống nhất" in flat


def test_a_wording_that_fails_or_reaches_outside_its_data_is_refused(app, client) -> None:
    story()
    login(client, make_user("director"))
    client.get("/admin/forms/contract")
    for body, message in (
        ("{{ d.no_such_field }}", "Mẫu có lỗi"),
        ("{% for x in d.schedule %}", "Mẫu có lỗi"),
        ("{{ d.__class__.__mro__ }}", "Mẫu có lỗi"),
        ("{{ ''.__class__.__mro__[1].__subclasses__() }}", "Mẫu có lỗi"),
        ('{% include "base.html" %}', "Mẫu có lỗi"),
        ("", "không được để trống"),
    ):
        response = client.post("/admin/forms/contract", data={"body": body, "note": "thử"})
        assert response.status_code == 200, body
        assert message in response.get_data(as_text=True), body
    assert count(FormTemplate, kind="contract") == 1
    # An officer does not edit the wording.
    assert client_for(app, make_user("officer")).get("/admin/forms/contract").status_code == 403


# --- the API ---------------------------------------------------------------------------------


def test_the_api_serves_the_documents_their_list_and_the_wording(app, client, pdf) -> None:
    s = story()
    headers = api_token(client, s.staff.officer)
    response = client.get(f"/api/v1/loans/{s.loan.id}/contract.pdf", headers=headers)
    assert response.status_code == 200 and response.mimetype == "application/pdf"
    assert "HỢP ĐỒNG TÍN DỤNG" in squeeze(pdf(response.data))
    app_id = s.loan.application_id
    for url in (f"/api/v1/applications/{app_id}/application.pdf",
                f"/api/v1/applications/{app_id}/decision.pdf"):  # fmt: skip
        assert client.get(url, headers=headers).status_code == 200, url
    listing = client.get(f"/api/v1/credit-file/loan/{s.loan.id}", headers=headers).get_json()
    assert listing["items"][0]["kind"] == "contract"
    assert listing["items"][0]["versions"][0]["reference_no"] == "0001/2026/HĐTD"
    assert client.get("/api/v1/form-templates", headers=headers).status_code == 403
    boss = api_token(client, make_user("director"))
    kinds = client.get("/api/v1/form-templates", headers=boss).get_json()["items"]
    assert {k["kind"] for k in kinds} >= {"application", "decision", "contract"}
    detail = client.get("/api/v1/form-templates/contract", headers=boss).get_json()
    new_body = detail["versions"][0]["body"] + "\n<p>Phụ lục bổ sung.</p>"
    saved = client.post(
        "/api/v1/form-templates/contract",
        json={"body": new_body, "note": "Thêm dòng cuối"},
        headers=boss,
    )
    assert saved.status_code == 201, saved.get_json()
    assert saved.get_json()["current_version"] == 2
    bad = client.post(
        "/api/v1/form-templates/contract", json={"body": "{{ d.x }}", "note": "x"}, headers=boss
    )
    assert bad.status_code == 422
    assert "Mẫu có lỗi" in bad.get_json()["error"]["fields"]["body"]


def test_the_appraisal_report_shows_each_condition_and_limit_with_its_evidence(
    app, client, pdf
) -> None:
    s = story()
    application = db.session.get(Application, s.loan.application_id)
    flat = squeeze(pdf(_get(client_for(app, s.staff.officer),
                            f"/file/appraisal/{application.id}.pdf").data))  # fmt: skip
    for wording in (
        "BÁO CÁO THẨM ĐỊNH CHO VAY",
        "Số tiền đề nghị vay 120.000.000 đ (Một trăm hai mươi triệu đồng chẵn)",
        # Decree 45 Art. 22: equity 120.000.000 of a 240.000.000 project.
        "Vốn đối ứng 50%; số vay 120.000.000 đ, tối đa 120.000.000 đ Đạt",
        "Không có nợ xấu tại Quỹ Nhóm nợ của bên vay tại Quỹ: 1 Đạt",
        # Art. 23 on a charter capital of 15.000.000.000: 15 % and 25 %.
        "giới hạn 2.250.000.000 đ; còn trống 2.130.000.000 đ Đạt",
        "giới hạn 3.750.000.000 đ; còn trống 3.630.000.000 đ Đạt",
        "Số tiền đề nghị cho vay 120.000.000 đ",
        "Phương án khả thi",
    ):
        assert wording in flat, wording
    # The indicative schedule of the recommended amount: twelve rows of 10.000.000.
    assert flat.count(" 10.000.000 ") >= 12
    assert "Cộng 120.000.000" in flat
    # Internal: the cooperative does not get it.
    coop = client_for(app, make_user("cooperative", cooperative=s.loan.cooperative))
    assert coop.get(f"/file/appraisal/{application.id}.pdf").status_code == 404


def test_the_loan_page_lists_its_documents_and_those_of_its_collaterals(app, client) -> None:
    s = story()
    item = add_collateral(s.staff.officer, s.loan, {"kind": "Máy sấy", "valuation": "80000000"})
    db.session.commit()
    officer = client_for(app, s.staff.officer)
    _get(officer, f"/file/contract/{s.loan.id}.pdf")
    page = officer.get(f"/loans/{s.loan.id}").get_data(as_text=True)
    assert "Hồ sơ tín dụng" in page
    assert f"/file/contract/{s.loan.id}/v1.pdf" in page
    assert f"/file/collateral_contract/{item.id}.pdf" in page
    assert "Hợp đồng bảo đảm — Máy sấy" in page
    # Not closed: no closure yet; an application not yet appraised has no appraisal.
    assert f"/file/closure/{s.loan.id}.pdf" not in page
    pending = applications.create_application(
        s.staff.officer, application_data(make_cooperative(), 50_000_000), date(2026, 2, 1)
    )
    db.session.commit()
    assert officer.get(f"/file/appraisal/{pending.id}.pdf").status_code == 404


def test_the_portal_loan_page_lists_the_papers_issued_to_the_cooperative(app) -> None:
    s = story()
    coop = client_for(app, make_user("cooperative", cooperative=s.loan.cooperative))
    assert "Hồ sơ tín dụng" not in coop.get(f"/portal/loans/{s.loan.id}").get_data(as_text=True)
    _get(client_for(app, s.staff.officer), f"/file/contract/{s.loan.id}.pdf")
    page = coop.get(f"/portal/loans/{s.loan.id}").get_data(as_text=True)
    assert "Hồ sơ tín dụng" in page
    assert f"/file/contract/{s.loan.id}/v1.pdf" in page
