"""The SVG charts: valid standalone SVG, CSP-safe, and drawn to scale (checked by hand)."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from datetime import date
from decimal import Decimal

import pytest
from markupsafe import Markup

from fundapp.reports import charts

SVG = "{http://www.w3.org/2000/svg}"
M = 1_000_000


@pytest.fixture
def ctx(app):
    with app.test_request_context():
        yield


def parse(svg: Markup) -> ET.Element:
    assert isinstance(svg, Markup)
    return ET.fromstring(str(svg))  # noqa: S314 (our own markup)


def by_class(root: ET.Element, name: str) -> list[ET.Element]:
    return [e for e in root.iter() if name in e.get("class", "").split()]


def texts(root: ET.Element) -> list[str]:
    return [e.text or "" for e in root.iter(f"{SVG}text")]


def assert_csp_safe(root: ET.Element) -> None:
    for element in root.iter():
        assert "style" not in element.attrib, element.tag
        assert element.tag not in (f"{SVG}style", f"{SVG}script")
        assert not any(name.startswith("on") for name in element.attrib)


def assert_standalone(root: ET.Element, title: str) -> None:
    assert root.tag == f"{SVG}svg"
    assert root.get("viewBox") == f"0 0 {root.get('width')} {root.get('height')}"
    assert int(root.get("width")) > 0 and int(root.get("height")) > 0
    assert root.get("role") == "img" and root.get("aria-label") == title
    assert root.find(f"{SVG}title").text == title
    assert root.get("font-family") == "DejaVu Sans"


def test_nice_ticks():
    assert charts.nice_ticks(14_450 * M) == [0, 5_000 * M, 10_000 * M, 15_000 * M]
    assert charts.nice_ticks(90 * M) == [0, 20 * M, 40 * M, 60 * M, 80 * M, 100 * M]
    assert charts.nice_ticks(100 * M) == [0, 20 * M, 40 * M, 60 * M, 80 * M, 100 * M]
    assert charts.nice_ticks(7) == [0, 2, 4, 6, 8]
    assert charts.nice_ticks(0) == [0, 1]


def test_vietnamese_number_format(ctx):
    assert charts.number_text(Decimal("1234.5")) == "1.234,5"
    assert charts.number_text(Decimal("2.50")) == "2,5"
    assert charts.number_text(Decimal("15")) == "15"
    assert charts.short_money(2_345 * M) == "2,35 tỷ"
    assert charts.short_money(450 * M) == "450 triệu"
    assert charts.short_money(1_250_000) == "1,3 triệu"
    assert charts.short_money(900) == "900 đ"
    assert charts.percent(Decimal("33.33")) == "33,33 %"
    assert charts.percent(Decimal("0.00")) == "0,00 %"
    assert charts.percent(Decimal("12.5")) == "12,50 %"
    assert charts.money_unit(15_000 * M).label == "tỷ đồng"
    assert charts.money_unit(100 * M).label == "triệu đồng"


def test_line_chart_points_are_proportional(ctx):
    points = [(date(2026, 9, 30), 0), (date(2026, 10, 31), 50 * M), (date(2026, 11, 20), 100 * M)]
    root = parse(charts.line_chart("Dư nợ", points))
    assert_standalone(root, "Dư nợ")
    assert_csp_safe(root)
    # plot: left 60, width 472 → x step 236; top 32, height 192 → bottom 224; top tick 100M
    line = by_class(root, "line")[0]
    assert line.get("points") == "60,224 296,128 532,32"
    assert [c.get("cy") for c in by_class(root, "point")] == ["224", "128", "32"]
    labels = texts(root)
    assert "triệu đồng" in labels
    assert [t for t in labels if t.isdigit()] == ["0", "20", "40", "60", "80", "100"]
    assert "09/2026" in labels and "11/2026" in labels
    assert by_class(root, "value")[0].text == "11/2026: 100 triệu"


def test_bar_chart_lengths_are_proportional_and_labels_escaped(ctx):
    items = [("Thành phố Bắc Giang", 60 * M), ("<Lục Ngạn & Sơn Động>", 30 * M), ("Trống", 0)]
    root = parse(charts.bar_chart("Theo huyện", items))
    assert_csp_safe(root)
    bars = by_class(root, "bar")
    # 560 wide − 150 for labels − 80 for values − 8 = 322 for the longest bar
    assert [b.get("width") for b in bars] == ["322", "161"]
    assert [b.get("y") for b in bars] == ["13", "39"]
    assert "<Lục Ngạn & Sơn Động>" in texts(root)
    assert "Trống" not in texts(root)  # nothing to draw for a zero
    assert [v.text for v in by_class(root, "value")] == ["60 triệu", "30 triệu"]


def test_debt_group_chart_shares(ctx):
    root = parse(charts.debt_group_chart("Nhóm nợ", {1: 75 * M, 3: 25 * M}))
    assert_csp_safe(root)
    segments = by_class(root, "segment")
    # 528 units of bar: group 1 takes three quarters, group 3 the rest; 2, 4, 5 are empty
    assert [(s.get("x"), s.get("width")) for s in segments] == [("16", "396"), ("412", "132")]
    assert [s.get("class") for s in segments] == ["segment group-1", "segment group-3"]
    assert [e.text for e in by_class(root, "share")] == ["75 %", "0 %", "25 %", "0 %", "0 %"]
    assert "Nhóm 3 – dưới tiêu chuẩn" in texts(root)


def test_grouped_bars_heights_are_proportional(ctx):
    months = [date(2026, 10, 1), date(2026, 11, 1)]
    series = [("Đến hạn", "#999999", [100 * M, 50 * M]), ("Đã thu", "#0e6b55", [50 * M, 0])]
    root = parse(charts.grouped_bar_chart("Thu nợ", months, series))
    assert_csp_safe(root)
    # plot height 200 (280 − 48 − 32), bottom at 248, top tick 100M
    due = by_class(root, "series-0")
    paid = by_class(root, "series-1")
    assert [b.get("height") for b in due] == ["200", "100"]
    assert [b.get("y") for b in due] == ["48", "148"]
    assert [b.get("height") for b in paid] == ["100", "0"]
    assert int(paid[0].get("x")) == int(due[0].get("x")) + int(due[0].get("width")) + 1
    assert {"Đến hạn", "Đã thu", "10/26", "11/26"} <= set(texts(root))


@pytest.mark.parametrize(
    "draw",
    [
        lambda: charts.line_chart("Trống", []),
        lambda: charts.line_chart("Trống", [(date(2026, 1, 31), 0)]),
        lambda: charts.bar_chart("Trống", []),
        lambda: charts.debt_group_chart("Trống", {}),
        lambda: charts.grouped_bar_chart("Trống", [date(2026, 1, 1)], [("x", "#000", [0])]),
    ],
)
def test_empty_data_says_so(ctx, draw):
    root = parse(draw())
    assert_standalone(root, "Trống")
    assert_csp_safe(root)
    assert "Chưa có dữ liệu" in texts(root)


def test_fund_report_charts_returns_the_four_charts(app):
    drawn = charts.fund_report_charts(date(2026, 11, 20))  # no request: a CLI or a job
    assert set(drawn) == {"outstanding", "by_area", "debt_groups", "collections"}
    for svg in drawn.values():
        root = parse(svg)
        assert_csp_safe(root)
        assert "Chưa có dữ liệu" in texts(root)  # an empty fund
