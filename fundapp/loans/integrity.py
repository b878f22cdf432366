"""The loan book's invariants, checked by ``flask fund check``: the cached balances, the
stored schedule, the ledger and the replay of each loan's history all agree."""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, select

from fundapp.domain import accounts as acc
from fundapp.domain.money import is_whole
from fundapp.extensions import db
from fundapp.ledger.models import JournalLine
from fundapp.loans.models import Instalment, Loan
from fundapp.loans.store import replay


def check_loans(result: Any) -> None:
    """The loan invariants of docs/rules.md#posting-and-accounts, for ``flask fund check``."""
    result.checked.append("each loan: outstanding = disbursed − principal repaid − written off")
    result.checked.append("each loan: outstanding = sum of unpaid scheduled principal")
    result.checked.append("each loan: outstanding = its ledger balance")
    result.checked.append("each loan: cached balances = replay of its history")
    unpaid = dict(
        db.session.execute(
            select(
                Instalment.loan_id, func.sum(Instalment.principal - Instalment.principal_paid)
            ).group_by(Instalment.loan_id)
        ).all()
    )
    ledger = dict(
        db.session.execute(
            select(JournalLine.loan_id, func.sum(JournalLine.debit - JournalLine.credit))
            .where(
                JournalLine.loan_id.is_not(None),
                JournalLine.account.in_([acc.LOANS_IN_TERM, acc.LOANS_OVERDUE]),
            )
            .group_by(JournalLine.loan_id)
        ).all()
    )
    for loan in db.session.scalars(select(Loan).order_by(Loan.id)):
        name = f"loan {loan.contract_no}"
        expected = loan.disbursed - loan.principal_paid - loan.written_off
        if loan.principal_outstanding != expected:
            result.fail(
                f"{name}: outstanding {loan.principal_outstanding} != disbursed {loan.disbursed}"
                f" − repaid {loan.principal_paid} − written off {loan.written_off}"
            )
        scheduled = int(unpaid.get(loan.id) or 0) - loan.written_off
        if loan.principal_outstanding != scheduled:
            result.fail(
                f"{name}: outstanding {loan.principal_outstanding} != unpaid scheduled "
                f"principal {scheduled}"
            )
        on_ledger = int(ledger.get(loan.id) or 0)
        if loan.principal_outstanding != on_ledger:
            result.fail(
                f"{name}: outstanding {loan.principal_outstanding} != ledger balance {on_ledger}"
            )
        if loan.disbursed:
            state = replay(loan)
            if state.principal_outstanding - loan.written_off != loan.principal_outstanding:
                result.fail(f"{name}: cached outstanding differs from the replayed history")
        if not all(is_whole(v) for v in (loan.disbursed, loan.principal_paid)):
            result.fail(f"{name}: money is not whole đồng")
