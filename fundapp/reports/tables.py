"""The tables of a report: one shape that the HTML page, the PDF and the Excel file all
render, so the three always carry the same figures.

A column's ``kind`` says how its cells are shown: ``text``, ``money`` (int đồng),
``count`` (int), ``ratio`` (Decimal percent, e.g. ``Decimal("2.45")``) or ``date``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from flask_babel import get_locale

from fundapp.domain.money import format_dong

KINDS = ("text", "money", "count", "ratio", "date")


@dataclass(frozen=True)
class Column:
    label: str
    kind: str = "money"
    width: int = 18  # Excel characters

    @property
    def numeric(self) -> bool:
        return self.kind in {"money", "count", "ratio"}


@dataclass(frozen=True)
class Row:
    cells: tuple[Any, ...]
    level: int = 0  # 1 = a detail line under the row above it
    strong: bool = False
    kinds: tuple[str, ...] | None = None  # per-cell kinds, when a row differs from its columns

    def kind(self, index: int, column: Column) -> str:
        return self.kinds[index] if self.kinds else column.kind

    def cells_with_kinds(self, columns: tuple[Column, ...]) -> list[tuple[Any, str]]:
        return [
            (v, self.kind(i, c)) for i, (v, c) in enumerate(zip(self.cells, columns, strict=True))
        ]


@dataclass(frozen=True)
class Table:
    key: str
    title: str
    columns: tuple[Column, ...]
    rows: tuple[Row, ...]
    total: Row | None = None
    note: str = ""
    sheet: str = ""  # Excel sheet name (≤ 31 characters); the title when empty
    # Many money columns: printed small (every amount still carries its currency).
    wide: bool = field(default=False)

    @property
    def column_shares(self) -> tuple[str, ...]:
        """Each column's share of the printed width, from the Excel widths (``"12.5%"``)."""
        total = sum(c.width for c in self.columns)
        return tuple(f"{100 * c.width / total:.1f}%" for c in self.columns)

    @property
    def sheet_name(self) -> str:
        name = self.sheet or self.title
        for char in "[]:*?/\\":
            name = name.replace(char, " ")
        return name[:31]


def ratio(part: int, whole: int) -> Decimal:
    """``part`` as a percentage of ``whole``, to two decimals (0 when ``whole`` is 0)."""
    if not whole:
        return Decimal("0.00")
    return (Decimal(part) * 100 / Decimal(whole)).quantize(Decimal("0.01"), ROUND_HALF_UP)


def format_ratio(value: Decimal | None, locale: str = "vi") -> str:
    """``2,45 %`` in Vietnamese, ``2.45 %`` in English."""
    if value is None:
        return ""
    text = f"{Decimal(value):.2f}"
    return f"{text.replace('.', ',') if locale.startswith('vi') else text} %"


def _current_locale() -> str:
    try:
        return str(get_locale() or "vi")
    except RuntimeError:
        return "vi"


def amount_filter(amount: int | None) -> str:
    """The ``amount`` template filter: every amount carries its currency (issue 16), so it is
    the one money format, ``1.234.567 đ`` / ``1,234,567 VND``."""
    return format_dong(amount, _current_locale())


def pct_filter(value: Decimal | None) -> str:
    """The ``pct`` template filter: a percentage in the current language."""
    return format_ratio(value, _current_locale())
