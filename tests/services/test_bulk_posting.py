"""An entry touching more loans than one SQL statement may carry parameters posts whole."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from sqlalchemy import func, insert, select

from fundapp.extensions import db
from fundapp.ledger import accounts as acc
from fundapp.ledger.models import JournalLine, LoanBalance
from fundapp.ledger.services import Line, post
from fundapp.lending.models import Loan
from tests.conftest import make_cooperative


def test_an_entry_over_eleven_thousand_loans_posts_whole(app):
    coop = make_cooperative()
    count = 11_000  # two accounts each: 22 000 running balances, 66 000 parameters at once
    db.session.execute(
        insert(Loan),
        [
            {
                "contract_no": f"HD-T-{n:05d}",
                "cooperative_id": coop.id,
                "project_name": "Dự án",
                "amount": 1_000_000,
                "term_months": 12,
                "annual_rate": Decimal("6"),
                "approved_on": date(2026, 1, 5),
                "policy_snapshot": {},
            }
            for n in range(count)
        ],
    )
    ids = list(db.session.scalars(select(Loan.id)))
    lines = []
    for loan_id in ids:
        lines.append(Line(acc.LOANS_OVERDUE, debit=7, loan_id=loan_id))
        lines.append(Line(acc.LOANS_IN_TERM, credit=7, loan_id=loan_id))
    post(date(2026, 2, 16), "test", lines)
    db.session.commit()
    assert db.session.query(JournalLine).count() == 2 * count
    assert db.session.query(LoanBalance).count() == 2 * count
    total = db.session.scalar(
        select(func.sum(LoanBalance.balance)).where(LoanBalance.account == acc.LOANS_OVERDUE)
    )
    assert total == 7 * count
