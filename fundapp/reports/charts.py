"""Server-side SVG charts from plain data, for the dashboard page and the fund report PDF
(in reports, below the dashboard, because the fund balance report draws them too).

Each chart is a standalone ``<svg>`` (xmlns, viewBox, width and height, so WeasyPrint sizes
it) drawn with presentation attributes only: the CSP forbids ``style`` attributes and
inline ``<style>`` or ``<script>``. Coordinates are whole viewBox units computed with
integer arithmetic; money stays integer đồng until it is written as a label.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from decimal import ROUND_HALF_UP, Decimal

from flask_babel import get_locale
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from markupsafe import Markup

from fundapp.reports.aggregates import Book
from fundapp.reports.series import ChartSeries, chart_series

FONT = "DejaVu Sans"
INK = "#1b2523"
MUTED = "#5b6a66"
GRID = "#d6dedb"
PRIMARY = "#0e6b55"
GROUP_COLOURS = {1: "#067647", 2: "#d99a00", 3: "#e07b00", 4: "#c2410c", 5: "#9b1c13"}
WIDTH = 560
BILLION = 1_000_000_000
MILLION = 1_000_000


# --- numbers and scales ----------------------------------------------------------------------


def _vietnamese() -> bool:
    try:
        return str(get_locale() or "vi").startswith("vi")
    except RuntimeError:
        return True


def _div(numerator: int, denominator: int) -> int:
    """``numerator / denominator`` rounded half-up, in integers (both may be large)."""
    if denominator <= 0:
        return 0
    sign = -1 if numerator < 0 else 1
    return sign * ((2 * abs(numerator) + denominator) // (2 * denominator))


def nice_step(maximum: int, ticks: int = 5) -> int:
    """The smallest step of 1, 2 or 5 × 10^k that covers ``maximum`` in ``ticks`` steps."""
    raw = max(-(-maximum // ticks), 1)
    power = 10 ** (len(str(raw)) - 1)
    for multiple in (1, 2, 5, 10):
        if multiple * power >= raw:
            return multiple * power
    raise AssertionError("unreachable")


def nice_ticks(maximum: int, ticks: int = 5) -> list[int]:
    """0, step, 2·step … up to the first multiple of a nice step at or above ``maximum``."""
    step = nice_step(max(maximum, 1), ticks)
    top = -(-max(maximum, 1) // step) * step
    return list(range(0, top + 1, step))


@dataclass(frozen=True)
class Unit:
    divisor: int
    label: str


def money_unit(maximum: int) -> Unit:
    """Tỷ đồng for billions, triệu đồng for millions, đồng below."""
    if maximum >= BILLION:
        return Unit(BILLION, _("tỷ đồng"))
    if maximum >= MILLION:
        return Unit(MILLION, _("triệu đồng"))
    return Unit(1, _("đồng"))


def number_text(value: Decimal, places: int = 2, fixed: bool = False) -> str:
    """``1.234,5`` in Vietnamese (dots for thousands, comma decimal), ``1,234.5`` in English;
    trailing zeros dropped unless ``fixed``."""
    rounded = value.quantize(Decimal(1).scaleb(-places), rounding=ROUND_HALF_UP)
    text = f"{rounded:,f}"
    if "." in text and not fixed:
        text = text.rstrip("0").rstrip(".")
    if text in ("-0", ""):
        text = "0"
    if _vietnamese():
        text = text.translate(str.maketrans({",": ".", ".": ","}))
    return text


def in_unit(amount: int, unit: Unit, places: int = 2) -> str:
    return number_text(Decimal(amount) / Decimal(unit.divisor), places)


def short_money(amount: int) -> str:
    """An amount for a bar's end: ``2,35 tỷ``, ``450 triệu``."""
    unit = money_unit(abs(amount))
    if unit.divisor == BILLION:
        return _("%(n)s tỷ", n=in_unit(amount, unit))
    if unit.divisor == MILLION:
        return _("%(n)s triệu", n=in_unit(amount, unit, 1))
    return _("%(n)s đ", n=number_text(Decimal(amount), 0))


def percent(value: Decimal, places: int = 2) -> str:
    """A ratio for display, at a fixed precision: ``1,25 %``, ``0,00 %``."""
    return f"{number_text(value, places, fixed=True)} %"


def percent_text(part: int, whole: int) -> str:
    if whole <= 0:
        return "0 %"
    return f"{number_text(Decimal(part) * 100 / Decimal(whole), 1)} %"


def month_label(day: date, short: bool = False) -> str:
    return f"{day.month:02d}/{day.year % 100:02d}" if short else f"{day.month:02d}/{day.year}"


# --- SVG pieces ------------------------------------------------------------------------------


def _attrs(values: Mapping[str, object]) -> Markup:
    return Markup("").join(
        Markup(' {}="{}"').format(name.rstrip("_").replace("_", "-"), value)
        for name, value in values.items()
        if value is not None
    )


def _el(tag: str, **attrs: object) -> Markup:
    return Markup("<{}{}/>").format(tag, _attrs(attrs))


def _titled(tag: str, tooltip: str, **attrs: object) -> Markup:
    """An element with a hover title (a tooltip in browsers, read by screen readers)."""
    return Markup("<{0}{1}><title>{2}</title></{0}>").format(tag, _attrs(attrs), tooltip)


def _text(x: int, y: int, content: str, **attrs: object) -> Markup:
    attrs.setdefault("font_size", 12)
    attrs.setdefault("fill", INK)
    return Markup("<text{}>{}</text>").format(_attrs({"x": x, "y": y, **attrs}), content)


def _svg(title: str, width: int, height: int, body: list[Markup]) -> Markup:
    head = Markup(
        '<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {w} {h}" width="{w}" height="{h}"'
        ' role="img" aria-label="{t}" font-family="{f}" class="chart"><title>{t}</title>'
    ).format(w=width, h=height, t=title, f=FONT)
    return head + Markup("").join(body) + Markup("</svg>")


def empty_chart(title: str, width: int = WIDTH, height: int = 260) -> Markup:
    """The frame of a chart with nothing to draw: says so instead of failing."""
    return _svg(
        title,
        width,
        height,
        [
            _el(
                "rect",
                x=1,
                y=1,
                width=width - 2,
                height=height - 2,
                fill="#f7f9f8",
                stroke=GRID,
                stroke_dasharray="4 4",
            ),
            _text(
                width // 2,
                height // 2,
                _("Chưa có dữ liệu"),
                font_size=14,
                fill=MUTED,
                text_anchor="middle",
            ),
        ],
    )


@dataclass(frozen=True)
class Plot:
    """The drawing area of an x/y chart: left, top, width, height, and the y scale."""

    left: int
    top: int
    width: int
    height: int
    ticks: list[int]

    @property
    def bottom(self) -> int:
        return self.top + self.height

    def y(self, value: int) -> int:
        return self.bottom - _div(value * self.height, self.ticks[-1])


def _y_axis(plot: Plot, unit: Unit) -> list[Markup]:
    parts = [_text(8, plot.top - 14, unit.label, fill=MUTED, font_size=11)]
    for tick in plot.ticks:
        y = plot.y(tick)
        colour = MUTED if tick == 0 else GRID
        right = plot.left + plot.width
        parts.append(_el("line", x1=plot.left, y1=y, x2=right, y2=y, stroke=colour))
        parts.append(
            _text(
                plot.left - 8,
                y + 4,
                in_unit(tick, unit),
                fill=MUTED,
                font_size=11,
                text_anchor="end",
            )
        )
    return parts


# --- the charts ------------------------------------------------------------------------------


def line_chart(title: str, points: Sequence[tuple[date, int]]) -> Markup:
    """Outstanding over month-ends: an area under a line, money on the y axis."""
    width, height = WIDTH, 260
    if not points or not any(value for _d, value in points):
        return empty_chart(title, width, height)
    maximum = max(value for _d, value in points)
    plot = Plot(60, 32, width - 60 - 28, height - 32 - 36, nice_ticks(maximum))
    unit = money_unit(plot.ticks[-1])
    count = len(points)
    step = plot.width // max(count - 1, 1)
    xs = [plot.left + i * step for i in range(count)]
    ys = [plot.y(value) for _d, value in points]
    line = " ".join(f"{x},{y}" for x, y in zip(xs, ys, strict=True))
    area = f"{xs[0]},{plot.bottom} {line} {xs[-1]},{plot.bottom}"
    body = _y_axis(plot, unit)
    body.append(_el("polygon", points=area, fill=PRIMARY, fill_opacity="0.12", class_="area"))
    body.append(
        _el("polyline", points=line, fill="none", stroke=PRIMARY, stroke_width=2, class_="line")
    )
    label_every = max(1, -(-count // 8))
    for index, ((day, value), x, y) in enumerate(zip(points, xs, ys, strict=True)):
        tooltip = f"{month_label(day)}: {short_money(value)}"
        body.append(_titled("circle", tooltip, cx=x, cy=y, r=3, fill=PRIMARY, class_="point"))
        if (count - 1 - index) % label_every == 0:
            body.append(
                _text(
                    x,
                    plot.bottom + 18,
                    month_label(day),
                    fill=MUTED,
                    font_size=11,
                    text_anchor="middle",
                )
            )
    last_day, last_value = points[-1]
    body.append(
        _text(
            width - 12,
            plot.top - 14,
            f"{month_label(last_day)}: {short_money(last_value)}",
            font_weight="bold",
            text_anchor="end",
            class_="value",
        )
    )
    return _svg(title, width, height, body)


def bar_chart(title: str, items: Sequence[tuple[str, int]]) -> Markup:
    """Horizontal bars, largest first as given: e.g. outstanding by district."""
    width = WIDTH
    rows = [(label, value) for label, value in items if value > 0]
    if not rows:
        return empty_chart(title, width, 200)
    label_width, value_width, row_height, top = 150, 80, 26, 8
    bar_space = width - label_width - value_width - 8
    height = top + row_height * len(rows) + 8
    maximum = max(value for _label, value in rows)
    body = [
        _el("line", x1=label_width, y1=top, x2=label_width, y2=height - 8, stroke=MUTED),
    ]
    for index, (label, value) in enumerate(rows):
        y = top + index * row_height
        length = max(_div(value * bar_space, maximum), 1)
        body.append(_text(label_width - 8, y + 17, label, text_anchor="end"))
        body.append(
            _el(
                "rect",
                x=label_width,
                y=y + 5,
                width=length,
                height=row_height - 10,
                fill=PRIMARY,
                class_="bar",
            )
        )
        body.append(
            _text(label_width + length + 6, y + 17, short_money(value), fill=MUTED, class_="value")
        )
    return _svg(title, width, height, body)


def debt_group_chart(title: str, groups: Mapping[int, int]) -> Markup:
    """Outstanding by debt group 1–5: one stacked bar of shares and a legend with amounts."""
    width, height = WIDTH, 190
    total = sum(max(groups.get(g, 0), 0) for g in range(1, 6))
    if total <= 0:
        return empty_chart(title, width, height)
    left, bar_width, bar_top, bar_height = 16, width - 32, 12, 30
    body: list[Markup] = []
    x = left
    for group in range(1, 6):
        amount = max(groups.get(group, 0), 0)
        end = left + _div(
            sum(max(groups.get(g, 0), 0) for g in range(1, group + 1)) * bar_width, total
        )
        if end > x:
            body.append(
                _titled(
                    "rect",
                    f"{group_name(group)}: {percent_text(amount, total)}",
                    x=x,
                    y=bar_top,
                    width=end - x,
                    height=bar_height,
                    fill=GROUP_COLOURS[group],
                    class_=f"segment group-{group}",
                )
            )
        x = end
    for group in range(1, 6):
        amount = max(groups.get(group, 0), 0)
        y = bar_top + bar_height + 18 + (group - 1) * 26
        body.append(_el("rect", x=left, y=y, width=14, height=14, fill=GROUP_COLOURS[group], rx=2))
        body.append(_text(left + 22, y + 12, group_name(group)))
        body.append(
            _text(width - 90, y + 12, short_money(amount) if amount else "0", text_anchor="end")
        )
        body.append(
            _text(
                width - 16,
                y + 12,
                percent_text(amount, total),
                fill=MUTED,
                text_anchor="end",
                class_="share",
            )
        )
    return _svg(title, width, height, body)


def group_name(group: int) -> str:
    names = {
        1: _("Nhóm 1 – đủ tiêu chuẩn"),
        2: _("Nhóm 2 – cần chú ý"),
        3: _("Nhóm 3 – dưới tiêu chuẩn"),
        4: _("Nhóm 4 – nghi ngờ"),
        5: _("Nhóm 5 – có khả năng mất vốn"),
    }
    return names[group]


def grouped_bar_chart(
    title: str,
    months: Sequence[date],
    series: Sequence[tuple[str, str, Sequence[int]]],
) -> Markup:
    """Bars side by side per month, one per series ``(name, colour, values)``."""
    width, height = WIDTH, 280
    if not months or not any(v for _n, _c, values in series for v in values):
        return empty_chart(title, width, height)
    maximum = max(v for _n, _c, values in series for v in values)
    plot = Plot(60, 48, width - 60 - 16, height - 48 - 32, nice_ticks(maximum))
    unit = money_unit(plot.ticks[-1])
    body = _y_axis(plot, unit)
    for index, (name, colour, _values) in enumerate(series):
        x = plot.left + index * 180
        body.append(_el("rect", x=x, y=8, width=12, height=12, fill=colour, rx=2))
        body.append(_text(x + 18, 18, name))
    slot = plot.width // len(months)
    bar = max((slot - 8) // max(len(series), 1), 2)
    for m, month in enumerate(months):
        x0 = plot.left + m * slot + (slot - bar * len(series)) // 2
        for s, (name, colour, values) in enumerate(series):
            value = values[m]
            y = plot.y(value)
            body.append(
                _titled(
                    "rect",
                    f"{name} {month_label(month)}: {short_money(value)}",
                    x=x0 + s * bar,
                    y=y,
                    width=bar - 1,
                    height=plot.bottom - y,
                    fill=colour,
                    class_=f"bar series-{s}",
                )
            )
        body.append(
            _text(
                plot.left + m * slot + slot // 2,
                plot.bottom + 16,
                month_label(month, short=True),
                fill=MUTED,
                font_size=11,
                text_anchor="middle",
            )
        )
    return _svg(title, width, height, body)


# --- the dashboard's four charts -------------------------------------------------------------

AREA_TITLES = {
    "commune": _l("Dư nợ theo xã, phường (hiện nay)"),
    "former_district": _l("Dư nợ theo huyện cũ"),
    "former_province": _l("Dư nợ theo tỉnh cũ"),
}


def dashboard_charts(series: ChartSeries) -> dict[str, Markup]:
    """The four charts of the dashboard's series."""
    return {
        "outstanding": line_chart(
            _("Dư nợ cho vay cuối mỗi tháng (24 tháng)"), series.outstanding_by_month
        ),
        "by_area": bar_chart(
            str(AREA_TITLES.get(series.area_by, AREA_TITLES["commune"])),
            [(r.name, r.outstanding) for r in series.by_area],
        ),
        "debt_groups": debt_group_chart(_("Dư nợ theo nhóm nợ"), series.debt_groups),
        "collections": grouped_bar_chart(
            _("Thu nợ so với số đến hạn (12 tháng)"),
            [m.month for m in series.collections],
            [
                (_("Đến hạn (gốc + lãi)"), "#9fb4ae", [m.due for m in series.collections]),
                (_("Đã thu"), PRIMARY, [m.collected for m in series.collections]),
            ],
        ),
    }


def fund_report_charts(as_of: date, book: Book | None = None) -> dict[str, Markup]:
    """The dashboard's four charts as of ``as_of``, for the fund balance report PDF
    (``book``: ``aggregates.book(as_of, AREA_AND_GROUP)`` when the caller has it).

    Keys: ``outstanding`` (24 month-ends), ``by_area``, ``debt_groups`` and
    ``collections`` (due vs collected, 12 months).
    """
    return dashboard_charts(chart_series(as_of, book))
