"""The fund balance report on the small fund of ``scenario`` (figures worked out there)."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

import pytest

from fundapp.ledger import accounts as acc
from fundapp.ledger.services import balances
from fundapp.reports import activity, fund_balance, par
from tests.conftest import api_token, login, make_user
from tests.reports.outputs import money, pdf_text, sheet_rows, workbook
from tests.reports.scenario import AS_OF, CENTRAL_FUND, later_transactions, small_fund


@pytest.fixture
def fund(app):
    return small_fund()


def test_sources_uses_and_period_worked_out_by_hand(fund):
    report = fund_balance.build(AS_OF)
    s, u = report.sources, report.uses
    assert (s.charter_capital, s.entrusted_capital, s.grants, s.other_capital) == (
        15_000_000_000,
        2_000_000_000,
        0,
        0,
    )
    assert s.entrusted_by_source == {CENTRAL_FUND: 2_000_000_000}
    # Provisions 2 % × 100.000.000 (group 2, Decree 86/2024) + 3.056.250 general.
    assert s.accumulated_result == 1_528_767 - 5_056_250
    assert s.total == 16_996_472_517
    assert (u.loans_in_term, u.loans_overdue, u.outstanding) == (
        397_500_000,
        10_000_000,
        407_500_000,
    )
    assert (u.specific_provision, u.general_provision, u.provision) == (
        2_000_000,
        3_056_250,
        5_056_250,
    )
    assert u.cash == 16_594_028_767
    assert u.total == s.total
    assert [(g.group, g.loans, g.outstanding) for g in report.debt_groups] == [
        (1, 1, 287_500_000),
        (2, 1, 120_000_000),
        (3, 0, 0),
        (4, 0, 0),
        (5, 0, 0),
    ]
    # 287.500.000 / 407.500.000 = 70,552 %; 120.000.000 / 407.500.000 = 29,448 %
    assert [g.share for g in report.debt_groups[:2]] == [Decimal("70.55"), Decimal("29.45")]
    p = report.period
    assert (p.start, p.end) == (date(2026, 1, 1), AS_OF)
    assert (p.disbursed, p.principal_collected, p.interest_collected) == (
        420_000_000,
        12_500_000,
        1_528_767,
    )
    assert (report.projects, report.cooperatives) == (2, 2)
    # 10.000.000 / 407.500.000 = 2,4540 %
    assert report.overdue_ratio == Decimal("2.45")
    assert (report.bad_debt, report.bad_debt_ratio) == (0, Decimal("0.00"))


def test_totals_equal_the_ledger_on_every_date(fund):
    for day in (date(2026, 1, 15), date(2026, 2, 16), AS_OF):
        report = fund_balance.build(day)
        bal = balances(day)
        s, u = report.sources, report.uses
        assert s.charter_capital == bal[acc.CHARTER_CAPITAL]
        assert s.entrusted_capital == bal[acc.ENTRUSTED_CAPITAL]
        assert u.loans_in_term == bal[acc.LOANS_IN_TERM]
        assert u.loans_overdue == bal[acc.LOANS_OVERDUE]
        assert u.interest_receivable == bal[acc.INTEREST_RECEIVABLE]
        assert u.provision == bal[acc.PROVISION]
        assert u.cash == bal[acc.CASH]
        assert sum(g.outstanding for g in report.debt_groups) == u.outstanding
        assert s.total == u.total


def test_before_any_loan_the_report_shows_only_capital(fund):
    report = fund_balance.build(date(2025, 12, 31))
    assert report.sources.total == report.uses.cash == 17_000_000_000
    assert (report.uses.outstanding, report.projects, report.period.disbursed) == (0, 0, 0)
    assert report.overdue_ratio == Decimal("0.00")


def test_an_earlier_date_is_unchanged_by_later_transactions(fund):
    before = fund_balance.build(AS_OF)
    others = (activity.build(date(2026, 1, 1), AS_OF, "sector"), par.build(AS_OF))
    later_transactions(fund)
    after = fund_balance.build(AS_OF)
    assert after == before
    assert (activity.build(date(2026, 1, 1), AS_OF, "sector"), par.build(AS_OF)) == others
    later = fund_balance.build(date(2026, 3, 25))
    assert later.sources.charter_capital == 15_500_000_000
    # + A's 611.507 interest and 39.499 overdue interest on 02/03, B's 1.323.288 on 20/03
    assert later.period.interest_collected == 1_528_767 + 611_507 + 39_499 + 1_323_288


def test_json_excel_and_pdf_carry_the_same_figures(fund, client):
    headers = api_token(client, make_user("director"))
    response = client.get("/api/v1/reports/fund-balance?as_of=2026-02-25", headers=headers)
    assert response.status_code == 200
    data = response.get_json()
    assert data["sources"]["total"] == 16_996_472_517
    assert data["uses"]["cash"] == 16_594_028_767
    assert data["overdue_ratio"] == "2.45"
    assert data["period"] == {
        "start": "2026-01-01",
        "end": "2026-02-25",
        "disbursed": 420_000_000,
        "principal_collected": 12_500_000,
        "interest_collected": 1_528_767,
    }

    xlsx = client.get("/api/v1/reports/fund-balance.xlsx?as_of=2026-02-25", headers=headers)
    assert xlsx.status_code == 200
    assert xlsx.mimetype.endswith("spreadsheetml.sheet")
    book = workbook(xlsx.data)
    sources = book["Nguồn vốn"]
    assert sources["A1"].value == "Quỹ hỗ trợ phát triển hợp tác xã tỉnh Bắc Ninh"
    assert sources["B3"].value == datetime(2026, 2, 25)
    assert sources["B3"].number_format == "dd/mm/yyyy"
    assert sources.freeze_panes == "A7"
    rows = sheet_rows(sources)
    assert rows["Vốn điều lệ"] == [data["sources"]["charter_capital"]]
    assert rows[CENTRAL_FUND] == [2_000_000_000]
    assert rows["Kết quả hoạt động lũy kế"] == [data["sources"]["accumulated_result"]]
    assert rows["Tổng nguồn vốn"] == [data["sources"]["total"]]
    total_row = max(r for r in range(1, sources.max_row + 1) if sources.cell(r, 1).value)
    assert sources.cell(total_row, 2).font.bold
    assert sources.cell(total_row, 2).number_format == "#,##0"
    uses = sheet_rows(book["Sử dụng vốn"])
    assert uses["Trừ: dự phòng rủi ro cụ thể"] == [-data["uses"]["specific_provision"]]
    assert uses["Tổng sử dụng vốn"] == [data["uses"]["total"]]
    groups = sheet_rows(book["Nhóm nợ"])
    assert groups["Nhóm 2 – Nợ cần chú ý"][:2] == [1, 120_000_000]
    assert round(groups["Nhóm 2 – Nợ cần chú ý"][2] * 100, 2) == 29.45
    period = sheet_rows(book["Hoạt động trong kỳ"])
    assert period["Doanh số cho vay trong kỳ"] == [420_000_000]
    assert period["Số dự án còn dư nợ"] == [2]
    assert round(period["Tỷ lệ nợ quá hạn / tổng dư nợ"][0] * 100, 2) == 2.45

    pdf = client.get("/api/v1/reports/fund-balance.pdf?as_of=2026-02-25", headers=headers)
    assert pdf.status_code == 200 and pdf.mimetype == "application/pdf"
    text = pdf_text(pdf.data)
    for words in (
        "BÁO CÁO TÌNH HÌNH NGUỒN VỐN VÀ SỬ DỤNG VỐN",
        "Đến ngày 25/02/2026",
        "Quỹ hỗ trợ phát triển HTX Trung ương",
        "Dư nợ theo nhóm nợ",
        "Nhóm 2 – Nợ cần chú ý",
        "Từ 01/01/2026 đến 25/02/2026",
        "NGƯỜI LẬP BIỂU",
        "KẾ TOÁN TRƯỞNG",
        "GIÁM ĐỐC",
        "Trang 1/",
    ):
        assert words in text, words
    for amount in (16_996_472_517, 16_594_028_767, -3_527_483, 407_500_000, 1_528_767):
        assert money(amount) in text, money(amount)
    assert "2,45 %" in text


def test_the_web_page_shows_the_figures_with_links_to_pdf_and_excel(fund, client):
    login(client, make_user("accountant"))
    page = client.get("/reports/fund-balance?as_of=2026-02-25")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert "16.996.472.517 đ" in html and "2,45 %" in html
    assert "/reports/fund-balance.pdf?as_of=2026-02-25&amp;from=2026-01-01" in html
    assert "/reports/fund-balance.xlsx?as_of=2026-02-25&amp;from=2026-01-01" in html
    assert "<svg" in html  # the dashboard's charts
    pdf = client.get("/reports/fund-balance.pdf?as_of=2026-02-25")
    assert pdf.status_code == 200 and money(16_996_472_517) in pdf_text(pdf.data)
    xlsx = client.get("/reports/fund-balance.xlsx?as_of=2026-02-25&from=2026-02-01")
    assert xlsx.status_code == 200
    disposition = xlsx.headers["Content-Disposition"]
    assert disposition == "attachment; filename=bao-cao-nguon-von-2026-02-25.xlsx"
    # From 01/02: only B's repayment of 20/02 falls in the period, no disbursement.
    period = sheet_rows(workbook(xlsx.data)["Hoạt động trong kỳ"])
    assert period["Doanh số cho vay trong kỳ"] == [0]
    assert period["Doanh số thu nợ gốc trong kỳ"] == [12_500_000]
