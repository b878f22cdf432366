from __future__ import annotations

from datetime import date

import pytest

from fundapp.extensions import db
from fundapp.ledger import accounts as acc
from fundapp.ledger.models import JournalEntry, JournalLine
from fundapp.ledger.services import (
    Line,
    UnbalancedEntry,
    balances,
    check_invariants,
    post,
    record_capital,
)


@pytest.mark.parametrize(
    "lines",
    [
        [Line(acc.CASH, debit=100), Line(acc.CHARTER_CAPITAL, credit=99)],
        [Line(acc.CASH, debit=100)],
        [Line(acc.CASH, debit=100, credit=100), Line(acc.CHARTER_CAPITAL, credit=0)],
        [Line(acc.CASH, debit=-100), Line(acc.CHARTER_CAPITAL, credit=-100)],
        [Line("0000", debit=100), Line(acc.CHARTER_CAPITAL, credit=100)],
    ],
)
def test_unbalanced_or_malformed_entries_are_refused_whole(app, lines):
    with pytest.raises(UnbalancedEntry):
        post(date(2026, 1, 1), "test", lines)
    assert db.session.query(JournalEntry).count() == 0
    assert db.session.query(JournalLine).count() == 0


def test_database_refuses_a_line_with_both_sides(app):
    from sqlalchemy.exc import IntegrityError

    entry = JournalEntry(entry_date=date(2026, 1, 1), kind="test")
    db.session.add(entry)
    db.session.flush()
    db.session.add(JournalLine(entry_id=entry.id, account=acc.CASH, debit=5, credit=5))
    with pytest.raises(IntegrityError):
        db.session.flush()
    db.session.rollback()


def test_balances_as_of_a_date(app):
    record_capital(None, "charter", 5_000_000_000, date(2011, 3, 15))
    record_capital(None, "grant", 547_000_000, date(2020, 12, 1))
    record_capital(None, "entrusted", 2_000_000_000, date(2019, 5, 10), source_name="Quỹ TW")
    db.session.commit()
    assert balances(date(2011, 3, 14))[acc.CASH] == 0
    assert balances(date(2019, 12, 31))[acc.CASH] == 7_000_000_000
    assert balances()[acc.CASH] == 7_547_000_000
    assert balances()[acc.GRANT_CAPITAL] == 547_000_000
    assert check_invariants().ok


def test_fund_check_names_the_broken_invariant(app, runner):
    record_capital(None, "charter", 1_000_000, date(2026, 1, 1))
    db.session.commit()
    ok = runner.invoke(args=["fund", "check"])
    assert ok.exit_code == 0 and "OK" in ok.output
    # Corrupt the book behind the application's back.
    line = db.session.query(JournalLine).filter_by(account=acc.CASH).one()
    db.session.execute(
        JournalLine.__table__.update().where(JournalLine.id == line.id).values(debit=999)
    )
    db.session.commit()
    broken = runner.invoke(args=["fund", "check"])
    assert broken.exit_code == 1
    assert "is not balanced" in broken.output
