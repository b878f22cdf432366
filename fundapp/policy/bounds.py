"""What a policy parameter may take and how that is said to the board: the legal ranges in
force from a date, the shapes a typed value may have, and their wording (Vietnamese, with the
decimal comma, in the user's language when there is a request).

The ranges are those of docs/rules.md#lending-policy-as-dated-data: the fund may be
stricter than the law, never looser. ``fundapp.policy.parameters`` lists each parameter
with its bounds.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from itertools import pairwise
from typing import Any

from flask_babel import get_locale
from flask_babel import gettext as _

from fundapp.domain.money import format_dong

INTEGER = re.compile(r"[0-9]{1,16}", re.ASCII)
# A percentage: ASCII digits, at most four decimals, a point or the Vietnamese comma.
PERCENT = re.compile(r"[0-9]{1,4}(?:[.,][0-9]{1,4})?", re.ASCII)
# A yes/no parameter as typed (Vietnamese or English) → as stored.
YES_NO = {
    "yes": "yes",
    "có": "yes",
    "co": "yes",
    "1": "yes",
    "no": "no",
    "không": "no",
    "khong": "no",
    "0": "no",
}
LIST_PERCENT = re.compile(r"[0-9]{1,3}(?:\.[0-9]{1,4})?", re.ASCII)


class OutOfRange(ValueError):
    """A proposed value the parameter may not take; ``message`` says what it may."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


@dataclass(frozen=True)
class Range:
    """``low``–``high``; an open end is excluded ("above 0", "below 100")."""

    low: Decimal
    high: Decimal
    low_open: bool = False
    high_open: bool = False

    def __contains__(self, value: object) -> bool:
        if not isinstance(value, (int, Decimal)):
            return False
        above = value > self.low if self.low_open else value >= self.low
        below = value < self.high if self.high_open else value <= self.high
        return above and below


@dataclass(frozen=True)
class Bound:
    """What the law allows from ``since`` on: one range per item (one for a single value),
    and for a list the order its items must keep."""

    since: date
    ranges: tuple[Range, ...]
    reference: str
    # "increasing" (strictly), "non_decreasing", "floors" (the restructuring floors: the
    # second and later restructurings no lower than a first one), or "" for a single value.
    order: str = ""


def ordered(values: Sequence[Any], order: str) -> bool:
    """Whether the items of a list parameter keep the ``order`` its bound asks for."""
    pairs = list(pairwise(values))
    if order == "increasing":
        return all(a < b for a, b in pairs)
    if order == "non_decreasing":
        return all(a <= b for a, b in pairs)
    if order == "floors":
        first_term, first_extension, second, third = values
        return second >= max(first_term, first_extension) and third >= second
    return True


def plain(value: Decimal | int) -> str:
    """A number as stored: ``150``, ``0.75``, never an exponent."""
    if isinstance(value, int):
        return str(value)
    return format(value.normalize(), "f")


def _locale() -> str:
    try:
        return str(get_locale() or "vi")
    except RuntimeError:  # outside a request: the fund's language
        return "vi"


def _shown(value: Decimal, kind: str) -> str:
    locale = _locale()
    if kind == "money":
        return format_dong(int(value), locale)
    text = plain(value)
    if locale.startswith("vi"):
        text = text.replace(".", ",")
    if kind == "months":
        return _("%(n)s tháng", n=text)
    if kind == "days":
        return _("%(n)s ngày", n=text)
    return f"{text} %" if kind == "percent" else text


def describe(span: Range, kind: str) -> str:
    """``span`` in words: "từ 20 % đến dưới 100 %", "lớn hơn 0 % và không quá 15 %"."""
    low, high = _shown(span.low, kind), _shown(span.high, kind)
    if span.low == span.high:
        return _("bằng %(v)s", v=low)
    if span.low_open and span.high_open:
        return _("lớn hơn %(low)s và nhỏ hơn %(high)s", low=low, high=high)
    if span.low_open:
        return _("lớn hơn %(low)s và không quá %(high)s", low=low, high=high)
    if span.high_open:
        return _("từ %(low)s đến dưới %(high)s", low=low, high=high)
    return _("từ %(low)s đến %(high)s", low=low, high=high)


def shape_message(kind: str) -> str:
    """What a value of ``kind`` must look like, for one typed another way."""
    return {
        "percent": _("Nhập một số phần trăm, chỉ gồm chữ số 0–9, ví dụ 6,5 hoặc 6.5."),
        "money": _("Nhập số tiền là số nguyên đồng, chỉ gồm chữ số 0–9."),
        "months": _("Nhập số tháng là số nguyên, chỉ gồm chữ số 0–9."),
        "days": _("Nhập số ngày là số nguyên, chỉ gồm chữ số 0–9."),
        "group": _("Nhập số nhóm nợ là số nguyên, chỉ gồm chữ số 0–9."),
        "yesno": _("Nhập “có” (yes) hoặc “không” (no)."),
        "int_list": _("Nhập bốn số ngày nguyên, cách nhau bởi dấu phẩy, ví dụ 10,30,90,180."),
        "group_list": _("Nhập bốn số nhóm nợ, cách nhau bởi dấu phẩy, ví dụ 2,3,4,5."),
        "percent_list": _(
            "Nhập năm tỷ lệ phần trăm cách nhau bởi dấu phẩy, phần thập phân dùng dấu "
            "chấm, ví dụ 0,5,20,50,100 hoặc 0,2.5,20,50,100."
        ),
    }[kind]


def list_message(kind: str, bound: Bound) -> str:
    """What a list parameter of ``kind`` may take under ``bound``, in words."""
    if kind == "int_list":
        return _(
            "Số ngày bắt đầu nhóm 2, 3, 4, 5 phải tăng dần, từ 1 ngày, và không muộn hơn "
            "lần lượt %(limits)s ngày (%(ref)s).",
            limits=", ".join(plain(r.high) for r in bound.ranges),
            ref=bound.reference,
        )
    if kind == "group_list":
        return _(
            "Nhóm nợ tối thiểu khi cơ cấu phải từ lần lượt %(lows)s đến 5, và lần cơ cấu "
            "sau không thấp hơn lần trước (%(ref)s).",
            lows=", ".join(plain(r.low) for r in bound.ranges),
            ref=bound.reference,
        )
    return _(
        "Tỷ lệ trích lập nhóm 1–5 phải không giảm từ nhóm 1 đến nhóm 5, không thấp hơn lần "
        "lượt %(lows)s %% và không quá 100 %% (%(ref)s).",
        lows=", ".join(plain(r.low) for r in bound.ranges),
        ref=bound.reference,
    )
