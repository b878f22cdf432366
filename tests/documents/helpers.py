"""A loan with a history worth printing, built through the real services.

120.000.000 đ at 6 %/year over 12 months, equal principal, disbursed on 05/01/2026
(KU-2026-0001). Instalment 1 (10.000.000 + 611.507 interest) is paid on its due date;
instalment 2 (10.000.000 + 506.301, due 05/03) falls overdue and is partly paid on 15/03
(5.000.000: 26.045 overdue interest for 10 days, 506.301 interest, 4.467.654 principal);
1.000.000 received on 20/03 is reversed on 25/03.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from fundapp.extensions import db
from fundapp.repayments import services as rs
from tests.services.lending_helpers import Staff, contracted_loan, disburse, fund_and_staff


@dataclass
class Story:
    staff: Staff
    loan: Any
    disbursement: Any
    paid_on_time: Any
    partial: Any
    reversed: Any


def repay(staff: Staff, loan: Any, amount: int, when: date) -> Any:
    repayment = rs.record_repayment(
        staff.accountant, loan.id, {"amount": amount, "date": when, "reference": ""}, when
    )
    db.session.commit()
    return repayment


def story(cooperative: Any = None) -> Story:
    staff = fund_and_staff()
    loan = contracted_loan(staff, cooperative=cooperative)
    tranche = disburse(staff, loan, 120_000_000, date(2026, 1, 5))
    on_time = repay(staff, loan, 10_611_507, date(2026, 2, 5))
    partial = repay(staff, loan, 5_000_000, date(2026, 3, 15))
    mistake = repay(staff, loan, 1_000_000, date(2026, 3, 20))
    reversal = rs.request_reversal(staff.accountant, mistake.id, "Ghi nhầm khoản vay")
    db.session.commit()
    rs.decide_reversal(staff.director, reversal.id, True, date(2026, 3, 25))
    db.session.commit()
    return Story(staff, loan, tranche, on_time, partial, mistake)
