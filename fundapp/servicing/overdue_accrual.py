"""The overdue state of the instalments, advanced one day by the close of day (steps 1–2).

Each open instalment past due carries its overdue balance-days (principal and unpaid
interest, one more day each run) and the overdue interest they bear, recomputed from the
sums and rounded half-up once. The same figures come from replaying a loan
(``fundapp.domain.replay``); the close of day keeps them in the table so that a night
touches only the instalments that are late, with one statement on PostgreSQL.
"""

from __future__ import annotations

from datetime import date

from sqlalchemy import NUMERIC, and_, exists, func, or_, select, update

from fundapp.domain.money import round_dong
from fundapp.domain.overdue import YEAR_PERCENT, interest_from_balance_days
from fundapp.domain.terms import overdue_rate
from fundapp.extensions import db
from fundapp.loans import store
from fundapp.loans.models import Instalment, Loan, LoanStatus

# An instalment with principal or interest still to pay.
OPEN = or_(
    Instalment.principal_paid < Instalment.principal,
    Instalment.interest_paid < Instalment.interest,
)
ACTIVE = select(Loan.id).where(Loan.status == LoanStatus.ACTIVE)
# Not settled: something still to pay, overdue interest included (= ``loans.models.UNSETTLED``).
LATE = or_(OPEN, Instalment.penalty_accrued > Instalment.penalty_paid)


def seed_overdue_state(day: date) -> None:
    """First run ever: the overdue state of each late loan from its history, as of ``day``
    (the run row is flushed, so ``store.store`` computes as of this date)."""
    late = db.session.scalars(
        select(Loan)
        .where(
            Loan.status == LoanStatus.ACTIVE,
            exists().where(Instalment.loan_id == Loan.id, Instalment.due_date < day, OPEN),
        )
        .order_by(Loan.id)
    )
    for loan in late:
        store.store(loan, store.replay(loan), day)
    db.session.flush()


def advance_overdue_state(day: date) -> int:
    """One more day [day − 1, day) of overdue balance on every open past-due instalment,
    and their overdue interest from the new sums, rounded half-up once:
    (Σ principal·days × rate × multiplier / 100 + Σ interest·days × late rate) / 36 500.

    PostgreSQL does both in one UPDATE with exact NUMERIC arithmetic (``div`` of the
    numerator plus half the divisor is the half-up rounding); elsewhere the new sums are
    read back and the interest computed in Python, with the same formula."""
    touched = and_(Instalment.due_date < day, OPEN, Instalment.loan_id.in_(ACTIVE))
    principal_days = Instalment.principal_balance_days + (
        Instalment.principal - Instalment.principal_paid
    )
    interest_days = Instalment.interest_balance_days + (
        Instalment.interest - Instalment.interest_paid
    )
    if db.engine.dialect.name == "postgresql":
        # The domain's one overdue rate, written over the columns: rate × multiplier / 100.
        rate = overdue_rate(
            func.cast(Loan.annual_rate, NUMERIC), func.cast(Loan.overdue_multiplier, NUMERIC)
        )
        exact = principal_days * rate + interest_days * func.cast(Loan.late_rate, NUMERIC)
        result = db.session.execute(
            update(Instalment)
            .where(Loan.id == Instalment.loan_id, Loan.status == LoanStatus.ACTIVE)
            .where(Instalment.due_date < day, OPEN)
            .values(
                principal_balance_days=principal_days,
                interest_balance_days=interest_days,
                penalty_accrued=func.div(exact + YEAR_PERCENT / 2, YEAR_PERCENT),
            )
            .execution_options(synchronize_session=False)
        )
        return int(result.rowcount or 0)
    db.session.execute(
        update(Instalment)
        .where(touched)
        .values(principal_balance_days=principal_days, interest_balance_days=interest_days)
        .execution_options(synchronize_session=False)
    )
    rows = db.session.execute(
        select(
            Instalment.id,
            Instalment.principal_balance_days,
            Instalment.interest_balance_days,
            Loan.annual_rate,
            Loan.overdue_multiplier,
            Loan.late_rate,
        )
        .join(Loan, Loan.id == Instalment.loan_id)
        .where(touched)
    ).all()
    if rows:
        db.session.execute(
            update(Instalment).execution_options(synchronize_session=False),
            [
                {
                    "id": id_,
                    "penalty_accrued": round_dong(
                        interest_from_balance_days(
                            pbd, ibd, rate, overdue_multiplier=mult, late_rate=late
                        )
                    ),
                }
                for id_, pbd, ibd, rate, mult, late in rows
            ],
        )
    return len(rows)
