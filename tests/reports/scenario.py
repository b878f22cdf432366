"""A small fund built through the real services, with figures checked by hand.

- Charter capital 15.000.000.000 đ (01/01/2020) and entrusted capital 2.000.000.000 đ from
  the central fund (01/06/2025).
- Loan A: 120.000.000 đ, 12 months, 6 %/year, equal principal monthly, to a cooperative in
  Lục Ngạn (219) growing lychees; disbursed 15/01/2026. Collateral valued 40.000.000 đ with
  a discount factor of 0,5 (20.000.000 đ counted against provisions). Instalment 1, due
  15/02/2026 (principal 10.000.000, interest 120.000.000 × 6 % × 31/365 = 611.507), is not
  paid.
- Loan B: 300.000.000 đ, 24 months (medium term), to a union of cooperatives in TP Bắc
  Giang (213) raising hill chickens; disbursed 20/01/2026. Instalment 1, due 20/02/2026
  (principal 12.500.000, interest 300.000.000 × 6 % × 31/365 = 1.528.767), paid on time.
- Close of day from 15/02/2026 to 25/02/2026.

As of 25/02/2026:
- A: in term 110.000.000, overdue 10.000.000, 10 days past due → group 2; interest held
  off-balance; specific provision 2 % × (120.000.000 − 20.000.000) = 2.000.000 (the rate
  of group 2 under Decree 86/2024/NĐ-CP; 5 % before issue 15).
- B: in term 287.500.000, group 1, no provision.
- General provision 0,75 % × (120.000.000 + 287.500.000) = 3.056.250.
- Cash 17.000.000.000 − 120.000.000 − 300.000.000 + 14.028.767 = 16.594.028.767.
- Accumulated result: interest 1.528.767 − provision expense 5.056.250 = −3.527.483.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any, TypeVar

from flask import g
from sqlalchemy import func, select

from fundapp.auth.models import User
from fundapp.cooperatives.models import Cooperative
from fundapp.extensions import db
from fundapp.ledger.models import JournalEntry
from fundapp.ledger.services import record_capital
from fundapp.lending import collateral
from fundapp.loans.models import Loan
from fundapp.repayments import services as rs
from fundapp.servicing.close_day import run_close_day, run_pending
from tests.conftest import make_cooperative
from tests.services.lending_helpers import Staff, contracted_loan, disburse, fund_and_staff

AS_OF = date(2026, 2, 25)
CENTRAL_FUND = "Quỹ hỗ trợ phát triển HTX Trung ương"


@dataclass
class SmallFund:
    staff: Staff
    loan_a: Any
    loan_b: Any
    coop_a: Any
    coop_b: Any


def close_until(until: date) -> None:
    run_pending(until, "cli")
    db.session.commit()


def small_fund() -> SmallFund:
    staff = fund_and_staff()
    record_capital(None, "entrusted", 2_000_000_000, date(2025, 6, 1), source_name=CENTRAL_FUND)
    db.session.commit()
    coop_a = make_cooperative(name="HTX Vải thiều Phượng Sơn", district_code="219")
    coop_b = make_cooperative(
        name="Liên hiệp HTX Gà đồi Yên Thế",
        kind="union",
        district_code="213",
        sector="Chăn nuôi gà đồi",
    )
    loan_a = contracted_loan(staff, 120_000_000, date(2026, 1, 5), coop_a)
    collateral.add_collateral(
        staff.officer,
        loan_a,
        {"kind": "Quyền sử dụng đất", "valuation": 40_000_000, "discount_factor": "0.5"},
    )
    db.session.commit()
    loan_b = contracted_loan(staff, 300_000_000, date(2026, 1, 6), coop_b, term_months=24)
    disburse(staff, loan_a, 120_000_000, date(2026, 1, 15))
    disburse(staff, loan_b, 300_000_000, date(2026, 1, 20))
    run_close_day(date(2026, 2, 15), "cli")
    db.session.commit()
    close_until(date(2026, 2, 20))
    repay(staff, loan_b, 14_028_767, date(2026, 2, 20))
    close_until(AS_OF)
    return SmallFund(staff, loan_a, loan_b, coop_a, coop_b)


def repay(staff: Staff, loan: Any, amount: int, when: date) -> Any:
    repayment = rs.record_repayment(
        staff.accountant, loan.id, {"amount": amount, "date": when.isoformat()}, when
    )
    db.session.commit()
    return repayment


def later_transactions(fund: SmallFund) -> None:
    """After 25/02: A pays its arrears on 02/03, B its second instalment on 20/03, a new
    capital entry, and the close of day runs on to 25/03."""
    close_until(date(2026, 3, 2))
    repay(fund.staff, fund.loan_a, 11_000_000, date(2026, 3, 2))
    record_capital(None, "charter", 500_000_000, date(2026, 3, 10))
    db.session.commit()
    close_until(date(2026, 3, 20))
    repay(fund.staff, fund.loan_b, 13_823_288, date(2026, 3, 20))
    close_until(date(2026, 3, 20) + timedelta(days=5))


QUARTER_END = date(2026, 6, 30)


@dataclass
class AgedFund:
    """The small fund carried on to 30/06/2026, with a third loan.

    - A pays nothing: instalments due 15/02 … 15/06 are overdue (50.000.000), 135 days past
      due on 30/06 → group 4 (90–< 180, Circular 14/2024); specific provision 50 % ×
      (120.000.000 − 20.000.000) = 50.000.000.
    - B pays each instalment on its due date (20/02 … 20/06): 237.500.000 left, group 1.
    - C: 60.000.000 đ over 12 months to a member of a cooperative in Tân Yên (216) growing
      mushrooms, disbursed 10/05/2026; instalment 1 due 10/06 unpaid: 5.000.000 overdue,
      20 days past due on 30/06 → group 2; provision 2 % × 60.000.000 = 1.200.000.
    - General provision 0,75 % × (120.000.000 + 237.500.000 + 60.000.000) = 3.131.250.
    """

    fund: SmallFund
    loan_c: Any


def pay_due_instalment(staff: Staff, loan: Any, due: date) -> None:
    """Pays the instalment due on ``due`` in full on that day (amounts from its schedule)."""
    from fundapp.loans.models import Instalment

    inst = db.session.query(Instalment).filter_by(loan_id=loan.id, due_date=due).one()
    repay(staff, loan, inst.principal + inst.interest, due)


def aged_fund() -> AgedFund:
    fund = small_fund()
    coop_c = make_cooperative(
        name="Tổ hợp tác nấm Cao Xá", kind="coop_member", district_code="216", sector="Trồng nấm"
    )
    loan_c = contracted_loan(fund.staff, 60_000_000, date(2026, 5, 4), coop_c)
    for month in (3, 4, 5, 6):
        due = date(2026, month, 20)
        if month == 5:
            close_until(date(2026, 5, 10))
            disburse(fund.staff, loan_c, 60_000_000, date(2026, 5, 10))
        close_until(due)
        pay_due_instalment(fund.staff, fund.loan_b, due)
    close_until(QUARTER_END)
    return AgedFund(fund, loan_c)


# --- the aged fund, built once per session on SQLite ----------------------------------------

T = TypeVar("T")
_kept: dict[str, tuple[sqlite3.Connection, dict[str, tuple[type, int]]]] = {}


def _pristine_memory_database() -> bool:
    """An in-memory SQLite database as :func:`tests.conftest.fresh_database` left it: no
    user, cooperative, loan or journal entry yet, so the fund built on it is always the same."""
    engine = db.engine
    if engine.dialect.name != "sqlite" or engine.url.database not in (None, "", ":memory:"):
        return False
    return not any(
        db.session.scalar(select(func.count()).select_from(model))
        for model in (User, Cooperative, Loan, JournalEntry)
    )


def _kept_build(name: str, build: Callable[[], T], rows: Callable[[T], dict[str, Any]],
                again: Callable[[dict[str, Any]], T]) -> T:  # fmt: skip
    """``build()`` on an empty in-memory database, once: later calls copy the database as it
    left it back in (SQLite's backup) and read its objects again by id. Anywhere else (on
    PostgreSQL, or after the test has written something) ``build()`` runs every time."""
    if not _pristine_memory_database():
        return build()
    kept = _kept.get(name)
    if kept is None:
        built = build()
        db.session.commit()
        ids = {key: (type(obj), obj.id) for key, obj in rows(built).items()}
        snapshot = sqlite3.connect(":memory:", check_same_thread=False)
        db.session.remove()
        pooled = db.engine.raw_connection()
        try:
            pooled.driver_connection.backup(snapshot)
        finally:
            pooled.close()
        _kept[name] = (snapshot, ids)
        return again({key: db.session.get(model, id_) for key, (model, id_) in ids.items()})
    snapshot, ids = kept
    db.session.remove()
    pooled = db.engine.raw_connection()
    try:
        snapshot.backup(pooled.driver_connection)
    finally:
        pooled.close()
    from fundapp.areas import services as areas

    areas.forget()
    g.pop("_origin_funds", None)
    return again({key: db.session.get(model, id_) for key, (model, id_) in ids.items()})


_STAFF = ("officer", "appraiser", "accountant", "director", "board")


def _aged_rows(aged: AgedFund) -> dict[str, Any]:
    fund = aged.fund
    people = {role: getattr(fund.staff, role) for role in _STAFF}
    loans = {"loan_a": fund.loan_a, "loan_b": fund.loan_b, "loan_c": aged.loan_c}
    return {**people, **loans, "coop_a": fund.coop_a, "coop_b": fund.coop_b}


def _aged_again(o: dict[str, Any]) -> AgedFund:
    staff = Staff(*(o[role] for role in _STAFF))
    fund = SmallFund(staff, o["loan_a"], o["loan_b"], o["coop_a"], o["coop_b"])
    return AgedFund(fund, o["loan_c"])


def kept_aged_fund() -> AgedFund:
    """:func:`aged_fund`, its close of day run day by day to 30/06 once per session on SQLite
    (a dozen seconds each time), for the tests that start from it on an empty database."""
    return _kept_build("aged", aged_fund, _aged_rows, _aged_again)
