"""The overdue state of the instalments, advanced one day by the close of day (steps 1–2).

Each open instalment past due carries its overdue balance-days (principal and unpaid
interest, one more day each run) and the overdue interest they bear, recomputed from the
sums and rounded half-up once. The same figures come from replaying a loan
(``fundapp.domain.replay``); the close of day keeps them in the table so that a night
touches only the instalments that are late, with one statement on PostgreSQL.
"""

from __future__ import annotations

from datetime import date

from sqlalchemy import NUMERIC, and_, bindparam, exists, func, or_, select, union, update

from fundapp.core.db import among, in_chunks, touch_loans
from fundapp.domain.money import round_dong
from fundapp.domain.overdue import YEAR_PERCENT, interest_from_balance_days
from fundapp.domain.terms import overdue_rate
from fundapp.extensions import db
from fundapp.loans import store, stored
from fundapp.loans.models import (
    ApprovalStatus,
    Disbursement,
    DisbursementStatus,
    Instalment,
    Loan,
    LoanStatus,
    Repayment,
    Restructuring,
)
from fundapp.loans.relief import InterestRelief

# An instalment with principal or interest still to pay.
OPEN = or_(
    Instalment.principal_paid < Instalment.principal,
    Instalment.interest_paid < Instalment.interest,
)
ACTIVE = select(Loan.id).where(Loan.status == LoanStatus.ACTIVE)
# Not settled: something still to pay, overdue interest included (= ``loans.models.UNSETTLED``).
LATE = or_(OPEN, Instalment.penalty_accrued > Instalment.penalty_paid)


OVERDUE_STATE = ("principal_balance_days", "interest_balance_days", "penalty_accrued")


def restate_overdue_state(loan_ids: list[int], day: date) -> None:
    """The overdue state as of ``day`` of every instalment of ``loan_ids``, from the loans'
    stored states (``loans.stored``: their replayed history, read, not replayed), in
    chunks: a read of each table and one executemany of the changed rows per chunk."""
    table = Instalment.__table__
    for part in in_chunks(loan_ids):
        loans = db.session.scalars(select(Loan).where(among(Loan.id, part))).all()
        states = stored.states_of(loans)
        have = {
            (row.loan_id, row.no): tuple(row[1:])
            for row in db.session.execute(
                select(
                    Instalment.loan_id,
                    Instalment.principal_balance_days,
                    Instalment.interest_balance_days,
                    Instalment.penalty_accrued,
                    Instalment.no,
                ).where(among(Instalment.loan_id, part))
            )
        }
        changed = []
        for loan_id, state in states.items():
            for no, values in store.instalment_columns(state, day).items():
                want = tuple(values[c] for c in OVERDUE_STATE)
                if have.get((loan_id, no), (None,))[:3] != want:
                    changed.append(
                        {"_loan": loan_id, "_no": no, **dict(zip(OVERDUE_STATE, want, strict=True))}
                    )
        if changed:
            db.session.execute(
                update(table)
                .where(table.c.loan_id == bindparam("_loan"), table.c.no == bindparam("_no"))
                .values({c: bindparam(c) for c in OVERDUE_STATE}),
                changed,
            )
        for loan in loans:
            loan.reclassify = True
        touch_loans(part)
    db.session.flush()


def seed_overdue_state(day: date) -> None:
    """First run ever: the overdue state as of ``day`` of each active loan with an
    instalment past due that is open or was paid after its due date (one paid on time bore
    no overdue interest): what was stored before it was stored as of no closed date."""
    late = db.session.scalars(
        select(Loan.id)
        .where(
            Loan.status == LoanStatus.ACTIVE,
            exists().where(
                Instalment.loan_id == Loan.id,
                Instalment.due_date < day,
                or_(OPEN, Instalment.paid_on.is_(None), Instalment.paid_on > Instalment.due_date),
            ),
        )
        .order_by(Loan.id)
    ).all()
    restate_overdue_state(list(late), day)


def restate_later_events(day: date) -> int:
    """Active loans with an event dated on or after ``day`` already recorded (a run that
    catches up missed dates, or one started after the day's first payments): their overdue
    state as of ``day`` from the replay. The advance counts what is paid now; a payment
    lowers the overdue balance only from its value date, so for these loans it would count
    it too early. Normally there are none."""
    later = union(
        select(Repayment.loan_id).where(Repayment.value_date >= day, Repayment.reversed.is_(False)),
        select(InterestRelief.loan_id).where(
            InterestRelief.effective_date >= day, InterestRelief.status == "approved"
        ),
        select(Disbursement.loan_id).where(
            Disbursement.value_date >= day, Disbursement.status == DisbursementStatus.POSTED
        ),
        select(Restructuring.loan_id).where(
            Restructuring.effective_date >= day, Restructuring.status == ApprovalStatus.APPROVED
        ),
    ).subquery()
    ids = db.session.scalars(
        select(Loan.id)
        .where(Loan.status == LoanStatus.ACTIVE, Loan.id.in_(select(later.c[0])))
        .order_by(Loan.id)
    ).all()
    restate_overdue_state(list(ids), day)
    return len(ids)


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
