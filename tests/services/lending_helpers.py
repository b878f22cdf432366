"""Shared set-up for lending tests: a funded fund, staff, and a contracted loan."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from fundapp.extensions import db
from fundapp.ledger.services import record_capital
from fundapp.lending import services as ls
from fundapp.policy.services import install_defaults
from tests.conftest import make_cooperative, make_user


@dataclass
class Staff:
    officer: Any
    appraiser: Any
    accountant: Any
    director: Any
    board: Any


def fund_and_staff(capital: int = 15_000_000_000) -> Staff:
    install_defaults()
    record_capital(None, "charter", capital, date(2020, 1, 1))
    db.session.commit()
    return Staff(
        make_user("officer"),
        make_user("officer"),
        make_user("accountant"),
        make_user("director"),
        make_user("board"),
    )


def contracted_loan(
    staff: Staff,
    amount: int = 120_000_000,
    on: date = date(2026, 1, 5),
    cooperative: Any = None,
    **terms: Any,
) -> Any:
    coop = cooperative or make_cooperative()
    data = {
        "cooperative_id": coop.id,
        "project_name": "Mở rộng vườn vải thiều",
        "total_project_cost": amount * 2,
        "own_equity": amount,
        "requested_amount": amount,
        "term_months": 12,
        "annual_rate": "6",
        "principal_method": "equal_principal",
    }
    data.update(terms)
    app = ls.create_application(staff.officer, data, on)
    ls.submit(staff.officer, app)
    ls.appraise(staff.appraiser, app, amount, "Phương án khả thi", on)
    approver = staff.director if amount <= 500_000_000 else staff.board
    loan = ls.approve(approver, app, "Đồng ý", on)
    ls.sign_contract(staff.officer, loan, on, on)
    db.session.commit()
    return loan


def disburse(staff: Staff, loan: Any, amount: int, when: date) -> Any:
    d = ls.record_disbursement(staff.accountant, loan.id, {"amount": amount, "date": when}, when)
    ls.approve_disbursement(staff.director, d.id, when)
    db.session.commit()
    return d
