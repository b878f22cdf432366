"""The overdue accrual of the close of day, on random small books, equals the replay to the
đồng (docs/rules.md#interest-overdue-interest-and-late-interest).

The close of day advances each late instalment's overdue balance-days by one day and its
overdue interest from the new sums: one SQL UPDATE on PostgreSQL, Python elsewhere
(``fundapp.servicing.overdue_accrual``). After every night of a random book (a few loans with
random rates, overdue multipliers, late rates, disbursement dates and partial repayments) this
test checks, for every instalment:

* the stored overdue interest equals the Python formula on the stored sums
  (``fundapp.domain.overdue.interest_from_balance_days``): on PostgreSQL, the SQL path against
  the Python path; on SQLite the Python path against itself, so there the next check is the
  one that counts;
* both equal the overdue interest the replay of the loan's history gives as of that night
  (``fundapp.domain.replay``).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal

from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st
from sqlalchemy import select

from fundapp.domain.money import round_dong
from fundapp.domain.overdue import interest_from_balance_days
from fundapp.extensions import db
from fundapp.loans import store
from fundapp.loans.models import Instalment, Loan, LoanStatus
from fundapp.repayments import services as rs
from fundapp.servicing.close_day import run_close_day
from tests.conftest import fresh_database, make_app
from tests.services.lending_helpers import contracted_loan, disburse, fund_and_staff

# The first night closed: by then every loan below has at least one instalment past due.
FIRST_NIGHT = date(2026, 3, 20)


@dataclass(frozen=True)
class LoanPlan:
    rate: Decimal
    multiplier: Decimal
    late_rate: Decimal
    disbursed_on: date
    method: str


@dataclass(frozen=True)
class Payment:
    night: int  # paid on the day after that many nights
    loan: int
    share: int  # per mille of what the loan owes that day


loans = st.builds(
    LoanPlan,
    rate=st.decimals(min_value=Decimal("0.5"), max_value=Decimal("20"), places=2),
    multiplier=st.decimals(min_value=Decimal("100"), max_value=Decimal("150"), places=2),
    late_rate=st.sampled_from([Decimal("0"), Decimal("5"), Decimal("7.25"), Decimal("10")]),
    disbursed_on=st.dates(date(2025, 10, 1), date(2026, 2, 10)),
    method=st.sampled_from(["equal_principal", "annuity", "bullet"]),
)


@st.composite
def books(draw: st.DrawFn) -> tuple[list[LoanPlan], int, list[Payment]]:
    plans = draw(st.lists(loans, min_size=1, max_size=3))
    nights = draw(st.integers(2, 6))
    payments = draw(
        st.lists(
            st.builds(
                Payment,
                night=st.integers(0, nights - 1),
                loan=st.integers(0, len(plans) - 1),
                share=st.integers(1, 999),
            ),
            min_size=1,
            max_size=4,
        )
    )
    return plans, nights, payments


def _contract(staff, plan: LoanPlan) -> Loan:  # type: ignore[no-untyped-def]
    loan = contracted_loan(
        staff,
        on=plan.disbursed_on - timedelta(days=5),
        annual_rate=format(plan.rate, "f"),
        principal_method=plan.method,
    )
    # The contract's terms, as the board could have set them for this loan.
    loan.overdue_multiplier = plan.multiplier
    loan.late_rate = plan.late_rate
    db.session.commit()
    disburse(staff, loan, loan.amount, plan.disbursed_on)
    return loan


def _check_night(night: date) -> int:
    """Compare every instalment of every active loan after the close of ``night``; returns
    how many instalments bore overdue interest."""
    bearing = 0
    for loan in db.session.scalars(select(Loan).where(Loan.status == LoanStatus.ACTIVE)):
        state = store.replay(loan)
        product = store.product_of(loan)
        replayed = {row.no: row.penalty_accrued(product, night) for row in state.rows}
        for inst in db.session.scalars(
            select(Instalment).where(Instalment.loan_id == loan.id).order_by(Instalment.no)
        ):
            python_path = round_dong(
                interest_from_balance_days(
                    inst.principal_balance_days,
                    inst.interest_balance_days,
                    loan.annual_rate,
                    overdue_multiplier=loan.overdue_multiplier,
                    late_rate=loan.late_rate,
                )
            )
            where = f"loan {loan.id} row {inst.no} due {inst.due_date} night {night}"
            assert inst.penalty_accrued == python_path, where
            assert inst.penalty_accrued == replayed[inst.no], where
            bearing += inst.penalty_accrued > 0
    return bearing


@settings(
    max_examples=6,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(book=books())
def test_both_accrual_paths_equal_the_replay_to_the_dong(
    book: tuple[list[LoanPlan], int, list[Payment]],
) -> None:
    plans, nights, payments = book
    with fresh_database(make_app()):
        staff = fund_and_staff()
        made = [_contract(staff, plan) for plan in plans]
        night = FIRST_NIGHT
        run_close_day(night, "cli")  # the first night seeds the state from the replay
        db.session.commit()
        _check_night(night)
        paid = 0
        for n in range(nights):
            for payment in (p for p in payments if p.night == n):
                loan = db.session.get(Loan, made[payment.loan].id)
                if loan.status != LoanStatus.ACTIVE:
                    continue
                owed = store.replay(loan).balances(night).total_due
                amount = owed * payment.share // 1000
                if amount > 0:
                    rs.record_repayment(
                        staff.accountant, loan.id, {"amount": amount, "date": night}, night
                    )
                    db.session.commit()
                    paid += 1
            night += timedelta(days=1)
            run_close_day(night, "cli")
            db.session.commit()
            bearing = _check_night(night)
        event(f"instalments bearing overdue interest on the last night: {min(bearing, 5)}+")
        event(f"partial repayments: {paid}")
