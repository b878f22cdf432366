"""What falls due month by month on the whole book, kept current in the transaction of
every change to a schedule.

The dashboard's collections chart sets what fell due in each of the last twelve months
(principal and interest of the loans' schedules) against what was collected. Summing
those instalments reads a third of the book's schedule rows on every change, so the
months are kept (``due_month_totals``): a schedule written through the session (a
disbursement, a restructuring, a prepayment, a replay) or by a repayment's own rows first
notes its loan's months as they stand in the database; before the transaction commits,
the loan's months are read again and the difference is added to the totals, in month
order. A savepoint rolled back in between changes nothing: the difference is between the
database before the transaction and at its end. ``flask fund check`` verifies the totals
against the instalments.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import date
from typing import Any

from sqlalchemy import Date, cast, delete, extract, func, insert, select
from sqlalchemy.orm import Mapped, Session, mapped_column

from fundapp.core.db import Money, among, in_chunks, listen_to_sessions, upsert
from fundapp.extensions import db
from fundapp.loans.models import Instalment

BEFORE = "dues_before"


class DueMonthTotal(db.Model):
    """Principal and interest of every loan's instalments falling due in ``month`` (its
    first day)."""

    __tablename__ = "due_month_totals"

    month: Mapped[date] = mapped_column(primary_key=True)
    amount: Mapped[int] = mapped_column(Money, default=0)


def _month_key() -> tuple[Any, Any]:
    return extract("year", Instalment.due_date), extract("month", Instalment.due_date)


def _months_of(loan_ids: list[int], session: Any) -> dict[int, dict[date, int]]:
    """Per loan, what falls due in each month of its schedule as the database holds it."""
    year, month = _month_key()
    out: dict[int, dict[date, int]] = {i: {} for i in loan_ids}
    for chunk in in_chunks(sorted(loan_ids)):
        rows = session.execute(
            select(
                Instalment.loan_id,
                year,
                month,
                func.sum(Instalment.principal + Instalment.interest),
            )
            .where(among(Instalment.loan_id, chunk))
            .group_by(Instalment.loan_id, year, month)
        )
        for loan_id, y, m, amount in rows:
            out[loan_id][date(int(y), int(m), 1)] = int(amount)
    return out


def capture(loan_ids: Any, session: Any = None) -> None:
    """Note the months of ``loan_ids`` as they stand, before their schedules change (once
    per loan and transaction)."""
    session = session or db.session()
    before = session.info.setdefault(BEFORE, {})
    fresh = sorted({int(i) for i in loan_ids if i is not None} - before.keys())
    if fresh:
        # The query may flush first, and that flush note the months of some of these
        # loans before it wrote them: those are kept.
        for loan_id, months in _months_of(fresh, session).items():
            before.setdefault(loan_id, months)


def pending() -> bool:
    """Whether this transaction changed schedules whose months are not added to the
    totals yet (until it commits)."""
    return bool(db.session.info.get(BEFORE))


def _before_flush(session: Session, flush_context: Any, instances: Any) -> None:
    """The loans whose instalments this flush writes: their months before it."""
    loans = set()
    for obj in (*session.new, *session.dirty, *session.deleted):
        if isinstance(obj, Instalment):
            loans.add(obj.loan_id if obj.loan_id is not None else getattr(obj.loan, "id", None))
    loans.discard(None)
    if loans:
        capture(loans, session)


def _after_flush(session: Session, flush_context: Any) -> None:
    """Instalments of a loan made in this flush: the loan had no months before."""
    before = session.info.setdefault(BEFORE, {})
    for obj in session.new:
        if isinstance(obj, Instalment) and obj.loan_id not in before:
            before[obj.loan_id] = {}


def _before_commit(session: Session) -> None:
    before = session.info.get(BEFORE)
    if not before or session is not db.session():
        return
    session.flush()
    before = session.info.pop(BEFORE, {})
    after = _months_of(list(before), session)
    change: dict[date, int] = defaultdict(int)
    for loan_id, months in before.items():
        for month, amount in months.items():
            change[month] -= amount
        for month, amount in after.get(loan_id, {}).items():
            change[month] += amount
    rows = [{"month": m, "amount": a} for m, a in sorted(change.items()) if a]
    if rows:
        upsert(DueMonthTotal, rows, ["month"], add=("amount",))


def _forget(session: Session, transaction: Any) -> None:
    if transaction.parent is None:
        session.info.pop(BEFORE, None)


def _month_start(dialect: str) -> Any:
    if dialect == "postgresql":
        return cast(func.date_trunc("month", Instalment.due_date), Date)
    return func.date(Instalment.due_date, "start of month")


def rebuild_statements(dialect: str) -> list[Any]:
    """``due_month_totals`` recomputed from the instalments (after a bulk load; also run
    by the migration that made the table)."""
    month = _month_start(dialect)
    return [
        delete(DueMonthTotal),
        insert(DueMonthTotal).from_select(
            ["month", "amount"],
            select(month, func.sum(Instalment.principal + Instalment.interest)).group_by(month),
        ),
    ]


def rebuild() -> None:
    for statement in rebuild_statements(db.session.get_bind().dialect.name):
        db.session.execute(statement)


def months(first: date, last: date) -> dict[tuple[int, int], int]:
    """(year, month): what falls due in each month from ``first`` to ``last``."""
    rows = db.session.execute(
        select(DueMonthTotal.month, DueMonthTotal.amount).where(
            DueMonthTotal.month >= first.replace(day=1), DueMonthTotal.month <= last
        )
    )
    return {(m.year, m.month): int(a) for m, a in rows if a}


def check_totals(result: Any) -> None:
    """``flask fund check``: the months kept = the instalments summed."""
    result.checked.append("what falls due month by month = the instalments")
    _before_commit(db.session())
    year, month = _month_key()
    summed = {
        date(int(y), int(m), 1): int(a)
        for y, m, a in db.session.execute(
            select(year, month, func.sum(Instalment.principal + Instalment.interest)).group_by(
                year, month
            )
        )
    }
    kept = {
        m: int(a) for m, a in db.session.execute(select(DueMonthTotal.month, DueMonthTotal.amount))
    }
    for m in sorted(summed.keys() | kept.keys()):
        if summed.get(m, 0) != kept.get(m, 0):
            result.fail(
                f"due in {m:%m/%Y}: kept {kept.get(m, 0)} != instalments {summed.get(m, 0)}"
            )


def install() -> None:
    """Listen to every session: see the module's docstring."""
    listen_to_sessions(
        before_flush=_before_flush,
        after_flush=_after_flush,
        before_commit=_before_commit,
        after_soft_rollback=_forget,
    )
