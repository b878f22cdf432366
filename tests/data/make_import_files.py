"""Writes the prepared loan import files of tests/data.

    .venv/bin/python -m tests.data.make_import_files

loans_49.xlsx / .csv: the demo fund's 49 current loans, exported in the import format from a
demo seeded on the tests' business date (so importing them into a fresh fund with the same
capital rebuilds every loan). loans_errors.xlsx / .csv: one good row and five bad ones.
loans_wrong_column.xlsx / .csv: a header with a column that is not in the template.
"""

from __future__ import annotations

import csv
import io
from pathlib import Path
from typing import Any

from openpyxl import Workbook

from fundapp.extensions import db
from fundapp.imports.columns import COLUMNS
from fundapp.imports.export import loan_book
from fundapp.imports.template import csv_bytes, xlsx_bytes
from tests.conftest import fresh_database, make_app

HERE = Path(__file__).resolve().parent

GOOD: dict[str, Any] = {
    "cooperative_name": "HTX Rau sạch Tư Mại",
    "cooperative_kind": "htx",
    "registration_no": "2405900001",
    "tax_code": "2409000001",
    "district": "Yên Dũng",
    "sector": "Trồng rau an toàn",
    "contract_no": "CU-2025-001",
    "project_name": "Nhà lưới trồng rau an toàn",
    "amount": 150_000_000,
    "disbursement_date": "2025-03-10",
    "term_months": 24,
    "annual_rate": "6.6",
    "principal_method": "equal_principal",
    "principal_every_months": 3,
    "interest_every_months": 3,
    "grace_months": 0,
}


def _bad(n: int, **changes: Any) -> dict[str, Any]:
    return {
        **GOOD,
        "cooperative_name": f"HTX Thử lỗi {n}",
        "registration_no": f"240590000{n}",
        "tax_code": f"240900000{n}",
        "contract_no": f"CU-2025-00{n}",
        **changes,
    }


# line 2 good; lines 3–7 bad (line 7 for two reasons at once)
ERROR_ROWS: list[dict[str, Any]] = [
    GOOD,
    _bad(2, district="Hà Đông"),
    _bad(3, amount=-50_000_000),
    _bad(4, payments="2025-09-10:5000000; 2025-06-10:5000000"),
    _bad(5, contract_no="CU-2025-001"),
    _bad(6, district="Quận 1", amount=0),
]


# Two loans checked by hand (tests/services/test_import.py works out their figures):
# line 2, 120.000.000 đ at 7,2 % over 12 months, equal principal monthly from 05/08/2026,
# the first three instalments paid on their due dates; line 3, 200.000.000 đ at 6 % for 12
# months, principal at maturity, interest quarterly from 10/02/2026, two interest payments.
HAND_CHECKED_CSV = (
    "Tên hợp tác xã,Loại hình,Số đăng ký,Mã số thuế,Huyện,Ngành nghề,Số hợp đồng,Tên dự án,"
    "Số tiền vay,Ngày giải ngân,Thời hạn (tháng),Lãi suất (%/năm),Phương thức trả gốc,"
    "Kỳ trả gốc (tháng),Kỳ trả lãi (tháng),Các lần đã trả\r\n"
    "HTX Nấm Đông Lỗ,htx,2405910001,2409100001,Hiệp Hòa,Sản xuất nấm,CU-2026-101,"
    'Nhà nuôi nấm,"120.000.000",05/08/2026,12,"7,2",gốc chia đều,1,1,'
    '"2026-09-05:10.733.808; 2026-10-05:10.650.959; 2026-11-05:10.611.507"\r\n'
    "Liên hiệp HTX Chè Xuân Lương,lien_hiep,2405910002,2409100002,215,Chè,CU-2026-102,"
    "Vốn lưu động thu mua chè,200000000,2026-02-10,12,6.0,bullet,12,3,"
    '"2026-05-10:2926027; 2026-08-10:3024658"\r\n'
)


def wrong_column_rows() -> list[list[Any]]:
    header = ["Số tiền" if c.key == "amount" else c.header for c in COLUMNS]
    return [header, [GOOD.get(c.key, "") for c in COLUMNS]]


def _xlsx_table(rows: list[list[Any]]) -> bytes:
    book = Workbook()
    sheet = book.active
    sheet.title = "Khoản vay"
    for row in rows:
        sheet.append(row)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def _csv_table(rows: list[list[Any]]) -> bytes:
    out = io.StringIO(newline="")
    csv.writer(out, lineterminator="\r\n").writerows(rows)
    return out.getvalue().encode("utf-8-sig")


def demo_book() -> list[dict[str, Any]]:
    """The demo's current loans, as ``flask loans export`` writes them."""
    from fundapp.demo.seed import seed

    with fresh_database(make_app()):
        seed()
        db.session.commit()
        book = loan_book()
        assert not book.notes, book.notes
        return book.rows


def main() -> None:
    rows = demo_book()
    (HERE / "loans_49.xlsx").write_bytes(xlsx_bytes(rows))
    (HERE / "loans_49.csv").write_bytes(csv_bytes(rows))
    with fresh_database(make_app()):
        (HERE / "loans_errors.xlsx").write_bytes(xlsx_bytes(ERROR_ROWS))
        (HERE / "loans_errors.csv").write_bytes(csv_bytes(ERROR_ROWS))
        (HERE / "loans_wrong_column.xlsx").write_bytes(_xlsx_table(wrong_column_rows()))
        (HERE / "loans_wrong_column.csv").write_bytes(_csv_table(wrong_column_rows()))
    print(f"{len(rows)} demo loans and the error files written to {HERE}")


if __name__ == "__main__":
    main()
