"""The close of day as the scheduler runs it: idempotent, catching up in order, and a failed
date rolled back whole, recorded, and retried."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import func, select

from fundapp.extensions import db
from fundapp.jobs.runner import close_day_job
from fundapp.ledger.models import JournalEntry, JournalLine
from fundapp.ledger.services import check_invariants
from fundapp.loans.days import CloseDayFailure, CloseDayRun, Notice
from fundapp.servicing import close_day, provisions
from tests.conftest import BUSINESS_DATE
from tests.jobs.helpers import FIRST, book_in_arrears, days, runs


def snapshot() -> dict[str, list[tuple[Any, ...]]]:
    """Every row of every table, in a stable order."""
    db.session.expire_all()
    tables = {}
    for table in db.metadata.sorted_tables:
        order = list(table.primary_key.columns) or list(table.columns)
        tables[table.name] = [
            tuple(row) for row in db.session.execute(table.select().order_by(*order))
        ]
    db.session.commit()
    return tables


def _count(model: Any) -> int:
    return db.session.scalar(select(func.count()).select_from(model)) or 0


def test_running_the_same_date_twice_leaves_the_database_identical(app):
    book_in_arrears()
    first = close_day.run_pending(FIRST, "test")
    assert [(r.business_date, r.ran) for r in first] == [(FIRST, True)]
    assert first[0].counts["loans_examined"] == 2
    caught_up = close_day.run_pending(FIRST + timedelta(days=2), "test")
    assert [r.ran for r in caught_up] == [True, True]
    last = FIRST + timedelta(days=2)

    before = snapshot()
    assert before["close_day_runs"] and before["journal_lines"] and before["loan_days"]

    # Again through every door: the catch-up, the date itself, and the scheduler's job.
    assert close_day.run_pending(last, "test") == []
    again = close_day.run_close_day(last, "test")
    assert (again.ran, again.reason) == (False, "already_done")
    db.session.commit()
    app.config["FUNDAPP_BUSINESS_DATE"] = last.isoformat()
    outcome = close_day_job(app)
    assert outcome.ok and outcome.results == ()

    assert snapshot() == before


def test_skipping_five_days_then_running_catches_up_five_dates_in_order(app):
    book_in_arrears()
    close_day.run_pending(FIRST, "test")
    assert [d for _i, d, _t in runs()] == [FIRST]

    app.config["FUNDAPP_BUSINESS_DATE"] = (FIRST + timedelta(days=5)).isoformat()
    outcome = close_day_job(app)

    expected = days(FIRST + timedelta(days=1), FIRST + timedelta(days=5))
    assert outcome.ok
    assert [(r.business_date, r.ran) for r in outcome.results] == [(d, True) for d in expected]
    rows = runs()
    assert [d for _i, d, _t in rows] == [FIRST, *expected]
    ids = [i for i, _d, _t in rows]
    assert ids == sorted(ids) and len(set(ids)) == len(ids)
    assert {t for _i, d, t in rows if d in expected} == {"scheduler"}
    # One close-of-day entry per loan per date, each dated its own business date.
    entry_dates = list(
        db.session.scalars(
            select(JournalEntry.entry_date)
            .where(JournalEntry.kind == "close_day")
            .order_by(JournalEntry.id)
        )
    )
    assert entry_dates == sorted(entry_dates)
    assert set(entry_dates) == {FIRST, *expected}
    assert check_invariants().ok


def test_a_failing_date_rolls_back_whole_is_recorded_and_the_next_run_succeeds(
    app, monkeypatch, caplog
):
    book_in_arrears()
    close_day.run_pending(FIRST, "test")
    failing = FIRST + timedelta(days=1)
    entries, lines = _count(JournalEntry), _count(JournalLine)
    notices = _count(Notice)

    calls = []

    def broken_provisions(*args: Any, **kwargs: Any) -> int:
        # Reached after the day's overdue transfers and accruals were posted (flushed).
        calls.append(args[0])
        assert _count(JournalEntry) > entries
        raise RuntimeError("provision rates unreadable")

    monkeypatch.setattr(provisions, "post_provisions", broken_provisions)
    with pytest.raises(RuntimeError, match="provision rates unreadable"):
        close_day.run_pending(failing, "test")
    assert calls == [failing]

    db.session.expire_all()
    assert [d for _i, d, _t in runs()] == [FIRST]
    assert (_count(JournalEntry), _count(JournalLine), _count(Notice)) == (entries, lines, notices)
    failures = list(db.session.scalars(select(CloseDayFailure)))
    assert [(f.business_date, "provision rates unreadable" in f.error) for f in failures] == [
        (failing, True)
    ]

    # The scheduler's job logs the failure, records it again and stays up (no raise).
    app.config["FUNDAPP_BUSINESS_DATE"] = (failing + timedelta(days=1)).isoformat()
    with caplog.at_level("ERROR", logger="fundapp.jobs"):
        outcome = close_day_job(app)
    assert not outcome.ok and "provision rates unreadable" in outcome.error
    assert "close of day up to" in caplog.text
    assert _count(CloseDayFailure) == 2
    assert [d for _i, d, _t in runs()] == [FIRST]

    # Fixed: the next tick closes the failed date and the one after, in order.
    monkeypatch.undo()
    outcome = close_day_job(app)
    assert outcome.ok
    assert [(r.business_date, r.ran) for r in outcome.results] == [
        (failing, True),
        (failing + timedelta(days=1), True),
    ]
    assert [d for _i, d, _t in runs()] == [FIRST, failing, failing + timedelta(days=1)]
    assert check_invariants().ok


def test_a_fresh_fund_starts_at_the_business_date(app):
    book_in_arrears(loans=1)
    outcome = close_day_job(app)
    assert outcome.ok
    assert [r.business_date for r in outcome.results] == [BUSINESS_DATE]
    assert close_day.pending_dates(BUSINESS_DATE) == []
    assert db.session.scalar(select(CloseDayRun.trigger)) == "scheduler"
