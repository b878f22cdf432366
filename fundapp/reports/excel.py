"""One Excel writer for every report: a sheet per table, real numbers with number formats,
dates as dates, a title block with the fund's name and the report's date, a frozen header
row, column widths and a bold totals row."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from io import BytesIO
from typing import Any

from openpyxl import Workbook
from openpyxl.styles import Alignment, Border, Font, PatternFill, Side
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.worksheet import Worksheet

from fundapp.reports.tables import Column, Row, Table

MONEY_FORMAT = "#,##0"
COUNT_FORMAT = "#,##0"
RATIO_FORMAT = "0.00%"
DATE_FORMAT = "dd/mm/yyyy"
HEADER_ROW = 6
_FORMATS = {
    "money": MONEY_FORMAT,
    "count": COUNT_FORMAT,
    "ratio": RATIO_FORMAT,
    "date": DATE_FORMAT,
}

_BOLD = Font(bold=True)
_TITLE = Font(bold=True, size=13)
_HEADER_FILL = PatternFill("solid", fgColor="E4F1EC")
_THIN = Side(style="thin", color="8A9A95")
_TOP = Border(top=_THIN)


@dataclass(frozen=True)
class TitleBlock:
    """What every sheet starts with: the fund, the report and its date (or period)."""

    fund_name: str
    report_title: str
    date_label: str
    dates: tuple[date, ...]


def workbook_bytes(title: TitleBlock, tables: list[Table]) -> bytes:
    book = Workbook()
    book.remove(book.active)
    book.properties.title = title.report_title
    book.properties.creator = title.fund_name
    used: set[str] = set()
    for table in tables:
        name = table.sheet_name
        n = 2
        while name in used:
            name = f"{table.sheet_name[:28]} {n}"
            n += 1
        used.add(name)
        _write_sheet(book.create_sheet(name), title, table)
    out = BytesIO()
    book.save(out)
    return out.getvalue()


def _write_sheet(sheet: Worksheet, title: TitleBlock, table: Table) -> None:
    sheet["A1"] = title.fund_name
    sheet["A1"].font = _BOLD
    sheet["A2"] = title.report_title
    sheet["A2"].font = _TITLE
    sheet["A3"] = title.date_label
    for offset, value in enumerate(title.dates):
        cell = sheet.cell(row=3, column=2 + offset, value=value)
        cell.number_format = DATE_FORMAT
        cell.alignment = Alignment(horizontal="left")
    sheet["A4"] = table.title
    sheet["A4"].font = _BOLD
    if table.note:
        sheet["A5"] = table.note
    for index, column in enumerate(table.columns, start=1):
        cell = sheet.cell(row=HEADER_ROW, column=index, value=column.label)
        cell.font = _BOLD
        cell.fill = _HEADER_FILL
        cell.alignment = Alignment(
            wrap_text=True, vertical="center", horizontal="right" if column.numeric else "left"
        )
        sheet.column_dimensions[get_column_letter(index)].width = column.width
    sheet.row_dimensions[HEADER_ROW].height = 32
    row_no = HEADER_ROW
    for row in table.rows:
        row_no += 1
        _write_row(sheet, row_no, table.columns, row)
    if table.total is not None:
        row_no += 1
        _write_row(sheet, row_no, table.columns, table.total, total=True)
    sheet.freeze_panes = sheet.cell(row=HEADER_ROW + 1, column=2 if len(table.columns) > 2 else 1)
    sheet.print_title_rows = f"{HEADER_ROW}:{HEADER_ROW}"
    sheet.page_setup.orientation = "landscape" if len(table.columns) > 5 else "portrait"
    sheet.page_setup.paperSize = sheet.PAPERSIZE_A4
    sheet.page_setup.fitToWidth = 1
    sheet.page_setup.fitToHeight = 0
    sheet.sheet_properties.pageSetUpPr.fitToPage = True


def _write_row(
    sheet: Worksheet, row_no: int, columns: tuple[Column, ...], row: Row, total: bool = False
) -> None:
    for index, (value, kind) in enumerate(row.cells_with_kinds(columns), start=1):
        cell = sheet.cell(row=row_no, column=index, value=_excel_value(kind, value))
        if isinstance(value, str):
            cell.data_type = "s"  # a name typed as "=…" stays text, never a formula
        if kind in _FORMATS:
            cell.number_format = _FORMATS[kind]
        if index == 1 and row.level:
            cell.alignment = Alignment(indent=2 * row.level)
        if total or row.strong:
            cell.font = _BOLD
        if total:
            cell.border = _TOP


def _excel_value(kind: str, value: Any) -> Any:
    if value is None:
        return None
    if kind == "ratio":
        return Decimal(value) / 100
    return value
