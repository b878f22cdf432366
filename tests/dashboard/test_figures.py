"""The dashboard's figures on the small fund of ``scenario``, checked by hand."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from fundapp.dashboard import figures
from fundapp.extensions import db
from fundapp.repayments import services as rs
from fundapp.reports import series as chart_data
from tests.dashboard.scenario import (
    TODAY,
    build,
    build_until_october,
    close_today_with_pending_work,
)

COLLECTED_2026 = 31_775_342 + 31_346_301 + 30_907_397  # 94.029.040
INTEREST_2026 = 1_775_342 + 1_346_301 + 907_397  # 4.029.040


def test_key_figures_on_the_business_date(app):
    build()
    d = figures.dashboard(TODAY)

    assert d.total_capital == 15_000_000_000
    assert d.outstanding == 90_000_000  # A 30.000.000 + B 60.000.000
    assert (d.position.loans_in_term, d.position.loans_overdue) == (60_000_000, 30_000_000)
    assert d.available_to_lend == 15_000_000_000 - 180_000_000 + COLLECTED_2026
    assert d.available_to_lend == 14_914_029_040
    assert d.bad_debt == 60_000_000  # all of B, group 4 (Circular 14/2024)
    assert d.overdue_ratio == Decimal("33.33")  # 30 / 90
    assert d.bad_debt_ratio == Decimal("66.67")  # 60 / 90
    assert (d.projects, d.cooperatives) == (2, 2)  # loan C is contracted, not disbursed


def test_month_and_year_flows(app):
    build()
    d = figures.dashboard(TODAY)

    assert (d.month.start, d.month.end) == (date(2026, 11, 1), TODAY)
    assert (d.month.disbursed, d.month.collected) == (0, 0)
    assert d.year.start == date(2026, 1, 1)
    assert d.year.disbursed == 180_000_000
    assert d.year.collected == COLLECTED_2026 == 94_029_040
    assert d.year.principal_collected == 90_000_000
    assert d.year.interest_collected == INTEREST_2026 == 4_029_040

    october = figures.dashboard(date(2026, 10, 31)).month
    assert (october.collected, october.principal_collected) == (30_907_397, 30_000_000)
    assert october.interest_collected == 907_397


def test_pending_approvals_count_the_live_queues(app):
    build()
    pending = figures.pending_approvals()
    assert pending.applications_to_appraise == 1
    assert pending.applications_to_decide == 0
    assert pending.disbursements == 1
    assert (pending.reversals, pending.restructurings, pending.write_offs) == (0, 0, 0)
    assert pending.total == 2


def test_outstanding_series_shows_each_disbursement_and_repayment_in_its_month(app):
    build()
    points = chart_data.outstanding_by_month(TODAY)

    assert len(points) == 24
    assert points[0] == (date(2024, 12, 31), 0)
    assert points[-1] == (TODAY, 90_000_000)  # the running month ends on the date asked
    by_month = {day.strftime("%Y-%m"): value for day, value in points}
    assert by_month["2025-12"] == 0
    assert by_month["2026-01"] == 120_000_000  # A disbursed 05/01
    assert by_month["2026-03"] == 120_000_000
    assert by_month["2026-04"] == 90_000_000  # A repays 30.000.000 on 05/04
    assert by_month["2026-05"] == 150_000_000  # B disbursed 10/05
    assert by_month["2026-07"] == 120_000_000
    assert by_month["2026-10"] == 90_000_000
    assert [day for day, _v in points][-3:] == [
        date(2026, 9, 30),
        date(2026, 10, 31),
        TODAY,
    ]


def test_collections_against_amounts_due_per_month(app):
    build()
    months = chart_data.collections_by_month(TODAY)

    assert (months[0].month, months[-1].month) == (date(2025, 12, 1), date(2026, 11, 1))
    by_month = {m.month.strftime("%Y-%m"): m for m in months}
    assert (by_month["2025-12"].due, by_month["2025-12"].collected) == (0, 0)
    assert (by_month["2026-04"].due, by_month["2026-04"].collected) == (31_775_342, 31_775_342)
    assert (by_month["2026-06"].due, by_month["2026-06"].collected) == (5_305_753, 0)
    assert by_month["2026-07"].due == 31_346_301 + 5_271_233
    assert by_month["2026-07"].collected == 31_346_301
    assert by_month["2026-10"].collected == 30_907_397
    assert sum(m.collected for m in months) == COLLECTED_2026


def test_district_and_debt_group_series(app):
    build()
    series = chart_data.chart_series(TODAY, by="former_district")
    assert [(r.code, r.outstanding) for r in series.by_area] == [
        ("213", 60_000_000),
        ("219", 30_000_000),
    ]
    assert series.by_area[0].name == "Thành phố Bắc Giang"
    # B, 163 days past due: group 4 (90–< 180, Circular 14/2024/TT-NHNN).
    assert series.debt_groups == {1: 30_000_000, 2: 0, 3: 0, 4: 60_000_000, 5: 0}


def test_before_the_close_of_day_nothing_is_overdue_or_bad(app):
    build()
    d = figures.dashboard(date(2026, 10, 31))
    assert d.outstanding == 90_000_000
    assert (d.position.loans_overdue, d.bad_debt) == (0, 0)
    assert d.overdue_ratio == d.bad_debt_ratio == Decimal("0.00")
    assert d.series.debt_groups[1] == 90_000_000


def test_an_earlier_date_shows_what_was_known_then(app):
    fund = build_until_october()
    before = figures.to_json(figures.dashboard(date(2026, 10, 31)))

    close_today_with_pending_work(fund)
    rs.record_repayment(
        fund.staff.accountant, fund.loan_b.id, {"amount": 5_305_753, "date": TODAY}, TODAY
    )
    db.session.commit()
    after = figures.to_json(figures.dashboard(date(2026, 10, 31)))

    live = "pending_approvals"
    assert before.pop(live) != after.pop(live)
    assert after == before
    assert figures.dashboard(TODAY).month.collected == 5_305_753


def test_an_empty_fund_has_zero_ratios(app):
    d = figures.dashboard(TODAY)
    assert (d.total_capital, d.outstanding, d.projects) == (0, 0, 0)
    assert d.overdue_ratio == d.bad_debt_ratio == Decimal("0.00")
    assert all(value == 0 for _day, value in d.series.outstanding_by_month)


def test_the_area_series_adds_up_to_the_book_whichever_grouping(app):
    build()
    # 213's first 2021 commune (07201 Phường Thọ Xương) is Phường Bắc Giang (07210) today,
    # 219's (07525 Thị trấn Chũ) Phường Chũ; both lay in the former Bắc Giang province.
    expected = {
        "commune": [("07210", 60_000_000), ("07525", 30_000_000)],
        "former_district": [("213", 60_000_000), ("219", 30_000_000)],
        "former_province": [("24", 90_000_000)],
    }
    for by, rows in expected.items():
        series = chart_data.chart_series(TODAY, by=by)
        assert [(r.code, r.outstanding) for r in series.by_area] == rows, by
        assert (
            sum(r.outstanding for r in series.by_area)
            == 90_000_000
            == sum(series.debt_groups.values())
        )
    data = figures.to_json(figures.dashboard(TODAY, "former_province"))
    assert data["series"]["area_by"] == "former_province"
    assert data["series"]["by_area"] == [
        {"code": "24", "name": "Tỉnh Bắc Giang", "outstanding": 90_000_000}
    ]
