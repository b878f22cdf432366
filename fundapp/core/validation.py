"""Small checks shared by services; each returns a message or ``None``."""

from __future__ import annotations

import re
from datetime import date
from typing import Any

from email_validator import EmailNotValidError, validate_email
from flask_babel import gettext as _
from pydantic_core import from_json

from fundapp.domain.errors import ValidationFailed
from fundapp.domain.money import MoneyError, parse_dong

# ASCII digits only: in Python patterns \d is any script's digit (full-width, Arabic-Indic…).
_PHONE = re.compile(r"(0|\+84)[0-9]{9,10}")
ISO_DAY = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")
_VN_DAY = re.compile(r"([0-9]{1,2})/([0-9]{1,2})/([0-9]{4})")

# The tables' keys are INTEGER: an id above names nothing, and PostgreSQL refuses to compare
# a larger number with one (the URL converter ``fundapp.RowIdConverter`` holds the same
# bound in its pattern).
MAX_ROW_ID = 2**31 - 1


def digits(value: object) -> bool:
    """Only the ASCII digits 0–9, at least one. ``str.isdigit`` and ``int`` also take the
    digits of other scripts (``１２３``, ``١٢٣``), which no other system reads as a number."""
    return isinstance(value, str) and value.isascii() and value.isdigit()


def row_id(raw: object) -> int | None:
    """The id in ``raw`` (a JSON integer or text of ASCII digits) when a table can hold it,
    1 … ``MAX_ROW_ID``; otherwise ``None``."""
    if isinstance(raw, bool):
        return None
    if isinstance(raw, int):
        value = raw
    elif isinstance(raw, str) and digits(raw.strip()):
        value = int(raw.strip())
    else:
        return None
    return value if 1 <= value <= MAX_ROW_ID else None


def text(data: dict[str, Any], key: str, max_len: int, required: bool, errors: dict) -> str:
    raw = data.get(key)
    value = "" if raw is None else str(raw).strip()
    if required and not value:
        errors[key] = _("Trường này là bắt buộc.")
    elif len(value) > max_len:
        errors[key] = _("Tối đa %(n)s ký tự.", n=max_len)
    elif any(ord(c) < 32 and c not in "\n\t" for c in value):
        errors[key] = _("Có ký tự không hợp lệ.")
    return value


def email(data: dict[str, Any], key: str, errors: dict) -> str | None:
    value = text(data, key, 254, False, errors)
    if not value or key in errors:
        return None
    try:
        return validate_email(value, check_deliverability=False).normalized
    except EmailNotValidError:
        errors[key] = _("Địa chỉ e-mail không hợp lệ.")
        return None


def phone(data: dict[str, Any], key: str, errors: dict) -> str:
    value = text(data, key, 20, False, errors)
    compact = re.sub(r"[\s.\-]", "", value)
    if compact and not _PHONE.fullmatch(compact):
        errors[key] = _("Số điện thoại không hợp lệ (ví dụ 0912345678 hoặc +84912345678).")
    return compact


def whole_number(
    data: dict[str, Any], key: str, errors: dict, minimum: int = 0, maximum: int = 10**9
) -> int:
    raw = data.get(key)
    if raw is None or raw == "":
        return minimum if minimum > 0 else 0
    if isinstance(raw, bool) or not (isinstance(raw, int) or digits(str(raw).strip())):
        errors[key] = _("Phải là số nguyên không âm.")
        return 0
    value = int(str(raw).strip()) if not isinstance(raw, int) else raw
    if value < minimum or value > maximum:
        errors[key] = _("Phải trong khoảng %(a)s – %(b)s.", a=minimum, b=maximum)
    return value


def amount(data: dict[str, Any], key: str, errors: dict, required: bool = True) -> int:
    """A positive whole number of đồng, from a form string or a JSON integer."""
    raw = data.get(key)
    if raw is None or raw == "":
        if required:
            errors[key] = _("Nhập số tiền (đồng).")
        return 0
    if isinstance(raw, float):
        errors[key] = _("Số tiền phải là số nguyên đồng, không có phần thập phân.")
        return 0
    if isinstance(raw, int) and not isinstance(raw, bool) and raw <= 0:
        errors[key] = _("Số tiền phải lớn hơn 0.")
        return 0
    if isinstance(raw, str) and raw.strip().startswith("-"):
        try:
            parse_dong(raw.strip()[1:])
        except MoneyError:
            pass
        else:
            errors[key] = _("Số tiền phải lớn hơn 0.")
            return 0
    try:
        value = parse_dong(raw)
    except MoneyError as exc:
        errors[key] = {
            "too_large": _("Số tiền quá lớn."),
            "empty": _("Nhập số tiền (đồng)."),
            "not_ascii": _(
                "Số tiền chỉ gồm các chữ số 0–9, có thể ngăn cách hàng nghìn bằng dấu chấm, "
                "dấu phẩy hoặc khoảng trắng (ví dụ 1.500.000)."
            ),
        }.get(str(exc), _("Số tiền phải là số nguyên đồng, không có phần thập phân hay chữ."))
        return 0
    if value <= 0:
        errors[key] = _("Số tiền phải lớn hơn 0.")
    return value


def iso_date(data: dict[str, Any], key: str, errors: dict, required: bool = True) -> date | None:
    """A date typed as ``yyyy-mm-dd`` or ``dd/mm/yyyy`` (the pages' two forms), or given as a
    ``date``; between 2000 and 2100."""
    raw = data.get(key)
    if isinstance(raw, date):
        return raw
    value = "" if raw is None else str(raw).strip()
    if not value:
        if required:
            errors[key] = _("Nhập ngày.")
        return None
    parsed = iso_day(value) or _vn_date(value)
    if parsed is None:
        errors[key] = _("Ngày không hợp lệ (dd/mm/yyyy hoặc yyyy-mm-dd).")
        return None
    if not date(2000, 1, 1) <= parsed <= date(2100, 12, 31):
        errors[key] = _("Ngày nằm ngoài khoảng cho phép.")
        return None
    return parsed


def one_date(raw: object, key: str, required: bool = True) -> date | None:
    """:func:`iso_date` of one value, its message raised as a ``ValidationFailed`` on
    ``key`` (a view that reads one date outside a form of many)."""
    errors: dict[str, str] = {}
    value = iso_date({key: raw}, key, errors, required=required)
    if errors:
        raise ValidationFailed(errors[key], errors)
    return value


def iso_day(value: object) -> date | None:
    """``YYYY-MM-DD`` exactly, in ASCII digits, naming a real day (the API's only form);
    ``date.fromisoformat`` alone would also read ``20261207`` and ``2026-W49-1``."""
    if not isinstance(value, str) or not ISO_DAY.fullmatch(value):
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        return None


def _vn_date(value: str) -> date | None:
    match = _VN_DAY.fullmatch(value)
    if not match:
        return None
    day, month, year = (int(g) for g in match.groups())
    try:
        return date(year, month, day)
    except ValueError:
        return None


def json_too_deep(raw: bytes, limit: int) -> bool:
    """Whether the JSON text ``raw`` nests arrays and objects more than ``limit`` levels.

    Python's own parser recurses once a level: a few thousand levels are a RecursionError.
    pydantic's parser (in Rust) stops at its own fixed limit, far below that, so it reads the
    body first and its levels are then counted one by one. Text that is not JSON at all is
    left to the views, which refuse it with their own message."""
    if raw.count(b"[") + raw.count(b"{") <= limit:
        return False
    try:
        data = from_json(raw)
    except ValueError as exc:
        return "recursion limit" in str(exc)
    level: list[Any] = [data]
    depth = 0
    while level:
        containers = [item for item in level if isinstance(item, (list, dict))]
        if not containers:
            return False
        depth += 1
        if depth > limit:
            return True
        level = [
            child
            for container in containers
            for child in (container.values() if isinstance(container, dict) else container)
        ]
    return False
