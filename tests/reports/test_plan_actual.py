"""The annual plan (fundapp.planning) and plan against actual (reports.plan_actual), on the
aged fund of ``scenario``: first half of 2026, figures worked out in test_operations.

Plan of 2026 against the actual at 30/06/2026:
- disbursed: plan 600.000.000, actual 480.000.000 → −120.000.000, 80,00 %;
- principal collected: plan 100.000.000, actual 5 × 12.500.000 = 62.500.000 → −37.500.000,
  62,50 %;
- outstanding: plan 500.000.000, actual 417.500.000 → −82.500.000, 83,50 %;
- bad-debt ratio ceiling: 300 bp (3 %), actual 120.000.000 / 417.500.000 = 28,74 % =
  2 874 bp → +2 574 bp, 958,00 %;
- charter capital: plan 15.000.000.000, actual the charter account 15.000.000.000 → 0,
  100,00 %;
- income and expenses: what their accounts moved since 1 January (nothing before).
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from fundapp.audit.models import AuditLog
from fundapp.domain.errors import Conflict, PermissionDenied, ValidationFailed
from fundapp.extensions import db
from fundapp.ledger import accounts as acc
from fundapp.ledger.services import balances
from fundapp.planning import services as planning
from fundapp.planning.models import AnnualPlan
from fundapp.reports import operations, plan_actual
from tests.conftest import api_token, login, make_user
from tests.reports.outputs import pdf_text, sheet_rows, workbook
from tests.reports.scenario import QUARTER_END, kept_aged_fund

PLAN = {
    "disbursed": 600_000_000,
    "principal_collected": 100_000_000,
    "outstanding": 500_000_000,
    "bad_debt_ratio": 300,
    "charter_capital": 15_000_000_000,
    "interest_income": 20_000_000,
    "other_income": 0,
    "provision_expense": 10_000_000,
    "operating_costs": 5_000_000,
}


@pytest.fixture
def fund(app):
    return kept_aged_fund()


@pytest.fixture
def plan(fund):
    accountant = make_user("accountant")
    made = planning.create(accountant, 2026, PLAN, "Kế hoạch 2026")
    db.session.commit()
    return made


def test_plan_against_actual_worked_out_by_hand(plan):
    report = plan_actual.build(2026, QUARTER_END)
    lines = {f.code: f for f in report.lines}
    hand = {
        "disbursed": (600_000_000, 480_000_000, -120_000_000, Decimal("80.00")),
        "principal_collected": (100_000_000, 62_500_000, -37_500_000, Decimal("62.50")),
        "outstanding": (500_000_000, 417_500_000, -82_500_000, Decimal("83.50")),
        "bad_debt_ratio": (300, 2_874, 2_574, Decimal("958.00")),
        "charter_capital": (15_000_000_000, 15_000_000_000, 0, Decimal("100.00")),
    }
    for code, figures in hand.items():
        f = lines[code]
        assert (f.plan, f.actual, f.difference, f.achieved) == figures, code
    assert lines["bad_debt_ratio"].unit == "bp"
    assert (report.status, report.plan_id) == ("draft", plan.id)


def test_income_and_expenses_are_the_ledgers_movements(plan):
    report = plan_actual.build(2026, QUARTER_END)
    lines = {f.code: f for f in report.lines}
    before, after = balances(date(2025, 12, 31)), balances(QUARTER_END)

    def moved(*codes: str) -> int:
        return sum(after[c] - before[c] for c in codes)

    interest = moved(acc.INTEREST_INCOME, acc.OVERDUE_INTEREST_INCOME)
    income = [c for c, a in acc.ACCOUNTS.items() if a.kind == "income"]
    expense = [c for c, a in acc.ACCOUNTS.items() if a.kind == "expense"]
    provision = moved(acc.PROVISION_EXPENSE)
    assert interest > 0 and provision > 0
    assert lines["interest_income"].actual == interest
    assert lines["other_income"].actual == moved(*income) - interest
    assert lines["provision_expense"].actual == provision
    assert lines["operating_costs"].actual == moved(*expense) - provision
    f = lines["interest_income"]
    assert f.difference == interest - 20_000_000
    assert f.achieved == (Decimal(interest) * 100 / 20_000_000).quantize(Decimal("0.01"))
    assert lines["other_income"].achieved is None  # planned 0
    r = report.result
    assert r.plan == 20_000_000 + 0 - 10_000_000 - 5_000_000
    assert r.actual == moved(*income) - moved(*expense)
    assert r.actual == operations.build(date(2026, 1, 1), QUARTER_END).result.result


def test_maker_checker_and_audit(plan):
    accountant = db.session.get(AnnualPlan, plan.id).prepared_by
    with pytest.raises(PermissionDenied):
        planning.approve(accountant, plan)  # not a director
    both = make_user("accountant", "director")
    planning.update(both, plan, {"disbursed": "650.000.000"})
    assert planning.amounts_of(plan)["disbursed"] == 650_000_000
    with pytest.raises(PermissionDenied):
        planning.approve(both, plan)  # prepared it last
    director = make_user("director")
    planning.approve(director, plan)
    db.session.commit()
    assert (plan.status, plan.approved_by_id) == ("approved", director.id)
    assert plan.approved_at is not None
    with pytest.raises(Conflict):
        planning.update(both, plan, {"disbursed": 1})
    with pytest.raises(Conflict):
        planning.approve(make_user("director"), plan)
    actions = [
        a.action
        for a in db.session.query(AuditLog).filter_by(entity="annual_plan").order_by(AuditLog.id)
    ]
    assert actions == ["plan.create", "plan.update", "plan.approve"]


@pytest.mark.parametrize(
    ("amounts", "field"),
    [
        ({"disbursed": -1}, "disbursed"),
        ({"disbursed": "-5"}, "disbursed"),
        ({"disbursed": 1.5}, "disbursed"),
        ({"disbursed": "12,5"}, "disbursed"),
        ({"disbursed": "abc"}, "disbursed"),
        ({"bad_debt_ratio": 10_001}, "bad_debt_ratio"),
        ({"bad_debt_ratio": "3.5"}, "bad_debt_ratio"),
        ({"nonsense": 1}, "nonsense"),
    ],
)
def test_bad_amounts_are_refused_with_a_field_message(app, amounts, field):
    with pytest.raises(ValidationFailed) as caught:
        planning.create(make_user("accountant"), 2027, amounts)
    assert field in caught.value.fields


def test_one_plan_a_year_and_year_range(app):
    accountant = make_user("accountant")
    planning.create(accountant, "2027", {"disbursed": "1.000.000"})
    with pytest.raises(Conflict):
        planning.create(accountant, 2027, {})
    with pytest.raises(ValidationFailed) as caught:
        planning.create(accountant, 1999, {})
    assert "year" in caught.value.fields


def test_api_plan_lifecycle_and_report(fund, client):
    accountant, director = make_user("accountant"), make_user("director")
    acc_h, dir_h = api_token(client, accountant), api_token(client, director)
    created = client.post("/api/v1/plans", json={"year": 2026, "lines": PLAN}, headers=acc_h)
    assert created.status_code == 201, created.get_json()
    plan_id = created.get_json()["id"]
    assert {x["code"]: x["amount"] for x in created.get_json()["lines"]} == PLAN
    bad = client.patch(f"/api/v1/plans/{plan_id}", json={"lines": {"disbursed": -1}}, headers=acc_h)
    assert bad.status_code == 422
    assert client.post("/api/v1/plans", json={"year": "x"}, headers=acc_h).status_code == 422
    assert client.post("/api/v1/plans", json={"year": 2026}, headers=acc_h).status_code == 409
    assert client.post(f"/api/v1/plans/{plan_id}/approve", headers=acc_h).status_code == 403
    ok = client.post(f"/api/v1/plans/{plan_id}/approve", headers=dir_h)
    assert ok.status_code == 200 and ok.get_json()["status"] == "approved"
    again = client.patch(f"/api/v1/plans/{plan_id}", json={"note": "x"}, headers=acc_h)
    assert again.status_code == 409

    report = client.get("/api/v1/reports/plan-actual?year=2026&as_of=2026-06-30", headers=dir_h)
    assert report.status_code == 200, report.get_json()
    data = report.get_json()
    lines = {x["code"]: x for x in data["lines"]}
    assert (lines["disbursed"]["actual"], lines["disbursed"]["achieved"]) == (480_000_000, "80.00")
    assert data["status"] == "approved" and data["filters"] == {
        "year": "2026",
        "as_of": "2026-06-30",
    }
    for query in ("year=2025", "year=20x6", "year=2026&as_of=2025-12-31"):
        answer = client.get(f"/api/v1/reports/plan-actual?{query}", headers=dir_h)
        assert answer.status_code == 422, query

    xlsx = client.get("/api/v1/reports/plan-actual.xlsx?year=2026&as_of=2026-06-30", headers=dir_h)
    rows = sheet_rows(workbook(xlsx.data)["I. Hoạt động cho vay"])
    assert rows["Doanh số cho vay trong năm"][:3] == [600_000_000, 480_000_000, -120_000_000]
    pdf = client.get("/api/v1/reports/plan-actual.pdf?year=2026&as_of=2026-06-30", headers=dir_h)
    assert pdf.status_code == 200
    assert "BÁO CÁO THỰC HIỆN KẾ HOẠCH NĂM" in pdf_text(pdf.data)


def test_pages(fund, client):
    accountant, director = make_user("accountant"), make_user("director")
    login(client, accountant)
    assert client.get("/plans/").status_code == 200
    form = {"year": "2026", **{k: str(v) for k, v in PLAN.items()}, "disbursed": "-3"}
    assert client.post("/plans/new", data=form).status_code == 422
    form["disbursed"] = "600.000.000"
    saved = client.post("/plans/new", data=form)
    assert saved.status_code == 302
    plan = db.session.query(AnnualPlan).filter_by(year=2026).one()
    assert planning.amounts_of(plan) == PLAN
    page = client.get(f"/plans/{plan.id}").get_data(as_text=True)
    assert "600.000.000" in page and "Lưu kế hoạch" in page and "Phê duyệt kế hoạch" not in page
    client.post("/logout")
    login(client, director)
    page = client.get(f"/plans/{plan.id}").get_data(as_text=True)
    assert "Phê duyệt kế hoạch" in page and "Lưu kế hoạch" not in page
    assert client.post(f"/plans/{plan.id}", data=form).status_code == 403
    assert client.post(f"/plans/{plan.id}/approve").status_code == 302
    db.session.refresh(plan)
    assert plan.status == "approved"
    report = client.get("/reports/plan-actual?year=2026&as_of=30/06/2026")
    assert report.status_code == 200
    assert "480.000.000" in report.get_data(as_text=True)
