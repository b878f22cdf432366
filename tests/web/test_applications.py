"""Application screens: the work queue, the form, documents, appraisal and the decision."""

from __future__ import annotations

import io
import re
from datetime import date
from pathlib import Path

import pytest
from sqlalchemy import select

from fundapp.audit.models import AuditLog
from fundapp.extensions import db
from fundapp.loans.models import (
    Application,
    ApplicationDocument,
    LoanTransition,
)
from fundapp.loans.models import Loan as LoanRow
from tests.conftest import count, login, make_cooperative, make_user

PDF = b"%PDF-1.4\n1 0 obj <</Type /Catalog>> endobj\ntrailer <</Root 1 0 R>>\n%%EOF\n"
CHARTER = 15_000_000_000


def _fund(capital: int = CHARTER) -> None:
    from fundapp.ledger.services import record_capital
    from fundapp.policy.services import install_defaults

    install_defaults()
    record_capital(None, "charter", capital, date(2020, 1, 1))
    db.session.commit()


@pytest.fixture
def uploads_dir(app, tmp_path) -> Path:
    folder = tmp_path / "uploads"
    app.config["UPLOAD_FOLDER"] = str(folder)
    return folder


@pytest.fixture
def funded(app, uploads_dir):
    _fund()
    return app


def client_for(app, *roles: str, **kwargs):
    """A signed-in test client of its own for a new user with ``roles``."""
    user = make_user(*roles, **kwargs)
    client = app.test_client()
    response = login(client, user)
    assert response.status_code == 302
    return client, user


def form(coop, **changes) -> dict[str, str]:
    data = {
        "cooperative_id": str(coop.id),
        "project_name": "Mở rộng vùng trồng vải thiều VietGAP",
        "description": "Trồng mới 5 ha, nhà sơ chế và kho lạnh.",
        "purpose": "Mua cây giống, phân bón, máy sấy",
        "total_project_cost": "600.000.000",
        "own_equity": "200.000.000",
        "requested_amount": "400.000.000",
        "term_months": "24",
        "annual_rate": "6.0",
        "principal_method": "equal_principal",
        "principal_every_months": "3",
        "interest_every_months": "1",
        "grace_months": "0",
        "custom_schedule": "",
        "collateral_offered": "Quyền sử dụng đất thửa số 123",
    }
    data.update(changes)
    return data


def text(response) -> str:
    return response.get_data(as_text=True)


def fresh(app_id: int) -> Application:
    db.session.expire_all()
    return db.session.get(Application, app_id)


def create(officer_client, coop, **changes) -> Application:
    response = officer_client.post("/applications/new", data=form(coop, **changes))
    assert response.status_code == 302, text(response)
    assert officer_client.get(response.headers["Location"]).status_code == 200  # reads the flash
    return db.session.scalars(select(Application).order_by(Application.id.desc())).first()


def appraised(app, coop=None, amount: str = "400.000.000", **changes):
    """An application created and submitted by one officer, appraised by another."""
    coop = coop or make_cooperative()
    creator, _ = client_for(app, "officer")
    application = create(creator, coop, **changes)
    assert creator.post(f"/applications/{application.id}/submit").status_code == 302
    appraiser, appraiser_user = client_for(app, "officer")
    response = appraiser.post(
        f"/applications/{application.id}/appraise",
        data={"recommended_amount": amount, "note": "Phương án khả thi, HTX trả nợ tốt."},
    )
    assert response.status_code == 302, text(response)
    assert fresh(application.id).status == "appraised"
    return application, creator, appraiser, appraiser_user


# --- the whole journey -----------------------------------------------------------------------


def test_officer_creates_submits_second_officer_appraises_director_approves(funded):
    app = funded
    coop = make_cooperative(name="HTX Vải thiều Thanh Hà")
    officer, officer_user = client_for(app, "officer")

    page = officer.get("/applications/new")
    assert page.status_code == 200
    assert 'value="6"' in text(page)  # the policy's default rate
    assert "Niên kim (trả đều gốc và lãi)" in text(page)

    application = create(officer, coop)
    assert application.status == "draft"
    assert application.requested_amount == 400_000_000
    assert application.created_by_id == officer_user.id
    detail = text(officer.get(f"/applications/{application.id}"))
    assert "Mở rộng vùng trồng vải thiều VietGAP" in detail
    assert "400.000.000 đ" in detail
    assert "Dư nợ một khách hàng ≤ 15% vốn điều lệ thực có" in detail
    assert "còn trống 1.850.000.000 đ" in detail  # 15 % of 15 bn − 400 m

    assert officer.post(f"/applications/{application.id}/submit").status_code == 302
    assert fresh(application.id).status == "submitted"

    second, second_user = client_for(app, "officer")
    queue = text(second.get("/applications/"))
    assert "Chờ thẩm định" in queue and "Mở rộng vùng trồng vải thiều VietGAP" in queue
    response = second.post(
        f"/applications/{application.id}/appraise",
        data={"recommended_amount": "350.000.000", "note": "Đề nghị cho vay 350 triệu."},
    )
    assert response.status_code == 302
    stored = fresh(application.id)
    assert stored.status == "appraised"
    assert stored.appraised_by_id == second_user.id
    assert stored.recommended_amount == 350_000_000
    assert {c["code"] for c in stored.appraisal_checks} >= {"eligibility", "single_borrower"}
    assert all(c["passed"] for c in stored.appraisal_checks)

    director, director_user = client_for(app, "director")
    queue = text(director.get("/applications/"))
    assert "Chờ phê duyệt" in queue and "Mở rộng vùng trồng vải thiều VietGAP" in queue
    detail = text(director.get(f"/applications/{application.id}"))
    assert "Kết quả kiểm tra lúc thẩm định" in detail
    assert "Giám đốc: đến 500.000.000 đ" in detail  # the director's authority, checked live
    response = director.post(
        f"/applications/{application.id}/approve", data={"note": "Đồng ý cho vay."}
    )
    assert response.status_code == 302
    loan = db.session.scalars(select(LoanRow)).one()
    assert loan.contract_no == "HD-2026-0001"
    assert loan.amount == 350_000_000
    assert loan.application_id == application.id
    assert loan.policy_snapshot["single_borrower_limit_pct"] == "15"
    assert loan.policy_snapshot["default_annual_rate"] == "6.0"
    assert fresh(application.id).status == "approved"
    assert fresh(application.id).decided_by_id == director_user.id
    location = response.headers["Location"]
    assert location.endswith(f"/loans/{loan.id}") or location.endswith(
        f"/applications/{application.id}"
    )

    detail = text(director.get(f"/applications/{application.id}"))
    assert "HD-2026-0001" in detail and "Đồng ý cho vay." in detail
    moves = db.session.scalars(
        select(LoanTransition)
        .where(LoanTransition.entity == "application", LoanTransition.entity_id == application.id)
        .order_by(LoanTransition.id)
    ).all()
    assert [(m.from_status, m.to_status) for m in moves] == [
        ("draft", "submitted"),
        ("submitted", "appraised"),
        ("appraised", "approved"),
    ]
    assert "Đã thẩm định" in detail and "Đã phê duyệt" in detail  # the history


def test_officer_edits_a_draft_but_not_a_submitted_application(funded):
    officer, _ = client_for(funded, "officer")
    coop = make_cooperative()
    application = create(officer, coop)
    page = text(officer.get(f"/applications/{application.id}/edit"))
    assert 'value="600.000.000"' in page  # amounts shown the way they are typed
    response = officer.post(
        f"/applications/{application.id}/edit",
        data=form(coop, requested_amount="300.000.000", term_months="36"),
    )
    assert response.status_code == 302
    stored = fresh(application.id)
    assert (stored.requested_amount, stored.term_months) == (300_000_000, 36)
    assert officer.post(f"/applications/{application.id}/submit").status_code == 302
    response = officer.get(f"/applications/{application.id}/edit", follow_redirects=True)
    assert "Chỉ sửa được hồ sơ ở trạng thái nháp." in text(response)
    response = officer.post(
        f"/applications/{application.id}/edit", data=form(coop, requested_amount="1.000")
    )
    assert response.status_code == 302
    assert fresh(application.id).requested_amount == 300_000_000


def test_custom_schedule_is_kept_and_shown(funded):
    officer, _ = client_for(funded, "officer")
    coop = make_cooperative()
    application = create(
        officer,
        coop,
        principal_method="custom",
        custom_schedule="30/06/2027; 150.000.000\n30/06/2028; 250.000.000",
    )
    assert application.custom_schedule == [["2027-06-30", 150_000_000], ["2028-06-30", 250_000_000]]
    detail = text(officer.get(f"/applications/{application.id}"))
    assert "Lịch tự nhập theo mùa vụ" in detail and "30/06/2028" in detail
    edit = text(officer.get(f"/applications/{application.id}/edit"))
    assert "30/06/2027; 150.000.000" in edit


# --- separation of duties and authority ------------------------------------------------------


def test_the_appraiser_cannot_approve_their_own_appraisal(funded):
    coop = make_cooperative()
    creator, _ = client_for(funded, "officer")
    application = create(creator, coop)
    creator.post(f"/applications/{application.id}/submit")
    both, _ = client_for(funded, "officer", "director")
    both.post(
        f"/applications/{application.id}/appraise",
        data={"recommended_amount": "400.000.000", "note": "Đạt."},
    )
    assert fresh(application.id).status == "appraised"
    page = text(both.get(f"/applications/{application.id}"))
    assert "không được phê duyệt" in page
    response = both.post(f"/applications/{application.id}/approve", data={"note": "Tự duyệt"})
    assert response.status_code == 403
    assert "Người lập hoặc thẩm định hồ sơ không được tự phê duyệt." in text(response)
    assert fresh(application.id).status == "appraised"
    assert count(LoanRow) == 0


def test_the_creator_cannot_approve_and_an_officer_may_not_decide(funded):
    coop = make_cooperative()
    creator, _ = client_for(funded, "officer", "board")
    application = create(creator, coop)
    creator.post(f"/applications/{application.id}/submit")
    appraiser, _ = client_for(funded, "officer")
    appraiser.post(
        f"/applications/{application.id}/appraise",
        data={"recommended_amount": "400.000.000", "note": "Đạt."},
    )
    response = creator.post(f"/applications/{application.id}/approve", data={"note": ""})
    assert response.status_code == 403
    assert "không được tự phê duyệt" in text(response)
    assert appraiser.post(f"/applications/{application.id}/approve").status_code == 403
    assert (
        appraiser.post(f"/applications/{application.id}/reject", data={"reason": "x"}).status_code
        == 403
    )
    assert fresh(application.id).status == "appraised"
    assert count(LoanRow) == 0


def test_director_is_limited_to_500_million_and_the_board_is_not(funded):
    application, *_ = appraised(
        funded,
        amount="600.000.000",
        total_project_cost="1.000.000.000",
        own_equity="400.000.000",
        requested_amount="600.000.000",
    )
    director, _ = client_for(funded, "director")
    response = director.post(f"/applications/{application.id}/approve", data={"note": ""})
    assert response.status_code == 422
    page = text(response)
    assert "Thẩm quyền phê duyệt" in page and "Giám đốc: đến 500.000.000 đ" in page
    assert fresh(application.id).status == "appraised"
    assert count(LoanRow) == 0

    board, _ = client_for(funded, "board")
    response = board.post(f"/applications/{application.id}/approve", data={"note": "Đồng ý."})
    assert response.status_code == 302
    assert db.session.scalars(select(LoanRow)).one().amount == 600_000_000


def test_a_limit_breach_is_refused_for_the_director_and_needs_a_reason_from_the_board(
    app, uploads_dir
):
    # Charter capital 2 bn: one borrower may owe at most 300 m; 400 m breaches it but is
    # within the director's own authority, so only the limit stands in the way.
    _fund(2_000_000_000)
    application, *_ = appraised(app)
    director, _ = client_for(app, "director")
    detail = text(director.get(f"/applications/{application.id}"))
    assert "Vượt giới hạn" in detail and "còn trống \u2212100.000.000 đ" in detail
    response = director.post(f"/applications/{application.id}/approve", data={"note": ""})
    assert response.status_code == 422
    page = text(response)
    assert "Dư nợ một khách hàng ≤ 15% vốn điều lệ thực có" in page
    assert "Chỉ Hội đồng quản lý được phê duyệt vượt giới hạn" in page
    assert fresh(application.id).status == "appraised"

    board, _ = client_for(app, "board")
    response = board.post(f"/applications/{application.id}/approve", data={"note": "Đồng ý"})
    assert response.status_code == 422
    assert "Phê duyệt vượt giới hạn cần ghi rõ lý do." in text(response)
    assert 'id="override_reason"' in text(response)
    assert count(LoanRow) == 0

    response = board.post(
        f"/applications/{application.id}/approve",
        data={"note": "Đồng ý", "override_reason": "Dự án trọng điểm của tỉnh năm 2026."},
    )
    assert response.status_code == 302
    stored = fresh(application.id)
    assert stored.status == "approved"
    assert stored.override_reason == "Dự án trọng điểm của tỉnh năm 2026."
    assert "Dự án trọng điểm" in text(board.get(f"/applications/{application.id}"))


def test_director_rejects_with_a_reason(funded):
    application, *_ = appraised(funded)
    director, _ = client_for(funded, "director")
    response = director.post(f"/applications/{application.id}/reject", data={"reason": " "})
    assert response.status_code == 422
    assert "Cần ghi lý do từ chối." in text(response)
    assert fresh(application.id).status == "appraised"
    response = director.post(
        f"/applications/{application.id}/reject", data={"reason": "Phương án chưa khả thi."}
    )
    assert response.status_code == 302
    assert fresh(application.id).status == "rejected"
    assert "Phương án chưa khả thi." in text(director.get(f"/applications/{application.id}"))


# --- bad input and wrong transitions ---------------------------------------------------------


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"requested_amount": "0"}, "Số tiền phải lớn hơn 0."),
        ({"requested_amount": "400000000,5"}, "không có phần thập phân"),
        ({"requested_amount": "400.000.000.5"}, "không có phần thập phân"),
        ({"total_project_cost": "sáu trăm triệu"}, "không có phần thập phân hay chữ"),
        ({"requested_amount": "-400.000.000"}, "Số tiền phải lớn hơn 0."),
        ({"own_equity": "700.000.000"}, "Vốn đối ứng không được lớn hơn tổng mức đầu tư."),
        (
            {"principal_method": "annuity", "principal_every_months": "3"},
            "Phương thức niên kim cần kỳ trả lãi bằng kỳ trả gốc.",
        ),
        ({"grace_months": "24"}, "Thời gian ân hạn phải nhỏ hơn thời hạn vay."),
        ({"cooperative_id": "9999"}, "Hợp tác xã không tồn tại."),
        ({"cooperative_id": ""}, "Chọn hợp tác xã vay vốn."),
        ({"project_name": ""}, "Trường này là bắt buộc."),
        ({"term_months": "1,5"}, "Phải là số nguyên."),
        ({"principal_every_months": "2"}, "Kỳ hạn trả là 1, 3, 6 hoặc 12 tháng."),
        ({"principal_method": "weekly"}, "Phương thức trả gốc không hợp lệ."),
        (
            {
                "principal_method": "custom",
                "custom_schedule": "30/06/2027; 100.000.000\n30/06/2028; 100.000.000",
            },
            "Tổng số gốc theo lịch tự nhập phải bằng số tiền vay.",
        ),
        (
            {"principal_method": "custom", "custom_schedule": "30/06/2027 400.000.000"},
            "Mỗi dòng: ngày; số tiền",
        ),
        ({"principal_method": "custom"}, "Phương thức tự nhập cần lịch trả gốc"),
    ],
)
def test_bad_input_gets_a_field_message_and_creates_nothing(funded, changes, message):
    officer, _ = client_for(funded, "officer")
    coop = make_cooperative()
    response = officer.post("/applications/new", data=form(coop, **changes))
    assert response.status_code == 422
    page = text(response)
    assert message in page
    assert 'class="field-error"' in page  # under its field, not only in a banner
    assert "Dữ liệu chưa hợp lệ, xin kiểm tra lại." in page
    assert count(Application) == 0


def test_wrong_transitions_are_refused_with_a_message(funded):
    officer, _ = client_for(funded, "officer")
    director, _ = client_for(funded, "director")
    application = create(officer, make_cooperative())

    response = director.post(f"/applications/{application.id}/approve", data={"note": ""})
    assert response.status_code == 422
    assert "Chỉ phê duyệt hồ sơ đã thẩm định." in text(response)
    response = officer.post(
        f"/applications/{application.id}/appraise",
        data={"recommended_amount": "400.000.000", "note": "x"},
    )
    assert response.status_code == 422
    assert "Chỉ thẩm định hồ sơ đã nộp." in text(response)

    assert officer.post(f"/applications/{application.id}/submit").status_code == 302
    response = officer.post(f"/applications/{application.id}/submit")
    assert response.status_code == 422
    assert "Không thể chuyển trạng thái từ «Đã nộp» sang «Đã nộp»." in text(response)
    assert fresh(application.id).status == "submitted"

    # Issue 16: the officer who prepared the file may not appraise it (policy default); a
    # second officer's appraisal is refused on its amount.
    appraiser, _ = client_for(funded, "officer")
    response = appraiser.post(
        f"/applications/{application.id}/appraise",
        data={"recommended_amount": "500.000.000", "note": "Nhiều hơn xin vay"},
    )
    assert response.status_code == 422
    assert "Số đề nghị cho vay không vượt số tiền xin vay." in text(response)
    assert fresh(application.id).status == "submitted"

    assert (
        officer.post(
            f"/applications/{application.id}/withdraw", data={"reason": "HTX xin dừng."}
        ).status_code
        == 302
    )
    assert fresh(application.id).status == "withdrawn"
    response = officer.post(f"/applications/{application.id}/submit")
    assert response.status_code == 422
    assert "Không thể chuyển trạng thái từ «Đã rút» sang «Đã nộp»." in text(response)
    assert officer.post("/applications/9999/submit").status_code == 404


# --- the list --------------------------------------------------------------------------------


def test_queue_tabs_and_search(funded):
    officer, _ = client_for(funded, "officer")
    vai = create(officer, make_cooperative(name="HTX Vải thiều Lục Ngạn"))
    create(officer, make_cooperative(name="HTX Gà đồi Yên Thế"), project_name="Chuồng trại gà đồi")
    officer.post(f"/applications/{vai.id}/submit", follow_redirects=True)

    queue = text(officer.get("/applications/"))  # an officer starts on what awaits appraisal
    assert "HTX Vải thiều Lục Ngạn" in queue and "Chuồng trại gà đồi" not in queue
    assert "20/11/2026" in queue or "21/11/2026" in queue  # the submitted date
    drafts = text(officer.get("/applications/?status=draft"))
    assert "Chuồng trại gà đồi" in drafts and "HTX Vải thiều Lục Ngạn" not in drafts
    every = text(officer.get("/applications/?status=all"))
    assert "Chuồng trại gà đồi" in every and "HTX Vải thiều Lục Ngạn" in every
    found = text(officer.get("/applications/", query_string={"status": "all", "q": "gà đồi"}))
    assert "Chuồng trại gà đồi" in found and "HTX Vải thiều Lục Ngạn" not in found
    assert officer.get("/applications/?status=bogus&page=x").status_code == 200

    controller, _ = client_for(funded, "controller")
    page = text(controller.get("/applications/"))
    assert "Chuồng trại gà đồi" in page and "HTX Vải thiều Lục Ngạn" in page
    assert "Lập hồ sơ vay" not in page
    assert controller.get(f"/applications/{vai.id}").status_code == 200
    assert controller.get("/applications/new").status_code == 403


def test_a_cooperative_user_gets_403_on_every_application_page(funded):
    coop = make_cooperative()
    officer, _ = client_for(funded, "officer")
    application = create(officer, coop)
    officer.post(
        f"/applications/{application.id}/documents",
        data={"file": (io.BytesIO(PDF), "a.pdf")},
        content_type="multipart/form-data",
    )
    doc = db.session.scalars(select(ApplicationDocument)).one()
    member, _ = client_for(funded, "cooperative", cooperative=coop)
    for url in (
        "/applications/",
        "/applications/new",
        f"/applications/{application.id}",
        f"/applications/{application.id}/edit",
        f"/applications/{application.id}/documents/{doc.id}",
    ):
        assert member.get(url).status_code == 403, url
    for action in ("submit", "withdraw", "appraise", "approve", "reject", "documents"):
        assert member.post(f"/applications/{application.id}/{action}").status_code == 403, action
    assert fresh(application.id).status == "draft"


# --- documents -------------------------------------------------------------------------------


def upload(client, application_id: int, content: bytes, name: str):
    return client.post(
        f"/applications/{application_id}/documents",
        data={"file": (io.BytesIO(content), name)},
        content_type="multipart/form-data",
    )


def test_a_pdf_is_stored_under_a_random_name_and_downloaded_by_staff(funded, uploads_dir):
    officer, officer_user = client_for(funded, "officer")
    application = create(officer, make_cooperative())
    response = upload(officer, application.id, PDF, "Phương án SXKD 2026.pdf")
    assert response.status_code == 302
    doc = db.session.scalars(select(ApplicationDocument)).one()
    assert doc.original_name == "Phương án SXKD 2026.pdf"
    assert re.fullmatch(r"[0-9a-f]{32}\.pdf", doc.stored_name)
    assert (doc.content_type, doc.size, doc.uploaded_by_id) == (
        "application/pdf",
        len(PDF),
        officer_user.id,
    )
    stored = uploads_dir / doc.stored_name
    assert stored.read_bytes() == PDF
    static = Path(funded.static_folder).resolve()
    assert static not in stored.resolve().parents
    assert [p.name for p in uploads_dir.iterdir()] == [doc.stored_name]
    log = db.session.scalars(
        select(AuditLog).where(AuditLog.action == "application.document_upload")
    ).one()
    assert log.after["name"] == "Phương án SXKD 2026.pdf" and log.entity_id == str(application.id)
    assert "Phương án SXKD 2026.pdf" in text(officer.get(f"/applications/{application.id}"))

    controller, _ = client_for(funded, "controller")
    with controller.get(f"/applications/{application.id}/documents/{doc.id}") as download:
        assert download.status_code == 200
        assert download.data == PDF
    assert download.mimetype == "application/pdf"
    disposition = download.headers["Content-Disposition"]
    assert disposition.startswith("attachment")
    assert "Ph%C6%B0%C6%A1ng%20%C3%A1n%20SXKD%202026.pdf" in disposition
    assert download.headers["X-Content-Type-Options"] == "nosniff"

    other = create(officer, make_cooperative())
    assert controller.get(f"/applications/{other.id}/documents/{doc.id}").status_code == 404
    assert controller.get(f"/applications/{application.id}/documents/999").status_code == 404


@pytest.mark.parametrize(
    ("content", "name", "message"),
    [
        (b"MZ\x90\x00" + b"\x00" * 60, "setup.exe", "chỉ nhận PDF, JPEG, PNG"),
        (b"<html><script>alert(1)</script></html>", "hoso.pdf", "không phải là PDF"),
        (b"\x89PNG\r\n\x1a\n" + b"\x00" * 20, "scan.pdf", "không phải là PDF"),
        (PDF, "hoso.html", "chỉ nhận PDF, JPEG, PNG"),
        (PDF, "noext", "chỉ nhận PDF, JPEG, PNG"),
        (PDF, ".pdf", "chỉ nhận PDF, JPEG, PNG"),
        (b"", "empty.pdf", "rỗng"),
        (PDF + b"0" * 2048, "big.pdf", "Tệp quá lớn: tối đa 2 KB."),
    ],
)
def test_unacceptable_files_are_refused_and_nothing_is_saved(
    funded, uploads_dir, content, name, message
):
    funded.config["UPLOAD_MAX_BYTES"] = 2048
    officer, _ = client_for(funded, "officer")
    application = create(officer, make_cooperative())
    response = upload(officer, application.id, content, name)
    assert response.status_code == 422
    assert message in text(response)
    assert count(ApplicationDocument) == 0
    assert not uploads_dir.exists() or not any(uploads_dir.iterdir())


def test_no_file_chosen(funded):
    officer, _ = client_for(funded, "officer")
    application = create(officer, make_cooperative())
    response = officer.post(
        f"/applications/{application.id}/documents", data={}, content_type="multipart/form-data"
    )
    assert response.status_code == 422
    assert "Chọn tệp cần tải lên." in text(response)


@pytest.mark.parametrize(
    ("name", "kept", "content"),
    [
        ("../../x.pdf", "x.pdf", PDF),
        ("/etc/passwd.pdf", "passwd.pdf", PDF),
        ("bao:cao<1>|.PDF", "bao_cao_1__.PDF", PDF),
        ("ảnh sổ đỏ.JPG", "ảnh sổ đỏ.JPG", b"\xff\xd8\xff\xe0" + b"\x00" * 16),
        ("bảng tính.xlsx", "bảng tính.xlsx", b"PK\x03\x04" + b"\x00" * 26),
        ("giấy đề nghị.doc", "giấy đề nghị.doc", b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 8),
    ],
)
def test_file_names_are_sanitised_and_never_used_on_disk(funded, uploads_dir, name, kept, content):
    officer, _ = client_for(funded, "officer")
    application = create(officer, make_cooperative())
    response = upload(officer, application.id, content, name)
    assert response.status_code == 302, text(response)
    doc = db.session.scalars(select(ApplicationDocument)).one()
    assert doc.original_name == kept
    assert re.fullmatch(r"[0-9a-f]{32}\.[a-z]{3,4}", doc.stored_name)
    assert [p.name for p in uploads_dir.iterdir()] == [doc.stored_name]
    assert not (uploads_dir.parent.parent / "x.pdf").exists()


def test_uploads_stop_when_the_application_is_closed(funded):
    officer, _ = client_for(funded, "officer")
    application = create(officer, make_cooperative())
    officer.post(f"/applications/{application.id}/withdraw", data={"reason": ""})
    response = upload(officer, application.id, PDF, "muon.pdf")
    assert response.status_code == 422
    assert "Hồ sơ đã đóng" in text(response)
    assert count(ApplicationDocument) == 0


@pytest.mark.parametrize(
    ("raw", "clean"),
    [
        ("..\\..\\windows\\x.pdf", "x.pdf"),
        ("C:\\Users\\htx\\Giấy đề nghị.docx", "Giấy đề nghị.docx"),
        ("../../x.pdf", "x.pdf"),
        ("...hidden.pdf", "hidden.pdf"),
        ("a\x00b\nc.pdf", "a_b_c.pdf"),
        ("d" * 300 + ".pdf", "d" * 251 + ".pdf"),
        ("", ""),
    ],
)
def test_clean_name(app, raw, clean):
    from fundapp.lending.uploads import clean_name

    assert clean_name(raw) == clean
