"""An entry touching more loans than one SQL statement may carry parameters posts whole."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from sqlalchemy import func, insert, select

from fundapp.core.db import upsert
from fundapp.domain.dates import utcnow
from fundapp.extensions import db
from fundapp.ledger import accounts as acc
from fundapp.ledger.models import JournalLine, LoanBalance
from fundapp.ledger.services import Line, post
from fundapp.loans.days import Notice
from fundapp.loans.models import Loan
from tests.conftest import make_cooperative

KEYS = ["kind", "event_key", "recipient_key"]


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
    # A second entry on the same loans adds to the running balances already there.
    post(date(2026, 2, 17), "test", lines[: 2 * 600])
    db.session.commit()
    total = db.session.scalar(
        select(func.sum(LoanBalance.balance)).where(LoanBalance.account == acc.LOANS_OVERDUE)
    )
    assert total == 7 * count + 7 * 600


def test_many_notices_are_written_once_each_with_their_data(app):
    coop = make_cooperative()
    batch = [
        {
            "kind": "due_soon",
            "event_key": f"loan:1:due:{n}",
            "recipient_key": f"coop:{coop.id}",
            "business_date": date(2026, 2, 16),
            "loan_id": None,
            "cooperative_id": coop.id,
            "user_id": None,
            "title": f"Sắp đến hạn {n}",
            "body": "Kỳ 1 đến hạn ngày 23/02/2026.",
            "data": {"no": n, "principal": 10_000_000},
            "read_at": None,
            "emailed_at": None,
            "email_to": "",
            "created_at": utcnow(),
        }
        for n in range(700)
    ]
    assert len(upsert(Notice, batch, KEYS, returning=Notice.__table__.c.id)) == 700
    assert upsert(Notice, batch, KEYS, returning=Notice.__table__.c.id) == []
    db.session.commit()
    notice = db.session.scalar(select(Notice).where(Notice.event_key == "loan:1:due:699"))
    assert notice.data == {"no": 699, "principal": 10_000_000}
    assert notice.title == "Sắp đến hạn 699" and notice.created_at.tzinfo is not None
