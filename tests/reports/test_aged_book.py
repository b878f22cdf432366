"""Classification, PAR/ageing and lending activity on the aged fund of ``scenario``, as of
30/06/2026 (the end of 2026-Q2); figures worked out in ``scenario.AgedFund``."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from fundapp.ledger import accounts as acc
from fundapp.ledger.services import balances
from fundapp.reports import activity, classification, par
from fundapp.reports.params import Quarter
from tests.conftest import api_token, fresh_database, make_app, make_user
from tests.reports.outputs import money, pdf_text, sheet_rows, workbook
from tests.reports.scenario import QUARTER_END, aged_fund

Q2 = Quarter(2026, 2)


@pytest.fixture(scope="module")
def aged():
    with fresh_database(make_app()) as app:
        fund = aged_fund()
        yield app, fund


@pytest.fixture(scope="module")
def headers(aged):
    app, _fund = aged
    return api_token(app.test_client(), make_user("board"))


def test_positions_on_the_quarter_end(aged):
    _app, aged_book = aged
    fund = aged_book.fund
    report = classification.build(Q2)
    by_loan = {x.loan_id: x for x in report.loans}
    a, c = by_loan[fund.loan_a.id], by_loan[aged_book.loan_c.id]
    # 135 days: group 4 (90–< 180) under Circular 14/2024 (group 3 before issue 15).
    assert (a.debt_group, a.days_past_due, a.outstanding, a.principal_overdue) == (
        4,
        135,
        120_000_000,
        50_000_000,
    )
    assert (c.debt_group, c.days_past_due, c.outstanding, c.principal_overdue) == (
        2,
        20,
        60_000_000,
        5_000_000,
    )
    assert [x.loan_id for x in report.loans] == [fund.loan_a.id, aged_book.loan_c.id]


def test_classification_by_group_with_provisions_required_and_held(aged):
    report = classification.build(Q2)
    assert (report.quarter, report.start, report.as_of) == (
        "2026-Q2",
        date(2026, 4, 1),
        QUARTER_END,
    )
    rows = {g.group: g for g in report.groups}
    assert (rows[1].loans, rows[1].outstanding, rows[1].specific_required) == (1, 237_500_000, 0)
    assert (rows[2].loans, rows[2].outstanding, rows[2].provision_rate) == (
        1,
        60_000_000,
        Decimal("2"),
    )
    # Decree 86/2024 rates: 2 % × 60.000.000; 50 % × (120.000.000 − 20.000.000).
    assert rows[2].specific_required == rows[2].specific_held == 1_200_000
    assert (rows[4].collateral_value, rows[4].discounted_collateral) == (40_000_000, 20_000_000)
    assert rows[4].specific_required == rows[4].specific_held == 50_000_000
    assert rows[3].loans == rows[5].loans == 0
    assert (report.total_loans, report.total_outstanding) == (3, 417_500_000)
    assert report.general_base == 417_500_000
    assert report.general_required == report.general_held == 3_131_250
    assert report.total_required == report.total_held == 54_331_250
    assert report.total_held == balances(QUARTER_END)[acc.PROVISION]


def test_par_and_ageing(aged):
    report = par.build(QUARTER_END)
    assert (report.loans, report.outstanding, report.principal_overdue) == (
        3,
        417_500_000,
        55_000_000,
    )
    # PAR 1: (120.000.000 + 60.000.000) / 417.500.000 = 43,114 %; PAR 30 = PAR 90: 28,743 %
    assert [(p.days, p.loans, p.outstanding, p.ratio) for p in report.par] == [
        (1, 2, 180_000_000, Decimal("43.11")),
        (30, 1, 120_000_000, Decimal("28.74")),
        (90, 1, 120_000_000, Decimal("28.74")),
    ]
    assert [(b.key, b.loans, b.outstanding, b.principal_overdue) for b in report.buckets] == [
        ("current", 1, 237_500_000, 0),
        ("1_30", 1, 60_000_000, 5_000_000),
        ("31_90", 0, 0, 0),
        ("91_180", 1, 120_000_000, 50_000_000),
        ("181_360", 0, 0, 0),
        ("over_360", 0, 0, 0),
    ]
    assert report.buckets[0].share == Decimal("56.89")  # 237.500.000 / 417.500.000


def test_par_on_an_earlier_date_reads_the_history(aged):
    # On 25/02 only A was late (10 days); C did not exist yet.
    report = par.build(date(2026, 2, 25))
    assert (report.loans, report.outstanding) == (2, 407_500_000)
    assert [(p.days, p.outstanding) for p in report.par] == [
        (1, 120_000_000),
        (30, 0),
        (90, 0),
    ]


@pytest.mark.parametrize(
    ("by", "keys"),
    [
        # The three borrowers' first 2021 communes: 07201 (TP Bắc Giang) → 07210 Phường
        # Bắc Giang; Tân Yên's first → its commune of today; 07525 Thị trấn Chũ → Phường Chũ.
        ("former_district", ["213", "216", "219"]),
        ("former_province", ["24"]),
    ],
)
def test_lending_activity_totals_are_the_same_whichever_area(aged, by, keys):
    by_commune = activity.build(date(2026, 4, 1), QUARTER_END, "area", "commune")
    report = activity.build(date(2026, 4, 1), QUARTER_END, "area", by)
    assert [r.key for r in report.rows] == keys
    assert report.total == by_commune.total
    assert len(by_commune.rows) == 3  # three communes of today, one per borrower
    for name in ("opening", "disbursed", "principal_collected", "closing", "provision"):
        assert sum(getattr(r, name) for r in report.rows) == getattr(report.total, name)


def test_lending_activity_for_the_quarter_by_district(aged):
    report = activity.build(date(2026, 4, 1), QUARTER_END, "area", "former_district")
    rows = {r.key: r for r in report.rows}
    assert list(rows) == ["213", "216", "219"]
    b, c, a = rows["213"], rows["216"], rows["219"]
    # B: 275.000.000 on 31/03, three instalments of 12.500.000 paid with interest
    # 1.401.370 (31 days on 275.000.000) + 1.294.521 (30 days on 262.500.000)
    # + 1.273.973 (31 days on 250.000.000) = 3.969.864.
    assert (b.opening, b.disbursed, b.principal_collected, b.interest_collected, b.closing) == (
        275_000_000,
        0,
        37_500_000,
        3_969_864,
        237_500_000,
    )
    assert (c.opening, c.disbursed, c.closing, c.overdue, c.provision, c.bad_debt) == (
        0,
        60_000_000,
        60_000_000,
        5_000_000,
        1_200_000,
        0,
    )
    assert (a.opening, a.principal_collected, a.closing, a.overdue, a.bad_debt, a.provision) == (
        120_000_000,
        0,
        120_000_000,
        50_000_000,
        120_000_000,
        50_000_000,
    )
    assert a.label == "Huyện Lục Ngạn" and b.label == "Thành phố Bắc Giang"
    total = report.total
    bal_start, bal_end = balances(date(2026, 3, 31)), balances(QUARTER_END)
    assert total.opening == bal_start[acc.LOANS_IN_TERM] + bal_start[acc.LOANS_OVERDUE]
    assert total.closing == bal_end[acc.LOANS_IN_TERM] + bal_end[acc.LOANS_OVERDUE]
    assert total.overdue == bal_end[acc.LOANS_OVERDUE] == 55_000_000
    assert report.total_provision == bal_end[acc.PROVISION] == 54_331_250
    assert (total.projects, total.cooperatives, total.bad_debt) == (3, 3, 120_000_000)
    assert total.closing == total.opening + total.disbursed - total.principal_collected


@pytest.mark.parametrize(
    ("group_by", "expected"),
    [
        ("term_class", {"short": 180_000_000, "medium": 237_500_000}),
        (
            "borrower_kind",
            {"cooperative": 120_000_000, "union": 237_500_000, "coop_member": 60_000_000},
        ),
        (
            "sector",
            {
                "Trồng vải thiều": 120_000_000,
                "Chăn nuôi gà đồi": 237_500_000,
                "Trồng nấm": 60_000_000,
            },
        ),
    ],
)
def test_lending_activity_other_groupings(aged, group_by, expected):
    report = activity.build(date(2026, 1, 1), QUARTER_END, group_by)
    assert {r.key: r.closing for r in report.rows} == expected
    assert report.total.disbursed == 480_000_000


def test_api_json_excel_and_pdf_agree(aged, headers):
    app, _fund = aged
    client = app.test_client()
    data = client.get("/api/v1/reports/classification?quarter=2026-Q2", headers=headers).get_json()
    assert data["total_required"] == 54_331_250
    assert data["groups"][2]["provision_rate"] == "25"  # group 3, Decree 86/2024
    xlsx = client.get("/api/v1/reports/classification.xlsx?quarter=2026-Q2", headers=headers)
    book = workbook(xlsx.data)
    groups = sheet_rows(book["Phân loại nợ"])
    g4 = groups["Nhóm 4 – Nợ nghi ngờ"]  # A, 135 days (Circular 14/2024)
    assert g4[:5] == [1, 120_000_000, 50_000_000, 40_000_000, 20_000_000]
    assert round(g4[5], 4) == 0.5 and g4[6:] == [50_000_000, 50_000_000]
    assert groups["Tổng cộng"][0] == data["total_loans"]
    assert book["Phân loại nợ"].freeze_panes == "B7"
    detail = sheet_rows(book["Chi tiết nhóm 2–5"])
    assert list(detail) == [x["contract_no"] for x in data["loans"]]
    pdf = pdf_text(
        client.get("/api/v1/reports/classification.pdf?quarter=2026-Q2", headers=headers).data
    )
    for words in (
        "BÁO CÁO PHÂN LOẠI NỢ VÀ TRÍCH LẬP DỰ PHÒNG RỦI RO",
        "Quý 2 năm 2026 – đến ngày 30/06/2026",
        "Nhóm 3 – Nợ dưới tiêu chuẩn",
        aged[1].fund.loan_a.contract_no,
        aged[1].loan_c.contract_no,
        money(54_331_250),
        money(3_131_250),
        "25,00 %",  # group 3's rate under Decree 86/2024
        # The versions applied, with their legal references (issue 15).
        "IV. Căn cứ phân loại nợ và trích lập dự phòng",
        "Thông tư 14/2024/TT-NHNN",
        "Nghị định 86/2024/NĐ-CP",
    ):
        assert words in pdf, words

    par_json = client.get("/api/v1/reports/par?as_of=2026-06-30", headers=headers).get_json()
    assert [p["ratio"] for p in par_json["par"]] == ["43.11", "28.74", "28.74"]
    par_sheet = sheet_rows(
        workbook(client.get("/api/v1/reports/par.xlsx?as_of=2026-06-30", headers=headers).data)[
            "PAR"
        ]
    )
    first = par_sheet["PAR 1: quá hạn từ 1 ngày trở lên"]
    assert first[:2] == [2, 180_000_000] and round(first[2] * 100, 2) == 43.11
    par_pdf = pdf_text(client.get("/api/v1/reports/par.pdf?as_of=2026-06-30", headers=headers).data)
    for words in (
        "PAR 30: quá hạn từ 30 ngày trở lên",
        "Quá hạn 91–180 ngày",
        money(417_500_000),
        "43,11 %",
    ):
        assert words in par_pdf, words

    query = "from=2026-04-01&to=2026-06-30&group_by=area&by=former_district"
    activity_json = client.get(
        f"/api/v1/reports/lending-activity?{query}", headers=headers
    ).get_json()
    sheet = workbook(
        client.get(f"/api/v1/reports/lending-activity.xlsx?{query}", headers=headers).data
    )
    rows = sheet_rows(sheet["Hoạt động cho vay"])
    for row in activity_json["rows"]:
        assert rows[row["label"]] == [
            row[k]
            for k in (
                "opening",
                "disbursed",
                "principal_collected",
                "interest_collected",
                "written_off",
                "closing",
                "overdue",
                "bad_debt",
                "provision",
                "projects",
                "cooperatives",
            )
        ]
    assert rows["Tổng cộng"][5] == activity_json["total"]["closing"] == 417_500_000
    activity_pdf = pdf_text(
        client.get(f"/api/v1/reports/lending-activity.pdf?{query}", headers=headers).data
    )
    for words in (
        "BÁO CÁO HOẠT ĐỘNG CHO VAY",
        "Huyện Tân Yên",
        " 3.969.864 đ ",  # every amount carries its currency (issue 16)
        " 417.500.000 đ",
        money(54_331_250),
    ):
        assert words in activity_pdf, words
