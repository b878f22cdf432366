"""Landing pages of work, the collection calendar and the cooperative's page, on the small
fund of tests/reports/scenario.py (figures worked out there):

- Loan A (coop A): 120.000.000 đ, instalment 1 due 15/02/2026 — principal 10.000.000,
  interest 120.000.000 × 6 % × 31/365 = 611.507 — unpaid.
- Loan B (coop B): 300.000.000 đ, instalment 1 due 20/02/2026 — principal 12.500.000,
  interest 300.000.000 × 6 % × 31/365 = 1.528.767 — paid on 20/02 (14.028.767).
"""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import func, select

from fundapp.extensions import db
from fundapp.loans.models import Instalment, Loan
from fundapp.servicing import relief as reliefs
from fundapp.work import services
from tests.conftest import login
from tests.documents.helpers import repay
from tests.reports.scenario import AS_OF, small_fund

A_DUE = 10_000_000 + 611_507  # 10.611.507
B_DUE = 12_500_000 + 1_528_767  # 14.028.767


@pytest.fixture
def fund(app):
    return small_fund()


def test_officer_sees_his_overdue_loan_with_amount_days_and_phone(fund):
    officer = fund.staff.officer
    assert fund.loan_a.officer_id == officer.id
    rows = services.overdue_loans(AS_OF, officer.id)
    # 25/02 − 15/02 = 10 days past due; 10.000.000 + 611.507 overdue.
    assert [(r.contract_no, r.amount, r.days_past_due, r.phone) for r in rows] == [
        (fund.loan_a.contract_no, A_DUE, 10, fund.coop_a.phone)
    ]
    # Another officer's list is empty (the appraiser has no loans of his own).
    assert services.overdue_loans(AS_OF, fund.staff.appraiser.id) == []


@pytest.mark.parametrize(
    ("as_of", "expected"),
    [
        # 10/02 … 17/02: A's 15/02 instalment (unpaid); B's 20/02 is outside the window.
        (date(2026, 2, 10), [("A", 1, date(2026, 2, 15), A_DUE)]),
        # 13/02 … 20/02: A's 15/02 and B's 20/02 — B is paid, so only A.
        (date(2026, 2, 13), [("A", 1, date(2026, 2, 15), A_DUE)]),
        # 25/02 … 04/03: nothing falls due (A next 15/03, B next 20/03).
        (AS_OF, []),
    ],
)
def test_instalments_due_in_the_next_seven_days(fund, as_of, expected):
    names = {fund.loan_a.id: "A", fund.loan_b.id: "B"}
    rows = services.due_soon(as_of, fund.staff.officer.id)
    assert [(names[r.loan_id], r.no, r.due_date, r.amount) for r in rows] == expected


def test_inspections_due_thirty_days_after_the_first_disbursement(fund):
    # A disbursed 15/01, B 20/01, no inspection: due 14/02 and 19/02, both ≤ 25/02.
    rows = services.inspections_due(AS_OF, fund.staff.officer.id)
    assert [(r.contract_no, r.due_on) for r in rows] == [
        (fund.loan_a.contract_no, date(2026, 2, 14)),
        (fund.loan_b.contract_no, date(2026, 2, 19)),
    ]
    assert services.inspections_due(date(2026, 2, 14), fund.staff.officer.id)[0].due_on == date(
        2026, 2, 14
    )
    assert len(services.inspections_due(date(2026, 2, 13), fund.staff.officer.id)) == 0


def test_calendar_sums_equal_the_schedule_dues(fund):
    cal = services.month_calendar(2026, 2)
    days = {d.day: d for week in cal.weeks for d in week if d}
    assert len(days) == 28
    assert days[date(2026, 2, 15)].expected == A_DUE
    assert days[date(2026, 2, 20)].expected == B_DUE
    assert days[date(2026, 2, 20)].collected == B_DUE
    assert cal.expected == A_DUE + B_DUE == 24_640_274
    assert cal.collected == B_DUE
    # Every month of the year: the calendar's total is the schedule's sum of that month.
    for month in range(1, 13):
        cal = services.month_calendar(2026, month)
        first = date(2026, month, 1)
        last = date(2026, month + 1, 1) if month < 12 else date(2027, 1, 1)
        scheduled = db.session.scalar(
            select(func.coalesce(func.sum(Instalment.principal + Instalment.interest), 0))
            .join(Loan)
            .where(Instalment.due_date >= first, Instalment.due_date < last)
        )
        assert cal.expected == scheduled
        assert sum(d.expected for w in cal.weeks for d in w if d) == cal.expected


def test_accountant_day_and_cooperative_summary(fund):
    col = services.collections_of(date(2026, 2, 20))
    # B's instalment was due and paid on 20/02: nothing left to expect, 14.028.767 collected.
    assert (col.expected, col.collected, col.receipts) == (0, B_DUE, 1)
    col = services.collections_of(date(2026, 2, 15))
    assert (col.expected, col.collected) == (A_DUE, 0)
    summary = services.cooperative_summary(fund.coop_a, AS_OF)
    assert (summary.outstanding, summary.overdue, summary.days_past_due) == (120_000_000, A_DUE, 10)
    assert [row.loan.id for row in summary.loans] == [fund.loan_a.id]
    assert len(summary.applications) == 1


def test_pages_render_for_each_role(fund, client, app):
    app.config["FUNDAPP_BUSINESS_DATE"] = AS_OF.isoformat()
    staff = fund.staff
    login(client, staff.officer)
    assert client.get("/").headers["Location"] == "/work/"
    html = client.get("/work/").get_data(as_text=True)
    assert fund.loan_a.contract_no in html and "10.611.507" in html
    assert 'id="work-decisions"' not in html
    client.post("/logout")
    login(client, staff.accountant)
    html = client.get("/work/").get_data(as_text=True)
    assert 'id="work-accountant"' in html and 'id="work-officer"' not in html
    client.post("/logout")
    login(client, staff.director)
    html = client.get("/work/").get_data(as_text=True)
    assert 'id="work-decisions"' in html and 'id="work-due"' not in html
    cal = client.get("/work/calendar", query_string={"month": "2026-02"})
    assert cal.status_code == 200 and "24.640.274" in cal.get_data(as_text=True)
    assert client.get("/work/calendar", query_string={"month": "2026-13"}).status_code == 422
    assert client.get("/work/calendar", query_string={"month": "x" * 500}).status_code == 422
    page = client.get(f"/cooperatives/{fund.coop_a.id}").get_data(as_text=True)
    assert "10.611.507" in page and fund.loan_a.contract_no in page
    loans = client.get("/loans/").get_data(as_text=True)
    assert "10.611.507" in loans


def test_arrears_count_a_waived_interest_once(fund):
    """A relief waives 200.000 đ of loan A's overdue interest row on 25/02: the arrears are
    10.611.507 − 200.000 = 10.411.507, and still 10 days past due. A payment of 411.507 on
    25/02 pays the overdue interest first, 10 days on 10.000.000 at 9 % and on 611.507 at
    10 %: (900.000.000 + 61.150.700) / 36.500 = 26.332,9 → 26.333, then 385.174 of interest:
    10.000.000 + 26.333 are left (counting the waiver twice would show 9.826.333)."""
    staff, loan = fund.staff, fund.loan_a
    payload = {
        "kind": "reduction",
        "reason_code": "unable_to_pay",
        "interest": 200_000,
        "reason": "Thiên tai làm mất mùa",
        "evidence": "Biên bản xác nhận thiệt hại",
    }
    relief = reliefs.request_relief(staff.officer, loan.id, payload, AS_OF)
    reliefs.decide_relief(staff.director, relief.id, True, "Đồng ý giảm", AS_OF)
    db.session.commit()
    late = services.arrears(AS_OF)[loan.id]
    assert (late.amount, late.days_past_due) == (A_DUE - 200_000, 10)
    repay(staff, loan, 411_507, AS_OF)
    assert services.arrears(AS_OF)[loan.id].amount == 10_026_333
