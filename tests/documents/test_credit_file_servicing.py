"""The credit file after the loan is paid out: inspection minutes, the recall notice for
misuse, a restructuring's request and decision, the contract's liquidation and the
collaterals' release — their figures (as stored on the loan), when each exists, and who
may open it.

The figures are those of ``tests.documents.helpers.story`` (120.000.000 đ at 6 %/year over
12 months from 05/01/2026; instalment 2 partly paid on 15/03).
"""

from __future__ import annotations

from datetime import date
from typing import Any

from sqlalchemy import select

from fundapp.documents.file_models import FileDocument, FormTemplate
from fundapp.documents.positions import local_date
from fundapp.extensions import db
from fundapp.lending import inspections, restructuring
from fundapp.lending.collateral import add_collateral
from fundapp.loans.models import LoanStatus
from fundapp.loans.queries import loan_position
from fundapp.servicing.close_day import run_close_day
from tests.conftest import api_token, client_for, login, make_cooperative, make_user
from tests.documents.conftest import squeeze
from tests.documents.helpers import repay, story


def _get(client: Any, url: str) -> bytes:
    response = client.get(url)
    assert response.status_code == 200, response.get_data(as_text=True)[:400]
    assert response.mimetype == "application/pdf"
    return response.data


def _versions(kind: str, subject_id: int) -> list[FileDocument]:
    return list(
        db.session.scalars(
            select(FileDocument)
            .where(FileDocument.kind == kind, FileDocument.subject_id == subject_id)
            .order_by(FileDocument.version)
        )
    )


def _inspect(s: Any, finding: str, on: date, notes: str = "") -> Any:
    item = inspections.add_inspection(
        s.staff.officer,
        s.loan,
        {"inspected_on": on.isoformat(), "finding": finding, "notes": notes},
        date(2026, 11, 20),
    )
    db.session.commit()
    return item


def _assert_in(text: str, *wordings: str) -> None:
    for wording in wordings:
        assert wording in text, wording


# --- the inspection and the recall notice ----------------------------------------------------


def test_inspection_minutes_print_the_loan_as_stored_and_the_finding(app, client, pdf) -> None:
    s = story()
    item = _inspect(s, "partial", date(2026, 4, 10), "Đã mua 2 máy sấy, chưa xây kho lạnh")
    login(client, s.staff.officer)
    flat = squeeze(pdf(_get(client, f"/file/inspection/{item.id}.pdf")))
    _assert_in(
        flat,
        "BIÊN BẢN KIỂM TRA SỬ DỤNG VỐN VAY",
        "Số: 0001/2026/BBKT",
        "ngày 10 tháng 04 năm 2026",
        f"Hợp đồng tín dụng số {s.loan.contract_no} ngày 05/01/2026",
        "Số tiền đã giải ngân 120.000.000 đ",
        "Viết bằng chữ Một trăm hai mươi triệu đồng chẵn",
        # 120.000.000 − 10.000.000 (instalment 1) − 4.467.654 (of instalment 2, on 15/03)
        "Dư nợ gốc 105.532.346 đ",
        "Viết bằng chữ Một trăm linh năm triệu năm trăm ba mươi hai nghìn ba trăm bốn mươi "
        "sáu đồng",
        "Kết luận: Sử dụng một phần.",
        "Nội dung ghi nhận: Đã mua 2 máy sấy, chưa xây kho lạnh",
        "CÁN BỘ KIỂM TRA",
    )
    # Only a misuse leads to an early recall.
    assert client.get(f"/file/recall_notice/{item.id}.pdf").status_code == 404


def test_the_recall_notice_states_what_is_owed_as_stored_and_the_days_to_repay(
    app, client, pdf
) -> None:
    s = story()
    item = _inspect(s, "improper", date(2026, 4, 10), "Dùng vốn vay mua ô tô con")
    login(client, s.staff.officer)
    first = squeeze(pdf(_get(client, f"/file/recall_notice/{item.id}.pdf")))
    # No close of day has run: no overdue interest is stored yet.
    _assert_in(
        first,
        "THÔNG BÁO THU HỒI NỢ TRƯỚC HẠN",
        "Số: 0001/2026/TBTH",
        "Căn cứ Điều 9 (Thu hồi nợ trước hạn) của Hợp đồng tín dụng số",
        "Nghị định số 45/2021/NĐ-CP",
        "Căn cứ Biên bản kiểm tra sử dụng vốn vay ngày 10/04/2026",
        "sử dụng vốn vay không đúng mục đích (Sai mục đích)",
        "Nội dung vi phạm: Dùng vốn vay mua ô tô con",
        "Dư nợ gốc phải trả 105.532.346 đ",
        # instalment 2's rest (10.000.000 − 4.467.654) and instalment 3, due 05/04
        "trong đó nợ gốc đã đến hạn chưa trả 15.532.346 đ",
        # instalment 3: 100.000.000 × 6 % × 31/365 = 509.589
        "Lãi đã đến hạn chưa trả 509.589 đ",
        "Lãi quá hạn, lãi chậm trả chưa trả 0 đ",
        "Tổng cộng 106.041.935 đ",
        "trong thời hạn 30 ngày kể từ ngày thông báo (chậm nhất ngày 10/05/2026)",
    )
    assert _versions("recall_notice", item.id)[0].data["repay_within_days"] == 30
    # The close of day of 10/04 stores the overdue interest up to that day: instalment 2's
    # 5.532.346 × 9 % × 26/365 = 35.467 (from 15/03) and instalment 3's 10.000.000 × 9 % ×
    # 5/365 + 509.589 × 10 % × 5/365 = 13.027 (rounded once): 48.494 more, a new version.
    run_close_day(date(2026, 4, 10))
    db.session.commit()
    second = squeeze(pdf(_get(client, f"/file/recall_notice/{item.id}.pdf")))
    _assert_in(
        second,
        "bản 2",
        "Số: 0001/2026/TBTH",
        "Lãi quá hạn, lãi chậm trả chưa trả 48.494 đ",
        # 105.532.346 + 509.589 + 48.494
        "Tổng cộng 106.090.429 đ",
        "Viết bằng chữ Một trăm linh sáu triệu không trăm chín mươi nghìn bốn trăm hai mươi "
        "chín đồng",
    )
    v1, v2 = _versions("recall_notice", item.id)
    assert v1.reference_no == v2.reference_no == "0001/2026/TBTH"
    assert (v1.data["total_owed"]["value"], v2.data["total_owed"]["value"]) == (
        106_041_935,
        106_090_429,
    )
    # The same stored facts give back the same version, whatever the day.
    _get(client, f"/file/recall_notice/{item.id}.pdf")
    assert len(_versions("recall_notice", item.id)) == 2


# --- restructuring ---------------------------------------------------------------------------


def _extension(s: Any) -> Any:
    request = restructuring.request_restructuring(
        s.staff.officer,
        s.loan.id,
        {
            "kind": "extension",
            "effective_date": "2026-04-01",
            "new_maturity": "2027-07-05",
            "reason": "Mưa đá làm mất mùa vải thiều",
        },
        date(2026, 4, 1),
    )
    db.session.commit()
    return request


def test_the_restructuring_request_and_its_decision(app, client, pdf) -> None:
    s = story()
    request = _extension(s)
    login(client, s.staff.officer)
    asked = squeeze(pdf(_get(client, f"/file/restructuring_request/{request.id}.pdf")))
    coop = s.loan.cooperative
    _assert_in(
        asked,
        "ĐƠN ĐỀ NGHỊ GIA HẠN NỢ",
        "Số: 0001/",
        f"Kính gửi: {app.config['FUNDAPP_NAME']}",
        f"Tên tổ chức {coop.name}",
        "Dư nợ gốc 105.532.346 đ (Một trăm linh năm triệu",
        "Ngày đáo hạn theo hợp đồng 05/01/2027",
        "Lý do: Mưa đá làm mất mùa vải thiều",
        "chấp thuận gia hạn nợ, có hiệu lực từ ngày 01/04/2026, ngày đáo hạn mới 05/07/2027",
        f"ĐẠI DIỆN {coop.name.upper()}",
    )
    requested_on = local_date(request.created_at)
    assert f"ngày {requested_on.day:02d} tháng {requested_on.month:02d}" in asked
    # No decision while it waits.
    assert client.get(f"/file/restructuring_decision/{request.id}.pdf").status_code == 404
    restructuring.decide_restructuring(
        s.staff.director, request.id, True, "Đồng ý gia hạn 6 tháng", date(2026, 4, 1)
    )
    db.session.commit()
    decided = squeeze(pdf(_get(client, f"/file/restructuring_decision/{request.id}.pdf")))
    _assert_in(
        decided,
        "QUYẾT ĐỊNH GIA HẠN NỢ",
        "Chấp thuận gia hạn nợ đối với khoản vay",
        "Dư nợ gốc 105.532.346 đ",
        "Ngày đáo hạn theo hợp đồng 05/01/2027",
        "Ngày hiệu lực 01/04/2026",
        "Ngày đáo hạn mới 05/07/2027",
        "Ghi chú: Đồng ý gia hạn 6 tháng",
    )
    # The request still reads as it was made: its contract maturity is not the new one.
    again = squeeze(pdf(_get(client, f"/file/restructuring_request/{request.id}.pdf")))
    assert "Ngày đáo hạn theo hợp đồng 05/01/2027" in again


def test_a_refused_term_adjustment_with_its_principal_plan(app, client, pdf) -> None:
    s = story()
    request = restructuring.request_restructuring(
        s.staff.officer,
        s.loan.id,
        {
            "kind": "term_adjustment",
            "effective_date": "2026-04-01",
            "principal_plan": [["2026-06-05", 30_000_000], ["2027-01-05", 70_000_000]],
            "reason": "Chậm thu tiền bán hàng",
        },
        date(2026, 4, 1),
    )
    db.session.commit()
    login(client, s.staff.officer)
    asked = squeeze(pdf(_get(client, f"/file/restructuring_request/{request.id}.pdf")))
    _assert_in(
        asked,
        "ĐƠN ĐỀ NGHỊ ĐIỀU CHỈNH KỲ HẠN TRẢ NỢ",
        "trả nợ gốc theo lịch sau:",
        "1 05/06/2026 30.000.000",
        "2 05/01/2027 70.000.000",
    )
    restructuring.decide_restructuring(
        s.staff.director, request.id, False, "Phương án trả nợ chưa khả thi", date(2026, 4, 1)
    )
    db.session.commit()
    refused = squeeze(pdf(_get(client, f"/file/restructuring_decision/{request.id}.pdf")))
    _assert_in(
        refused,
        "THÔNG BÁO TỪ CHỐI ĐIỀU CHỈNH KỲ HẠN TRẢ NỢ",
        "không chấp thuận đề nghị trên với lý do sau: Phương án trả nợ chưa khả thi",
    )


# --- closure ---------------------------------------------------------------------------------


def test_closure_and_collateral_release_once_the_loan_is_closed(app, client, pdf) -> None:
    s = story()
    item = add_collateral(
        s.staff.officer,
        s.loan,
        {"kind": "Quyền sử dụng đất", "description": "Thửa 123, tờ bản đồ 4",
         "valuation": "300000000", "discount_factor": "0.5"},
    )  # fmt: skip
    db.session.commit()
    login(client, s.staff.officer)
    assert client.get(f"/file/closure/{s.loan.id}.pdf").status_code == 404
    assert client.get(f"/file/collateral_release/{item.id}.pdf").status_code == 404
    _get(client, f"/file/collateral_contract/{item.id}.pdf")
    # Paid off on 10/04/2026: 105.532.346 principal, 509.589 interest of instalment 3,
    # 48.494 overdue interest and 73.973 interest from 05/04 (90.000.000 × 6 % × 5/365).
    payoff = loan_position(s.loan, date(2026, 4, 10)).payoff
    assert payoff == 105_532_346 + 509_589 + 48_494 + 73_973 == 106_164_402
    repay(s.staff, s.loan, payoff, date(2026, 4, 10))
    assert s.loan.status == LoanStatus.CLOSED
    closure = squeeze(pdf(_get(client, f"/file/closure/{s.loan.id}.pdf")))
    _assert_in(
        closure,
        "BIÊN BẢN THANH LÝ HỢP ĐỒNG TÍN DỤNG",
        "Số: 0001/2026/TLHĐ",
        "khoản vay được tất toán ngày 10/04/2026",
        "đã giải ngân cho Bên B tổng cộng 120.000.000 đ (bằng chữ: Một trăm hai mươi triệu "
        "đồng chẵn)",
        "Nợ gốc 120.000.000 đ",
        # 611.507 + 506.301 + 509.589 + 73.973
        "Lãi trong hạn 1.701.370 đ",
        # 26.045 on 15/03 and 48.494 on 10/04
        "Lãi quá hạn, lãi chậm trả 74.539 đ",
        # 10.611.507 + 5.000.000 + 106.164.402 (the 1.000.000 of 20/03 reversed)
        "Tổng cộng 121.775.909 đ",
        "Viết bằng chữ Một trăm hai mươi mốt triệu bảy trăm bảy mươi lăm nghìn chín trăm "
        "linh chín đồng",
        "Quyền sử dụng đất (Thửa 123, tờ bản đồ 4)",
        "hai bên không còn nghĩa vụ",
    )
    release = squeeze(pdf(_get(client, f"/file/collateral_release/{item.id}.pdf")))
    _assert_in(
        release,
        "BIÊN BẢN GIẢI CHẤP TÀI SẢN BẢO ĐẢM",
        "Số: 0001/2026/GCTS",
        "Hợp đồng bảo đảm tiền vay số 0001/2026/HĐBĐ",
        "Hôm nay, ngày 10/04/2026",
        "dư nợ gốc còn lại 0 đ",
        "Giá trị định giá 300.000.000 đ",
        "Viết bằng chữ Ba trăm triệu đồng chẵn",
    )


# --- who may open what -----------------------------------------------------------------------


def test_the_borrower_opens_the_six_documents_of_its_own_file(app, pdf) -> None:
    s = story()
    misuse = _inspect(s, "improper", date(2026, 4, 10))
    request = _extension(s)
    restructuring.decide_restructuring(s.staff.director, request.id, True, "", date(2026, 4, 1))
    db.session.commit()
    urls = [
        f"/file/inspection/{misuse.id}.pdf",
        f"/file/recall_notice/{misuse.id}.pdf",
        f"/file/restructuring_request/{request.id}.pdf",
        f"/file/restructuring_decision/{request.id}.pdf",
    ]
    borrower = client_for(app, make_user("cooperative", cooperative=s.loan.cooperative))
    other = client_for(app, make_user("cooperative", cooperative=make_cooperative()))
    for url in urls:
        assert borrower.get(url).status_code == 404, url  # none issued yet
    officer = client_for(app, s.staff.officer)
    issued = {url: _get(officer, url) for url in urls}
    for url in urls:
        assert _get(borrower, url) == issued[url], url
        assert other.get(url).status_code == 404, url
    headers = api_token(officer, s.staff.officer)
    body = officer.get(f"/api/v1/credit-file/inspection/{misuse.id}", headers=headers).get_json()
    assert [i["kind"] for i in body["items"]] == ["inspection", "recall_notice"]
    assert body["items"][1]["versions"][0]["reference_no"] == "0001/2026/TBTH"
    body = officer.get(
        f"/api/v1/credit-file/restructuring/{request.id}", headers=headers
    ).get_json()
    assert [i["kind"] for i in body["items"]] == [
        "restructuring_request",
        "restructuring_decision",
    ]
    pdf_response = officer.get(f"/api/v1/credit-file/closure/{s.loan.id}.pdf", headers=headers)
    assert pdf_response.status_code == 404  # the loan is not closed


def test_a_new_wording_of_a_servicing_document_is_checked_and_used(app, client, pdf) -> None:
    s = story()
    item = _inspect(s, "proper", date(2026, 4, 10))
    login(client, make_user("director"))
    assert "Biên bản kiểm tra sử dụng vốn vay" in client.get("/admin/forms").get_data(as_text=True)
    page = client.get("/admin/forms/inspection")
    assert page.status_code == 200 and "d.finding_label" in page.get_data(as_text=True)
    officer = client_for(app, s.staff.officer)
    _get(officer, f"/file/inspection/{item.id}.pdf")
    body = db.session.scalar(select(FormTemplate.body).where(FormTemplate.kind == "inspection"))
    changed = body.replace("Đã tiến hành kiểm tra", "Đã cùng nhau kiểm tra")
    response = client.post("/admin/forms/inspection", data={"body": changed, "note": "Lời dẫn"})
    assert response.status_code == 302
    flat = squeeze(pdf(_get(officer, f"/file/inspection/{item.id}.pdf")))
    assert "Đã cùng nhau kiểm tra" in flat and "bản 2" in flat
    assert [v.version for v in _versions("inspection", item.id)] == [1, 2]
    # A wording checked on the newest loan, not closed: the closure's data still builds.
    closure = db.session.scalar(select(FormTemplate.body).where(FormTemplate.kind == "closure"))
    response = client.post(
        "/admin/forms/closure",
        data={"body": closure + "<p>Phụ lục.</p>", "note": "Thêm dòng"},
    )
    assert response.status_code == 302
