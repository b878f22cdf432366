"""Writing loan rows in the import format: the empty template (Excel with a help sheet, or
CSV) and the fund's own loan book exported the same way."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Mapping
from datetime import date
from typing import Any

from flask_babel import gettext as _
from openpyxl import Workbook
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.datavalidation import DataValidation
from openpyxl.worksheet.worksheet import Worksheet

from fundapp.imports.cells import FORMULA_START
from fundapp.imports.columns import COLUMNS
from fundapp.imports.parser import SHEET_NAME

HELP_SHEET = "Hướng dẫn"
XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
CSV_TYPE = "text/csv; charset=utf-8"
_BOLD = Font(bold=True)
_TITLE = Font(bold=True, size=13)
_HEADER_FILL = PatternFill("solid", fgColor="E4F1EC")
_REQUIRED_FILL = PatternFill("solid", fgColor="FCE9C8")
_WIDTHS = {"text": 24, "money": 16, "date": 14, "int": 10, "rate": 10, "pairs": 44}
# Their examples show the format; the example loan itself has one tranche and no custom plan.
_FORMAT_ONLY = ("custom_schedule", "tranches")

Row = Mapping[str, Any]


def xlsx_bytes(rows: Iterable[Row] = ()) -> bytes:
    """The loans sheet (header, then ``rows``) and the help sheet."""
    book = Workbook()
    sheet = book.active
    sheet.title = SHEET_NAME
    _loans_sheet(sheet, rows)
    _help_sheet(book.create_sheet(HELP_SHEET))
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def csv_bytes(rows: Iterable[Row] = ()) -> bytes:
    """UTF-8 with a byte-order mark, so that Excel opens the Vietnamese headers right."""
    out = io.StringIO(newline="")
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow([c.header for c in COLUMNS])
    for row in rows:
        writer.writerow([_csv_value(c.kind, row.get(c.key)) for c in COLUMNS])
    return out.getvalue().encode("utf-8-sig")


def pairs_text(items: Iterable[tuple[date, int]]) -> str:
    return "; ".join(f"{when.isoformat()}:{amount}" for when, amount in items)


def _csv_value(kind: str, value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, date):
        return value.isoformat()
    text = str(value)
    if kind == "text" and text.startswith(FORMULA_START):
        return "'" + text  # a spreadsheet must not run it as a formula
    return text


def _loans_sheet(sheet: Worksheet, rows: Iterable[Row]) -> None:
    for index, column in enumerate(COLUMNS, start=1):
        cell = sheet.cell(row=1, column=index, value=column.header)
        cell.font = _BOLD
        cell.fill = _REQUIRED_FILL if column.required else _HEADER_FILL
        cell.alignment = Alignment(wrap_text=True, vertical="center")
        sheet.column_dimensions[get_column_letter(index)].width = _WIDTHS[column.kind]
    sheet.row_dimensions[1].height = 32
    sheet.freeze_panes = "A2"
    row_no = 1
    for row in rows:
        row_no += 1
        for index, column in enumerate(COLUMNS, start=1):
            _put(sheet, row_no, index, column.kind, row.get(column.key))
    _validations(sheet, max(row_no, 1000))


def _put(sheet: Worksheet, row_no: int, col: int, kind: str, value: Any) -> None:
    if value is None or value == "":
        return
    cell = sheet.cell(row=row_no, column=col, value=value)
    if isinstance(value, str):
        cell.data_type = "s"  # text stays text, even when it starts with "="
    if kind == "money":
        cell.number_format = "#,##0"
    elif kind == "date":
        cell.number_format = "dd/mm/yyyy"


def _validations(sheet: Worksheet, last_row: int) -> None:
    for key, codes in (
        ("cooperative_kind", "htx,lien_hiep,thanh_vien_htx,thanh_vien_tht"),
        ("principal_method", "equal_principal,annuity,bullet,custom"),
        ("principal_every_months", "1,3,6,12"),
        ("interest_every_months", "1,3,6,12"),
    ):
        index = next(i for i, c in enumerate(COLUMNS, start=1) if c.key == key)
        letter = get_column_letter(index)
        check = DataValidation(type="list", formula1=f'"{codes}"', allow_blank=True)
        check.error = _("Chọn một giá trị trong danh sách.")
        check.add(f"{letter}2:{letter}{last_row}")
        sheet.add_data_validation(check)


def _help_sheet(sheet: Worksheet) -> None:
    sheet["A1"] = _("Mẫu nhập khoản vay từ hệ thống cũ")
    sheet["A1"].font = _TITLE
    notes = (
        _(
            "Mỗi dòng của trang “%(s)s” là một khoản vay; dòng 1 là tiêu đề, giữ nguyên.",
            s=SHEET_NAME,
        ),
        _("Cột tô màu cam là bắt buộc. Tiêu đề có thể là tên cột tiếng Việt hoặc khóa ASCII."),
        _("Số tiền là số nguyên đồng; ngày theo dạng YYYY-MM-DD hoặc dd/mm/yyyy."),
        _(
            "Trước khi nhập, ghi nhận các nguồn vốn của Quỹ với ngày nhận thực tế: mỗi đợt "
            "giải ngân được kiểm tra tiền của Quỹ tại ngày giải ngân."
        ),
        _(
            "Hệ thống kiểm tra thử toàn bộ tệp (không ghi gì) và báo lỗi theo từng dòng; chỉ "
            "khi không còn lỗi mới nhập, tất cả trong một lần."
        ),
        _(
            "Khoản vay đã gia hạn hoặc điều chỉnh kỳ hạn: ghi lịch trả gốc hiện tại bằng "
            "phương thức custom, thời hạn đến ngày đáo hạn hiện tại, và số lần đã cơ cấu; "
            "chi tiết từng lần cơ cấu không được nhập."
        ),
    )
    for offset, note in enumerate(notes, start=3):
        sheet.cell(row=offset, column=1, value=f"• {note}")
    top = 3 + len(notes) + 1
    titles = (_("Cột"), _("Khóa"), _("Bắt buộc"), _("Ý nghĩa và giá trị được nhận"), _("Ví dụ"))
    for index, title in enumerate(titles, start=1):
        cell = sheet.cell(row=top, column=index, value=title)
        cell.font = _BOLD
        cell.fill = _HEADER_FILL
    for offset, column in enumerate(COLUMNS, start=1):
        values = (
            column.header,
            column.key,
            _("có") if column.required else _("không"),
            str(column.help),
            str(column.example),
        )
        for index, value in enumerate(values, start=1):
            cell = sheet.cell(row=top + offset, column=index, value=value)
            cell.data_type = "s"
            cell.alignment = Alignment(wrap_text=True, vertical="top")
    example_row = top + len(COLUMNS) + 2
    sheet.cell(
        row=example_row, column=1, value=_("Dòng mẫu (một khoản vay 12 tháng):")
    ).font = _BOLD
    for index, column in enumerate(COLUMNS, start=1):
        sheet.cell(row=example_row + 1, column=index, value=column.header).font = _BOLD
        value = "" if column.key in _FORMAT_ONLY else str(column.example)
        sheet.cell(row=example_row + 2, column=index, value=value).data_type = "s"
    for letter, width in zip("ABCDE", (26, 24, 10, 70, 40), strict=True):
        sheet.column_dimensions[letter].width = width
