"""API v1 loan import: the templates, a dry run, the import, the 422 with one message per
bad row, and a repeated import under one Idempotency-Key."""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

import pytest
from openpyxl import load_workbook
from sqlalchemy import func, select
from werkzeug.datastructures import FileStorage
from werkzeug.test import encode_multipart

from fundapp.extensions import db
from fundapp.imports.columns import COLUMNS
from fundapp.loans.models import Loan, Repayment
from tests.conftest import api_token, make_user
from tests.data.make_import_files import HAND_CHECKED_CSV
from tests.services.lending_helpers import fund_and_staff

API = "/api/v1/imports/loans"
DATA = Path(__file__).resolve().parent.parent / "data"


@pytest.fixture
def headers(app: Any, client: Any) -> dict[str, str]:
    staff = fund_and_staff()
    return api_token(client, staff.accountant)


def post_file(
    client: Any, data: bytes, name: str | None, headers: dict[str, str], query: str = ""
) -> Any:
    body = {"file": (io.BytesIO(data), name) if name else (io.BytesIO(data), "")}
    return client.post(f"{API}{query}", data=body, headers=headers)


def counts() -> tuple[int, int]:
    return (
        db.session.scalar(select(func.count(Loan.id))) or 0,
        db.session.scalar(select(func.count(Repayment.id))) or 0,
    )


def test_templates_download(client: Any, headers: dict[str, str]) -> None:
    xlsx = client.get(f"{API}/template.xlsx", headers=headers)
    assert xlsx.status_code == 200 and xlsx.mimetype.endswith("spreadsheetml.sheet")
    sheet = load_workbook(io.BytesIO(xlsx.data))["Khoản vay"]
    assert [c.value for c in sheet[1]] == [c.header for c in COLUMNS]
    csv = client.get(f"{API}/template.csv", headers=headers)
    assert csv.status_code == 200 and csv.mimetype == "text/csv"
    assert csv.data.decode("utf-8-sig").startswith("Tên hợp tác xã,Loại hình,Số đăng ký")


@pytest.mark.parametrize("role", ["officer", "director", "admin", "cooperative"])
def test_only_accountants_import(client: Any, app: Any, role: str) -> None:
    other = api_token(client, make_user(role))
    response = post_file(client, HAND_CHECKED_CSV.encode(), "a.csv", other)
    assert response.status_code == 403
    assert response.get_json()["error"]["code"] == "forbidden"
    expected = 403
    assert client.get(f"{API}/template.csv", headers=other).status_code == expected


def test_dry_run_is_the_default_and_writes_nothing(client: Any, headers: dict[str, str]) -> None:
    response = post_file(client, HAND_CHECKED_CSV.encode(), "hai-khoan.csv", headers)
    assert response.status_code == 200, response.get_json()
    report = response.get_json()
    assert report["dry_run"] is True and report["imported"] is False and report["ok"] is True
    assert report["principal_outstanding"] == 290_000_000
    assert [(r["line"], r["contract_no"], r["principal_outstanding"]) for r in report["rows"]] == [
        (2, "CU-2026-101", 90_000_000),
        (3, "CU-2026-102", 200_000_000),
    ]
    assert counts() == (0, 0)


def test_import_writes_the_loans(client: Any, headers: dict[str, str]) -> None:
    response = post_file(client, HAND_CHECKED_CSV.encode(), "hai.csv", headers, "?dry_run=false")
    assert response.status_code == 200, response.get_json()
    report = response.get_json()
    assert (
        report["imported"] is True and report["loans"] == 2 and report["cooperatives_created"] == 2
    )
    assert counts() == (2, 5)
    listing = client.get("/api/v1/loans", headers=headers).get_json()
    assert sorted(item["contract_no"] for item in listing["items"]) == [
        "CU-2026-101",
        "CU-2026-102",
    ]
    # The loan book in the import format: each loan's terms and repayments, as imported.
    book = client.get(f"{API}/template.csv?loans=true", headers=headers)
    lines = book.data.decode("utf-8-sig").splitlines()
    assert len(lines) == 3 and lines[1].startswith("Liên hiệp HTX Chè Xuân Lương,lien_hiep,")
    assert lines[2] == (
        "HTX Nấm Đông Lỗ,htx,2405910001,2409100001,223,Sản xuất nấm,CU-2026-101,Nhà nuôi nấm,"
        "120000000,2026-08-05,12,7.2,equal_principal,1,1,0,,,"
        "2026-09-05:10733808; 2026-10-05:10650959; 2026-11-05:10611507,0,0,standard,"
    )
    assert client.get(f"{API}/template.csv?loans=maybe", headers=headers).status_code == 422


def test_a_refused_file_is_422_with_one_message_per_row(
    client: Any, headers: dict[str, str]
) -> None:
    data = (DATA / "loans_errors.csv").read_bytes()
    response = post_file(client, data, "loi.csv", headers, "?dry_run=false")
    assert response.status_code == 422
    error = response.get_json()["error"]
    assert error["code"] == "import_refused"
    assert error["message"] == "Tệp có 5 dòng lỗi trên 6 dòng; không có dữ liệu nào được ghi."
    assert [(r["line"], r["message"]) for r in error["rows"]] == [
        (3, "Dòng 3: huyện “Hà Đông” không có trong danh mục"),
        (4, "Dòng 4: số tiền vay phải lớn hơn 0"),
        (5, "Dòng 5: các lần đã trả không theo thứ tự ngày: 10/06/2025 đứng sau 10/09/2025"),
        (6, "Dòng 6: số hợp đồng “CU-2025-001” trùng với dòng 2"),
        (7, "Dòng 7: huyện “Quận 1” không có trong danh mục; số tiền vay phải lớn hơn 0"),
    ]
    assert counts() == (0, 0)
    header = post_file(client, (DATA / "loans_wrong_column.xlsx").read_bytes(), "c.xlsx", headers)
    assert header.status_code == 422
    body = header.get_json()["error"]
    assert body["rows"] == []
    assert body["fields"]["file"].startswith("Dòng 1 (tiêu đề): cột “Số tiền” không có trong mẫu")


@pytest.mark.parametrize(
    ("query", "field"),
    [("?dry_run=perhaps", "dry_run"), ("?dry_run=false&force=1", "force")],
)
def test_bad_queries_are_422(client: Any, headers: dict[str, str], query: str, field: str) -> None:
    response = post_file(client, HAND_CHECKED_CSV.encode(), "a.csv", headers, query)
    assert response.status_code == 422
    assert field in response.get_json()["error"]["fields"]
    assert counts() == (0, 0)


def test_no_file_is_422(client: Any, headers: dict[str, str]) -> None:
    response = client.post(API, data={"other": "x"}, headers=headers)
    assert response.status_code == 422
    assert "file" in response.get_json()["error"]["fields"]


def test_a_file_without_a_name_is_read_by_its_content(client: Any, headers: dict[str, str]) -> None:
    xlsx = (DATA / "loans_errors.xlsx").read_bytes()
    response = post_file(client, xlsx, None, headers)
    assert response.status_code == 422
    assert len(response.get_json()["error"]["rows"]) == 5


def test_repeating_the_import_with_one_key_imports_once(
    client: Any, headers: dict[str, str]
) -> None:
    # A retry sends the very same bytes: same multipart boundary, same body.
    boundary, body = encode_multipart(
        {"file": FileStorage(io.BytesIO(HAND_CHECKED_CSV.encode()), "hai.csv", "file")},
        boundary="fundapp-import-test",
    )
    keyed = {**headers, "Idempotency-Key": "nhap-2026-11-20"}
    kind = f"multipart/form-data; boundary={boundary}"
    first = client.post(f"{API}?dry_run=false", data=body, content_type=kind, headers=keyed)
    assert first.status_code == 200, first.get_json()
    second = client.post(f"{API}?dry_run=false", data=body, content_type=kind, headers=keyed)
    assert second.status_code == 200
    assert second.headers.get("Idempotent-Replayed") == "true"
    assert second.get_json() == first.get_json()
    assert counts() == (2, 5)
    # A client that encodes the same file again (a new boundary) is the same request too.
    boundary2, body2 = encode_multipart(
        {"file": FileStorage(io.BytesIO(HAND_CHECKED_CSV.encode()), "hai.csv", "file")},
        boundary="another-boundary-2026",
    )
    third = client.post(
        f"{API}?dry_run=false",
        data=body2,
        content_type=f"multipart/form-data; boundary={boundary2}",
        headers=keyed,
    )
    assert third.status_code == 200 and third.headers.get("Idempotent-Replayed") == "true"
    assert counts() == (2, 5)
    # Another file under the same key is a conflict, and imports nothing either.
    _b, other = encode_multipart(
        {"file": FileStorage(io.BytesIO(b"x"), "x.csv", "file")}, boundary=boundary
    )
    conflict = client.post(f"{API}?dry_run=false", data=other, content_type=kind, headers=keyed)
    assert conflict.status_code == 409
    # Without the key, the same file again is refused row by row: the contracts exist.
    again = post_file(client, HAND_CHECKED_CSV.encode(), "hai.csv", headers, "?dry_run=false")
    assert again.status_code == 422
    assert [r["line"] for r in again.get_json()["error"]["rows"]] == [2, 3]
    assert counts() == (2, 5)


def test_the_openapi_document_describes_the_import(client: Any, headers: dict[str, str]) -> None:
    doc = client.get("/api/v1/openapi.json").get_json()
    post = doc["paths"]["/imports/loans"]["post"]
    assert "multipart/form-data" in post["requestBody"]["content"]
    names = {p["name"] for p in post["parameters"]}
    assert {"dry_run", "Idempotency-Key"} <= names
    assert {"200", "401", "403", "409", "413", "422"} <= set(post["responses"])
    assert post["x-roles"] == ["accountant"]
    template = doc["paths"]["/imports/loans/template.xlsx"]["get"]["responses"]["200"]
    assert list(template["content"]) == [
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    ]
