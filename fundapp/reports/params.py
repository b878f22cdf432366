"""Report filters from a query string: a date, a period, a quarter, a grouping.

Each parser returns clean values or raises ValidationFailed naming the parameter, so a bad
date, a period that ends before it starts or a date after the business date gets a clear
message (a 422 with ``fields`` in the API) and never a 500.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, timedelta

from flask_babel import gettext as _

from fundapp.core import validation
from fundapp.domain.dates import format_date
from fundapp.domain.errors import ValidationFailed
from fundapp.funds.services import OriginFilter, origin_filter

GROUPINGS = ("area", "sector", "borrower_kind", "term_class")
# How "area" groups: the current commune, the former district or the former province.
AREA_GROUPINGS = ("commune", "former_district", "former_province")


def _fail(key: str, message: str) -> None:
    raise ValidationFailed(message, {key: message})


def report_date(args: Mapping[str, str], key: str, today: date, default: date) -> date:
    errors: dict[str, str] = {}
    value = validation.iso_date(dict(args), key, errors, required=False)
    if errors:
        _fail(key, errors[key])
    value = value or default
    if value > today:
        _fail(
            key,
            _(
                "Ngày báo cáo %(d)s sau ngày làm việc hiện tại (%(t)s).",
                d=format_date(value),
                t=format_date(today),
            ),
        )
    return value


def as_of(args: Mapping[str, str], today: date) -> date:
    return report_date(args, "as_of", today, today)


def check_order(start: date, end: date, key: str) -> None:
    if start > end:
        _fail(
            key,
            _(
                "Ngày bắt đầu %(f)s sau ngày kết thúc %(t)s; xin chọn lại khoảng thời gian.",
                f=format_date(start),
                t=format_date(end),
            ),
        )


@dataclass(frozen=True)
class Period:
    start: date
    end: date


def period(args: Mapping[str, str], today: date) -> Period:
    """``from`` and ``to``; by default from 1 January of the end's year to the business
    date."""
    end = report_date(args, "to", today, today)
    start = report_date(args, "from", today, date(end.year, 1, 1))
    check_order(start, end, "from")
    return Period(start, end)


@dataclass(frozen=True)
class Quarter:
    year: int
    number: int

    @property
    def code(self) -> str:
        return f"{self.year}-Q{self.number}"

    @property
    def start(self) -> date:
        return date(self.year, 3 * self.number - 2, 1)

    @property
    def end(self) -> date:
        if self.number == 4:
            return date(self.year, 12, 31)
        return date(self.year, 3 * self.number + 1, 1) - timedelta(days=1)


_QUARTER = re.compile(r"([0-9]{4})-?[Qq]([1-4])")


def last_complete_quarter(today: date) -> Quarter:
    current = (today.month - 1) // 3 + 1
    quarter = Quarter(today.year, current)
    if quarter.end <= today:
        return quarter
    return Quarter(today.year - 1, 4) if current == 1 else Quarter(today.year, current - 1)


def quarter(args: Mapping[str, str], today: date) -> Quarter:
    """``quarter`` as ``2026-Q3``; by default the last quarter ended by the business date.
    A quarter not yet ended is refused (the report is as of the quarter's last day)."""
    raw = (args.get("quarter") or "").strip()
    if not raw:
        return last_complete_quarter(today)
    match = _QUARTER.fullmatch(raw)
    if not match or not 2000 <= int(match.group(1)) <= 2100:
        _fail("quarter", _("Quý không hợp lệ; ghi theo dạng 2026-Q3."))
    result = Quarter(int(match.group(1)), int(match.group(2)))  # type: ignore[union-attr]
    if result.end > today:
        _fail(
            "quarter",
            _(
                "Quý %(q)s chưa kết thúc (ngày cuối quý %(d)s sau ngày làm việc %(t)s).",
                q=result.code,
                d=format_date(result.end),
                t=format_date(today),
            ),
        )
    return result


def group_by(args: Mapping[str, str]) -> str:
    raw = (args.get("group_by") or "area").strip()
    if raw not in GROUPINGS:
        _fail(
            "group_by", _("Cách nhóm không hợp lệ; chọn một trong: %(g)s.", g=", ".join(GROUPINGS))
        )
    return raw


def area_by(args: Mapping[str, str]) -> str:
    """``by``: how an area grouping is made (default the current commune)."""
    raw = (args.get("by") or "commune").strip()
    if raw not in AREA_GROUPINGS:
        _fail(
            "by",
            _(
                "Cách nhóm theo địa bàn không hợp lệ; chọn một trong: %(g)s.",
                g=", ".join(AREA_GROUPINGS),
            ),
        )
    return raw


def origin(args: Mapping[str, str]) -> OriginFilter:
    """``origin``: one origin fund's book by its code (``GET /funds``); blank for the
    consolidated figures of every origin."""
    return origin_filter(args.get("origin"), "origin")
