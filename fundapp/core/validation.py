"""Small checks shared by services; each returns a message or ``None``."""

from __future__ import annotations

import re
from datetime import date
from typing import Any

from email_validator import EmailNotValidError, validate_email
from flask_babel import gettext as _

from fundapp.core.money import MoneyError, parse_dong

_PHONE = re.compile(r"^(0|\+84)\d{9,10}$")


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
    if compact and not _PHONE.match(compact):
        errors[key] = _("Số điện thoại không hợp lệ (ví dụ 0912345678 hoặc +84912345678).")
    return compact


def whole_number(
    data: dict[str, Any], key: str, errors: dict, minimum: int = 0, maximum: int = 10**9
) -> int:
    raw = data.get(key)
    if raw is None or raw == "":
        return minimum if minimum > 0 else 0
    if isinstance(raw, bool) or not (isinstance(raw, int) or str(raw).strip().isdigit()):
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
        }.get(str(exc), _("Số tiền phải là số nguyên đồng, không có phần thập phân hay chữ."))
        return 0
    if value <= 0:
        errors[key] = _("Số tiền phải lớn hơn 0.")
    return value


def iso_date(data: dict[str, Any], key: str, errors: dict, required: bool = True) -> date | None:
    raw = data.get(key)
    if isinstance(raw, date):
        return raw
    value = "" if raw is None else str(raw).strip()
    if not value:
        if required:
            errors[key] = _("Nhập ngày.")
        return None
    for parse in (date.fromisoformat, _vn_date):
        try:
            parsed = parse(value)
        except ValueError:
            continue
        if not date(2000, 1, 1) <= parsed <= date(2100, 12, 31):
            errors[key] = _("Ngày nằm ngoài khoảng cho phép.")
            return None
        return parsed
    errors[key] = _("Ngày không hợp lệ (dd/mm/yyyy hoặc yyyy-mm-dd).")
    return None


def _vn_date(value: str) -> date:
    match = re.fullmatch(r"(\d{1,2})/(\d{1,2})/(\d{4})", value)
    if not match:
        raise ValueError(value)
    day, month, year = (int(g) for g in match.groups())
    return date(year, month, day)
