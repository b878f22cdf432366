"""The VietQR code printed on a notice is read back from the PDF as a phone reads it: the
page rasterised (poppler's pdftoppm), the code decoded (zxing-cpp), the payload parsed and
its CRC checked; the amount and the reference are the notice's."""

from __future__ import annotations

import re
import subprocess
from datetime import date
from pathlib import Path
from typing import Any

import zxingcpp
from PIL import Image
from sqlalchemy import select
from vietnam_qr_pay import QRPay

from fundapp.documents import builders
from fundapp.documents.labels import labels
from fundapp.documents.notice_pdf import render_notice
from fundapp.documents.pdf import render_pdf
from fundapp.documents.statement import build_statement
from fundapp.extensions import db
from fundapp.loans.days import Notice
from fundapp.servicing.close_day import run_close_day
from tests.conftest import login, make_cooperative, make_user
from tests.documents.conftest import pdf_text, squeeze
from tests.services.lending_helpers import contracted_loan, disburse, fund_and_staff


def _overdue_loan() -> Any:
    """120.000.000 đ at 6 % over 12 months from 15/01/2026: instalment 1 (due 15/02/2026,
    10.000.000 principal + 611.507 interest) goes unpaid; the close of day of 16/02
    transfers it to overdue."""
    staff = fund_and_staff()
    loan = contracted_loan(staff, cooperative=make_cooperative(name="HTX Vải thiều Lục Ngạn"))
    disburse(staff, loan, 120_000_000, date(2026, 1, 15))
    assert run_close_day(date(2026, 2, 15), "cli").ran
    assert run_close_day(date(2026, 2, 16), "cli").ran
    db.session.commit()
    return loan


def _notice(loan: Any, kind: str) -> Notice:
    notice = db.session.scalars(
        select(Notice).where(
            Notice.loan_id == loan.id,
            Notice.kind == kind,
            Notice.cooperative_id == loan.cooperative_id,
        )
    ).first()
    assert notice is not None
    return notice


def decoded_qr(data: bytes, tmp_path: Path) -> list[str]:
    """The text of every QR code on the PDF's pages, read from a 150 dpi raster."""
    source = tmp_path / "notice.pdf"
    source.write_bytes(data)
    subprocess.run(
        ["pdftoppm", "-r", "150", "-png", str(source), str(tmp_path / "page")], check=True
    )
    found = []
    for page in sorted(tmp_path.glob("page*.png")):
        with Image.open(page) as image:
            found += [
                code.text
                for code in zxingcpp.read_barcodes(image)
                if code.format == zxingcpp.BarcodeFormat.QRCode
            ]
    return found


def _read(notice: Notice, tmp_path: Path) -> tuple[QRPay, str]:
    data = render_notice(notice)
    texts = decoded_qr(data, tmp_path)
    assert len(texts) == 1, texts
    qr = QRPay(texts[0])
    assert qr.is_valid, texts[0]  # the CRC of the printed code checks out
    return qr, squeeze(pdf_text(data, tmp_path))


def test_due_soon_notice_qr_pays_the_instalment_to_the_fund(app, tmp_path: Path) -> None:
    loan = _overdue_loan()
    assert loan.contract_no == "HD-2026-0001"
    qr, text = _read(_notice(loan, "due_soon"), tmp_path)
    assert qr.provider.guid == "A000000727" and qr.provider.service == "QRIBFTTA"
    assert (qr.consumer.bank_bin, qr.consumer.bank_number) == ("970405", "2500201012345")
    assert (qr.currency, qr.nation) == ("704", "VN")
    assert qr.amount == "10611507"  # 10.000.000 principal + 611.507 interest
    assert qr.additional_data.purpose == "HD20260001 K01"
    # The same in words beside the code.
    for words in (
        "Ngân hàng Agribank chi nhánh Bắc Giang",
        "Số tài khoản 2500 201 012 345",
        "Chủ tài khoản Quỹ hỗ trợ phát triển hợp tác xã tỉnh Bắc Ninh",
        "Số tiền 10.611.507 đ",
        "Nội dung chuyển khoản HD20260001 K01",
    ):
        assert words in text, words


def test_overdue_notice_qr_asks_for_what_the_loan_owes_that_day(app, tmp_path: Path) -> None:
    loan = _overdue_loan()
    qr, text = _read(_notice(loan, "overdue_transfer"), tmp_path)
    # On 16/02 the loan owes instalment 1 (10.000.000 + 611.507) and one day of penalty:
    # 10.000.000 x 9 % / 365 = 2.465,75 on the overdue principal and 611.507 x 10 % / 365
    # = 167,54 on the unpaid interest, 2.633,29 rounded once to 2.633.
    assert qr.additional_data.purpose == "HD20260001 K01"
    assert qr.amount == "10614140"
    assert "Số tiền 10.614.140 đ Nội dung chuyển khoản HD20260001 K01" in text


def test_no_code_without_the_fund_s_bank_bin(app, tmp_path: Path) -> None:
    loan = _overdue_loan()
    app.config["FUNDAPP_BANK_BIN"] = "off"
    data = render_notice(_notice(loan, "due_soon"))
    assert decoded_qr(data, tmp_path) == []
    text = squeeze(pdf_text(data, tmp_path))
    assert "Tổng số phải trả 10.611.507 đ" in text
    assert "VietQR" not in text


def _qr_of(data: bytes, tmp_path: Path) -> QRPay:
    texts = decoded_qr(data, tmp_path)
    assert len(texts) == 1, texts
    qr = QRPay(texts[0])
    assert qr.is_valid, texts[0]
    return qr


def test_schedule_and_statement_ask_for_what_is_due_that_day(app, tmp_path: Path) -> None:
    """On 16/02 the same 10.614.140 đ as the overdue notice, named after instalment 1; on
    10/02, nothing being due, the next instalment (10.611.507 đ, K01)."""
    loan = _overdue_loan()
    day = date(2026, 2, 16)
    schedule = builders.schedule_document(loan, day)
    data = render_pdf("documents/schedule.html", d=schedule, labels=labels())
    qr = _qr_of(data, _dir(tmp_path, "schedule"))
    assert (qr.amount, qr.additional_data.purpose) == ("10614140", "HD20260001 K01")

    statement = build_statement(loan, date(2026, 1, 15), day)
    data = render_pdf("documents/statement.html", s=statement, landscape=True, labels=labels())
    qr = _qr_of(data, _dir(tmp_path, "statement"))
    assert (qr.amount, qr.additional_data.purpose) == ("10614140", "HD20260001 K01")

    before = builders.schedule_document(loan, date(2026, 2, 10))
    assert before.qr is not None
    assert (before.qr.amount, before.qr.reference) == (10_611_507, "HD20260001 K01")


def test_portal_loan_page_shows_the_code_and_its_reference(app, client) -> None:
    loan = _overdue_loan()
    login(client, make_user("cooperative", cooperative=loan.cooperative))
    html = client.get(f"/portal/loans/{loan.id}").get_data(as_text=True)
    assert f'<figure class="pay-qr" id="vietqr-{loan.id}">' in html
    assert '<svg width="' in html and "<script" not in html.split("pay-qr")[1][:20000]
    assert '<dd class="mono pay-reference">HD20260001 K01</dd>' in html
    # The code asks for what the page's own balances say is due today (the business date).
    asked = re.search(r'<dd class="pay-amount">([^<]*)</dd>', html)
    due = re.search(r"<dt>Tổng phải trả đến hôm nay</dt>\s*<dd>([^<]*)</dd>", html)
    assert asked and due and asked.group(1) == due.group(1), (asked, due)
    with app.app_context():
        schedule = builders.schedule_document(loan, date(2026, 11, 20))
    assert schedule.qr is not None and f"{schedule.qr.amount:,}".replace(",", ".") in due.group(1)


def _dir(tmp_path: Path, name: str) -> Path:
    path = tmp_path / name
    path.mkdir()
    return path
