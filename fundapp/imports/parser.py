"""Reading a loan import file (.xlsx or .csv) into typed rows, or into the reasons a row is
refused: one list of reasons per line, every problem of the line at once.

Nothing here touches the database; the checks against the fund's books (contract numbers
already used, cooperatives already registered) and the simulation are in ``services``.
"""

from __future__ import annotations

import csv
import io
import warnings
import zipfile
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date
from itertools import pairwise
from pathlib import PurePath
from typing import Any

from flask_babel import gettext as _
from openpyxl import load_workbook

from fundapp.areas import services as areas
from fundapp.core.formatting import date_filter, money_filter
from fundapp.imports import cells as cell
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
from fundapp.lending.terms import CleanTerms, check_terms, clean_terms
from fundapp.lending.uploads import size_label

SHEET_NAME = "Khoản vay"
MAX_ROWS = 5000
MAX_COLUMNS = 60
# Excel's last row: a file that numbers a row beyond it was not written by a spreadsheet, and
# the reader would otherwise walk every empty row up to it (a few bytes, hours of work).
MAX_LINE = 1_048_576
MAX_UNZIPPED = 64 * 1024 * 1024
_ZIP_MAGIC = b"PK\x03\x04"


class ImportFileError(ValueError):
    """The file as a whole cannot be read (format, size, header): nothing else is parsed."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


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
    tranches: tuple[cell.Dated, ...]
    payments: tuple[cell.Dated, ...]
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
        if any(not cell.blank(v) for v in values[: len(columns)])
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
        if all(cell.blank(v) for v in cells):
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
        if cell.blank(value):
            columns.append(None)
            continue
        column = HEADERS.get(normal(value))
        if column is None:
            problems.append(_("cột “%(c)s” không có trong mẫu", c=cell.shown(value)))
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
        if cell.blank(raw):
            if column.required:
                self.reasons.append(_("thiếu %(col)s", col=column.label))
            return default
        try:
            return convert(raw)
        except cell.CellError as exc:
            self.reasons.append(_("%(col)s %(problem)s", col=column.label, problem=str(exc)))
            return default

    def fail(self, reason: str) -> None:
        self.reasons.append(reason)


def parse_line(line: int, cells: dict[str, Any], as_of: date) -> ParsedLine:
    row = _Line(cells)
    name = row.get("cooperative_name", cell.text(200), "")
    kind = row.get("cooperative_kind", cell.code_in(KINDS), "cooperative")
    registration = row.get("registration_no", cell.text(30), "")
    tax = row.get("tax_code", cell.tax_code, "")
    district = row.get("district", cell.district, "")
    commune = row.get("commune_code", cell.commune, "")
    sector = row.get("sector", cell.text(100), "")
    contract = row.get("contract_no", cell.text(40), "")
    project = row.get("project_name", cell.text(200), "")
    amount = row.get("amount", cell.money)
    disbursed_on = row.get("disbursement_date", cell.day_until(as_of))
    terms = _terms(row, amount)
    tranches = _tranches(row, amount, disbursed_on, as_of)
    payments = _payments(row, disbursed_on, as_of)
    extensions = row.get("extensions", cell.count, 0)
    adjustments = row.get("term_adjustments", cell.count, 0)
    order = row.get("repayment_order", cell.code_in(ORDERS), "standard")
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


def _terms(row: _Line, amount: int | None) -> CleanTerms | None:
    """The schedule terms, checked by the lending service's own rules."""
    before = len(row.reasons)
    data: dict[str, Any] = {
        "term_months": row.get("term_months", cell.integer),
        "annual_rate": row.get("annual_rate", cell.rate),
        "principal_method": row.get("principal_method", cell.code_in(METHODS)),
        "principal_every_months": row.get("principal_every_months", cell.integer),
        "interest_every_months": row.get("interest_every_months", cell.integer),
        "grace_months": row.get("grace_months", cell.integer),
    }
    custom = row.get("custom_schedule", cell.pairs)
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


def _tranches(
    row: _Line, amount: int | None, first: date | None, as_of: date
) -> tuple[cell.Dated, ...]:
    given = row.get("tranches", cell.pairs)
    if amount is None or first is None:
        return ()
    if not given:
        return (cell.Dated(first, amount),)
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


def _payments(row: _Line, disbursed_on: date | None, as_of: date) -> tuple[cell.Dated, ...]:
    given = row.get("payments", cell.pairs) or []
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


def _in_order(row: _Line, label: Any, items: list[cell.Dated]) -> None:
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
