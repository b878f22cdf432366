"""A small fund for the dashboard, built through the real services; figures by hand.

- Charter capital 15.000.000.000 đ (01/01/2020).
- Loan A, Lục Ngạn (219): 120.000.000 đ, 12 months, 6 %/year, principal and interest
  every 3 months, disbursed 05/01/2026. Each quarter is paid on its due date:
  - 05/04/2026: 30.000.000 + 120.000.000 × 6 % × 90/365 (1.775.342) = 31.775.342;
  - 05/07/2026: 30.000.000 + 90.000.000 × 6 % × 91/365 (1.346.301) = 31.346.301;
  - 05/10/2026: 30.000.000 + 60.000.000 × 6 % × 92/365 (907.397) = 30.907.397.
  Outstanding from 05/10/2026: 30.000.000.
- Loan B, TP Bắc Giang (213): 60.000.000 đ, 12 months, monthly, disbursed 10/05/2026, never
  paid. Instalment 1 (10/06): 5.000.000 + 60.000.000 × 6 % × 31/365 (305.753) = 5.305.753;
  instalment 2 (10/07): 5.000.000 + 55.000.000 × 6 % × 30/365 (271.233) = 5.271.233.
- Close of day on 20/11/2026 (the business date): B's six instalments due 10/06 … 10/11
  move to overdue (30.000.000); 163 days past due (10/06 → 20/11) → group 4 (90–< 180,
  Circular 14/2024/TT-NHNN; group 3 before 12/08/2024), bad debt.
- Waiting for a decision: one application submitted (to appraise) and one disbursement
  recorded and not yet approved.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from fundapp.extensions import db
from fundapp.lending import applications, disbursements
from fundapp.repayments import services as rs
from fundapp.servicing.close_day import run_close_day
from tests.conftest import make_cooperative
from tests.services.lending_helpers import (
    Staff,
    application_data,
    contracted_loan,
    disburse,
    fund_and_staff,
)

TODAY = date(2026, 11, 20)
QUARTERS = (
    (date(2026, 4, 5), 31_775_342),
    (date(2026, 7, 5), 31_346_301),
    (date(2026, 10, 5), 30_907_397),
)


@dataclass
class Fund:
    staff: Staff
    loan_a: Any
    loan_b: Any


def build_until_october() -> Fund:
    """Everything up to 31/10/2026: capital, two loans, three repayments; no close of day."""
    staff = fund_and_staff()
    coop_a = make_cooperative(name="HTX Vải thiều Phượng Sơn", district_code="219")
    coop_b = make_cooperative(name="HTX Gà đồi Đồng Tâm", district_code="213")
    loan_a = contracted_loan(
        staff,
        120_000_000,
        date(2026, 1, 5),
        coop_a,
        principal_every_months=3,
        interest_every_months=3,
    )
    disburse(staff, loan_a, 120_000_000, date(2026, 1, 5))
    loan_b = contracted_loan(staff, 60_000_000, date(2026, 5, 10), coop_b)
    disburse(staff, loan_b, 60_000_000, date(2026, 5, 10))
    for when, amount in QUARTERS:
        rs.record_repayment(staff.accountant, loan_a.id, {"amount": amount, "date": when}, when)
        db.session.commit()
    return Fund(staff, loan_a, loan_b)


def close_today_with_pending_work(fund: Fund) -> None:
    """The close of day of 20/11/2026, one application to appraise, one disbursement to
    approve."""
    run_close_day(TODAY, "cli")
    db.session.commit()
    coop = make_cooperative(name="HTX Nấm Tân Yên", district_code="216")
    application = applications.create_application(
        fund.staff.officer,
        application_data(coop, 100_000_000, project_name="Nhà trồng nấm", term_months=24),
        TODAY,
    )
    applications.submit(fund.staff.officer, application)
    loan_c = contracted_loan(fund.staff, 50_000_000, TODAY)
    disbursements.record_disbursement(
        fund.staff.accountant, loan_c.id, {"amount": 50_000_000, "date": TODAY}, TODAY
    )
    db.session.commit()


def build() -> Fund:
    fund = build_until_october()
    close_today_with_pending_work(fund)
    return fund
