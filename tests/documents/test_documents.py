"""The loan documents as PDFs: wording and hand-checked amounts, who may download them,
and the notice PDF attached to the notice e-mail."""

from __future__ import annotations

from datetime import date
from email.message import EmailMessage
from typing import Any

import pytest
from sqlalchemy import select

from fundapp.documents.builders import confirmation_year, debt_receipt_document
from fundapp.extensions import db
from fundapp.loans.days import Notice
from fundapp.loans.models import Instalment
from fundapp.notices import delivery as notice_mail
from fundapp.servicing.close_day import run_close_day
from tests.conftest import BUSINESS_DATE, api_token, login, make_cooperative, make_user
from tests.documents.conftest import pdf_text, squeeze
from tests.documents.helpers import repay, story
from tests.services.lending_helpers import contracted_loan, disburse, fund_and_staff


def _get(client: Any, url: str, **kwargs: Any) -> Any:
    response = client.get(url, **kwargs)
    assert response.status_code == 200, response.get_data(as_text=True)[:400]
    assert response.mimetype == "application/pdf"
    return response


# --- schedule, receipt, debt receipt -------------------------------------------------------


def test_schedule_pdf(app, client, pdf) -> None:
    s = story()
    login(client, make_user("officer"))
    flat = squeeze(pdf(_get(client, f"/loans/{s.loan.id}/schedule.pdf").data))
    assert "LỊCH TRẢ NỢ" in flat
    assert "Tình hình trả nợ đến ngày 20/11/2026" in flat
    assert "Khế ước KU-2026-0001 ngày 05/01/2026: 120.000.000 đ" in flat
    # Instalment 1 paid on its due date; instalment 2 partly paid, the rest overdue.
    assert (
        "1 05/02/2026 10.000.000 611.507 10.611.507 10.000.000 611.507 0 Đã trả (05/02/2026)"
        in flat
    )
    assert "2 05/03/2026 10.000.000 506.301 10.506.301 4.467.654 506.301 5.532.346 Quá hạn" in flat
    assert "Gốc chia đều" in flat and "Trang 1/" in flat


def test_receipt_pdf_with_the_amount_in_words(app, client, pdf) -> None:
    s = story()
    login(client, make_user("accountant"))
    response = _get(client, f"/repayments/{s.partial.id}/receipt.pdf")
    assert "phieu-thu-PT-2026-000002.pdf" in response.headers["Content-Disposition"]
    flat = squeeze(pdf(response.data))
    for wording in (
        "PHIẾU THU",
        "Số: PT-2026-000002 · Ngày 15/03/2026",
        "Trả nợ hợp đồng tín dụng HD-2026-0001",
        "Số tiền 5.000.000 đ",
        "Viết bằng chữ Năm triệu đồng chẵn",
        "2 05/03/2026 Lãi phạt 26.045",
        "2 05/03/2026 Lãi 506.301",
        "2 05/03/2026 Gốc 4.467.654",
        "Cộng 5.000.000",
        "Dư nợ gốc còn lại 105.532.346 đ",
        "NGƯỜI NỘP TIỀN",
        "THỦ QUỸ",
        "KẾ TOÁN",
        "(Ký, ghi rõ họ tên)",
    ):
        assert wording in flat, wording
    assert "ĐÃ HỦY" not in flat

    reversed_receipt = squeeze(pdf(_get(client, f"/repayments/{s.reversed.id}/receipt.pdf").data))
    assert "ĐÃ HỦY: Ghi nhầm khoản vay" in reversed_receipt
    assert "Một triệu đồng chẵn" in reversed_receipt
    assert "Khoản thu đã hủy: không phân bổ vào khoản vay." in reversed_receipt
    assert "Dư nợ gốc còn lại" not in reversed_receipt


def test_debt_receipt_per_tranche(app, client, pdf) -> None:
    staff = fund_and_staff()
    loan = contracted_loan(staff)
    first = disburse(staff, loan, 60_000_000, date(2026, 1, 5))
    second = disburse(staff, loan, 60_000_000, date(2026, 2, 20))

    one = debt_receipt_document(first)
    assert [x.principal for x in one.lines] == [5_000_000] * 12
    # 60.000.000 × 6 % × 31/365 = 305.753,42 for 05/01–04/02
    assert one.lines[0].interest == 305_753
    two = debt_receipt_document(second)
    # Eleven principal dates after 20/02 (05/03/2026 … 05/01/2027): 60.000.000 // 11 each,
    # the last one takes the remainder.
    assert [x.due_date for x in two.lines][:2] == [date(2026, 3, 5), date(2026, 4, 5)]
    assert [x.principal for x in two.lines] == [5_454_545] * 10 + [5_454_550]
    # 60.000.000 × 6 % × 13/365 = 128.219,18 (20/02–04/03);
    # 54.545.455 × 6 % × 31/365 = 277.957,66 (05/03–04/04).
    assert [x.interest for x in two.lines][:2] == [128_219, 277_958]
    assert two.totals["principal"] == 60_000_000
    assert (two.tranche_no, two.disbursed_before, two.undisbursed_after) == (2, 60_000_000, 0)

    login(client, make_user("director"))
    response = _get(client, f"/disbursements/{second.id}/debt-receipt.pdf")
    assert "khe-uoc-KU-2026-0002.pdf" in response.headers["Content-Disposition"]
    flat = squeeze(pdf(response.data))
    for wording in (
        "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM",
        "Độc lập - Tự do - Hạnh phúc",
        "KHẾ ƯỚC NHẬN NỢ",
        "Số: KU-2026-0002 · Lần nhận nợ thứ 2",
        "Căn cứ Hợp đồng tín dụng số HD-2026-0001",
        "Số tiền nhận nợ 60.000.000 đ",
        "Viết bằng chữ Sáu mươi triệu đồng chẵn",
        "Ngày nhận nợ 20/02/2026",
        "Đã nhận nợ các lần trước 60.000.000 đ",
        "Lãi suất trong hạn 6 %/năm",
        "Lãi suất quá hạn 9 %/năm trên dư nợ gốc quá hạn",
        "12 tháng, đáo hạn ngày 05/01/2027",
        "1 05/03/2026 5.454.545 128.219 5.582.764",
        "2 05/04/2026 5.454.545 277.958 5.732.503",
        "ĐẠI DIỆN BÊN VAY",
        "GIÁM ĐỐC QUỸ",
    ):
        assert wording in flat, wording


def test_a_pending_disbursement_has_no_debt_receipt(app, client) -> None:
    from fundapp.lending import disbursements

    staff = fund_and_staff()
    loan = contracted_loan(staff)
    pending = disbursements.record_disbursement(
        staff.accountant, loan.id, {"amount": 50_000_000, "date": date(2026, 1, 5)}, BUSINESS_DATE
    )
    db.session.commit()
    login(client, make_user("controller"))
    response = client.get(f"/disbursements/{pending.id}/debt-receipt.pdf")
    assert response.status_code == 422
    assert "đợt giải ngân đã được duyệt" in response.get_data(as_text=True)


# --- year-end debt confirmation ------------------------------------------------------------


def _loan_of_2025() -> Any:
    """120.000.000 đ disbursed 10/06/2025; instalments 1–5 paid on their due dates,
    instalment 6 (due 10/12/2025: 10.000.000 + 345.205 interest) left unpaid."""
    staff = fund_and_staff()
    loan = contracted_loan(staff, on=date(2025, 6, 10))
    disburse(staff, loan, 120_000_000, date(2025, 6, 10))
    rows = db.session.scalars(
        select(Instalment).where(Instalment.loan_id == loan.id).order_by(Instalment.no)
    ).all()
    for row in rows[:5]:
        repay(staff, loan, row.principal + row.interest, row.due_date)
    return loan


def test_debt_confirmation_as_of_the_end_of_last_year(app, client, pdf) -> None:
    loan = _loan_of_2025()
    login(client, make_user("officer"))
    url = f"/cooperatives/{loan.cooperative_id}/debt-confirmation.pdf"
    flat = squeeze(pdf(_get(client, url).data))  # default: last year
    for wording in (
        "BIÊN BẢN ĐỐI CHIẾU CÔNG NỢ",
        "Số dư đến ngày 31/12/2025",
        "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM",
        loan.cooperative.name,
        "ĐẠI DIỆN BÊN A",
        "ĐẠI DIỆN BÊN B",
        "KẾ TOÁN TRƯỞNG",
    ):
        assert wording in flat, wording
    # Outstanding 70.000.000 of which 10.000.000 overdue since 10/12; interest 345.205 =
    # 70.000.000 × 6 % × 30/365; overdue interest for 10/12–30/12 (21 days):
    # 10.000.000 × 9 % × 21/365 + 345.205 × 10 % × 21/365 = 53.766,93.
    assert (
        f"1 {loan.contract_no} {loan.project_name} 10/06/2026 "
        "70.000.000 60.000.000 10.000.000 345.205 53.767 70.398.972"
    ) in flat
    assert "Tổng số bên B còn nợ bên A đến ngày 31/12/2025 là 70.398.972 đ." in flat
    again = squeeze(pdf(_get(client, url + "?year=2025").data))
    assert "70.398.972" in again


def test_debt_confirmation_year_rules(app, client) -> None:
    assert confirmation_year(None, BUSINESS_DATE) == 2025
    assert confirmation_year("2024", BUSINESS_DATE) == 2024
    assert confirmation_year("2026", date(2026, 12, 31)) == 2026
    coop = make_cooperative()
    login(client, make_user("director"))
    for year in ("2026", "1999", "20x5"):
        response = client.get(f"/cooperatives/{coop.id}/debt-confirmation.pdf?year={year}")
        assert response.status_code == 422
        assert "năm" in response.get_data(as_text=True).lower()
    headers = api_token(client, make_user("controller"))
    api = client.get(
        f"/api/v1/cooperatives/{coop.id}/debt-confirmation.pdf?year=2026", headers=headers
    )
    assert api.status_code == 422
    assert list(api.get_json()["error"]["fields"]) == ["year"]


# --- notices ---------------------------------------------------------------------------------


def _overdue_notices() -> tuple[Any, Any]:
    """The first instalment of 120.000.000 đ at 6 % (due 15/02/2026: 10.000.000 + 611.507)
    goes unpaid; the close of day of 16/02 transfers it."""
    staff = fund_and_staff()
    loan = contracted_loan(staff, cooperative=make_cooperative(name="HTX Vải thiều Lục Ngạn"))
    disburse(staff, loan, 120_000_000, date(2026, 1, 15))
    assert run_close_day(date(2026, 2, 15), "cli").ran
    assert run_close_day(date(2026, 2, 16), "cli").ran
    db.session.commit()
    return staff, loan


def _notice(loan: Any, kind: str) -> Notice:
    return db.session.scalars(
        select(Notice).where(
            Notice.loan_id == loan.id,
            Notice.kind == kind,
            Notice.cooperative_id == loan.cooperative_id,
        )
    ).first()


def test_notice_pdfs(app, client, pdf) -> None:
    _, loan = _overdue_notices()
    login(client, make_user("cooperative", cooperative=loan.cooperative))
    transfer = _notice(loan, "overdue_transfer")
    flat = squeeze(pdf(_get(client, f"/notices/{transfer.id}.pdf").data))
    for wording in (
        "THÔNG BÁO CHUYỂN NỢ QUÁ HẠN",
        "Kính gửi: HTX Vải thiều Lục Ngạn",
        "Nợ gốc chuyển quá hạn 10.000.000 đ",
        "Ngày chuyển nợ quá hạn 16/02/2026",
        "Lãi suất quá hạn 9 %/năm",
        "Lãi chưa trả 611.507 đ (chịu lãi chậm trả 10 %/năm)",
        "Ngày đến hạn 15/02/2026",
        "Bắc Giang, ngày 16 tháng 02 năm 2026",
    ):
        assert wording in flat, wording

    due = _notice(loan, "due_soon")
    flat = squeeze(pdf(_get(client, f"/notices/{due.id}.pdf").data))
    for wording in (
        "THÔNG BÁO NỢ ĐẾN HẠN",
        "Ngày đến hạn 15/02/2026",
        "Gốc phải trả 10.000.000 đ",
        "Lãi phải trả 611.507 đ",
        "Tổng số phải trả 10.611.507 đ",
    ):
        assert wording in flat, wording


def test_a_notice_pdf_only_for_who_sees_the_notice(app) -> None:
    staff, loan = _overdue_notices()
    to_coop = _notice(loan, "overdue_transfer")
    to_officer = db.session.scalars(
        select(Notice).where(Notice.kind == "overdue_transfer", Notice.user_id == staff.officer.id)
    ).one()

    def status(user: Any, notice: Notice) -> int:
        client = app.test_client()
        login(client, user)
        return client.get(f"/notices/{notice.id}.pdf").status_code

    assert status(make_user("cooperative", cooperative=loan.cooperative), to_coop) == 200
    assert status(make_user("cooperative"), to_coop) == 404  # another cooperative
    assert status(make_user("accountant"), to_coop) == 404  # neither recipient nor supervisor
    assert status(staff.officer, to_officer) == 200  # the officer's own copy
    assert status(staff.officer, to_coop) == 404
    assert status(make_user("controller"), to_coop) == 200  # supervises every notice
    assert status(make_user("director"), to_officer) == 200


def test_the_notice_email_carries_its_pdf(app, monkeypatch, tmp_path) -> None:
    sent: list[EmailMessage] = []
    monkeypatch.setattr(notice_mail, "send", lambda backend, message: sent.append(message))
    _, loan = _overdue_notices()
    assert notice_mail.deliver_pending() >= 2  # what the two runs wrote, after their commit
    to_coop = [m for m in sent if m["To"] == loan.cooperative.email]
    transfer = next(m for m in to_coop if "chuyển nợ quá hạn" in m["Subject"])
    files = list(transfer.iter_attachments())
    assert [f.get_filename() for f in files] == [
        f"thong-bao-overdue-transfer-{_notice(loan, 'overdue_transfer').id}.pdf"
    ]
    assert files[0].get_content_type() == "application/pdf"
    text = squeeze(pdf_text(files[0].get_content(), tmp_path))
    assert "THÔNG BÁO CHUYỂN NỢ QUÁ HẠN" in text and "10.000.000 đ" in text
    assert "10.000.000" in transfer.get_body(("plain",)).get_content()


# --- who may download ------------------------------------------------------------------------


def _urls(s: Any) -> list[str]:
    return [
        f"/loans/{s.loan.id}/statement.pdf",
        f"/loans/{s.loan.id}/schedule.pdf",
        f"/repayments/{s.partial.id}/receipt.pdf",
        f"/disbursements/{s.disbursement.id}/debt-receipt.pdf",
        f"/cooperatives/{s.loan.cooperative_id}/debt-confirmation.pdf",
    ]


def test_a_cooperative_downloads_its_own_documents_only(app, client, pdf) -> None:
    s = story()
    own = make_user("cooperative", cooperative=s.loan.cooperative)
    login(client, own)
    statement = _get(client, f"/loans/{s.loan.id}/statement.pdf?from=2026-01-01&to=2026-03-31")
    assert "105.532.346" in pdf(statement.data)
    for url in _urls(s):
        assert client.get(url).status_code == 200, url
    portal = client.get("/portal/").get_data(as_text=True)
    assert f"/loans/{s.loan.id}/statement.pdf" in portal

    other = make_user("cooperative")
    stranger = app.test_client()
    login(stranger, other)
    for url in _urls(s):
        assert stranger.get(url).status_code == 404, url
    assert stranger.get("/loans/999999/statement.pdf").status_code == 404

    headers = api_token(client, other)
    for url in _urls(s):
        response = client.get("/api/v1" + url, headers=headers)
        assert response.status_code == 404, url
        assert response.get_json()["error"]["code"] == "not_found"
    mine = api_token(client, own)
    for url in _urls(s):
        assert client.get("/api/v1" + url, headers=mine).status_code == 200, url


@pytest.mark.parametrize("role", ["admin"])
def test_users_without_read_access_are_refused(app, client, role: str) -> None:
    s = story()
    login(client, make_user(role))
    for url in _urls(s):
        assert client.get(url).status_code == 403, url


def test_anonymous_is_sent_to_login(app, client) -> None:
    s = story()
    for url in _urls(s):
        assert "/login" in client.get(url).headers["Location"], url
    assert client.get(f"/api/v1/loans/{s.loan.id}/statement.pdf").status_code == 401


def test_the_loan_page_links_its_documents(app, client) -> None:
    s = story()
    login(client, make_user("officer"))
    html = client.get(f"/loans/{s.loan.id}").get_data(as_text=True)
    assert f'action="/loans/{s.loan.id}/statement.pdf"' in html
    assert f"/loans/{s.loan.id}/schedule.pdf" in html
    assert f"/repayments/{s.partial.id}/receipt.pdf" in html
    assert f"/disbursements/{s.disbursement.id}/debt-receipt.pdf" in html
    coop = client.get(f"/cooperatives/{s.loan.cooperative_id}").get_data(as_text=True)
    assert f"/cooperatives/{s.loan.cooperative_id}/debt-confirmation.pdf" in coop
    assert '<option value="2025">2025</option>' in coop
