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


# A statutory reporting period: ``2026-H1`` the first half of 2026, ``2026`` the year.
_PRESET = re.compile(r"([0-9]{4})(-[Hh]1)?")


def preset(code: str) -> Period | None:
    """The period of a preset code (``2026-H1``, ``2026``), None if it is not one."""
    match = _PRESET.fullmatch(code.strip())
    if not match or not 2000 <= int(match.group(1)) <= 2100:
        return None
    year = int(match.group(1))
    return Period(date(year, 1, 1), date(year, 6, 30) if match.group(2) else date(year, 12, 31))


def preset_label(code: str) -> str:
    year = code[:4]
    if code.upper().endswith("-H1"):
        return _("6 tháng đầu năm %(y)s", y=year)
    return _("Năm %(y)s", y=year)


def presets(today: date, years: int = 3) -> list[tuple[str, str]]:
    """(code, label) of the half-years and years ended by ``today``, the latest first."""
    out = []
    for year in range(today.year, today.year - years - 1, -1):
        for code in (f"{year}", f"{year}-H1"):
            found = preset(code)
            if found and found.end <= today:
                out.append((code, preset_label(code)))
    return out


def period(args: Mapping[str, str], today: date) -> Period:
    """``from`` and ``to``; by default from 1 January of the end's year to the business
    date. ``period`` (``2026-H1``, ``2026``), when given, stands for both."""
    raw = (args.get("period") or "").strip()
    if raw:
        found = preset(raw)
        if found is None:
            _fail("period", _("Kỳ báo cáo không hợp lệ; ghi theo dạng 2026-H1 hoặc 2026."))
        elif found.end > today:
            _fail(
                "period",
                _(
                    "Kỳ %(p)s chưa kết thúc (ngày cuối kỳ %(d)s sau ngày làm việc %(t)s).",
                    p=preset_label(raw),
                    d=format_date(found.end),
                    t=format_date(today),
                ),
            )
        return found  # type: ignore[return-value]
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
