"""The reports on the demo fund (README, "Demo logins"): the figures of the fund's own
report."""

from __future__ import annotations

import pytest

from fundapp.ledger import accounts as acc
from fundapp.ledger.services import balances
from tests.conftest import BUSINESS_DATE, api_token, fresh_database, make_app, make_user
from tests.reports.outputs import pdf_text, sheet_rows, workbook


@pytest.fixture(scope="module")
def demo():
    with fresh_database(make_app()) as app:
        result = app.test_cli_runner().invoke(args=["demo", "seed"])
        assert result.exit_code == 0, result.output
        client = app.test_client()
        yield client, api_token(client, make_user("director"))


def test_fund_balance_report_of_the_demo_fund(demo):
    client, headers = demo
    data = client.get("/api/v1/reports/fund-balance", headers=headers).get_json()
    assert data["as_of"] == BUSINESS_DATE.isoformat()
    assert data["total_capital"] == 17_547_000_000
    assert data["uses"]["outstanding"] == 14_450_000_000
    assert data["projects"] == 49
    bal = balances(BUSINESS_DATE)
    assert data["uses"]["provision"] == bal[acc.PROVISION]
    assert data["sources"]["total"] == data["uses"]["total"]
    assert sum(g["outstanding"] for g in data["debt_groups"]) == 14_450_000_000
    assert all(g["loans"] for g in data["debt_groups"])  # the demo has loans in groups 1–5

    text = pdf_text(client.get("/api/v1/reports/fund-balance.pdf", headers=headers).data)
    assert "Đến ngày 20/11/2026" in text
    lines = {line.strip().split("  ")[0]: line.split() for line in text.splitlines()}
    assert lines["Vốn hoạt động"][-2:] == ["17.547.000.000", "đ"]
    assert lines["Dư nợ cho vay"][-2:] == ["14.450.000.000", "đ"]
    assert lines["Số dự án còn dư nợ"][-1] == "49"

    sheet = workbook(client.get("/api/v1/reports/fund-balance.xlsx", headers=headers).data)
    assert sheet_rows(sheet["Nguồn vốn"])["Vốn hoạt động"] == [17_547_000_000]
    assert sheet_rows(sheet["Sử dụng vốn"])["Dư nợ cho vay"] == [14_450_000_000]


def test_every_report_renders_on_the_demo_fund(demo):
    client, headers = demo
    for path in (
        "lending-activity?group_by=area&by=former_district",
        "lending-activity?group_by=sector",
        "classification?quarter=2026-Q3",
        "par",
    ):
        slug, _sep, query = path.partition("?")
        data = client.get(f"/api/v1/reports/{slug}?{query}", headers=headers)
        assert data.status_code == 200, path
        pdf = client.get(f"/api/v1/reports/{slug}.pdf?{query}", headers=headers)
        assert pdf.status_code == 200 and pdf.data.startswith(b"%PDF-")
    activity = client.get("/api/v1/reports/lending-activity", headers=headers).get_json()
    assert activity["total"]["closing"] == 14_450_000_000
    assert activity["total"]["projects"] == 49
    assert activity["group_by"] == "area" and activity["by"] == "commune"
    by_district = client.get(
        "/api/v1/reports/lending-activity?by=former_district", headers=headers
    ).get_json()
    assert len(by_district["rows"]) == 10  # the ten 2021 district units
    by_province = client.get(
        "/api/v1/reports/lending-activity?by=former_province", headers=headers
    ).get_json()
    assert [r["key"] for r in by_province["rows"]] == ["24"]  # no loan in former Bắc Ninh
    for report in (activity, by_district, by_province):
        assert report["total"]["closing"] == 14_450_000_000
    par = client.get("/api/v1/reports/par", headers=headers).get_json()
    assert par["outstanding"] == 14_450_000_000
    assert sum(b["outstanding"] for b in par["buckets"]) == 14_450_000_000
