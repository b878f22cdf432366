"""A loan's balances as of any day, from the facts of its history dated up to it.

The statement's opening and closing, the schedule document and the receipts all print a
position: one replay of the history cut at the day (posted disbursements, repayments not
reversed, approved restructurings and reliefs), less the principal written off by then,
with the borrower's debt group as the API shows it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from types import SimpleNamespace
from zoneinfo import ZoneInfo

from flask import current_app
from sqlalchemy import select

from fundapp.domain import replay as engine
from fundapp.extensions import db
from fundapp.ledger.models import JournalEntry
from fundapp.loans import standing, store
from fundapp.loans.models import ApprovalStatus, Loan, Restructuring, WriteOff


@dataclass(frozen=True)
class Position:
    """A loan's balances as of a date (the same figures as the API's ``balances``)."""

    as_of: date
    disbursed: int = 0
    principal_outstanding: int = 0
    principal_overdue: int = 0
    principal_due: int = 0
    interest_due: int = 0
    interest_overdue: int = 0
    penalty_due: int = 0
    days_past_due: int = 0
    oldest_unpaid_due_date: date | None = None
    debt_group: int = 1

    @property
    def principal_in_term(self) -> int:
        return self.principal_outstanding - self.principal_overdue

    @property
    def interest_unpaid(self) -> int:
        return self.interest_due + self.interest_overdue

    @property
    def total_due(self) -> int:
        return self.principal_overdue + self.principal_due + self.interest_unpaid + self.penalty_due


# --- positions -------------------------------------------------------------------------------


def history_until(history: store.History, day: date) -> store.History:
    """The facts dated on or before ``day``."""
    return store.History(
        tuple(d for d in history.disbursements if d.date <= day),
        tuple(r for r in history.repayments if r.date <= day),
        tuple(r for r in history.restructures if r.date <= day),
        tuple(r for r in history.reliefs if r.date <= day),
    )


def state_until(loan: Loan, history: store.History, day: date) -> engine.LoanState | None:
    upto = history_until(history, day)
    if not upto.disbursements:
        return None
    return store.replay(loan, upto)


def position_of(
    loan: Loan, state: engine.LoanState | None, day: date, written_off: int = 0
) -> Position:
    """The API's balances of ``state`` as of ``day`` (``written_off``: principal written
    off by then)."""
    if state is None:
        return Position(as_of=day)
    b = state.balances(day)
    return Position(
        as_of=day,
        disbursed=b.disbursed,
        principal_outstanding=max(b.principal_outstanding - written_off, 0),
        principal_overdue=b.principal_overdue,
        principal_due=b.principal_due,
        interest_due=b.interest_due,
        interest_overdue=b.interest_overdue,
        penalty_due=b.penalty_due,
        days_past_due=b.days_past_due,
        oldest_unpaid_due_date=b.oldest_unpaid_due_date,
        # One borrower, one group (docs/rules.md#debt-classification-and-provisions): the
        # borrower's worst, as the API shows it.
        debt_group=standing.live_group(loan, state, day, _restructured_by(loan, day)),
    )


def _restructured_by(loan: Loan, day: date) -> SimpleNamespace:
    """The loan as the debt-group floor sees it on ``day``: its restructurings until then."""
    kinds = db.session.scalars(
        select(Restructuring.kind).where(
            Restructuring.loan_id == loan.id,
            Restructuring.status == ApprovalStatus.APPROVED,
            Restructuring.effective_date <= day,
        )
    ).all()
    return SimpleNamespace(
        term_adjustments=kinds.count("term_adjustment"),
        extensions=kinds.count("extension"),
        policy_snapshot=loan.policy_snapshot,
        term_months=loan.term_months,
        interest_reliefs=loan.interest_reliefs,
    )


def position_at(loan: Loan, day: date, history: store.History | None = None) -> Position:
    """The loan's balances as of ``day`` from the facts dated up to it."""
    history = history or store.history_of(loan)
    return position_of(loan, state_until(loan, history, day), day, _written_off_by(loan, day))


# --- facts that are not events of the replay ---------------------------------------------------


def local_date(moment: datetime | None) -> date | None:
    if moment is None:
        return None
    return moment.astimezone(ZoneInfo(current_app.config["FUNDAPP_TIMEZONE"])).date()


def entry_dates_of(entry_ids: list[int]) -> dict[int, date]:
    ids = [i for i in entry_ids if i]
    if not ids:
        return {}
    return dict(
        db.session.execute(
            select(JournalEntry.id, JournalEntry.entry_date).where(JournalEntry.id.in_(ids))
        ).all()
    )


def approved_write_offs(loan: Loan) -> list[tuple[date, int]]:
    if not loan.written_off:
        return []
    rows = list(
        db.session.scalars(
            select(WriteOff).where(
                WriteOff.loan_id == loan.id, WriteOff.status == ApprovalStatus.APPROVED
            )
        )
    )
    dates = entry_dates_of([w.journal_entry_id for w in rows])
    return [
        (dates.get(w.journal_entry_id) or local_date(w.decided_at) or date.max, w.amount)
        for w in rows
    ]


def _written_off_by(loan: Loan, day: date) -> int:
    return sum(amount for when, amount in approved_write_offs(loan) if when <= day)
