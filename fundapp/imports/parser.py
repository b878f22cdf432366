"""Reading a loan import file (.xlsx or .csv) into typed rows, or into the reasons a row is
refused: one list of reasons per line, every problem of the line at once.

Nothing here touches the database; the checks against the fund's books (contract numbers
already used, cooperatives already registered) and the simulation are in ``services``.
"""

from __future__ import annotations

import csv
import io
import re
import unicodedata
import warnings
import zipfile
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from itertools import pairwise
from pathlib import PurePath
from typing import Any

from flask_babel import gettext as _

from fundapp.areas import services as areas
from fundapp.cooperatives.services import normalise_tax_code
from fundapp.core.formatting import date_filter, money_filter
from fundapp.domain.money import MoneyError, parse_dong, parse_rate
from fundapp.imports.columns import (
    BY_KEY,
    COLUMNS,
    HEADERS,
    KINDS,
    METHODS,
    ORDERS,
    Column,
    normal,
)
from fundapp.imports.columns import commune_code as find_commune
from fundapp.imports.columns import district_code as find_district
from fundapp.lending.services import CleanTerms, check_terms, clean_terms
from fundapp.lending.uploads import size_label

SHEET_NAME = "Khoản vay"
MAX_ROWS = 5000
MAX_COLUMNS = 60
# Excel's last row: a file that numbers a row beyond it was not written by a spreadsheet, and
# the reader would otherwise walk every empty row up to it (a few bytes, hours of work).
MAX_LINE = 1_048_576
MAX_UNZIPPED = 64 * 1024 * 1024
MAX_RESTRUCTURINGS = 20
_ZIP_MAGIC = b"PK\x03\x04"
_FORMULA_START = ("=", "+", "-", "@")


class ImportFileError(ValueError):
    """The file as a whole cannot be read (format, size, header): nothing else is parsed."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class CellError(ValueError):
    """One cell's value is refused; the message completes "<column> …"."""


@dataclass(frozen=True)
class Dated:
    """A dated amount: a repayment, a tranche or a line of a custom principal plan."""

    date: date
    amount: int


@dataclass(frozen=True)
class CooperativeData:
    name: str
    kind: str
    registration_no: str
    tax_code: str
    district_code: str  # the former district ("" when only the commune was given)
    sector: str
    # The commune code as written, and the day it is read on (the first disbursement's;
    # a code of today is read on the import's date instead).
    commune_code: str = ""
    commune_on: date | None = None


@dataclass(frozen=True)
class LoanRow:
    line: int
    cooperative: CooperativeData
    contract_no: str
    project_name: str
    amount: int
    disbursement_date: date
    terms: CleanTerms
    tranches: tuple[Dated, ...]
    payments: tuple[Dated, ...]
    extensions: int
    term_adjustments: int
    repayment_order: str = "standard"


@dataclass
class ParsedLine:
    """One data line of the file: its typed loan, or the reasons it is refused."""

    line: int
    contract_no: str
    cooperative_name: str
    registration_no: str
    tax_code: str
    row: LoanRow | None = None
    reasons: list[str] = field(default_factory=list)


# --- the file --------------------------------------------------------------------------------


def parse(data: bytes, filename: str, as_of: date, max_bytes: int) -> list[ParsedLine]:
    """Every data line of the file, parsed; ``ImportFileError`` when the file itself or its
    header is wrong (one message, no line parsed)."""
    rows = read_rows(data, filename, max_bytes)
    if not rows:
        raise ImportFileError(_("Tệp không có dữ liệu (cần dòng tiêu đề và các dòng khoản vay)."))
    header_line, header = rows[0]
    columns = header_columns(header_line, header)
    lines = [
        parse_line(line, _cells(columns, values), as_of)
        for line, values in rows[1:]
        if any(not _blank(v) for v in values[: len(columns)])
    ]
    if not lines:
        raise ImportFileError(_("Tệp chỉ có dòng tiêu đề, chưa có khoản vay nào."))
    _check_across_lines(lines)
    return lines


def read_rows(data: bytes, filename: str, max_bytes: int) -> list[tuple[int, list[Any]]]:
    """The non-empty rows of the file with their line numbers (as Excel numbers them)."""
    if not data:
        raise ImportFileError(_("Tệp rỗng."))
    if len(data) > max_bytes:
        raise ImportFileError(_("Tệp quá lớn: tối đa %(n)s.", n=size_label(max_bytes)))
    suffix = PurePath(str(filename or "")).suffix.lower()
    if suffix == ".xlsx":
        return _xlsx_rows(data)
    if suffix == ".csv":
        return _csv_rows(data)
    raise ImportFileError(_("Chỉ nhận tệp Excel (.xlsx) hoặc CSV (.csv) theo mẫu."))


def _xlsx_rows(data: bytes) -> list[tuple[int, list[Any]]]:
    refused = ImportFileError(_("Tệp .xlsx không đọc được: không phải bảng tính Excel hợp lệ."))
    if not data.startswith(_ZIP_MAGIC):
        raise refused
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            names = set(archive.namelist())
            unzipped = sum(info.file_size for info in archive.infolist())
    except (zipfile.BadZipFile, ValueError, OSError):
        raise refused from None
    if "[Content_Types].xml" not in names or "xl/workbook.xml" not in names:
        raise refused
    if unzipped > MAX_UNZIPPED:
        raise ImportFileError(_("Tệp .xlsx giải nén quá lớn."))
    from openpyxl import load_workbook

    try:
        with warnings.catch_warnings():
            # openpyxl warns about styles and extensions it does not read; they do not matter.
            warnings.simplefilter("ignore")
            book = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
            try:
                sheet = book[SHEET_NAME] if SHEET_NAME in book.sheetnames else book.worksheets[0]
                sheet.reset_dimensions()
                return _filled(
                    enumerate(
                        sheet.iter_rows(min_row=1, max_col=MAX_COLUMNS, values_only=True), start=1
                    )
                )
            finally:
                book.close()
    except ImportFileError:
        raise
    except Exception:  # an untrusted file may break the reader in any of its layers
        raise refused from None


def _csv_rows(data: bytes) -> list[tuple[int, list[Any]]]:
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise ImportFileError(_("Tệp CSV phải được lưu theo mã UTF-8.")) from None
    if "\x00" in text:
        raise ImportFileError(_("Tệp CSV có ký tự không hợp lệ."))
    first = text.split("\n", 1)[0]
    delimiter = ";" if first.count(";") > first.count(",") else ","
    try:
        return _filled(
            enumerate(csv.reader(io.StringIO(text, newline=""), delimiter=delimiter), start=1)
        )
    except csv.Error:
        raise ImportFileError(_("Tệp CSV không đúng định dạng.")) from None


def _filled(numbered: Iterable[tuple[int, Sequence[Any]]]) -> list[tuple[int, list[Any]]]:
    """The rows with something in them, numbered; at most the header and MAX_ROWS loans
    (blank rows, which spreadsheets keep for their formatting, do not count)."""
    rows: list[tuple[int, list[Any]]] = []
    for number, values in numbered:
        if number > MAX_LINE:
            raise ImportFileError(
                _("Tệp có dữ liệu sau dòng %(n)s, giới hạn của bảng tính Excel.", n=MAX_LINE)
            )
        if values.count(None) == len(values):  # the reader's filler for rows the file skips
            continue
        cells = list(values[:MAX_COLUMNS])
        if all(_blank(v) for v in cells):
            continue
        if len(rows) > MAX_ROWS:
            raise ImportFileError(_("Tệp quá nhiều dòng: tối đa %(n)s.", n=MAX_ROWS))
        rows.append((number, cells))
    return rows


def header_columns(line: int, header: list[Any]) -> list[Column | None]:
    """The column of each header cell; a wrong header is one message for the whole file."""
    problems: list[str] = []
    columns: list[Column | None] = []
    seen: set[str] = set()
    for value in header:
        if _blank(value):
            columns.append(None)
            continue
        column = HEADERS.get(normal(value))
        if column is None:
            problems.append(_("cột “%(c)s” không có trong mẫu", c=_shown(value)))
        elif column.key in seen:
            problems.append(_("cột “%(c)s” lặp lại", c=column.header))
        else:
            seen.add(column.key)
        columns.append(column)
    for column in COLUMNS:
        if column.required and column.key not in seen:
            problems.append(_("thiếu cột “%(c)s”", c=column.header))
    if problems:
        raise ImportFileError(
            _("Dòng %(n)s (tiêu đề): %(r)s.", n=line, r="; ".join(problems))
            + " "
            + _("Hãy dùng tệp mẫu.")
        )
    while columns and columns[-1] is None:
        columns.pop()
    return columns


def _cells(columns: list[Column | None], values: list[Any]) -> dict[str, Any]:
    return {
        column.key: values[index] if index < len(values) else None
        for index, column in enumerate(columns)
        if column is not None
    }


def _check_across_lines(lines: list[ParsedLine]) -> None:
    """A contract number used twice; one registration number under two names; one tax code
    for two registration numbers. The later line carries the reason."""
    contracts: dict[str, int] = {}
    names: dict[str, tuple[int, str]] = {}
    taxes: dict[str, tuple[int, str]] = {}
    for item in lines:
        if item.contract_no:
            key = normal(item.contract_no)
            if key in contracts:
                item.reasons.append(
                    _(
                        "số hợp đồng “%(c)s” trùng với dòng %(n)s",
                        c=item.contract_no,
                        n=contracts[key],
                    )
                )
            else:
                contracts[key] = item.line
        reg = normal(item.registration_no)
        if reg and item.cooperative_name:
            first = names.setdefault(reg, (item.line, item.cooperative_name))
            if normal(first[1]) != normal(item.cooperative_name):
                item.reasons.append(
                    _(
                        "số đăng ký “%(r)s” ở dòng %(n)s mang tên “%(a)s”, khác tên “%(b)s”",
                        r=item.registration_no,
                        n=first[0],
                        a=first[1],
                        b=item.cooperative_name,
                    )
                )
        if reg and item.tax_code:
            first_tax = taxes.setdefault(item.tax_code, (item.line, reg))
            if first_tax[1] != reg:
                item.reasons.append(
                    _(
                        "mã số thuế %(t)s đã dùng ở dòng %(n)s cho số đăng ký khác",
                        t=item.tax_code,
                        n=first_tax[0],
                    )
                )
        if item.reasons:
            item.row = None


# --- one line --------------------------------------------------------------------------------


class _Line:
    """Collects the reasons of one line while its cells are converted."""

    def __init__(self, cells: dict[str, Any]) -> None:
        self.cells = cells
        self.reasons: list[str] = []

    def get(self, key: str, convert: Callable[[Any], Any], default: Any = None) -> Any:
        column = BY_KEY[key]
        raw = self.cells.get(key)
        if _blank(raw):
            if column.required:
                self.reasons.append(_("thiếu %(col)s", col=column.label))
            return default
        try:
            return convert(raw)
        except CellError as exc:
            self.reasons.append(_("%(col)s %(problem)s", col=column.label, problem=str(exc)))
            return default

    def fail(self, reason: str) -> None:
        self.reasons.append(reason)


def parse_line(line: int, cells: dict[str, Any], as_of: date) -> ParsedLine:
    row = _Line(cells)
    name = row.get("cooperative_name", _text(200), "")
    kind = row.get("cooperative_kind", _code(KINDS), "cooperative")
    registration = row.get("registration_no", _text(30), "")
    tax = row.get("tax_code", _tax_code, "")
    district = row.get("district", _district, "")
    commune = row.get("commune_code", _commune, "")
    sector = row.get("sector", _text(100), "")
    contract = row.get("contract_no", _text(40), "")
    project = row.get("project_name", _text(200), "")
    amount = row.get("amount", money)
    disbursed_on = row.get("disbursement_date", _day_until(as_of))
    terms = _terms(row, amount)
    tranches = _tranches(row, amount, disbursed_on, as_of)
    payments = _payments(row, disbursed_on, as_of)
    extensions = row.get("extensions", _count, 0)
    adjustments = row.get("term_adjustments", _count, 0)
    order = row.get("repayment_order", _code(ORDERS), "standard")
    commune_on = _commune_day(row, district, commune, disbursed_on, as_of)
    parsed = ParsedLine(line, contract, name, registration, tax, reasons=row.reasons)
    if not row.reasons:
        parsed.row = LoanRow(
            line=line,
            cooperative=CooperativeData(
                name, kind, registration, tax, district, sector, commune, commune_on
            ),
            contract_no=contract,
            project_name=project,
            amount=amount,
            disbursement_date=disbursed_on,
            terms=terms,  # type: ignore[arg-type]
            tranches=tranches,
            payments=payments,
            extensions=extensions,
            term_adjustments=adjustments,
            repayment_order=order,
        )
    return parsed


_TERM_KEYS = (
    "term_months",
    "annual_rate",
    "principal_method",
    "principal_every_months",
    "interest_every_months",
    "grace_months",
)


def _terms(row: _Line, amount: int | None) -> CleanTerms | None:
    """The schedule terms, checked by the lending service's own rules."""
    before = len(row.reasons)
    data: dict[str, Any] = {
        "term_months": row.get("term_months", integer),
        "annual_rate": row.get("annual_rate", rate),
        "principal_method": row.get("principal_method", _code(METHODS)),
        "principal_every_months": row.get("principal_every_months", integer),
        "interest_every_months": row.get("interest_every_months", integer),
        "grace_months": row.get("grace_months", integer),
    }
    custom = row.get("custom_schedule", pairs)
    if custom and data["principal_method"] not in (None, "custom"):
        row.fail(_("lịch trả gốc tự nhập chỉ dùng với phương thức custom"))
    if len(row.reasons) > before:
        return None
    data["custom_schedule"] = [[d.date.isoformat(), d.amount] for d in custom or ()]
    errors: dict[str, str] = {}
    terms = clean_terms(
        {k: v for k, v in data.items() if v is not None}, errors, data["annual_rate"]
    )
    if amount is not None:
        check_terms(terms, amount, errors)
    for key, message in errors.items():
        row.fail(_("%(col)s: %(msg)s", col=BY_KEY[key].label, msg=message.rstrip(".")))
    return None if errors else terms


def _tranches(row: _Line, amount: int | None, first: date | None, as_of: date) -> tuple[Dated, ...]:
    given = row.get("tranches", pairs)
    if amount is None or first is None:
        return ()
    if not given:
        return (Dated(first, amount),)
    label = BY_KEY["tranches"].label
    if given[0].date != first:
        row.fail(
            _(
                "%(col)s: đợt đầu phải vào ngày giải ngân %(d)s",
                col=label,
                d=date_filter(first),
            )
        )
    _in_order(row, label, given)
    late = [t for t in given if t.date > as_of]
    if late:
        row.fail(_("%(col)s: ngày %(d)s sau ngày làm việc", col=label, d=date_filter(late[0].date)))
    total = sum(t.amount for t in given)
    if total > amount:
        row.fail(
            _(
                "%(col)s: tổng %(t)s vượt số tiền vay %(a)s",
                col=label,
                t=money_filter(total),
                a=money_filter(amount),
            )
        )
    return tuple(given)


def _payments(row: _Line, disbursed_on: date | None, as_of: date) -> tuple[Dated, ...]:
    given = row.get("payments", pairs) or []
    label = BY_KEY["payments"].label
    _in_order(row, label, given)
    if disbursed_on is not None:
        early = [p for p in given if p.date < disbursed_on]
        if early:
            row.fail(
                _(
                    "lần trả ngày %(d)s trước ngày giải ngân %(g)s",
                    d=date_filter(early[0].date),
                    g=date_filter(disbursed_on),
                )
            )
    late = [p for p in given if p.date > as_of]
    if late:
        row.fail(
            _(
                "lần trả ngày %(d)s sau ngày làm việc %(b)s",
                d=date_filter(late[0].date),
                b=date_filter(as_of),
            )
        )
    return tuple(given)


def _in_order(row: _Line, label: Any, items: list[Dated]) -> None:
    for before, after in pairwise(items):
        if after.date < before.date:
            row.fail(
                _(
                    "%(col)s không theo thứ tự ngày: %(a)s đứng sau %(b)s",
                    col=label,
                    a=date_filter(after.date),
                    b=date_filter(before.date),
                )
            )
            return


# --- cells -----------------------------------------------------------------------------------


def _blank(value: Any) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


def _shown(value: Any) -> str:
    return str(value).strip()[:60]


def _as_text(value: Any) -> str:
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    text = unicodedata.normalize("NFC", str(value)).strip()
    # A CSV export guards text that a spreadsheet would run as a formula with a quote.
    if text.startswith("'") and text[1:2] in _FORMULA_START:
        text = text[1:]
    return text


def _text(max_len: int) -> Callable[[Any], str]:
    def convert(value: Any) -> str:
        text = _as_text(value)
        if len(text) > max_len:
            raise CellError(_("dài quá %(n)s ký tự", n=max_len))
        if any(ord(c) < 32 for c in text):
            raise CellError(_("có ký tự không hợp lệ"))
        return text

    return convert


def _code(table: dict[str, str]) -> Callable[[Any], str]:
    def convert(value: Any) -> str:
        code = table.get(normal(_as_text(value)))
        if code is None:
            raise CellError(_("“%(v)s” không hợp lệ", v=_shown(value)))
        return code

    return convert


def _tax_code(value: Any) -> str:
    code = normalise_tax_code(_as_text(value))
    if code is None:
        raise CellError(_("“%(v)s” phải gồm 10 hoặc 13 chữ số", v=_shown(value)))
    return code


def _commune(value: Any) -> str:
    code = find_commune(_as_text(value))
    if code is None:
        raise CellError(_("“%(v)s” phải là mã gồm 5 chữ số, ví dụ 07525", v=_shown(value)))
    return code


def _commune_day(
    row: _Line, district: str, commune: str, disbursed_on: date | None, as_of: date
) -> date | None:
    """The day the commune code is read on: the first disbursement's (the units of the
    loan's time), else the import's (a code of today). A historical code is converted to
    today's commune through the successions when the cooperative is created."""
    if not commune or disbursed_on is None:
        return None
    ix = areas.index()
    for day in (disbursed_on, as_of):
        if ix.resolve(commune, day) is not None:
            return day
    row.fail(
        _(
            "mã xã %(c)s không có hiệu lực ngày %(d)s cũng như hiện nay",
            c=commune,
            d=date_filter(disbursed_on),
        )
    )
    return None


def _district(value: Any) -> str:
    code = find_district(_as_text(value))
    if code is None:
        raise CellError(_("“%(v)s” không có trong danh mục", v=_shown(value)))
    return code


def money(value: Any) -> int:
    """Whole đồng from a cell: an integer, an integral Excel number or a text such as
    ``1.500.000.000``. A fraction, a sign, zero or letters are refused."""
    if isinstance(value, bool):
        raise CellError(_("phải là số nguyên đồng"))
    if isinstance(value, float):
        exact = Decimal(value)  # the binary value exactly: no rounding hides a fraction
        if not exact.is_finite() or exact != exact.to_integral_value():
            raise CellError(_("phải là số nguyên đồng, không có phần thập phân"))
        value = int(exact)
    if isinstance(value, int):
        if value <= 0:
            raise CellError(_("phải lớn hơn 0"))
        try:
            return parse_dong(value)
        except MoneyError:
            raise CellError(_("quá lớn")) from None
    text = _as_text(value)
    if text.startswith("-"):
        raise CellError(_("phải lớn hơn 0"))
    try:
        amount = parse_dong(text)
    except MoneyError as exc:
        if str(exc) == "too_large":
            raise CellError(_("quá lớn")) from None
        raise CellError(
            _("“%(v)s” phải là số nguyên đồng (ví dụ 1.500.000.000)", v=_shown(value))
        ) from None
    if amount <= 0:
        raise CellError(_("phải lớn hơn 0"))
    return amount


def integer(value: Any) -> int:
    if isinstance(value, bool):
        raise CellError(_("phải là số nguyên"))
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, int):
        return value
    text = _as_text(value)
    if not (text.isascii() and text.isdigit()):
        raise CellError(_("“%(v)s” phải là số nguyên", v=_shown(value)))
    return int(text)


def _count(value: Any) -> int:
    number = integer(value)
    if number > MAX_RESTRUCTURINGS:
        raise CellError(_("phải từ 0 đến %(n)s", n=MAX_RESTRUCTURINGS))
    return number


def rate(value: Any) -> Decimal:
    """A rate in percent a year. An Excel number 7.2 arrives as a float: its shortest text
    is what was typed, and a rate is not money."""
    text = repr(value) if isinstance(value, float) else _as_text(value)
    try:
        return parse_rate(text)
    except MoneyError:
        raise CellError(_("“%(v)s” phải là số phần trăm, ví dụ 7.2", v=_shown(value))) from None


def day(value: Any) -> date:
    if isinstance(value, datetime):
        if value.time() != datetime.min.time():
            raise CellError(_("“%(v)s” phải là ngày, không kèm giờ", v=_shown(value)))
        value = value.date()
    if isinstance(value, date):
        parsed: date | None = value
    elif isinstance(value, str):
        parsed = _date_text(_as_text(value))
    else:
        parsed = None  # a bare number: an Excel date serial without a date format
    if parsed is None:
        raise CellError(_("“%(v)s” không phải ngày (YYYY-MM-DD hoặc dd/mm/yyyy)", v=_shown(value)))
    if not date(2000, 1, 1) <= parsed <= date(2100, 12, 31):
        raise CellError(_("“%(v)s” nằm ngoài khoảng cho phép", v=date_filter(parsed)))
    return parsed


# ASCII digits: in Python patterns \d is any script's digit, and ``int`` reads them all.
_ISO_DAY = re.compile(r"([0-9]{4})-([0-9]{1,2})-([0-9]{1,2})(?:[ T]0?0:00(?::00)?)?")
_VN_DAY = re.compile(r"([0-9]{1,2})/([0-9]{1,2})/([0-9]{4})")


def _date_text(text: str) -> date | None:
    iso, vn = _ISO_DAY.fullmatch(text), _VN_DAY.fullmatch(text)
    try:
        if iso:
            return date(int(iso[1]), int(iso[2]), int(iso[3]))
        if vn:
            return date(int(vn[3]), int(vn[2]), int(vn[1]))
    except ValueError:
        return None
    return None


def _day_until(as_of: date) -> Callable[[Any], date]:
    def convert(value: Any) -> date:
        parsed = day(value)
        if parsed > as_of:
            raise CellError(
                _("%(d)s sau ngày làm việc %(b)s", d=date_filter(parsed), b=date_filter(as_of))
            )
        return parsed

    return convert


_ITEM = re.compile(r"^\s*([^:]+?)\s*:\s*(.+?)\s*$")


def pairs(value: Any) -> list[Dated]:
    """``YYYY-MM-DD:amount; YYYY-MM-DD:amount`` (or one per line; dates also dd/mm/yyyy)."""
    if not isinstance(value, str):
        raise CellError(_("phải có dạng ngày:số tiền; ngày:số tiền"))
    out = []
    for item in re.split(r"[;\n]", value):
        if not item.strip():
            continue
        match = _ITEM.match(item)
        if match is None:
            raise CellError(_("có mục “%(v)s” không đúng dạng ngày:số tiền", v=_shown(item)))
        try:
            when = day(match.group(1))
            amount = money(match.group(2))
        except CellError as exc:
            raise CellError(_("có mục “%(v)s”: %(e)s", v=_shown(item), e=str(exc))) from None
        out.append(Dated(when, amount))
    return out
