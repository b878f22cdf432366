"""The cooperative's portal: its loans' figures checked by hand, schedule and payments,
statement, notices, applying online, its profile, and nothing of anyone else's.

The loan of most tests: 120.000.000 đ at 6 %/year over 12 months, equal principal,
disbursed on 05/08/2026; on 20/11/2026 (the business date):
- instalment 1 (due 05/09): 10.000.000 + 120.000.000 × 6 % × 31/365 = 611.507 interest,
  paid on its due date (receipt PT-2026-000001);
- instalment 2 (due 05/10): 10.000.000 + 110.000.000 × 6 % × 30/365 = 542.466, unpaid;
- instalment 3 (due 05/11): 10.000.000 + 100.000.000 × 6 % × 31/365 = 509.589, unpaid;
- instalment 4 (due 05/12): 10.000.000 + 90.000.000 × 6 % × 30/365 = 443.836, the next due.
Overdue interest as of 20/11, per instalment, rounded once:
- no. 2, 46 days: 10.000.000 × 9 % × 46/365 + 542.466 × 10 % × 46/365
  = 113.424,66 + 6.836,56 = 120.261;
- no. 3, 15 days: 10.000.000 × 9 % × 15/365 + 509.589 × 10 % × 15/365
  = 36.986,30 + 2.094,20 = 39.081.
Days past due 20/11 − 05/10 = 46: debt group 3 (30–< 90 days, Circular 14/2024/TT-NHNN;
group 2, 10–90 days, under the rules of before 12/08/2024).
"""

from __future__ import annotations

import io
import re
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from fundapp.audit.models import AuditLog
from fundapp.cooperatives.models import Cooperative
from fundapp.extensions import db
from fundapp.lending import applications
from fundapp.loans.days import Notice
from fundapp.loans.models import Application, ApplicationDocument, Disbursement, Loan
from fundapp.repayments import services as rs
from fundapp.servicing.close_day import run_close_day
from tests.conftest import BUSINESS_DATE, count, login, make_cooperative, make_user
from tests.documents.helpers import repay
from tests.services.lending_helpers import (
    Staff,
    contracted_loan,
    disburse,
    fund_and_staff,
    portal_application_form,
)

PDF = b"%PDF-1.4\n1 0 obj <</Type /Catalog>> endobj\ntrailer <</Root 1 0 R>>\n%%EOF\n"

NEXT_DUE = 10_443_836  # instalment 4: 10.000.000 + 443.836
INTEREST_OVERDUE = 1_052_055  # 542.466 + 509.589
PENALTY = 159_342  # 120.261 + 39.081
TOTAL_DUE = 21_211_397  # 20.000.000 + 1.052.055 + 159.342


def vnd(amount: int) -> str:
    return f"{amount:,} đ".replace(",", ".")


def text(response: Any) -> str:
    return response.get_data(as_text=True)


def block(html: str, element_id: str) -> str:
    """The element with ``element_id``, from its start tag to its matching end tag (so a
    figure is checked where it is shown, not anywhere on the page)."""
    start = html.rindex("<", 0, html.index(f'id="{element_id}"'))
    tag = re.match(r"<(\w+)", html[start:]).group(1)  # type: ignore[union-attr]
    depth = 0
    for match in re.finditer(rf"<(/?){tag}\b", html[start:]):
        depth += -1 if match.group(1) else 1
        if depth == 0:
            return html[start : html.index(">", start + match.start()) + 1]
    raise AssertionError(f"#{element_id} is not closed")


def made_by(user: Any) -> list[Application]:
    """The applications ``user`` lodged (the fixture's loans came from officers' ones)."""
    return list(
        db.session.scalars(
            select(Application).where(Application.created_by_id == user.id).order_by(Application.id)
        )
    )


@pytest.fixture
def uploads_dir(app, tmp_path) -> Path:
    folder = tmp_path / "uploads"
    app.config["UPLOAD_FOLDER"] = str(folder)
    return folder


class Portal:
    """A fund with staff, a cooperative with the overdue loan above, its user signed in."""

    def __init__(self, app: Any) -> None:
        self.app = app
        self.staff: Staff = fund_and_staff()
        self.coop = make_cooperative(name="HTX Vải thiều Thanh Hà")
        self.loan = contracted_loan(self.staff, cooperative=self.coop, on=date(2026, 8, 3))
        disburse(self.staff, self.loan, 120_000_000, date(2026, 8, 5))
        self.paid = repay(self.staff, self.loan, 10_611_507, date(2026, 9, 5))
        self.user = make_user("cooperative", cooperative=self.coop)
        self.client = app.test_client()
        assert login(self.client, self.user).status_code == 302

    def neighbour(self) -> tuple[Any, Any]:
        """Another cooperative with a disbursed loan of its own, and its user."""
        other = make_cooperative(name="HTX Gà đồi Đồng Tâm")
        loan = contracted_loan(
            self.staff, amount=60_000_000, cooperative=other, on=date(2026, 10, 1)
        )
        disburse(self.staff, loan, 60_000_000, date(2026, 10, 1))
        return loan, make_user("cooperative", cooperative=other)


@pytest.fixture
def portal(app, uploads_dir) -> Portal:
    return Portal(app)


# --- home ------------------------------------------------------------------------------------


def test_home_shows_the_next_due_amount_and_what_is_overdue(portal):
    html = text(portal.client.get("/portal/"))
    loan = portal.loan
    next_due = block(html, f"next-due-{loan.id}")
    assert "Kỳ trả nợ tới: ngày 05/12/2026" in next_due
    assert vnd(NEXT_DUE) in next_due
    assert f"Gốc {vnd(10_000_000)} · lãi {vnd(443_836)} (kỳ 4)" in next_due

    overdue = html[html.index('class="portal-overdue"') :]
    assert "Đã quá hạn 46 ngày" in overdue and "từ kỳ đến hạn ngày 05/10/2026" in overdue
    for label, amount in (
        ("Gốc quá hạn", 20_000_000),
        ("Lãi quá hạn", INTEREST_OVERDUE),
        ("Lãi phạt quá hạn", PENALTY),
        ("Tổng phải trả đến hôm nay", TOTAL_DUE),
    ):
        assert re.search(rf"<dt>{label}</dt>\s*<dd>{re.escape(vnd(amount))}</dd>", overdue), label
    assert re.search(rf"<dt>Dư nợ gốc</dt>\s*<dd>{re.escape(vnd(110_000_000))}</dd>", html)
    assert re.search(r"<dt>Nhóm nợ</dt>\s*<dd><span [^>]*>Nhóm 3</span>", html)
    assert f"Hợp đồng {loan.contract_no}" in html and "Mở rộng vườn vải thiều" in html
    assert f'href="/portal/loans/{loan.id}"' in html
    assert f'href="/loans/{loan.id}/statement.pdf"' in html
    assert f'href="/loans/{loan.id}/schedule.pdf"' in html
    assert "Cộng các khoản vay" not in html  # one loan: no totals


def test_home_agrees_with_the_api(portal):
    from fundapp.auth.services import issue_token

    raw, _token = issue_token(portal.user, 1, "tests")
    db.session.commit()
    api = portal.client.get(
        f"/api/v1/loans/{portal.loan.id}", headers={"Authorization": f"Bearer {raw}"}
    ).get_json()["balances"]
    assert (
        api["principal_outstanding"],
        api["principal_overdue"],
        api["interest_overdue"],
        api["penalty_due"],
        api["total_due"],
        api["days_past_due"],
        api["debt_group"],
    ) == (110_000_000, 20_000_000, INTEREST_OVERDUE, PENALTY, TOTAL_DUE, 46, 3)


def test_two_loans_are_added_up_and_an_instalment_due_today_is_the_next_due(portal):
    # 60.000.000 đ disbursed 20/10/2026: instalment 1 falls due today, 20/11, with
    # 5.000.000 principal and 60.000.000 × 6 % × 31/365 = 305.753 interest.
    second = contracted_loan(
        portal.staff, amount=60_000_000, cooperative=portal.coop, on=date(2026, 10, 20)
    )
    disburse(portal.staff, second, 60_000_000, date(2026, 10, 20))
    html = text(portal.client.get("/portal/"))
    next_due = block(html, f"next-due-{second.id}")
    assert "Kỳ trả nợ tới: ngày 20/11/2026" in next_due and vnd(5_305_753) in next_due
    # The overdue loan comes first, though the other falls due sooner.
    assert html.index(f'id="next-due-{portal.loan.id}"') < html.index(f'id="next-due-{second.id}"')

    totals = html[html.index('id="totals-title"') :]
    for label, amount in (
        ("Dư nợ gốc", 170_000_000),
        ("Gốc quá hạn", 20_000_000),
        ("Lãi quá hạn", INTEREST_OVERDUE),
        ("Lãi phạt quá hạn", PENALTY),
        ("Tổng phải trả đến hôm nay", TOTAL_DUE + 5_305_753),
    ):
        assert re.search(rf"<dt>{label}</dt>\s*<dd>{re.escape(vnd(amount))}</dd>", totals), label


def test_no_loans_yet_keeps_the_welcome_and_offers_to_apply(app):
    user = make_user("cooperative", cooperative=make_cooperative(name="HTX Mới"))
    client = app.test_client()
    login(client, user)
    html = text(client.get("/portal/"))
    assert "Hợp tác xã chưa có khoản vay nào" in html
    assert 'href="/portal/applications/new"' in html
    assert "Không có hồ sơ nào đang chờ xử lý." in html


# --- a loan's page ---------------------------------------------------------------------------


def test_loan_page_schedule_payments_and_documents(portal):
    loan = portal.loan
    mistake = repay(portal.staff, loan, 1_000_000, date(2026, 10, 10))
    reversal = rs.request_reversal(portal.staff.accountant, mistake.id, "Ghi nhầm")
    db.session.commit()
    rs.decide_reversal(portal.staff.director, reversal.id, True, date(2026, 10, 12))
    db.session.commit()

    response = portal.client.get(f"/portal/loans/{loan.id}")
    assert response.status_code == 200
    html = text(response)
    # Terms
    assert "6 %/năm" in html and "12 tháng" in html and "Gốc chia đều" in html
    assert re.search(r"<dt>Ngày đáo hạn</dt>\s*<dd>05/08/2027</dd>", html)
    assert re.search(r"<dt>Ngày giải ngân đầu tiên</dt>\s*<dd>05/08/2026</dd>", html)
    # Schedule: paid, overdue, overdue, not yet due.
    rows = {n: block(html, f"instalment-{n}") for n in (1, 2, 3, 4, 12)}
    assert len(re.findall(r'id="instalment-\d+"', html)) == 12
    assert "05/09/2026" in rows[1] and vnd(10_611_507) in rows[1] and "Đã trả" in rows[1]
    assert "05/10/2026" in rows[2] and vnd(542_466) in rows[2] and "Quá hạn" in rows[2]
    assert vnd(10_509_589) in rows[3] and "Quá hạn" in rows[3]
    assert vnd(NEXT_DUE) in rows[4] and "Chưa đến hạn" in rows[4]
    assert "05/08/2027" in rows[12]
    # Payments, newest first: the reversed one, then the receipt that paid instalment 1.
    kept = block(html, f"payment-{portal.paid.id}")
    assert portal.paid.receipt_no in kept
    assert f'href="/repayments/{portal.paid.id}/receipt.pdf"' in kept
    cells = re.findall(r'<td class="num" data-label="([^"]+)">([^<]+)<', kept)
    assert cells == [
        ("Số tiền", vnd(10_611_507)),
        ("Lãi phạt", vnd(0)),
        ("Lãi", vnd(611_507)),
        ("Gốc", vnd(10_000_000)),
    ]
    assert "Hiệu lực" in kept
    gone = block(html, f"payment-{mistake.id}")
    assert vnd(1_000_000) in gone and "Đã hủy" in gone and "Không phân bổ" in gone
    assert html.index(f"payment-{mistake.id}") < html.index(f"payment-{portal.paid.id}")
    # Statement form defaults to the disbursement → the business date; the schedule PDF.
    form = html[html.index(f'action="/loans/{loan.id}/statement.pdf"') :]
    # One kind of date field (issue 16): text in dd/mm/yyyy, whatever the browser's locale.
    assert 'name="from" value="05/08/2026"' in form and 'name="to" value="20/11/2026"' in form
    assert f'href="/loans/{loan.id}/schedule.pdf"' in html
    tranche = db.session.scalars(select(Disbursement).where(Disbursement.loan_id == loan.id)).one()
    assert f'href="/disbursements/{tranche.id}/debt-receipt.pdf"' in html
    # No staff links.
    assert f'href="/loans/{loan.id}"' not in html and "/cooperatives/" not in html


def test_statement_and_receipt_download(portal):
    statement = portal.client.get(
        f"/loans/{portal.loan.id}/statement.pdf?from=2026-08-05&to=2026-11-20"
    )
    assert statement.status_code == 200 and statement.mimetype == "application/pdf"
    assert statement.data.startswith(b"%PDF-")
    receipt = portal.client.get(f"/repayments/{portal.paid.id}/receipt.pdf")
    assert receipt.status_code == 200 and receipt.data.startswith(b"%PDF-")
    bad = portal.client.get(f"/loans/{portal.loan.id}/statement.pdf?from=2026-11-21&to=2026-11-20")
    assert bad.status_code == 422 and "Ngày bắt đầu" in text(bad)


def test_loans_list(portal):
    html = text(portal.client.get("/portal/loans"))
    assert portal.loan.contract_no in html and vnd(120_000_000) in html
    assert vnd(110_000_000) in html and "Đang vay" in html


# --- notices ---------------------------------------------------------------------------------


def _unread(html: str) -> int:
    match = re.search(r'id="unread-notices">(\d+)<', html)
    return int(match.group(1)) if match else 0


def test_notices_unread_count_and_marking_read(portal):
    assert run_close_day(BUSINESS_DATE, "cli").ran
    db.session.commit()
    own = list(
        db.session.scalars(
            select(Notice).where(Notice.cooperative_id == portal.coop.id).order_by(Notice.id)
        )
    )
    # Instalments 2 and 3 are transferred to overdue: one notice each to the cooperative.
    assert [n.data["no"] for n in own] == [2, 3]
    home = text(portal.client.get("/portal/"))
    assert _unread(home) == 2 and "Bạn có 2 thông báo chưa đọc." in home
    assert 'href="/notices/?status=unread"' in home
    assert re.search(r'nav-count">2<', home)

    page = text(portal.client.get("/notices/"))
    assert "Thông báo chuyển nợ quá hạn" in page and portal.loan.contract_no in page
    assert f'href="/notices/{own[0].id}.pdf"' in page
    pdf = portal.client.get(f"/notices/{own[0].id}.pdf")
    assert pdf.status_code == 200 and pdf.data.startswith(b"%PDF-")

    response = portal.client.post(f"/notices/{own[0].id}/read", data={"next": "/portal/"})
    assert response.status_code == 302 and response.headers["Location"].endswith("/portal/")
    home = text(portal.client.get("/portal/"))
    assert _unread(home) == 1 and "Bạn có 1 thông báo chưa đọc." in home

    # The officer's copy is not the cooperative's to read.
    officer_copy = db.session.scalar(
        select(Notice).where(Notice.user_id == portal.staff.officer.id).limit(1)
    )
    assert portal.client.get(f"/notices/{officer_copy.id}.pdf").status_code == 404
    assert portal.client.post(f"/notices/{officer_copy.id}/read").status_code == 404


# --- applying online -------------------------------------------------------------------------


def post_application(client: Any, url: str = "/portal/applications/new", files=(), **changes):
    data = portal_application_form(**changes)
    data["documents"] = [(io.BytesIO(content), name) for content, name in files]
    return client.post(url, data=data, content_type="multipart/form-data")


def test_apply_with_a_document_submit_list_and_withdraw(portal, uploads_dir):
    client = portal.client
    page = text(client.get("/portal/applications/new"))
    assert "Lãi suất do Quỹ quy định theo chính sách cho vay: hiện nay 6 %/năm." in page
    assert 'name="cooperative_id"' not in page and 'name="annual_rate"' not in page

    response = post_application(
        client,
        files=[(PDF, "Phương án SXKD.pdf")],
        # Fields a cooperative may not set are ignored, whatever the form carries.
        cooperative_id=str(make_cooperative(name="HTX Hàng xóm").id),
        annual_rate="1",
    )
    assert response.status_code == 302, text(response)
    [app] = made_by(portal.user)
    assert response.headers["Location"].endswith(f"/portal/applications/{app.id}")
    assert (app.cooperative_id, app.status, app.annual_rate) == (
        portal.coop.id,
        "submitted",
        Decimal("6"),  # the policy's default rate, not the "1" sent
    )
    assert (app.total_project_cost, app.own_equity, app.requested_amount) == (
        500_000_000,
        150_000_000,
        300_000_000,
    )
    assert (app.term_months, app.principal_every_months, app.interest_every_months) == (24, 3, 1)
    assert app.created_by_id == portal.user.id and app.officer_id is None
    assert app.submitted_at is not None
    doc = db.session.scalars(select(ApplicationDocument)).one()
    assert (doc.application_id, doc.original_name, doc.uploaded_by_id) == (
        app.id,
        "Phương án SXKD.pdf",
        portal.user.id,
    )
    assert (uploads_dir / doc.stored_name).read_bytes() == PDF
    actions = set(
        db.session.scalars(
            select(AuditLog.action).where(
                AuditLog.entity == "application", AuditLog.entity_id == str(app.id)
            )
        )
    )
    assert {
        "application.create",
        "application.submitted",
        "application.document_upload",
    } <= actions

    detail = text(client.get(response.headers["Location"]))
    assert "Đã nộp hồ sơ «Kho lạnh bảo quản vải thiều»" in detail
    assert "Đã nộp" in detail and vnd(300_000_000) in detail and "6 %/năm" in detail
    link = f"/portal/applications/{app.id}/documents/{doc.id}"
    assert f'href="{link}"' in detail
    with client.get(link) as download:
        assert download.status_code == 200 and download.data == PDF
        assert download.headers["Content-Disposition"].startswith("attachment")

    listing = text(client.get("/portal/applications"))
    row = block(listing, f"application-{app.id}")
    assert "Kho lạnh bảo quản vải thiều" in row and "Đã nộp" in row
    assert "Kho lạnh bảo quản vải thiều" in text(client.get("/portal/"))

    # More papers while the fund appraises.
    more = client.post(
        f"/portal/applications/{app.id}/documents",
        data={"file": (io.BytesIO(PDF), "Báo cáo tài chính.pdf")},
        content_type="multipart/form-data",
    )
    assert more.status_code == 302
    assert count(ApplicationDocument) == 2

    # Staff see it in their queue and download what the cooperative sent.
    officer = portal.app.test_client()
    login(officer, portal.staff.officer)
    assert "Kho lạnh bảo quản vải thiều" in text(officer.get("/applications/?status=submitted"))
    with officer.get(f"/applications/{app.id}/documents/{doc.id}") as staff_download:
        assert staff_download.status_code == 200 and staff_download.data == PDF

    response = client.post(
        f"/portal/applications/{app.id}/withdraw", data={"reason": "Đã vay được nơi khác"}
    )
    assert response.status_code == 302
    db.session.expire_all()
    assert db.session.get(Application, app.id).status == "withdrawn"
    withdrawn = text(client.get(f"/portal/applications/{app.id}"))
    assert "Đã rút" in withdrawn and "Đã vay được nơi khác" in withdrawn
    late = client.post(
        f"/portal/applications/{app.id}/documents",
        data={"file": (io.BytesIO(PDF), "muon.pdf")},
        content_type="multipart/form-data",
    )
    assert late.status_code == 422 and count(ApplicationDocument) == 2


def test_draft_edit_then_submit_and_no_withdrawal_after_appraisal(portal):
    client = portal.client
    response = post_application(client, action="draft", requested_amount="200.000.000")
    assert response.status_code == 302, text(response)
    [app] = made_by(portal.user)
    assert app.status == "draft" and app.submitted_at is None

    edit = f"/portal/applications/{app.id}/edit"
    assert 'value="200.000.000"' in text(client.get(edit))
    response = post_application(client, edit, action="draft", requested_amount="250.000.000")
    assert response.status_code == 302
    db.session.expire_all()
    assert db.session.get(Application, app.id).requested_amount == 250_000_000

    assert client.post(f"/portal/applications/{app.id}/submit").status_code == 302
    db.session.expire_all()
    app = db.session.get(Application, app.id)
    assert app.status == "submitted"
    assert client.get(edit).status_code == 302  # a submitted application is not edited

    # A second officer appraises what the cooperative submitted.
    applications.appraise(portal.staff.appraiser, app, 250_000_000, "Khả thi", BUSINESS_DATE)
    db.session.commit()
    response = client.post(f"/portal/applications/{app.id}/withdraw", data={"reason": ""})
    assert response.status_code == 422
    assert "liên hệ cán bộ tín dụng" in text(response)
    db.session.expire_all()
    assert db.session.get(Application, app.id).status == "appraised"

    loan = applications.approve(portal.staff.director, app, "Đồng ý cho vay", BUSINESS_DATE)
    db.session.commit()
    decided = text(client.get(f"/portal/applications/{app.id}"))
    assert "Quỹ đã phê duyệt hồ sơ" in decided and "Đồng ý cho vay" in decided
    assert f'href="/portal/loans/{loan.id}"' in decided


@pytest.mark.parametrize(
    ("changes", "field", "message"),
    [
        ({"requested_amount": "-300.000.000"}, "requested_amount", "Số tiền phải lớn hơn 0."),
        (
            {"own_equity": "600.000.000"},
            "own_equity",
            "Vốn đối ứng không được lớn hơn tổng mức đầu tư.",
        ),
        ({"project_name": ""}, "project_name", "Trường này là bắt buộc."),
        ({"term_months": ""}, "term_months", "Nhập thời hạn vay (tháng)."),
        ({"total_project_cost": "năm trăm triệu"}, "total_project_cost", "phần thập phân hay chữ"),
    ],
)
def test_bad_figures_show_the_form_again_and_save_nothing(
    portal, uploads_dir, changes, field, message
):
    response = post_application(portal.client, files=[(PDF, "a.pdf")], **changes)
    assert response.status_code == 422
    html = text(response)
    error = rf'<p class="field-error" id="{field}-error">[^<]*{re.escape(message)}'
    assert re.search(error, html), html
    assert "Hồ sơ chưa được lưu: xin chọn lại các tệp đính kèm." in html
    assert made_by(portal.user) == [] and count(ApplicationDocument) == 0
    assert not uploads_dir.exists() or not any(uploads_dir.iterdir())


def test_a_wrong_file_type_refuses_the_whole_application(portal, uploads_dir):
    response = post_application(
        portal.client, files=[(PDF, "a.pdf"), (b"MZ\x90\x00" + b"\0" * 60, "setup.exe")]
    )
    assert response.status_code == 422
    assert "chỉ nhận PDF, JPEG, PNG" in text(response)
    assert made_by(portal.user) == [] and count(ApplicationDocument) == 0
    assert not uploads_dir.exists() or not any(uploads_dir.iterdir())


# --- another cooperative's objects, staff pages ------------------------------------------------


def test_another_cooperatives_loan_application_document_and_notice_are_not_found(portal):
    other_loan, stranger = portal.neighbour()
    stranger_client = portal.app.test_client()
    login(stranger_client, stranger)
    response = post_application(stranger_client, files=[(PDF, "b.pdf")], action="draft")
    assert response.status_code == 302
    [other_app] = made_by(stranger)
    other_doc = db.session.scalars(select(ApplicationDocument)).one()
    assert run_close_day(BUSINESS_DATE, "cli").ran
    db.session.commit()
    other_notice = db.session.scalar(
        select(Notice).where(Notice.cooperative_id == other_loan.cooperative_id).limit(1)
    )
    own_app = Application(
        cooperative_id=portal.coop.id,
        project_name="Nhà sơ chế",
        total_project_cost=100_000_000,
        own_equity=50_000_000,
        requested_amount=50_000_000,
        term_months=12,
        annual_rate=other_app.annual_rate,
        status="draft",
    )
    db.session.add(own_app)
    db.session.commit()

    client = portal.client
    for url in (
        f"/portal/loans/{other_loan.id}",
        "/portal/loans/999999",
        f"/portal/applications/{other_app.id}",
        f"/portal/applications/{other_app.id}/edit",
        f"/portal/applications/{other_app.id}/documents/{other_doc.id}",
        f"/portal/applications/{own_app.id}/documents/{other_doc.id}",
        "/portal/applications/999999",
        f"/loans/{other_loan.id}/statement.pdf",
        f"/loans/{other_loan.id}/schedule.pdf",
        f"/notices/{other_notice.id}.pdf",
    ):
        assert client.get(url).status_code == 404, url
    for action in ("submit", "withdraw", "edit"):
        url = f"/portal/applications/{other_app.id}/{action}"
        assert client.post(url, data=portal_application_form()).status_code == 404, url
    upload = client.post(
        f"/portal/applications/{other_app.id}/documents",
        data={"file": (io.BytesIO(PDF), "x.pdf")},
        content_type="multipart/form-data",
    )
    assert upload.status_code == 404
    db.session.expire_all()
    assert db.session.get(Application, other_app.id).status == "draft"
    assert count(ApplicationDocument) == 1

    home = text(client.get("/portal/"))
    assert other_loan.contract_no not in home and "HTX Gà đồi Đồng Tâm" not in home
    assert "b.pdf" not in text(client.get("/portal/applications"))


@pytest.mark.parametrize(
    "url",
    [
        "/loans/",
        "/loans/{loan}",
        "/loans/{loan}/schedule",
        "/applications/",
        "/applications/new",
        "/cooperatives/{coop}",
        "/dashboard",
        "/reports/",
        "/close-day/",
    ],
)
def test_the_cooperative_user_gets_403_on_staff_pages(portal, url):
    target = url.format(loan=portal.loan.id, coop=portal.coop.id)
    assert portal.client.get(target).status_code == 403


def test_staff_do_not_use_the_portal(portal):
    officer = portal.app.test_client()
    login(officer, portal.staff.officer)
    for url in ("/portal/", f"/portal/loans/{portal.loan.id}", "/portal/applications"):
        assert officer.get(url).status_code == 403, url


# --- profile ---------------------------------------------------------------------------------


def test_profile_updates_contact_details_only(portal):
    client = portal.client
    page = text(client.get("/portal/profile"))
    assert portal.coop.registration_no in page and portal.coop.tax_code in page
    response = client.post(
        "/portal/profile",
        data={
            "phone": "0987 654 321",
            "email": "vaithieu@example.vn",
            "address": "Thôn Đồng Tâm",
            "name": "HTX Đổi tên",
            "tax_code": "0101234567",
            "commune_code": "07210",
        },
    )
    assert response.status_code == 302
    db.session.expire_all()
    coop = db.session.get(Cooperative, portal.coop.id)
    assert (coop.phone, coop.email, coop.address) == (
        "0987654321",
        "vaithieu@example.vn",
        "Thôn Đồng Tâm",
    )
    assert (coop.name, coop.tax_code, coop.commune_code, coop.former_district_code) == (
        "HTX Vải thiều Thanh Hà",
        portal.coop.tax_code,
        "07525",  # Phường Chũ, as registered: the portal cannot move the cooperative
        "224",
    )
    log = db.session.scalars(select(AuditLog).where(AuditLog.action == "cooperative.update")).one()
    assert log.user_id == portal.user.id
    assert set(log.after) == {"phone", "email", "address"}

    bad = client.post(
        "/portal/profile", data={"phone": "12", "email": "không-phải-email", "address": ""}
    )
    assert bad.status_code == 422
    html = text(bad)
    assert "Số điện thoại không hợp lệ" in html and "Địa chỉ e-mail không hợp lệ." in html
    db.session.expire_all()
    assert db.session.get(Cooperative, portal.coop.id).phone == "0987654321"


# --- the same through the API ------------------------------------------------------------------


def test_the_api_lets_a_cooperative_apply_submit_and_withdraw_its_own(portal):
    from fundapp.auth.services import issue_token

    raw, _token = issue_token(portal.user, 1, "tests")
    db.session.commit()
    headers = {"Authorization": f"Bearer {raw}"}
    body = {
        "project_name": "Máy sấy vải",
        "total_project_cost": 400_000_000,
        "own_equity": 100_000_000,
        "requested_amount": 300_000_000,
        "term_months": 36,
        "principal_every_months": 3,
        "interest_every_months": 3,
    }
    client = portal.client
    other_loan, _stranger = portal.neighbour()
    before = count(Application)
    refused = client.post(
        "/api/v1/applications",
        json={**body, "cooperative_id": other_loan.cooperative_id, "annual_rate": "3"},
        headers=headers,
    )
    assert refused.status_code == 422
    assert set(refused.get_json()["error"]["fields"]) == {"cooperative_id", "annual_rate"}
    assert count(Application) == before

    created = client.post(
        "/api/v1/applications", json={**body, "cooperative_id": portal.coop.id}, headers=headers
    )
    assert created.status_code == 201, created.get_json()
    made = created.get_json()
    assert (made["cooperative_id"], made["status"], made["annual_rate"]) == (
        portal.coop.id,
        "draft",
        "6",
    )
    submitted = client.post(f"/api/v1/applications/{made['id']}/submit", headers=headers)
    assert submitted.status_code == 200 and submitted.get_json()["status"] == "submitted"

    other_app = db.session.get(Loan, other_loan.id).application_id
    for action in ("submit", "withdraw"):
        url = f"/api/v1/applications/{other_app}/{action}"
        assert client.post(url, headers=headers).status_code == 404, url
    withdrawn = client.post(
        f"/api/v1/applications/{made['id']}/withdraw", json={"reason": "Hoãn"}, headers=headers
    )
    assert withdrawn.status_code == 200 and withdrawn.get_json()["status"] == "withdrawn"
    assert client.post("/api/v1/applications/999999/submit", headers=headers).status_code == 404
