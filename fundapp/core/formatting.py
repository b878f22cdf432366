"""Template filters: templates never do arithmetic or formatting themselves."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

from flask import current_app
from flask_babel import get_locale

from fundapp.core.dates import format_date
from fundapp.core.money import format_dong, format_rate


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
    if _locale().startswith("vi"):
        return local.strftime("%d/%m/%Y %H:%M")
    return local.strftime("%Y-%m-%d %H:%M")
