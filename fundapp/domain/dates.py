"""Calendar helpers: pure date arithmetic, no application state.

Rules: a schedule date is whole months from its anchor, clamped to the month's last day
(docs/rules.md#schedules); dates read dd/mm/yyyy in every language
(docs/rules.md#display-formats); business dates are in Asia/Ho_Chi_Minh.
"""

from __future__ import annotations

import calendar
from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

DEFAULT_TZ = "Asia/Ho_Chi_Minh"


def add_months(start: date, months: int, anchor_day: int | None = None) -> date:
    """``start`` moved by ``months`` calendar months on ``anchor_day`` (default: start's day),
    clamped to the last day of the target month (31 Jan + 1 month = 28/29 Feb)."""
    day = anchor_day or start.day
    index = start.year * 12 + (start.month - 1) + months
    year, month = divmod(index, 12)
    last = calendar.monthrange(year, month + 1)[1]
    return date(year, month + 1, min(day, last))


def today_in(tz_name: str = DEFAULT_TZ) -> date:
    """Today's date in the fund's time zone (only call this at the edges: views, CLI)."""
    return datetime.now(UTC).astimezone(ZoneInfo(tz_name)).date()


def utcnow() -> datetime:
    return datetime.now(UTC)


def format_date(value: date | datetime | None, locale: str = "vi") -> str:
    """``dd/mm/yyyy`` in every language (issue 16: one date format on screen and paper);
    ``locale`` is kept for callers. Machine formats (API JSON, Excel cells) stay ISO/dates."""
    if value is None:
        return ""
    return value.strftime("%d/%m/%Y")
