"""Each role's own work in a real browser, on what the other journeys leave out: the officer
registers a cooperative and appraises its application with a document and inspects a loan;
the accountant receives entrusted capital, collects a repayment and prints its receipt,
asks for a reversal, reads the journal and the Excel report; the director approves a
disbursement and a reversal and sees the dashboard and the fund report move by exactly
those amounts; one board member proposes a dated policy change and another approves it,
then approves above the director's limit;
the controller filters the audit log and finds a loan with nothing to press; the admin
creates, then locks, an account; a cooperative prints its own receipt.

The loans are built through the services (tests/services/lending_helpers.py), disbursed on
20/10/2026, so that instalment 1 falls due on the business date 20/11/2026 with 31 days of
interest at 6 %/year, counted by hand:
- 120.000.000 đ over 12 months: 10.000.000 principal + 120.000.000 × 6 % × 31/365
  = 611.506,8 → 611.507 interest; 10.611.507 đ in all, 110.000.000 đ left after it;
- 60.000.000 đ over 6 months: 10.000.000 + 60.000.000 × 6 % × 31/365 = 305.753,4 → 305.753;
  10.305.753 đ in all, 50.000.000 đ left after it.
"""

from __future__ import annotations

import re
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from openpyxl import load_workbook
from playwright.sync_api import Browser, Page, expect
from sqlalchemy import select

from fundapp.cooperatives import services as cooperatives
from fundapp.extensions import db
from fundapp.ledger.services import record_capital
from fundapp.lending import applications, disbursements
from fundapp.loans.models import Reversal
from fundapp.repayments import services as repayments
from tests.conftest import BUSINESS_DATE, make_cooperative, make_user
from tests.documents.conftest import pdf_text, squeeze
from tests.documents.helpers import repay
from tests.e2e.conftest import artifact_stem, save_failure_artifacts, sign_in
from tests.services.lending_helpers import contracted_loan, disburse, fund_and_staff

DISBURSED_ON = date(2026, 10, 20)
ENTRUSTED_SEEDED = ("Liên minh HTX Việt Nam (ủy thác thí điểm)", 1_111_222_333)
ENTRUSTED_NEW = ("Quỹ Hỗ trợ phát triển HTX Trung ương", 2_345_678_000)
COOPERATIVE_USER = "e2e.htx.maytre"
PDF = b"%PDF-1.4\n1 0 obj <</Type /Catalog>> endobj\ntrailer <</Root 1 0 R>>\n%%EOF\n"


def dong(text: str) -> int:
    """``"1.234.567 đ"`` → 1234567."""
    digits = text.replace("đ", "").replace(".", "").strip()
    assert re.fullmatch(r"-?\d+", digits), text
    return int(digits)


def grouped(amount: int) -> str:
    return f"{amount:,}".replace(",", ".")


def csrf_token(page: Page) -> str:
    return page.locator("input[name=csrf_token]").first.input_value()


def fetch_pdf(page: Page, url: str, tmp_path: Path, name: str) -> str:
    """The PDF at ``url`` fetched with the browser's session, as text."""
    response = page.request.get(url)
    assert response.status == 200, (url, response.status)
    assert response.headers["content-type"] == "application/pdf"
    return squeeze(pdf_text(response.body(), tmp_path, name))


@pytest.fixture(scope="module")
def world(live_server: dict[str, Any]) -> dict[str, Any]:
    """What each journey starts from, built through the services as other users."""
    with live_server["app"].app_context():
        staff = fund_and_staff()

        def active(name: str, amount: int = 120_000_000, months: int = 12) -> Any:
            coop = make_cooperative(name=name)
            loan = contracted_loan(
                staff, amount=amount, on=DISBURSED_ON, cooperative=coop, term_months=months
            )
            disburse(staff, loan, amount, DISBURSED_ON)
            return loan

        to_collect = active("HTX Chè Bản Ven")
        wrong = active("HTX Rau an toàn Quế Nham")
        wrong_payment = repay(staff, wrong, 1_000_000, BUSINESS_DATE)
        reversed_loan = active("HTX Vải sớm Phúc Hòa")
        mistake = repay(staff, reversed_loan, 10_611_507, BUSINESS_DATE)
        repayments.request_reversal(
            staff.accountant, mistake.id, "Tiền của hợp tác xã khác, ghi nhầm khoản vay"
        )
        tranche_loan = contracted_loan(
            staff,
            amount=300_000_000,
            on=DISBURSED_ON,
            cooperative=make_cooperative(name="HTX Gạo nếp cái hoa vàng Yên Dũng"),
        )
        tranche = disbursements.record_disbursement(
            staff.accountant,
            tranche_loan.id,
            {"amount": 300_000_000, "date": BUSINESS_DATE, "reference": "UNC 118/2026"},
            BUSINESS_DATE,
        )
        name, amount = ENTRUSTED_SEEDED
        record_capital(None, "entrusted", amount, date(2026, 6, 30), "HĐUT 02/2026", "", name)

        large = applications.create_application(
            staff.officer,
            {
                "cooperative_id": make_cooperative(name="HTX Dịch vụ nông nghiệp Hiệp Hòa").id,
                "project_name": "Kho lạnh bảo quản nông sản",
                "total_project_cost": 1_000_000_000,
                "own_equity": 400_000_000,
                "requested_amount": 600_000_000,
                "term_months": 36,
                "annual_rate": "6",
                "principal_method": "equal_principal",
            },
            DISBURSED_ON,
        )
        applications.submit(staff.officer, large)
        applications.appraise(staff.appraiser, large, 600_000_000, "Đủ điều kiện", DISBURSED_ON)

        inspected = active("HTX Thủy sản Lục Nam")
        watched = active("HTX Mật ong Yên Thế")
        edited = make_cooperative(name="HTX Gốm Thổ Hà", phone="0912345678")
        fields = {f: getattr(edited, f) for f in cooperatives.FIELDS}
        cooperatives.update(staff.officer, edited, {**fields, "phone": "0987654321"})

        own = active("HTX Mây tre đan Tăng Tiến", 60_000_000, 6)
        make_user("cooperative", cooperative=own.cooperative, username=COOPERATIVE_USER)
        own_payment = repay(staff, own, 10_305_753, BUSINESS_DATE)
        db.session.commit()
        return {
            "to_collect": to_collect.id,
            "wrong": wrong.id,
            "wrong_payment": wrong_payment.id,
            "reversed_loan": reversed_loan.id,
            "mistake_receipt": mistake.receipt_no,
            "tranche_receipt": tranche.receipt_no,
            "large": large.id,
            "appraiser": staff.appraiser.username,
            "inspected": inspected.id,
            "watched": watched.id,
            "edited": edited.id,
            "staff_officer": staff.officer.username,
            "other_board": staff.board.username,
            "own_loan": own.id,
            "own_payment": own_payment.id,
        }


# --- the screenshot kept on failure ---------------------------------------------------------


def test_artifact_names_are_plain_file_names():
    assert (
        artifact_stem("tests/e2e/test_role_journeys.py::test_admin[chromium]")
        == "tests_e2e_test_role_journeys.py_test_admin_chromium"
    )
    assert artifact_stem("../../etc/passwd::x") == "etc_passwd_x"
    assert artifact_stem("tests/e2e/t.py::test[Hợp tác xã/1]") == "tests_e2e_t.py_test_H_p_t_c_x_1"
    long_a, long_b = (f"tests/e2e/t.py::test[{'x' * 300}{tail}]" for tail in "ab")
    assert len(artifact_stem(long_a)) == 120
    assert artifact_stem(long_a) != artifact_stem(long_b)
    for stem in map(artifact_stem, (long_a, "a/b::c", "::", "/")):
        assert re.fullmatch(r"[A-Za-z0-9_.-]+", stem) and not stem.startswith("."), stem


def test_a_failing_page_is_kept_as_png_and_html(page: Page, live_server, tmp_path: Path):
    page.goto(f"{live_server['url']}/login")
    png, html = save_failure_artifacts(page, "tests/e2e/x.py::test_y[chromium]", tmp_path / "e2e")
    assert png == tmp_path / "e2e" / "tests_e2e_x.py_test_y_chromium.png"
    assert png.read_bytes().startswith(b"\x89PNG\r\n\x1a\n")
    assert "Tên đăng nhập" in html.read_text(encoding="utf-8")


# --- officer ----------------------------------------------------------------------------------


def test_officer_registers_a_cooperative_appraises_its_application_and_inspects_a_loan(
    page: Page, live_server, world, tmp_path: Path
):
    base = live_server["url"]
    page.on("dialog", lambda dialog: dialog.accept())
    sign_in(page, base, live_server["users"]["officer"])

    page.goto(f"{base}/cooperatives/new")
    page.get_by_label("Tên hợp tác xã / thành viên").fill("HTX Nấm sạch Ngọc Châu")
    page.get_by_label("Số giấy chứng nhận đăng ký").fill("2407000321")
    page.get_by_label("Mã số thuế").fill("2400777001")
    # Xã Phúc Hòa (07330) of today, grouped under its former district Huyện Tân Yên.
    page.get_by_label("Xã / phường (hiện nay)").select_option(value="07330")
    page.get_by_label("Ngành nghề, lĩnh vực").fill("Sản xuất nấm")
    page.get_by_label("Người đại diện theo pháp luật").fill("Ngô Văn Châu")
    page.get_by_label("Số thành viên").fill("15")
    page.get_by_role("button", name="Thêm hợp tác xã").click()
    expect(page.get_by_text("Đã thêm HTX Nấm sạch Ngọc Châu.")).to_be_visible()
    expect(page).to_have_url(re.compile(r"/cooperatives/\d+$"))
    expect(page.locator("main")).to_contain_text("Huyện Tân Yên")
    expect(page.locator("main")).to_contain_text("2400777001")
    coop_id = page.url.rsplit("/", 1)[1]

    page.goto(f"{base}/applications/new?cooperative_id={coop_id}")
    expect(page.get_by_label("Hợp tác xã")).to_have_value(coop_id)
    page.get_by_label("Tên dự án").fill("Nhà xưởng trồng nấm sò")
    page.get_by_label("Tổng mức đầu tư").fill("400.000.000")
    page.get_by_label("Vốn đối ứng").fill("100.000.000")
    page.get_by_label("Số tiền đề nghị vay").fill("300.000.000")
    page.get_by_label("Thời hạn vay (tháng)").fill("24")
    page.get_by_role("button", name=re.compile("Lưu|Lập hồ sơ")).click()
    expect(page).to_have_url(re.compile(r"/applications/\d+$"))
    expect(page.get_by_text("Đã lập hồ sơ nháp «Nhà xưởng trồng nấm sò».")).to_be_visible()

    document = tmp_path / "Phuong an nha xuong nam.pdf"
    document.write_bytes(PDF)
    page.get_by_label("Tệp tài liệu").set_input_files(str(document))
    page.get_by_role("button", name="Tải lên").click()
    expect(page.get_by_text("Đã tải lên «Phuong an nha xuong nam.pdf».")).to_be_visible()
    with page.expect_download() as download:
        page.get_by_role("link", name="Phuong an nha xuong nam.pdf").click()
    assert Path(download.value.path()).read_bytes() == PDF

    page.get_by_role("button", name="Nộp hồ sơ", exact=True).click()
    expect(page.get_by_text("Đã nộp hồ sơ để thẩm định.")).to_be_visible()
    # Issue 16: the officer who prepared the file may not appraise it (policy default).
    expect(page.get_by_text("Bạn lập hồ sơ này nên không được tự thẩm định")).to_be_visible()
    expect(page.get_by_role("button", name="Ghi kết quả thẩm định")).to_have_count(0)
    application_url = page.url
    sign_in(page, base, world["appraiser"])
    page.goto(application_url)
    page.get_by_label("Số tiền đề nghị cho vay").fill("280.000.000")
    page.get_by_label("Ý kiến thẩm định").fill("Phương án khả thi; nhà xưởng trên đất của HTX.")
    page.get_by_role("button", name="Ghi kết quả thẩm định").click()
    expect(page.get_by_text("Đã thẩm định; hồ sơ chờ phê duyệt.")).to_be_visible()
    appraisal = page.locator("section", has=page.get_by_role("heading", name="Kết quả thẩm định"))
    expect(appraisal).to_contain_text("280.000.000 đ")
    expect(appraisal).to_contain_text("Phương án khả thi; nhà xưởng trên đất của HTX.")
    expect(page.locator(".page-sub")).to_contain_text("Đã thẩm định")
    expect(page.get_by_role("button", name="Phê duyệt", exact=True)).to_have_count(0)

    sign_in(page, base, live_server["users"]["officer"])
    page.goto(f"{base}/loans/{world['inspected']}")
    page.get_by_text("Ghi nhận kiểm tra sử dụng vốn vay").click()
    expect(page.get_by_label("Ngày kiểm tra")).to_have_value("20/11/2026")
    page.get_by_label("Kết quả kiểm tra").select_option(label="Đúng mục đích")
    page.get_by_label("Nhận xét").fill("Ao nuôi đã thả 20.000 con giống theo phương án.")
    page.get_by_role("button", name="Lưu kết quả kiểm tra").click()
    expect(page.get_by_text("Đã ghi nhận kết quả kiểm tra sử dụng vốn vay.")).to_be_visible()
    inspections = page.locator("#inspections")
    expect(inspections).to_contain_text("20/11/2026")
    expect(inspections).to_contain_text("Đúng mục đích")
    expect(inspections).to_contain_text("Ao nuôi đã thả 20.000 con giống theo phương án.")


# --- accountant -------------------------------------------------------------------------------


def test_accountant_receives_capital_collects_a_repayment_and_reads_the_books(
    page: Page, live_server, world, tmp_path: Path
):
    base = live_server["url"]
    page.on("dialog", lambda dialog: dialog.accept())
    sign_in(page, base, live_server["users"]["accountant"])
    source, amount = ENTRUSTED_NEW

    page.goto(f"{base}/capital/new")
    page.get_by_label("Nguồn vốn").select_option("entrusted")
    page.get_by_label("Bên ủy thác (với vốn ủy thác)").fill(source)
    page.get_by_label("Số tiền (đồng)").fill(grouped(amount))
    expect(page.get_by_label("Ngày nhận")).to_have_value("20/11/2026")
    page.get_by_label("Số chứng từ").fill("HĐUT 07/2026")
    page.get_by_role("button", name=re.compile("Ghi nhận")).click()
    expect(page.get_by_text(f"Đã ghi nhận vốn {grouped(amount)} (bút toán số")).to_be_visible()

    page.get_by_role("link", name="Nhật ký kế toán", exact=True).click()
    entry = page.locator("tbody.entry", has_text="HĐUT 07/2026")
    expect(entry).to_have_count(1)
    expect(entry).to_contain_text("Nhận vốn")
    cash = entry.locator("tr", has_text="1121")
    capital = entry.locator("tr", has_text="4531")
    expect(cash.locator("td.num").first).to_have_text(f"{grouped(amount)} đ")
    expect(capital.locator("td.num").nth(1)).to_have_text(f"{grouped(amount)} đ")
    expect(capital).to_contain_text(source)

    # Instalment 1 of a 120.000.000 đ loan, paid on its due date (see the module docstring).
    page.goto(f"{base}/loans/{world['to_collect']}")
    page.get_by_label("Số tiền thu (đồng)").fill("10.611.507")
    expect(page.get_by_label("Ngày trả nợ (ngày giá trị)")).to_have_value("20/11/2026")
    page.get_by_role("button", name="Ghi nhận khoản thu").click()
    flash = page.get_by_text(
        re.compile(r"Đã thu 10\.611\.507 đ của hợp đồng HD-2026-\d+, phiếu thu PT-2026-\d+\.")
    )
    expect(flash).to_be_visible()
    receipt_no = re.search(r"PT-2026-\d+", flash.inner_text()).group(0)  # type: ignore[union-attr]
    row = page.locator("#repayments tr", has_text=receipt_no)
    expect(row.locator(".allocation")).to_contain_text("Kỳ 1: Lãi 611.507 đ · Gốc 10.000.000 đ")
    principal = page.locator(".stat", has_text="Dư nợ gốc").locator(".stat-value")
    expect(principal).to_have_text("110.000.000 đ")
    href = row.get_by_role("link", name="Phiếu thu PDF").get_attribute("href")
    receipt = fetch_pdf(page, f"{base}{href}", tmp_path, "receipt")
    assert f"Số: {receipt_no}" in receipt
    assert "10.611.507" in receipt
    assert "Mười triệu sáu trăm mười một nghìn năm trăm linh bảy đồng" in receipt
    assert "lãi 611.507 đ" in receipt and "gốc 10.000.000 đ" in receipt
    assert "Dư nợ gốc còn lại 110.000.000 đ" in receipt

    # A payment a colleague put on the wrong loan: asking is the accountant's half only.
    page.goto(f"{base}/loans/{world['wrong']}")
    row = page.locator("#repayments tbody tr").first
    row.get_by_text("Đề nghị hủy…").click()
    row.get_by_label("Lý do").fill("Tiền của HTX Chè Bản Ven, ghi nhầm khoản vay")
    row.get_by_role("button", name="Gửi đề nghị hủy").click()
    asked = re.compile(r"Đã gửi đề nghị hủy phiếu thu PT-2026-\d+\. Chờ Giám đốc phê duyệt\.")
    expect(page.get_by_text(asked)).to_be_visible()
    expect(page.locator("#repayments tbody tr").first).to_contain_text("Chờ duyệt hủy")
    expect(page.get_by_role("button", name="Phê duyệt hủy khoản thu")).to_have_count(0)
    with live_server["app"].app_context():
        reversal_id = db.session.scalar(
            select(Reversal.id).where(Reversal.repayment_id == world["wrong_payment"])
        )
    approve = page.request.post(
        f"{base}/loans/{world['wrong']}/reversals/{reversal_id}/approve",
        form={"csrf_token": csrf_token(page)},
        max_redirects=0,
    )
    assert approve.status == 403

    page.get_by_role("link", name="Báo cáo", exact=True).first.click()
    report = page.locator(".report-item", has_text="Báo cáo tình hình nguồn vốn và sử dụng vốn")
    with page.expect_download() as download:
        report.get_by_role("link", name="Excel").click()
    assert download.value.suggested_filename.endswith(".xlsx")
    workbook = tmp_path / download.value.suggested_filename
    download.value.save_as(workbook)
    sheet = load_workbook(workbook)["Nguồn vốn"]
    amounts = {
        str(name).strip(): value
        for name, value in sheet.iter_rows(min_col=1, max_col=2, values_only=True)
        if name
    }
    assert amounts[source] == amount
    assert amounts[ENTRUSTED_SEEDED[0]] == ENTRUSTED_SEEDED[1]


# --- director ---------------------------------------------------------------------------------


def _figures(page: Page) -> dict[str, int]:
    return {
        "outstanding": dong(page.locator("#fig-outstanding").inner_text()),
        "available": dong(page.locator("#fig-available").inner_text()),
        "disbursed": dong(page.locator("#row-disbursed td").first.inner_text()),
    }


def test_director_approves_what_waits_for_the_director_and_sees_the_fund_move(
    page: Page, live_server, world, tmp_path: Path
):
    base = live_server["url"]
    page.on("dialog", lambda dialog: dialog.accept())
    sign_in(page, base, live_server["users"]["director"])
    expect(page).to_have_url(re.compile(r"/work/$"))  # the director lands on his work
    page.goto(f"{base}/dashboard")
    before = _figures(page)

    page.goto(f"{base}/loans/approvals")
    pending = page.locator("tr", has_text=world["tranche_receipt"])
    expect(pending).to_contain_text("300.000.000 đ")
    pending.get_by_role("link", name="Xem và duyệt").click()
    page.get_by_role("button", name="Phê duyệt giải ngân").click()
    expect(
        page.get_by_text(
            f"Đã phê duyệt và hạch toán đợt giải ngân {world['tranche_receipt']}: 300.000.000 đ."
        )
    ).to_be_visible()
    expect(page.locator(".page-sub").get_by_text("Đang vay")).to_be_visible()

    page.goto(f"{base}/loans/{world['reversed_loan']}")
    page.get_by_role("button", name="Phê duyệt hủy khoản thu").click()
    expect(
        page.get_by_text(
            f"Đã hủy phiếu thu {world['mistake_receipt']}; khoản vay đã được tính lại."
        )
    ).to_be_visible()
    expect(page.locator("#repayments tr", has_text=world["mistake_receipt"])).to_contain_text(
        "Đã hủy"
    )
    principal = page.locator(".stat", has_text="Dư nợ gốc").locator(".stat-value")
    expect(principal).to_have_text("120.000.000 đ")

    # The tranche lends 300.000.000 out of cash; the reversal puts 10.000.000 of principal
    # back on the books and takes the 10.611.507 received back out of cash.
    page.get_by_role("link", name="Bảng điều khiển", exact=True).click()
    after = _figures(page)
    assert after["outstanding"] == before["outstanding"] + 310_000_000
    assert after["available"] == before["available"] - 300_000_000 - 10_611_507
    assert after["disbursed"] == before["disbursed"] + 300_000_000

    page.get_by_role("link", name="Báo cáo", exact=True).first.click()
    page.get_by_role("link", name="Báo cáo tình hình nguồn vốn và sử dụng vốn").first.click()
    href = page.get_by_role("link", name="Tải PDF").get_attribute("href")
    report = fetch_pdf(page, f"{base}{href}", tmp_path, "fund-balance")
    assert "20/11/2026" in report
    name, amount = ENTRUSTED_SEEDED
    assert f"{name} {grouped(amount)}" in report
    assert f"Dư nợ cho vay {grouped(after['outstanding'])}" in report


# --- board ------------------------------------------------------------------------------------


def test_board_dates_a_policy_change_and_approves_above_the_director_limit(
    page: Page, live_server, world
):
    """One board member proposes the change, another approves it (maker/checker)."""
    base = live_server["url"]
    page.on("dialog", lambda dialog: dialog.accept())
    maker = live_server["users"]["board"]
    sign_in(page, base, maker)
    label = "Thẩm quyền phê duyệt của Giám đốc (đồng)"

    page.get_by_role("link", name="Chính sách cho vay", exact=True).click()
    row = page.locator("table.table-policy tr", has_text=label)
    expect(row).to_contain_text("500.000.000 đ")
    row.get_by_role("link", name="Đề xuất thay đổi").click()
    expect(page.get_by_label("Giá trị mới")).to_have_value("500000000")
    page.get_by_label("Giá trị mới").fill("0")
    page.get_by_label("Hiệu lực từ ngày").fill("01/11/2026")
    page.get_by_label("Căn cứ pháp lý").fill("Nghị quyết số 12/NQ-HĐQL ngày 18/11/2026")
    page.get_by_label("Lý do thay đổi").fill("Tăng thẩm quyền theo quy mô vốn năm 2027")
    page.get_by_role("button", name="Gửi đề xuất").click()
    expect(page.get_by_text("Giá trị phải lớn hơn 0 đ").first).to_be_visible()
    expect(
        page.get_by_text("Ngày hiệu lực không được trước ngày làm việc hiện tại").first
    ).to_be_visible()

    page.get_by_label("Giá trị mới").fill("800000000")
    page.get_by_label("Hiệu lực từ ngày").fill("01/01/2027")
    page.get_by_role("button", name="Gửi đề xuất").click()
    expect(page.get_by_text("Đã gửi đề xuất thay đổi.")).to_be_visible()
    expect(page).to_have_url(re.compile(r"/policy/director_approval_limit(#pending)?$"))
    pending = page.locator("#pending")
    for text in ("800.000.000 đ", "01/01/2027", "Nghị quyết số 12/NQ-HĐQL", "Bạn đã đề xuất"):
        expect(pending).to_contain_text(text)
    expect(pending.get_by_role("button", name="Phê duyệt thay đổi")).to_have_count(0)
    expect(page.locator("main table tbody tr")).to_have_count(1)  # nothing dated yet

    # Another board member approves it.
    sign_in(page, base, world["other_board"])
    page.goto(f"{base}/policy/")
    page.locator("#pending tr", has_text=label).get_by_role("link", name="Xem và duyệt").click()
    page.get_by_role("button", name="Phê duyệt thay đổi").click()
    expect(
        page.get_by_text("Đã phê duyệt: giá trị mới áp dụng từ ngày 01/01/2027.")
    ).to_be_visible()
    expect(page.locator("#pending")).to_have_count(0)
    rows = page.locator("main table").first.locator("tbody tr")
    newest, current = rows.nth(0), rows.nth(1)
    for text in ("01/01/2027", "800.000.000 đ", "Sắp áp dụng", "Nghị quyết số 12/NQ-HĐQL"):
        expect(newest).to_contain_text(text)
    expect(newest).to_contain_text(maker, ignore_case=True)
    expect(newest).to_contain_text(world["other_board"], ignore_case=True)
    expect(current).to_contain_text("500.000.000 đ")
    expect(current).to_contain_text("Đang áp dụng")

    page.get_by_role("link", name="Chính sách cho vay").first.click()
    row = page.locator("table.table-policy tr", has_text=label)
    expect(row.locator("td").nth(1)).to_contain_text("500.000.000 đ")
    expect(row.locator("td").nth(4)).to_contain_text("Từ 01/01/2027")
    expect(row.locator("td").nth(4)).to_contain_text("800.000.000 đ")

    # 600.000.000 đ is above the director's 500.000.000 đ (still the limit today).
    page.goto(f"{base}/applications/{world['large']}")
    page.get_by_role("button", name="Phê duyệt", exact=True).click()
    approved = re.compile(r"Đã phê duyệt hồ sơ; khoản vay HD-2026-\d+ số tiền 600\.000\.000 đ\.")
    expect(page.get_by_text(approved)).to_be_visible()
    expect(page).to_have_url(re.compile(r"/loans/\d+$"))


# --- controller -------------------------------------------------------------------------------


def test_controller_reads_the_audit_log_and_a_loan_and_changes_nothing(
    page: Page, live_server, world
):
    base = live_server["url"]
    sign_in(page, base, live_server["users"]["controller"])

    page.get_by_role("link", name="Nhật ký kiểm toán", exact=True).click()
    page.get_by_label("Loại đối tượng").select_option("cooperative")
    page.get_by_label("Tên đăng nhập").fill(world["staff_officer"])
    page.get_by_role("button", name="Lọc").click()
    expect(page).to_have_url(re.compile(r"entity=cooperative"))
    rows = page.locator("table.table-audit tbody tr")
    expect(rows).to_have_count(1)
    expect(rows).to_contain_text("Sửa hợp tác xã")
    # The object by its name (issue 16), not "cooperative #id".
    expect(rows).to_contain_text("HTX Gốm Thổ Hà")
    expect(rows.locator("del")).to_have_text("0912345678")
    expect(rows.locator("ins")).to_have_text("0987654321")
    page.get_by_label("Tên đăng nhập").fill("khong.co.ai")
    page.get_by_role("button", name="Lọc").click()
    expect(page.get_by_text("Không có dòng nhật ký nào khớp với điều kiện lọc.")).to_be_visible()

    loan_url = f"{base}/loans/{world['watched']}"
    page.goto(loan_url)
    expect(page.get_by_role("heading", level=1)).to_contain_text("Hợp đồng HD-2026-")
    principal = page.locator(".stat", has_text="Dư nợ gốc").locator(".stat-value")
    expect(principal).to_have_text("120.000.000 đ")
    expect(page.locator("#instalment-1")).to_contain_text("10.611.507 đ")
    expect(page.locator("#audit")).to_contain_text("Phê duyệt giải ngân")
    expect(page.locator("#actions")).to_have_count(0)
    expect(page.locator("main form[method=post]")).to_have_count(0)

    attempt = page.request.post(
        f"{loan_url}/repayments",
        form={
            "csrf_token": csrf_token(page),
            "repay-amount": "10611507",
            "repay-date": "20/11/2026",
            "repay-method": "transfer",
        },
        max_redirects=0,
    )
    assert attempt.status == 403
    response = page.goto(f"{base}/capital/new")
    assert response is not None and response.status == 403
    page.goto(loan_url)
    expect(page.locator("#repayments")).to_contain_text("Chưa có khoản thu nào.")


# --- admin ------------------------------------------------------------------------------------


def test_admin_creates_an_account_then_locks_it_out(page: Page, live_server, browser: Browser):
    base = live_server["url"]
    username, password = "e2e.ketoan.moi", "KeToanMoi2026"
    sign_in(page, base, live_server["users"]["admin"])

    page.get_by_role("link", name="Người dùng", exact=True).click()
    page.get_by_role("link", name="Tạo tài khoản").click()
    page.get_by_label("Tên đăng nhập").fill(username)
    page.get_by_label("Họ và tên").fill("Đinh Thị Mới")
    page.get_by_label("Mật khẩu").fill(password)
    page.get_by_label("Kế toán", exact=True).check()
    page.get_by_role("button", name="Tạo tài khoản").click()
    expect(page.get_by_text(f"Đã tạo tài khoản {username}.")).to_be_visible()
    row = page.locator("tbody tr", has_text=username)
    expect(row).to_contain_text("Kế toán")
    expect(row).to_contain_text("Đang hoạt động")

    context = browser.new_context()
    try:
        newcomer = context.new_page()
        sign_in(newcomer, base, username, password)
        expect(newcomer.locator("nav").get_by_role("link", name="Nguồn vốn")).to_be_visible()

        row.get_by_role("link", name=username).click()
        page.get_by_label("Đang hoạt động").uncheck()
        page.get_by_role("button", name="Lưu", exact=True).click()
        expect(page.get_by_text(f"Đã lưu tài khoản {username}.")).to_be_visible()
        expect(page.locator("tbody tr", has_text=username)).to_contain_text("Đã khóa")

        newcomer.goto(f"{base}/capital")
        expect(newcomer).to_have_url(re.compile(r"/login"))
        newcomer.get_by_label("Tên đăng nhập").fill(username)
        newcomer.get_by_label("Mật khẩu").fill(password)
        newcomer.get_by_role("button", name=re.compile("Đăng nhập")).click()
        expect(newcomer.get_by_text("Tên đăng nhập hoặc mật khẩu không đúng.")).to_be_visible()
        expect(newcomer.get_by_role("button", name="Đăng xuất")).to_have_count(0)
    finally:
        context.close()


# --- cooperative ------------------------------------------------------------------------------


def test_a_cooperative_prints_its_own_receipt_and_updates_its_contacts(
    page: Page, live_server, world, tmp_path: Path
):
    base = live_server["url"]
    sign_in(page, base, COOPERATIVE_USER)

    page.goto(f"{base}/portal/loans/{world['own_loan']}")
    payment = page.locator(f"#payment-{world['own_payment']}")
    for text in ("20/11/2026", "10.305.753 đ", "305.753 đ", "10.000.000 đ", "Hiệu lực"):
        expect(payment).to_contain_text(text)
    href = payment.get_by_role("link", name=re.compile(r"PT-2026-\d+ \(PDF\)")).get_attribute(
        "href"
    )
    receipt = fetch_pdf(page, f"{base}{href}", tmp_path, "own-receipt")
    assert "HTX Mây tre đan Tăng Tiến" in receipt
    assert "Mười triệu ba trăm linh năm nghìn bảy trăm năm mươi ba đồng" in receipt
    assert "Dư nợ gốc còn lại 50.000.000 đ" in receipt
    other = page.request.get(f"{base}/repayments/{world['wrong_payment']}/receipt.pdf")
    assert other.status == 404

    page.get_by_role("link", name="Hồ sơ HTX", exact=True).click()
    page.get_by_label("Điện thoại").fill("0988123456")
    page.get_by_role("button", name="Lưu thông tin liên hệ").click()
    expect(page.get_by_text("Đã cập nhật thông tin liên hệ của hợp tác xã.")).to_be_visible()
    page.reload()
    expect(page.get_by_label("Điện thoại")).to_have_value("0988123456")
