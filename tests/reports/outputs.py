"""Reading the outputs back: text of a PDF (pdftotext), values of an Excel sheet."""

from __future__ import annotations

import subprocess
from io import BytesIO
from typing import Any

from openpyxl import load_workbook

from fundapp.reports.excel import HEADER_ROW


def pdf_text(data: bytes) -> str:
    assert data.startswith(b"%PDF-")
    result = subprocess.run(
        ["pdftotext", "-layout", "-enc", "UTF-8", "-", "-"],
        input=data,
        capture_output=True,
        check=True,
    )
    return result.stdout.decode("utf-8")


def workbook(data: bytes) -> Any:
    return load_workbook(BytesIO(data))


def sheet_rows(sheet: Any) -> dict[str, list[Any]]:
    """First-column label → the other cells of its row, for the rows under the header."""
    out: dict[str, list[Any]] = {}
    for row in sheet.iter_rows(min_row=HEADER_ROW + 1, values_only=True):
        if row[0] is not None:
            out[str(row[0])] = list(row[1:])
    return out


def money(amount: int) -> str:
    """The app's Vietnamese money format, written out here so the test does not reuse it."""
    sign = "\u2212" if amount < 0 else ""  # the minus sign U+2212, one way (issue 16)
    return sign + f"{abs(amount):,}".replace(",", ".") + " đ"
