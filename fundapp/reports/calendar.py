"""The statutory reporting calendar (docs/rules.md#statutory-reports): which report is due
by which date, for which period, on what legal basis, as data in one place.

``due(today)`` is what the director's dashboard shows for the business date: this year's
deadlines already past (the fund does not record what it sent, so they are listed to be
checked) and the next occurrence of each deadline still to come.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from flask_babel import lazy_gettext as _l

from fundapp.reports import params

_BASIS_REPORTS = "Nghị định 45/2021/NĐ-CP Điều 44; Thông tư 52/2022/TT-BTC Điều 11–12"


@dataclass(frozen=True)
class Statutory:
    """A report the fund must send every year: ``half_year`` for the first half of the
    year it is due in, else for the whole year before; due by ``month``/``day``."""

    key: str
    title: Any
    recipients: Any
    report: str  # the catalogue's slug, pre-filled with the period
    half_year: bool
    month: int
    day: int
    basis: Any  # the legal reference (an act's article), or why there is none
    query: str = "period"  # the report's filter that takes the period code

    @property
    def endpoint(self) -> str:
        """The report's web page (``web.reports``)."""
        return "reports." + self.report.replace("-", "_")

    def period_code(self, due_year: int) -> str:
        return f"{due_year}-H1" if self.half_year else f"{due_year - 1}"


_TO_PROVINCE = _l("UBND tỉnh, Sở Tài chính")

STATUTORY: tuple[Statutory, ...] = (
    Statutory(
        "lending_half_year",
        _l("Báo cáo tình hình hoạt động cho vay 6 tháng (Phụ lục 1a)"),
        _TO_PROVINCE,
        "lending-activity",
        True,
        7,
        31,
        f"{_BASIS_REPORTS}, Phụ lục 1a",
    ),
    Statutory(
        "operations_half_year",
        _l("Báo cáo tổng hợp tình hình hoạt động nghiệp vụ 6 tháng (Phụ lục 2a)"),
        _TO_PROVINCE,
        "operations",
        True,
        7,
        31,
        f"{_BASIS_REPORTS}, Phụ lục 2a",
    ),
    Statutory(
        "lending_year",
        _l("Báo cáo tình hình hoạt động cho vay năm (Phụ lục 1a)"),
        _TO_PROVINCE,
        "lending-activity",
        False,
        3,
        31,
        f"{_BASIS_REPORTS}, Phụ lục 1a",
    ),
    Statutory(
        "operations_year",
        _l("Báo cáo tổng hợp tình hình hoạt động nghiệp vụ năm (Phụ lục 2a)"),
        _TO_PROVINCE,
        "operations",
        False,
        3,
        31,
        f"{_BASIS_REPORTS}, Phụ lục 2a",
    ),
    Statutory(
        "ranking",
        _l("Tự đánh giá, xếp loại Quỹ (A, B, C)"),
        _l("Liên minh Hợp tác xã tỉnh"),
        "ranking",
        False,
        5,
        31,
        _l("Theo yêu cầu của Quỹ; chưa tìm thấy văn bản quy định hạn này"),
        "year",
    ),
)


@dataclass(frozen=True)
class Due:
    statutory: Statutory
    due_date: date
    period: str  # params.preset code: 2026-H1, 2025
    period_label: str
    period_ended: bool  # the report can be made (its period is over by the business date)
    past: bool  # the due date is before the business date


def _occurrence(s: Statutory, year: int, today: date) -> Due:
    code = s.period_code(year)
    found = params.preset(code)
    if found is None:  # a year outside 2000–2100
        raise ValueError(code)
    due_date = date(year, s.month, s.day)
    return Due(
        statutory=s,
        due_date=due_date,
        period=code,
        period_label=params.preset_label(code),
        period_ended=found.end <= today,
        past=due_date < today,
    )


def due(today: date) -> list[Due]:
    """This year's deadlines already past, then the next occurrence of each deadline (due
    on or after ``today``), in date order."""
    out = []
    for s in STATUTORY:
        this_year = _occurrence(s, today.year, today)
        if this_year.past:
            out.append(this_year)
            out.append(_occurrence(s, today.year + 1, today))
        else:
            out.append(this_year)
    return sorted(out, key=lambda d: (d.due_date, STATUTORY.index(d.statutory)))
