"""The operations report (Phụ lục 2a) and the half-year and year presets of the lending
activity report (Phụ lục 1a), on the aged fund of ``scenario`` (figures worked out there).

First half of 2026 (01/01–30/06), from nothing on the books on 31/12/2025:
- disbursed A 120.000.000 + B 300.000.000 + C 60.000.000 = 480.000.000;
- B pays its five instalments (20/02 … 20/06): principal 5 × 12.500.000 = 62.500.000;
  interest 1.528.767 + 1.323.288 (as in ``scenario``) + 275.000.000 × 6 % × 31/365 =
  1.401.370 + 262.500.000 × 6 % × 30/365 = 1.294.521 + 250.000.000 × 6 % × 31/365 =
  1.273.973, in all 6.821.919; A and C pay nothing, nothing is written off;
- closing outstanding 417.500.000, overdue A 50.000.000 + C 5.000.000, bad debt A's
  120.000.000 (group 4), specific provisions 50.000.000 + 1.200.000, general 3.131.250;
- cash 17.000.000.000 − 480.000.000 + 62.500.000 + 6.821.919 = 16.589.321.919.
"""

from __future__ import annotations

from datetime import date

import pytest

from fundapp.ledger import accounts as acc
from fundapp.ledger.services import balances
from fundapp.reports import activity, operations
from fundapp.reports.trial_balance import trial_balance
from tests.conftest import api_token, login, make_user
from tests.reports.outputs import money, pdf_text, sheet_rows, workbook
from tests.reports.scenario import QUARTER_END, kept_aged_fund

H1 = (date(2026, 1, 1), QUARTER_END)
INTEREST = 1_528_767 + 1_323_288 + 1_401_370 + 1_294_521 + 1_273_973


@pytest.fixture
def fund(app):
    return kept_aged_fund()


def test_half_year_worked_out_by_hand(fund):
    report = operations.build(*H1)
    o, c = report.opening, report.closing
    assert o.as_of == date(2025, 12, 31)
    assert (o.sources.charter_capital, o.sources.entrusted_capital) == (
        15_000_000_000,
        2_000_000_000,
    )
    assert (o.sources.accumulated_result, o.uses.outstanding) == (0, 0)
    assert o.uses.cash == o.sources.total == 17_000_000_000
    ln = report.lending
    assert (ln.opening, ln.disbursed, ln.principal_collected, ln.written_off, ln.closing) == (
        0,
        480_000_000,
        62_500_000,
        0,
        417_500_000,
    )
    assert ln.interest_collected == INTEREST == 6_821_919
    assert c.uses.outstanding == 417_500_000
    assert c.uses.cash == 16_589_321_919
    assert c.uses.total == c.sources.total
    q = report.quality
    assert (q.overdue, q.bad_debt) == (55_000_000, 120_000_000)
    assert (q.specific_provision, q.general_provision, q.provision) == (
        51_200_000,
        3_131_250,
        54_331_250,
    )
    r = report.result
    assert r.result == r.total_income - r.total_expenses
    assert r.result == c.sources.accumulated_result - o.sources.accumulated_result
    expenses = {a.code: a.amount for a in r.expenses}
    assert (
        expenses[acc.PROVISION_EXPENSE]
        - {a.code: a.amount for a in r.income}[acc.PROVISION_RELEASE_INCOME]
        == q.provision
    )


def test_figures_are_the_ledgers_balances_and_turnover(fund):
    start, end = H1
    report = operations.build(start, end)
    before, after = balances(date(2025, 12, 31)), balances(end)
    c = report.closing
    assert (
        c.sources.charter_capital,
        c.sources.entrusted_capital,
        c.sources.grants,
        c.sources.other_capital,
        c.uses.loans_in_term,
        c.uses.loans_overdue,
        c.uses.interest_receivable,
        c.uses.accrued_interest,
        c.uses.provision,
        c.uses.cash,
    ) == tuple(
        after[code]
        for code in (
            acc.CHARTER_CAPITAL,
            acc.ENTRUSTED_CAPITAL,
            acc.GRANT_CAPITAL,
            acc.OTHER_CAPITAL,
            acc.LOANS_IN_TERM,
            acc.LOANS_OVERDUE,
            acc.INTEREST_RECEIVABLE,
            acc.ACCRUED_INTEREST,
            acc.PROVISION,
            acc.CASH,
        )
    )
    assert report.opening.uses.cash == before[acc.CASH]
    # Income and expenses: the period's turnover of the trial balance, on the normal side.
    turnover = {row.code: (row.debit, row.credit) for row in trial_balance(start, end).rows}
    for line in report.result.income:
        debit, credit = turnover.get(line.code, (0, 0))
        assert line.amount == credit - debit == after[line.code] - before[line.code]
    for line in report.result.expenses:
        debit, credit = turnover.get(line.code, (0, 0))
        assert line.amount == debit - credit
    assert report.result.total_income > 0 and report.result.total_expenses > 0


def test_lending_lines_equal_the_lending_activity_report(fund):
    report = operations.build(*H1)
    total = activity.build(*H1, "area").total
    ln, q = report.lending, report.quality
    assert (
        ln.opening,
        ln.disbursed,
        ln.principal_collected,
        ln.interest_collected,
        ln.written_off,
        ln.closing,
    ) == (
        total.opening,
        total.disbursed,
        total.principal_collected,
        total.interest_collected,
        total.written_off,
        total.closing,
    )
    assert (q.overdue, q.bad_debt, q.specific_provision) == (
        total.overdue,
        total.bad_debt,
        total.provision,
    )
    assert q.provision == activity.build(*H1, "sector").total_provision


def test_json_excel_pdf_and_page_of_the_half_year(fund, client):
    headers = api_token(client, make_user("director"))
    response = client.get("/api/v1/reports/operations?period=2026-H1", headers=headers)
    assert response.status_code == 200, response.get_json()
    data = response.get_json()
    assert data["filters"] == {"from": "2026-01-01", "to": "2026-06-30"}
    assert data["lending"]["disbursed"] == 480_000_000
    assert data["lending"]["interest_collected"] == INTEREST
    assert data["closing"]["uses"]["cash"] == 16_589_321_919
    assert data["quality"]["bad_debt"] == 120_000_000
    same = client.get("/api/v1/reports/operations?from=2026-01-01&to=2026-06-30", headers=headers)
    assert same.get_json() == data

    xlsx = client.get("/api/v1/reports/operations.xlsx?period=2026-H1", headers=headers)
    assert xlsx.status_code == 200
    book = workbook(xlsx.data)
    sources = sheet_rows(book["Nguồn vốn"])
    assert sources["Vốn điều lệ"] == [15_000_000_000, 15_000_000_000]
    lending = sheet_rows(book["Cho vay trong kỳ"])
    assert lending["Doanh số cho vay"][0] == 480_000_000
    assert lending["Dư nợ cuối kỳ"][0] == 417_500_000
    result = sheet_rows(book["Kết quả"])
    assert result["Kết quả hoạt động (thu nhập − chi phí)"][0] == data["result"]["result"]

    pdf = client.get("/api/v1/reports/operations.pdf?period=2026-H1", headers=headers)
    assert pdf.status_code == 200 and pdf.mimetype == "application/pdf"
    text = pdf_text(pdf.data)
    for words in (
        "BÁO CÁO TỔNG HỢP TÌNH HÌNH HOẠT ĐỘNG NGHIỆP VỤ",
        "Từ ngày 01/01/2026 đến ngày 30/06/2026",
        "GIÁM ĐỐC",
    ):
        assert words in text, words
    for amount in (480_000_000, 417_500_000, 16_589_321_919, 120_000_000):
        assert money(amount) in text, money(amount)

    login(client, make_user("accountant"))
    page = client.get("/reports/operations?period=2026-H1")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert "480.000.000 đ" in html
    assert '<option value="2026-H1">' in html and '<option value="2025">' in html
    assert "/reports/operations.pdf?from=2026-01-01&amp;to=2026-06-30" in html


def test_lending_activity_by_half_year_and_year(fund, client):
    headers = api_token(client, make_user("director"))
    data = client.get("/api/v1/reports/lending-activity?period=2026-H1", headers=headers).get_json()
    assert data["filters"]["from"] == "2026-01-01" and data["filters"]["to"] == "2026-06-30"
    assert data["total"]["disbursed"] == 480_000_000
    year = client.get("/api/v1/reports/lending-activity?period=2025", headers=headers)
    assert year.status_code == 200
    assert (year.get_json()["start"], year.get_json()["end"]) == ("2025-01-01", "2025-12-31")
    login(client, make_user("accountant"))
    page = client.get("/reports/lending-activity?period=2026-H1&group_by=sector")
    assert page.status_code == 200
    assert "480.000.000" in page.get_data(as_text=True)


@pytest.mark.parametrize(
    ("period", "words"),
    [("2026", "chưa kết thúc"), ("2026-H2", ""), ("1999", "không hợp lệ")],
)
def test_a_period_not_ended_or_unknown_is_refused(app, client, period, words):
    headers = api_token(client, make_user("director"))
    for slug in ("operations", "lending-activity"):
        response = client.get(f"/api/v1/reports/{slug}?period={period}", headers=headers)
        assert response.status_code == 422
        fields = response.get_json()["error"]["fields"]
        assert words in fields["period"], fields
    login(client, make_user("accountant"))
    page = client.get(f"/reports/operations?period={period}")
    assert page.status_code == 422 and 'id="f-period-error"' in page.get_data(as_text=True)
