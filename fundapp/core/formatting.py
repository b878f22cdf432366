"""Template filters: templates never do arithmetic or formatting themselves."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from flask import current_app
from flask_babel import get_locale

from fundapp.domain.dates import format_date
from fundapp.domain.money import format_dong, format_rate


def _locale() -> str:
    try:
        return str(get_locale() or "vi")
    except RuntimeError:
        return "vi"


def money_filter(amount: int | None) -> str:
    return format_dong(amount, _locale())


def rate_filter(rate: Decimal | str | None) -> str:
    return format_rate(rate, _locale())


def date_filter(value: date | datetime | None) -> str:
    return format_date(value, _locale())


def datetime_filter(value: datetime | None) -> str:
    if value is None:
        return ""
    local = value.astimezone(ZoneInfo(current_app.config["FUNDAPP_TIMEZONE"]))
    return local.strftime("%d/%m/%Y %H:%M")  # one date format in every language


def person_filter(user: Any) -> str:
    """A person as people know them: the full name, the username only when there is none."""
    if user is None:
        return ""
    return (getattr(user, "full_name", "") or getattr(user, "username", "") or "").strip()


def date_input_filter(value: date | str | None) -> str:
    """A date for a date field: always ``dd/mm/yyyy`` (the one kind of date field), whatever
    the language; a ``yyyy-mm-dd`` string from a URL is shown the same way, anything else
    typed is shown back as it was typed."""
    if value is None or value == "":
        return ""
    if isinstance(value, (date, datetime)):
        return value.strftime("%d/%m/%Y")
    text = str(value).strip()[:20]
    try:
        return date.fromisoformat(text).strftime("%d/%m/%Y") if len(text) == 10 else text
    except ValueError:
        return text


def decimal_text(value: Decimal | int | str | None, locale: str | None = None) -> str:
    """A decimal number with the language's one decimal separator: ``6,7`` in Vietnamese,
    ``6.7`` in English; no exponent, no trailing zeros (``15.0`` → ``15``)."""
    if value is None or value == "":
        return ""
    number = Decimal(str(value))
    text = format(number.normalize(), "f") if number == number.to_integral() else str(number)
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    if (locale or _locale()).startswith("vi"):
        text = text.replace(".", ",")
    return text
