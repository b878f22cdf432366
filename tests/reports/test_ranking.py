"""The A/B/C self-assessment and the Decree 45 Art. 46 warnings (reports.ranking,
domain.ranking), figures worked out by hand.

Default criteria (``domain.ranking.CRITERIA``, from 15/05/2021): loan growth partly met
from 90 % of the plan; bad debt met at or under min(plan, 3 %), partly at or under 5 %;
compliance partly met with one item missed; A from 7 of 8 points with nothing not met,
B from 4 points; minimum charter capital 100.000.000.000 đ (assumed).

The aged fund of ``scenario`` (2026 to 30/06/2026, see test_plan_actual) against the plan
of test_plan_actual:
- loan growth: outstanding 417.500.000 < plan 500.000.000, 83,50 % < 90 %, but above the
  0 of 31/12/2025 (the loans start in 2026) → partly met, 1 point;
- bad debt: loan A's 120.000.000 in group 4 / 417.500.000 = 28,74 % = 2 874 bp > 500 bp
  → not met, 0;
- result: interest income is below the provisions (loan A 50.000.000 specific alone)
  → a loss → not met, 0;
- compliance: not yet recorded → not met, 0;
- 1 point → rank C. Warnings on 30/06/2026: the charter capital 15.000.000.000 <
  100.000.000.000 → the charter case only (no bad debt, no loss, no rank in 2021–2025).
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from fundapp.audit.models import AuditLog
from fundapp.domain import ranking as rules
from fundapp.domain.errors import Conflict, PermissionDenied, ValidationFailed
from fundapp.extensions import db
from fundapp.planning import ranking as records
from fundapp.planning import services as planning
from fundapp.reports import operations, ranking
from tests.conftest import BUSINESS_DATE, api_token, client_for, make_user
from tests.reports.outputs import pdf_text, sheet_rows, workbook
from tests.reports.scenario import QUARTER_END, aged_fund
from tests.services.lending_helpers import fund_and_staff

C = rules.criteria_for(date(2026, 12, 31))
ALL_YES = dict.fromkeys(rules.COMPLIANCE_CODES, True)
ENOUGH = C.minimum_charter_capital  # the charter capital today: not a case


# --- the pure rules ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("outstanding", "plan", "previous", "score"),
    [
        (500, 500, 400, rules.MET),  # reaches the plan, grew
        (500, 400, 600, rules.PARTIAL),  # above plan but fell: 500 ≥ 90 % × 400
        (450, 500, 460, rules.PARTIAL),  # 450 × 10 000 = 4 500 000 ≥ 500 × 9 000
        (449, 500, 460, rules.NOT_MET),  # 89,8 % of plan and fell
        (449, 500, 449, rules.PARTIAL),  # 89,8 % but no lower than a year before
    ],
)
def test_loan_growth(outstanding, plan, previous, score):
    assert rules.loan_growth(outstanding, plan, previous, C) == score


@pytest.mark.parametrize(
    ("ratio_bp", "plan_bp", "score"),
    [
        (250, 250, rules.MET),
        (251, 250, rules.PARTIAL),  # over the plan's ceiling, under 5 %
        (300, 0, rules.MET),  # no plan ceiling: the criteria's 3 %
        (300, 800, rules.MET),  # a looser plan does not loosen the 3 %
        (301, 800, rules.PARTIAL),
        (500, 300, rules.PARTIAL),
        (501, 300, rules.NOT_MET),
    ],
)
def test_bad_debt(ratio_bp, plan_bp, score):
    assert rules.bad_debt(ratio_bp, plan_bp, C) == score


def test_financial_result_and_compliance():
    assert rules.financial_result(10, 10) == rules.MET
    assert rules.financial_result(9, 10) == rules.PARTIAL
    assert rules.financial_result(0, 0) == rules.MET
    assert rules.financial_result(-1, -5) == rules.NOT_MET  # a loss, even if planned
    assert rules.compliance(None, C) == rules.NOT_MET
    assert rules.compliance(ALL_YES, C) == rules.MET
    assert rules.compliance({**ALL_YES, "provisions": False}, C) == rules.PARTIAL
    two = {**ALL_YES, "provisions": False, "accounting": False}
    assert rules.compliance(two, C) == rules.NOT_MET


@pytest.mark.parametrize(
    ("scores", "expected"),
    [
        ((rules.MET,) * 4, "A"),  # 8
        ((rules.MET, rules.MET, rules.MET, rules.PARTIAL), "A"),  # 7
        ((rules.MET, rules.MET, rules.MET, rules.NOT_MET), "B"),  # 6, one not met
        ((rules.PARTIAL,) * 4, "B"),  # 4
        ((rules.MET, rules.PARTIAL, rules.NOT_MET, rules.NOT_MET), "C"),  # 3
    ],
)
def test_rank(scores, expected):
    assert rules.rank(scores, C) == expected


def _year(year, **kw):
    base = {
        "charter": 100,
        "equity": 100,
        "outstanding": 50,
        "bad_debt": 0,
        "accumulated_result": 0,
        "rank": "B",
    }
    return rules.YearEnd(year, **{**base, **kw})


def test_dissolution_cases_count_consecutive_years_back_from_the_last():
    # 2025: outstanding 19 < 20 % × 100 and rank C; bad debt 51 > 50 % × 100; loss 75 ≥ 75 %.
    bad = {"outstanding": 19, "rank": "C", "bad_debt": 51, "accumulated_result": -75}
    years = [_year(2025, **bad), _year(2024, **bad), _year(2023), _year(2022, **bad)]
    found = {w.case: w for w in rules.dissolution_warnings(ENOUGH, years, C)}
    assert set(found) == {"rank_c_low_lending", "bad_debt", "accumulated_loss"}
    assert all(w.years == (2025, 2024) and not w.met for w in found.values())
    five = [_year(y, **bad) for y in range(2025, 2020, -1)]
    assert all(w.met for w in rules.dissolution_warnings(ENOUGH, five, C))
    # On the thresholds: 20 % exactly, 50 % exactly and 74 % are not cases.
    edge = {"outstanding": 20, "rank": "C", "bad_debt": 50, "accumulated_result": -74}
    assert rules.dissolution_warnings(ENOUGH, [_year(2025, **edge)], C) == []
    # The charter capital today below 100.000.000.000 đ.
    (w,) = rules.dissolution_warnings(99_999_999_999, [], C)
    assert (w.case, w.met) == ("charter_minimum", True)
    assert rules.dissolution_warnings(C.minimum_charter_capital, [], C) == []


def test_criteria_are_dated():
    assert rules.criteria_for(date(2030, 1, 1)) is rules.CRITERIA[-1]
    assert rules.criteria_for(date(2021, 5, 15)).effective_from == date(2021, 5, 15)


# --- the report on the aged fund -----------------------------------------------------------

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


def test_the_aged_fund_is_ranked_c_with_the_charter_warning(app):
    aged_fund()
    planning.create(make_user("accountant"), 2026, PLAN)
    db.session.commit()
    report = ranking.build(2026, QUARTER_END)
    got = {i.code: (i.plan, i.actual, i.previous, i.score, i.points) for i in report.indicators}
    assert got["loan_growth"] == (500_000_000, 417_500_000, 0, rules.PARTIAL, 1)
    assert got["bad_debt"] == (300, 2_874, None, rules.NOT_MET, 0)
    ops = operations.build(date(2026, 1, 1), QUARTER_END)
    # planned result 20.000.000 + 0 − 10.000.000 − 5.000.000 = 5.000.000
    assert got["financial_result"][:2] == (5_000_000, ops.result.result)
    assert ops.result.result < 0 and got["financial_result"][3] == rules.NOT_MET
    assert got["compliance"][3:] == (rules.NOT_MET, 0)
    assert (report.points, report.max_points, report.rank, report.final) == (1, 8, "C", False)
    assert [w.case for w in report.warnings] == ["charter_minimum"]
    assert all(a.complied is None for a in report.compliance) and report.recorded is None


def test_a_year_without_a_plan_is_refused(app):
    fund_and_staff()
    with pytest.raises(ValidationFailed) as caught:
        ranking.build(2025, date(2025, 12, 31))
    assert "year" in caught.value.fields


# --- recording (a fund with only its charter capital: 2025 is an empty year) ---------------


@pytest.fixture
def quiet_2025(app):
    staff = fund_and_staff()
    # nothing lent and nothing earned: every planned figure is 0, the ceiling 3 %
    planning.create(staff.accountant, 2025, {"bad_debt_ratio": 300})
    db.session.commit()
    return staff


def test_recording_ranks_and_replaces_with_audit(quiet_2025):
    director = quiet_2025.director
    # 0 ≥ plan 0 and ≥ 0 before: met; 0 % ≤ 3 %: met; result 0 ≥ 0: met; all complied: met
    saved = ranking.record(director, 2025, ALL_YES, "Họp ngày 10/05", BUSINESS_DATE)
    db.session.commit()
    assert (saved.rank, saved.points, saved.as_of) == ("A", 8, date(2025, 12, 31))
    assert saved.figures["loan_growth"] == {
        "plan": 0,
        "actual": 0,
        "previous": 0,
        "score": "met",
    }
    # two items not complied with: compliance not met → 6 points with one not met → B
    answers = {**ALL_YES, "no_violations": False, "accounting": "off"}
    again = ranking.record(director, 2025, answers, "", BUSINESS_DATE)
    db.session.commit()
    assert again.id == saved.id and (again.rank, again.points) == ("B", 6)
    report = ranking.build(2025, date(2025, 12, 31), BUSINESS_DATE)
    assert report.rank == "B" and report.recorded.rank == "B" and report.final
    assert [a.complied for a in report.compliance] == [True, False, True, True, False]
    logs = db.session.query(AuditLog).filter_by(entity="ranking_assessment").order_by(AuditLog.id)
    assert [(a.action, a.after.get("rank")) for a in logs] == [
        ("ranking.record", "A"),
        ("ranking.record", "B"),
    ]


def test_recording_rules(quiet_2025):
    with pytest.raises(PermissionDenied):
        ranking.record(quiet_2025.accountant, 2025, ALL_YES, "", BUSINESS_DATE)
    with pytest.raises(Conflict):  # 2026 is not over on 20/11/2026
        ranking.record(quiet_2025.director, 2026, ALL_YES, "", BUSINESS_DATE)
    with pytest.raises(ValidationFailed) as caught:
        ranking.record(quiet_2025.director, 2025, {"bogus": True}, "", BUSINESS_DATE)
    assert "bogus" in caught.value.fields
    with pytest.raises(ValidationFailed):
        ranking.record(quiet_2025.director, 2025, ALL_YES, "x" * 2001, BUSINESS_DATE)
    with pytest.raises(ValidationFailed):  # no plan for 2024
        ranking.record(quiet_2025.director, 2024, ALL_YES, "", BUSINESS_DATE)
    assert records.assessment_for(2025) is None


def test_rank_c_five_years_with_low_lending_is_a_dissolution_case(app):
    staff = fund_and_staff()  # 15.000.000.000 charter, nothing lent: 0 < 20 % of equity
    for year in (2024, 2025):
        records.save(staff.director, year, date(year, 12, 31), ALL_YES, "", "C", 2, {})
    db.session.commit()
    cases = {w.case: w for w in ranking.warnings(BUSINESS_DATE)}
    assert set(cases) == {"charter_minimum", "rank_c_low_lending"}
    assert (cases["rank_c_low_lending"].years, cases["rank_c_low_lending"].met) == (
        (2025, 2024),
        False,
    )
    for year in (2021, 2022, 2023):
        records.save(staff.director, year, date(year, 12, 31), ALL_YES, "", "C", 2, {})
    db.session.commit()
    case = {w.case: w for w in ranking.warnings(BUSINESS_DATE)}["rank_c_low_lending"]
    assert case.met and case.years == (2025, 2024, 2023, 2022, 2021)


# --- API, outputs and pages ----------------------------------------------------------------


def test_api_get_and_record_and_outputs(quiet_2025, client):
    director = api_token(client, quiet_2025.director)
    accountant = api_token(client, quiet_2025.accountant)
    got = client.get("/api/v1/ranking/2025", headers=accountant)
    assert got.status_code == 200, got.get_json()
    data = got.get_json()
    assert (data["rank"], data["points"], data["recorded"]) == ("B", 6, None)
    assert data["filters"] == {"year": "2025", "as_of": "2025-12-31"}
    assert data["warnings"][0]["case"] == "charter_minimum"
    body = {"compliance": ALL_YES, "note": "Đã họp"}
    assert client.post("/api/v1/ranking/2025", json=body, headers=accountant).status_code == 403
    assert client.post("/api/v1/ranking/2026", json=body, headers=director).status_code == 409
    bad = {"compliance": {**ALL_YES, "accounting": "yes"}}
    assert client.post("/api/v1/ranking/2025", json=bad, headers=director).status_code == 422
    ok = client.post("/api/v1/ranking/2025", json=body, headers=director)
    assert ok.status_code == 200, ok.get_json()
    assert (ok.get_json()["rank"], ok.get_json()["recorded"]["note"]) == ("A", "Đã họp")
    assert client.get("/api/v1/ranking/2024", headers=director).status_code == 422  # no plan
    xlsx = client.get("/api/v1/reports/ranking.xlsx?year=2025", headers=director)
    rows = sheet_rows(workbook(xlsx.data)["Chỉ tiêu"])
    assert rows["Tăng trưởng dư nợ cho vay"][:4] == [0, 0, "Đạt", 2]
    pdf = client.get("/api/v1/reports/ranking.pdf?year=2025", headers=director)
    assert "loại A" in pdf_text(pdf.data)
    officer = api_token(client, make_user("officer"))
    assert client.get("/api/v1/ranking/2025", headers=officer).status_code == 403


def test_pages_and_dashboard(quiet_2025, app):
    accountant = client_for(app, quiet_2025.accountant)
    page = accountant.get("/reports/ranking?year=2025").get_data(as_text=True)
    assert "loại B" in page and 'id="ranking-record"' not in page
    director = client_for(app, quiet_2025.director)
    page = director.get("/reports/ranking")  # default: last year, 2025
    html = page.get_data(as_text=True)
    assert page.status_code == 200 and 'id="ranking-record"' in html
    assert 'id="warning-charter_minimum"' in html
    form = {**dict.fromkeys(ALL_YES, "y"), "note": "Họp"}
    assert director.post("/ranking/2025", data=form).status_code == 302
    assert records.assessment_for(2025).rank == "A"
    assert "Đã ghi nhận: loại A" in director.get("/reports/ranking").get_data(as_text=True)
    refused = director.post("/ranking/2026", data=form, follow_redirects=True)
    assert "chưa kết thúc" in refused.get_data(as_text=True)
    dash = director.get("/dashboard").get_data(as_text=True)
    assert 'id="dissolution-charter_minimum"' in dash
    assert 'href="/reports/ranking?year=2025"' in dash
    officer = client_for(app, make_user("officer"))
    assert officer.get("/reports/ranking?year=2025").status_code == 403
    assert officer.post("/ranking/2025", data={}).status_code == 403


def test_percent_shown_in_the_table(quiet_2025):
    report = ranking.build(2025, date(2025, 12, 31), BUSINESS_DATE)
    (indicators, *_rest) = ranking.tables(report)
    bad = next(r for r in indicators.rows if r.cells[0].startswith("Tỷ lệ nợ xấu"))
    assert bad.cells[1:3] == (Decimal("3"), Decimal("0"))
