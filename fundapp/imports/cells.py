"""One cell of a loan import file, converted or refused: texts, codes, whole đồng, rates,
days and the ``date:amount`` lists of tranches and repayments.

Each converter takes what the spreadsheet or the CSV gives (a number, a date, a text) and
returns the typed value or raises ``CellError`` with the end of a sentence that starts with
the column's name, so every refusal of a line reads the same way.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from flask_babel import gettext as _

from fundapp.cooperatives.services import normalise_tax_code
from fundapp.core.formatting import date_filter
from fundapp.domain.money import MoneyError, parse_dong, parse_rate
from fundapp.imports.columns import commune_code as find_commune
from fundapp.imports.columns import district_code as find_district
from fundapp.imports.columns import normal

MAX_RESTRUCTURINGS = 20
# What a spreadsheet would run as a formula (a CSV export guards it with a quote).
FORMULA_START = ("=", "+", "-", "@")


class CellError(ValueError):
    """One cell's value is refused; the message completes "<column> …"."""


@dataclass(frozen=True)
class Dated:
    """A dated amount: a repayment, a tranche or a line of a custom principal plan."""

    date: date
    amount: int


# --- cells -----------------------------------------------------------------------------------


def blank(value: Any) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


def shown(value: Any) -> str:
    return str(value).strip()[:60]


def as_text(value: Any) -> str:
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    text = unicodedata.normalize("NFC", str(value)).strip()
    # A CSV export guards text that a spreadsheet would run as a formula with a quote.
    if text.startswith("'") and text[1:2] in FORMULA_START:
        text = text[1:]
    return text


def text(max_len: int) -> Callable[[Any], str]:
    def convert(value: Any) -> str:
        text = as_text(value)
        if len(text) > max_len:
            raise CellError(_("dài quá %(n)s ký tự", n=max_len))
        if any(ord(c) < 32 for c in text):
            raise CellError(_("có ký tự không hợp lệ"))
        return text

    return convert


def code_in(table: dict[str, str]) -> Callable[[Any], str]:
    def convert(value: Any) -> str:
        code = table.get(normal(as_text(value)))
        if code is None:
            raise CellError(_("“%(v)s” không hợp lệ", v=shown(value)))
        return code

    return convert


def tax_code(value: Any) -> str:
    code = normalise_tax_code(as_text(value))
    if code is None:
        raise CellError(_("“%(v)s” phải gồm 10 hoặc 13 chữ số", v=shown(value)))
    return code


def commune(value: Any) -> str:
    code = find_commune(as_text(value))
    if code is None:
        raise CellError(_("“%(v)s” phải là mã gồm 5 chữ số, ví dụ 07525", v=shown(value)))
    return code


def district(value: Any) -> str:
    code = find_district(as_text(value))
    if code is None:
        raise CellError(_("“%(v)s” không có trong danh mục", v=shown(value)))
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
    text = as_text(value)
    if text.startswith("-"):
        raise CellError(_("phải lớn hơn 0"))
    try:
        amount = parse_dong(text)
    except MoneyError as exc:
        if str(exc) == "too_large":
            raise CellError(_("quá lớn")) from None
        raise CellError(
            _("“%(v)s” phải là số nguyên đồng (ví dụ 1.500.000.000)", v=shown(value))
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
    text = as_text(value)
    if not (text.isascii() and text.isdigit()):
        raise CellError(_("“%(v)s” phải là số nguyên", v=shown(value)))
    return int(text)


def count(value: Any) -> int:
    number = integer(value)
    if number > MAX_RESTRUCTURINGS:
        raise CellError(_("phải từ 0 đến %(n)s", n=MAX_RESTRUCTURINGS))
    return number


def rate(value: Any) -> Decimal:
    """A rate in percent a year. An Excel number 7.2 arrives as a float: its shortest text
    is what was typed, and a rate is not money."""
    text = repr(value) if isinstance(value, float) else as_text(value)
    try:
        return parse_rate(text)
    except MoneyError:
        raise CellError(_("“%(v)s” phải là số phần trăm, ví dụ 7.2", v=shown(value))) from None


def day(value: Any) -> date:
    if isinstance(value, datetime):
        if value.time() != datetime.min.time():
            raise CellError(_("“%(v)s” phải là ngày, không kèm giờ", v=shown(value)))
        value = value.date()
    if isinstance(value, date):
        parsed: date | None = value
    elif isinstance(value, str):
        parsed = date_text(as_text(value))
    else:
        parsed = None  # a bare number: an Excel date serial without a date format
    if parsed is None:
        raise CellError(_("“%(v)s” không phải ngày (YYYY-MM-DD hoặc dd/mm/yyyy)", v=shown(value)))
    if not date(2000, 1, 1) <= parsed <= date(2100, 12, 31):
        raise CellError(_("“%(v)s” nằm ngoài khoảng cho phép", v=date_filter(parsed)))
    return parsed


# ASCII digits: in Python patterns \d is any script's digit, and ``int`` reads them all.
_ISO_DAY = re.compile(r"([0-9]{4})-([0-9]{1,2})-([0-9]{1,2})(?:[ T]0?0:00(?::00)?)?")
_VN_DAY = re.compile(r"([0-9]{1,2})/([0-9]{1,2})/([0-9]{4})")


def date_text(text: str) -> date | None:
    iso, vn = _ISO_DAY.fullmatch(text), _VN_DAY.fullmatch(text)
    try:
        if iso:
            return date(int(iso[1]), int(iso[2]), int(iso[3]))
        if vn:
            return date(int(vn[3]), int(vn[2]), int(vn[1]))
    except ValueError:
        return None
    return None


def day_until(as_of: date) -> Callable[[Any], date]:
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
            raise CellError(_("có mục “%(v)s” không đúng dạng ngày:số tiền", v=shown(item)))
        try:
            when = day(match.group(1))
            amount = money(match.group(2))
        except CellError as exc:
            raise CellError(_("có mục “%(v)s”: %(e)s", v=shown(item), e=str(exc))) from None
        out.append(Dated(when, amount))
    return out
