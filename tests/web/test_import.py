"""The loan import page: who reaches it, the template downloads, the dry-run report and
the import of the same file."""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

import pytest
from openpyxl import load_workbook
from sqlalchemy import func, select

from fundapp.extensions import db
from fundapp.imports.columns import COLUMNS
from fundapp.loans.models import Loan
from tests.conftest import login, make_user
from tests.data.make_import_files import HAND_CHECKED_CSV
from tests.services.lending_helpers import fund_and_staff

DATA = Path(__file__).resolve().parent.parent / "data"


@pytest.fixture
def accountant(app: Any, client: Any, tmp_path: Path) -> Any:
    app.config["IMPORT_FOLDER"] = str(tmp_path / "imports")
    staff = fund_and_staff()
    login(client, staff.accountant)
    return staff.accountant


def upload(client: Any, data: bytes, name: str) -> Any:
    return client.post(
        "/imports/loans/check",
        data={"file": (io.BytesIO(data), name)},
        content_type="multipart/form-data",
    )


def loan_count() -> int:
    return db.session.scalar(select(func.count(Loan.id))) or 0


@pytest.mark.parametrize(
    ("role", "page", "post"),
    [
        ("accountant", 200, 302),
        ("controller", 200, 403),
        ("officer", 403, 403),
        ("director", 403, 403),
        ("admin", 403, 403),
        ("cooperative", 403, 403),
    ],
)
def test_who_reaches_the_import(client: Any, app: Any, role: str, page: int, post: int) -> None:
    login(client, make_user(role))
    for url in (
        "/imports/loans",
        "/imports/loans/template.xlsx",
        "/imports/loans/template.csv",
        "/imports/loans/template.xlsx?loans=1",
        "/imports/loans/template.csv?loans=1",
    ):
        assert client.get(url).status_code == page, (role, url)
    # An accountant who sends no file is sent back to the page with a message.
    assert client.post("/imports/loans/check", data={}).status_code == post
    assert client.post("/imports/loans/run", data={"token": "x"}).status_code == post


def test_the_nav_links_the_accountant_to_the_page(client: Any, accountant: Any) -> None:
    page = client.get("/capital").get_data(as_text=True)
    assert 'href="/imports/loans"' in page
    officer_client = client.application.test_client()
    login(officer_client, make_user("officer"))
    assert 'href="/imports/loans"' not in officer_client.get("/capital").get_data(as_text=True)


def test_template_downloads(client: Any, accountant: Any) -> None:
    response = client.get("/imports/loans/template.xlsx")
    assert response.mimetype.endswith("spreadsheetml.sheet")
    assert "attachment" in response.headers["Content-Disposition"]
    book = load_workbook(io.BytesIO(response.data))
    assert [c.value for c in book["Khoản vay"][1]] == [c.header for c in COLUMNS]
    assert "Hướng dẫn" in book.sheetnames
    csv = client.get("/imports/loans/template.csv")
    assert csv.mimetype == "text/csv" and csv.data.startswith(b"\xef\xbb\xbf")


def test_upload_shows_the_report_then_imports_the_same_file(client: Any, accountant: Any) -> None:
    page = upload(client, HAND_CHECKED_CSV.encode(), "hai-khoan.csv")
    html = page.get_data(as_text=True)
    assert page.status_code == 200
    assert "Kiểm tra thử: 2 khoản vay hợp lệ, dư nợ gốc 290.000.000 đ; chưa ghi gì." in html
    assert "CU-2026-101" in html and "90.000.000 đ" in html
    assert "Nhập dữ liệu" in html
    assert loan_count() == 0
    stored = list((Path(client.application.config["IMPORT_FOLDER"])).iterdir())
    assert len(stored) == 1 and stored[0].name.endswith(".csv")
    token = stored[0].name
    assert f'value="{token}"' in html

    done = client.post("/imports/loans/run", data={"token": token})
    assert done.status_code == 302 and done.headers["Location"].endswith("/loans/")
    assert loan_count() == 2
    assert not stored[0].exists()
    listing = client.get("/loans/").get_data(as_text=True)
    assert "CU-2026-101" in listing and "CU-2026-102" in listing
    assert "Đã nhập 2 khoản vay, dư nợ gốc 290.000.000 đ." in listing

    # The same token cannot import twice.
    again = client.post("/imports/loans/run", data={"token": token}, follow_redirects=True)
    assert "Tệp đã kiểm tra không còn" in again.get_data(as_text=True)
    assert loan_count() == 2


def test_a_file_with_errors_lists_them_and_offers_no_import(client: Any, accountant: Any) -> None:
    html = upload(client, (DATA / "loans_errors.xlsx").read_bytes(), "loi.xlsx").get_data(
        as_text=True
    )
    assert "Tệp có 5 dòng lỗi trên 6 dòng; không có dữ liệu nào được ghi." in html
    assert "huyện “Hà Đông” không có trong danh mục" in html
    assert "số hợp đồng “CU-2025-001” trùng với dòng 2" in html
    assert "Nhập dữ liệu" not in html
    assert not (Path(client.application.config["IMPORT_FOLDER"])).exists()
    wrong = upload(client, (DATA / "loans_wrong_column.csv").read_bytes(), "cot.csv")
    assert "cột “Số tiền” không có trong mẫu" in wrong.get_data(as_text=True)
    other = upload(client, b"%PDF-1.4", "khoan-vay.pdf").get_data(as_text=True)
    assert "Chỉ nhận tệp Excel (.xlsx) hoặc CSV (.csv) theo mẫu." in other
    assert loan_count() == 0


def test_a_token_of_another_session_is_refused(client: Any, accountant: Any, app: Any) -> None:
    upload(client, HAND_CHECKED_CSV.encode(), "hai-khoan.csv")
    token = next(Path(app.config["IMPORT_FOLDER"]).iterdir()).name
    other = app.test_client()
    login(other, make_user("accountant"))
    response = other.post("/imports/loans/run", data={"token": token}, follow_redirects=True)
    assert "Tệp đã kiểm tra không còn" in response.get_data(as_text=True)
    assert loan_count() == 0


def test_the_loan_book_downloads_in_the_import_format(client: Any, accountant: Any) -> None:
    from fundapp.imports import services

    services.import_loans(accountant, HAND_CHECKED_CSV.encode(), "f.csv", _business_date())
    db.session.commit()
    book = load_workbook(io.BytesIO(client.get("/imports/loans/template.xlsx?loans=1").data))
    sheet = book["Khoản vay"]
    rows = [[c.value for c in r] for r in sheet.iter_rows(min_row=2)]
    keys = [c.key for c in COLUMNS]
    # Loans are opened in date order across the file: the February loan comes first.
    assert [r[keys.index("contract_no")] for r in rows] == ["CU-2026-102", "CU-2026-101"]
    by_contract = {r[keys.index("contract_no")]: r for r in rows}
    a = by_contract["CU-2026-101"]
    assert a[keys.index("amount")] == 120_000_000
    assert a[keys.index("payments")] == (
        "2026-09-05:10733808; 2026-10-05:10650959; 2026-11-05:10611507"
    )


def _business_date() -> Any:
    from fundapp.core.dates import business_date

    return business_date()
