"""Reading a bank statement file (CSV or XLSX) into transaction rows through a column
mapping: the built-in presets of the four banks the fund's accounts are held at, or a
mapping the accountant saved for a bank.

The presets are modelled on the statements those banks' internet banking exports (their
usual Vietnamese column headers), not copied from real files: a bank that names a column
otherwise is read through a saved mapping. Headers are compared without diacritics, case
or extra spaces. Amounts are whole đồng (never a float); a row that cannot be read is one
message naming its line, and the file is refused with all of them."""

from __future__ import annotations

import csv
import hashlib
import io
import re
import unicodedata
import warnings
import zipfile
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from pathlib import PurePath
from typing import Any

from flask_babel import gettext as _
from openpyxl import load_workbook

from fundapp.core.lists import fold
from fundapp.domain.errors import DomainError
from fundapp.domain.money import MoneyError, parse_dong

MAX_BYTES = 10 * 1024 * 1024
MAX_UNZIPPED = 100 * 1024 * 1024
MAX_ROWS = 50_000
MAX_COLUMNS = 60
# Rows above the headers a bank puts its title, account and period in.
HEADER_SCAN = 30
MAX_ERRORS_SHOWN = 20
_ZIP_MAGIC = b"PK\x03\x04"
# A money cell: "1.500.000", "1,500,000", "1 500 000", "1500000", maybe "VND"/"đ", maybe a
# sign, maybe zero cents (".00" or ",00") some exports add.
_ZERO_CENTS = re.compile(r"^(.*\d)[.,]00?$")


class StatementError(DomainError):
    """The file cannot be imported; ``rows`` holds one message per unreadable row."""

    def __init__(self, message: str, rows: Sequence[str] = ()) -> None:
        super().__init__(message)
        self.rows = list(rows)


@dataclass(frozen=True)
class Mapping:
    """The header of each column of one bank's statement (``debit`` empty: the credit
    column carries a signed amount), its date format and the row of its headers."""

    date: str
    credit: str
    description: str
    debit: str = ""
    txn_id: str = ""
    payer: str = ""
    payer_account: str = ""
    date_format: str = "%d/%m/%Y"
    header_row: int = 1


# Modelled on each bank's export (see the module's docstring), not taken from real files.
PRESETS: dict[str, Mapping] = {
    "AGRIBANK": Mapping(
        date="Ngày giao dịch",
        txn_id="Số tham chiếu",
        debit="Số tiền ghi nợ",
        credit="Số tiền ghi có",
        description="Nội dung",
        payer="Tên người chuyển",
        payer_account="Tài khoản người chuyển",
        header_row=6,
    ),
    "VCB": Mapping(
        date="Ngày giao dịch",
        txn_id="Số tham chiếu",
        debit="Số tiền ghi nợ",
        credit="Số tiền ghi có",
        description="Mô tả",
        header_row=8,
    ),
    "BIDV": Mapping(
        date="Ngày hiệu lực",
        txn_id="Mã giao dịch",
        debit="Phát sinh nợ",
        credit="Phát sinh có",
        description="Diễn giải",
        payer="Tên đơn vị chuyển",
        payer_account="Tài khoản đối ứng",
        header_row=10,
    ),
    "VIETINBANK": Mapping(
        date="Ngày giao dịch",
        txn_id="Số giao dịch",
        debit="Ghi nợ",
        credit="Ghi có",
        description="Diễn giải",
        payer="Tên đối ứng",
        payer_account="Số tài khoản đối ứng",
        date_format="%d-%m-%Y",
        header_row=5,
    ),
}

BANK_CODE = re.compile(r"[A-Z][A-Z0-9_]{1,19}")


@dataclass(frozen=True)
class Row:
    """One transaction of the file; ``amount`` > 0, ``debit`` says which way it went;
    ``txn_id`` is the bank's, or one made from the row's content when the file has none."""

    line_no: int
    txn_id: str
    value_date: date
    amount: int
    debit: bool
    description: str
    payer_name: str
    payer_account: str


def digest(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _header(text: Any) -> str:
    return fold(str(text or "")).replace(":", "").strip()


def read_table(data: bytes, filename: str) -> list[tuple[int, list[Any]]]:
    """The non-empty rows of the file with their numbers as a spreadsheet shows them."""
    if not data:
        raise StatementError(_("Tệp sao kê rỗng."))
    if len(data) > MAX_BYTES:
        raise StatementError(_("Tệp sao kê quá lớn: tối đa 10 MB."))
    suffix = PurePath(str(filename or "")).suffix.lower()
    if suffix == ".xlsx":
        rows = _xlsx_rows(data)
    elif suffix in (".csv", ".txt"):
        rows = _csv_rows(data)
    else:
        raise StatementError(_("Chỉ nhận sao kê Excel (.xlsx) hoặc CSV (.csv)."))
    if len(rows) > MAX_ROWS:
        raise StatementError(_("Tệp sao kê quá nhiều dòng: tối đa %(n)s.", n=MAX_ROWS))
    return rows


def _decode(data: bytes) -> str:
    for encoding in ("utf-8-sig", "cp1258"):
        try:
            # cp1258 writes tones as combining marks: put them back on their letters.
            return unicodedata.normalize("NFC", data.decode(encoding))
        except UnicodeDecodeError:
            continue
    raise StatementError(_("Tệp CSV không đọc được: mã ký tự không phải UTF-8 hay Windows-1258."))


def _csv_rows(data: bytes) -> list[tuple[int, list[Any]]]:
    text = _decode(data)
    if "\x00" in text:
        raise StatementError(_("Tệp CSV có ký tự không hợp lệ."))
    sample = "\n".join(text.splitlines()[:HEADER_SCAN])
    delimiter = max((";", ",", "\t"), key=sample.count)
    try:
        reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
        return [
            (n, values[:MAX_COLUMNS])
            for n, values in enumerate(reader, start=1)
            if any(str(v).strip() for v in values)
        ]
    except csv.Error:
        raise StatementError(_("Tệp CSV không đúng định dạng.")) from None


def _xlsx_rows(data: bytes) -> list[tuple[int, list[Any]]]:
    refused = StatementError(_("Tệp .xlsx không đọc được: không phải bảng tính Excel hợp lệ."))
    if not data.startswith(_ZIP_MAGIC):
        raise refused
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            if sum(info.file_size for info in archive.infolist()) > MAX_UNZIPPED:
                raise StatementError(_("Tệp .xlsx giải nén quá lớn."))
    except (zipfile.BadZipFile, ValueError, OSError):
        raise refused from None
    try:
        with warnings.catch_warnings():
            # openpyxl warns about styles and extensions it does not read; they do not matter.
            warnings.simplefilter("ignore")
            book = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
            try:
                sheet = book.worksheets[0]
                sheet.reset_dimensions()
                rows = []
                for n, values in enumerate(
                    sheet.iter_rows(max_col=MAX_COLUMNS, values_only=True), start=1
                ):
                    if n > MAX_ROWS + HEADER_SCAN:
                        raise StatementError(
                            _("Tệp sao kê quá nhiều dòng: tối đa %(n)s.", n=MAX_ROWS)
                        )
                    if any(v is not None and str(v).strip() for v in values):
                        rows.append((n, list(values)))
                return rows
            finally:
                book.close()
    except StatementError:
        raise
    except Exception:  # an untrusted file may break the reader in any of its layers
        raise refused from None


def _find_header(rows: list[tuple[int, list[Any]]], mapping: Mapping) -> tuple[int, dict[str, int]]:
    """The index in ``rows`` of the header row and the column of each mapped field: the
    mapping's row if the headers are there, else the first of the top rows that has them."""
    wanted = {
        "date": mapping.date,
        "credit": mapping.credit,
        "description": mapping.description,
        "debit": mapping.debit,
        "txn_id": mapping.txn_id,
        "payer": mapping.payer,
        "payer_account": mapping.payer_account,
    }
    wanted = {k: _header(v) for k, v in wanted.items() if v}
    required = ("date", "credit", "description")
    candidates = sorted(
        range(min(len(rows), HEADER_SCAN)), key=lambda i: rows[i][0] != mapping.header_row
    )
    for index in candidates:
        headers = [_header(v) for v in rows[index][1]]
        if all(wanted[k] in headers for k in required):
            columns = {k: headers.index(h) for k, h in wanted.items() if h in headers}
            missing = [getattr(mapping, k) for k in wanted if k not in columns]
            if missing:
                raise StatementError(
                    _(
                        "Dòng tiêu đề %(n)s thiếu cột: %(cols)s.",
                        n=rows[index][0],
                        cols=", ".join(missing),
                    )
                )
            return index, columns
    raise StatementError(
        _(
            "Không thấy dòng tiêu đề có các cột “%(d)s”, “%(c)s”, “%(t)s” trong %(n)s dòng "
            "đầu: tệp không phải sao kê của ngân hàng đã chọn, hoặc cần lưu cách đọc cột.",
            d=mapping.date,
            c=mapping.credit,
            t=mapping.description,
            n=HEADER_SCAN,
        )
    )


def money(value: Any) -> int | None:
    """A signed whole-đồng amount from a cell, None if empty; ValueError if not one."""
    if value is None or isinstance(value, bool):
        if value is None:
            return None
        raise ValueError
    if isinstance(value, float):
        exact = Decimal(value)  # the binary value exactly: no rounding hides a fraction
        if not exact.is_finite() or exact != exact.to_integral_value():
            raise ValueError
        return int(exact)
    if isinstance(value, int):
        return value
    if isinstance(value, Decimal):
        if value != value.to_integral_value():
            raise ValueError
        return int(value)
    text = str(value).strip().replace("\u00a0", " ")
    if text in ("", "-"):
        return None
    sign = 1
    if text.startswith(("-", "+")):
        sign = -1 if text[0] == "-" else 1
        text = text[1:].strip()
    elif text.startswith("(") and text.endswith(")"):
        sign, text = -1, text[1:-1].strip()
    for suffix in ("VND", "vnd", "VNĐ", "đồng", "đ"):
        if text.endswith(suffix):
            text = text[: -len(suffix)].strip()
    cents = _ZERO_CENTS.match(text)
    # "1.500.000" is grouped, "1500000.00" and "1.500.000,00" carry zero cents.
    if cents and not re.fullmatch(r"\d{1,3}([.,]\d{3})+", text):
        text = cents.group(1)
    try:
        return sign * parse_dong(text)
    except MoneyError:
        raise ValueError from None


def day(value: Any, date_format: str) -> date:
    """A date from a cell: a spreadsheet date, or a text in ``date_format`` (a time after
    it, as some banks print, is dropped); ValueError if not one."""
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    text = str(value or "").strip()
    if not text:
        raise ValueError
    parts = text.split()
    for candidate in (text, parts[0]):
        for fmt in (date_format, "%Y-%m-%d"):
            try:
                parsed = datetime.strptime(candidate, fmt).date()
            except ValueError:
                continue
            if date(2000, 1, 1) <= parsed <= date(2100, 12, 31):
                return parsed
    raise ValueError


def _cell(values: list[Any], columns: dict[str, int], key: str) -> Any:
    index = columns.get(key)
    if index is None or index >= len(values):
        return None
    return values[index]


def _text(value: Any, limit: int) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return " ".join(str(value).split())[:limit]


def parse(data: bytes, filename: str, mapping: Mapping) -> list[Row]:
    """The transaction rows of the file, credits and debits; StatementError naming every
    row that cannot be read. Rows with neither a date nor an amount (titles, totals,
    balances printed between the transactions) are not transactions and are passed over."""
    table = read_table(data, filename)
    start, columns = _find_header(table, mapping)
    rows: list[Row] = []
    errors: list[str] = []
    seen: dict[str, int] = {}
    for number, values in table[start + 1 :]:
        raw_date = _cell(values, columns, "date")
        raw_credit = _cell(values, columns, "credit")
        raw_debit = _cell(values, columns, "debit")
        if _text(raw_date, 40) == "" and not any(
            _text(v, 40) for v in (raw_credit, raw_debit, _cell(values, columns, "txn_id"))
        ):
            continue
        try:
            when = day(raw_date, mapping.date_format)
        except ValueError:
            if not _text(raw_date, 40) or not _text(raw_date, 40)[0].isdigit():
                # "Tổng cộng", "Số dư cuối kỳ": the bank's own summary lines.
                continue
            errors.append(
                _(
                    "Dòng %(n)s: ngày “%(v)s” không đúng định dạng %(f)s.",
                    n=number,
                    v=_text(raw_date, 40),
                    f=mapping.date_format,
                )
            )
            continue
        try:
            credit, debit = money(raw_credit), money(raw_debit) if mapping.debit else None
        except ValueError:
            errors.append(
                _(
                    "Dòng %(n)s: số tiền “%(v)s” không phải số nguyên đồng.",
                    n=number,
                    v=_text(raw_credit, 40) or _text(raw_debit, 40),
                )
            )
            continue
        if credit and debit:
            errors.append(_("Dòng %(n)s: vừa ghi có vừa ghi nợ.", n=number))
            continue
        amount = credit or (-debit if debit else 0)
        if amount == 0:
            errors.append(_("Dòng %(n)s: không có số tiền.", n=number))
            continue
        description = _text(_cell(values, columns, "description"), 1000)
        payer = _text(_cell(values, columns, "payer"), 200)
        account = _text(_cell(values, columns, "payer_account"), 40)
        txn_id = _text(_cell(values, columns, "txn_id"), 80)
        if not txn_id:
            # No id from the bank: the row's content and its occurrence in the file, so the
            # same file gives the same ids again.
            content = f"{when.isoformat()}|{amount}|{description}|{payer}|{account}"
            seen[content] = seen.get(content, 0) + 1
            txn_id = "H:" + digest(f"{content}|{seen[content]}".encode())[:40]
        rows.append(Row(number, txn_id, when, abs(amount), amount < 0, description, payer, account))
    if errors:
        shown = errors[:MAX_ERRORS_SHOWN]
        if len(errors) > MAX_ERRORS_SHOWN:
            shown.append(_("… và %(n)s dòng lỗi khác.", n=len(errors) - MAX_ERRORS_SHOWN))
        raise StatementError(
            _("Tệp sao kê có %(n)s dòng không đọc được; chưa nhập dòng nào.", n=len(errors)),
            shown,
        )
    return rows


def mapping_from(data: dict[str, Any]) -> tuple[Mapping | None, dict[str, str]]:
    """A mapping from a form's fields, or the message of each field that is wrong."""
    errors: dict[str, str] = {}
    values = {
        key: " ".join(str(data.get(key) or "").split())[:80]
        for key in (
            "date",
            "credit",
            "description",
            "debit",
            "txn_id",
            "payer",
            "payer_account",
        )
    }
    for key in ("date", "credit", "description"):
        if not values[key]:
            errors[key] = _("Bắt buộc nhập tên cột.")
    date_format = str(data.get("date_format") or "%d/%m/%Y").strip()
    if date_format not in DATE_FORMATS:
        errors["date_format"] = _("Định dạng ngày không hợp lệ.")
    try:
        header_row = int(str(data.get("header_row") or "1").strip())
    except ValueError:
        header_row = 0
    if not 1 <= header_row <= 50:
        errors["header_row"] = _("Dòng tiêu đề phải từ 1 đến 50.")
    if errors:
        return None, errors
    return Mapping(date_format=date_format, header_row=header_row, **values), {}


DATE_FORMATS = ("%d/%m/%Y", "%d-%m-%Y", "%d.%m.%Y", "%Y-%m-%d", "%m/%d/%Y", "%d/%m/%y")
