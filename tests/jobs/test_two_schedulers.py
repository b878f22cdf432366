"""Two scheduler processes started together on one PostgreSQL: each date closes once
(docs/rules.md#close-of-day: never twice at once, the advisory lock; the scheduler stays one
process, guarded by a database lock)."""

from __future__ import annotations

from collections import Counter
from datetime import timedelta

import pytest
from sqlalchemy import select

from fundapp.extensions import db
from fundapp.ledger.models import JournalEntry
from fundapp.ledger.services import check_invariants
from fundapp.loans.days import CloseDayFailure, CloseDayRun
from fundapp.servicing import close_day
from tests.conftest import BUSINESS_DATE, PG_URL
from tests.jobs.helpers import FIRST, book_in_arrears, days, scheduler_env, start_scheduler

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.skipif(not PG_URL, reason="needs PostgreSQL (make test starts one)"),
]


def test_two_scheduler_processes_started_together_close_each_date_once(app):
    book_in_arrears(loans=4)
    close_day.run_pending(FIRST, "test")
    expected = days(FIRST + timedelta(days=1), BUSINESS_DATE)
    db.session.commit()
    db.session.remove()  # no connection of ours holds a transaction or a lock

    env = scheduler_env(PG_URL, BUSINESS_DATE)
    processes = [start_scheduler(env) for _ in range(2)]
    outputs = []
    try:
        for process in processes:
            output, _ = process.communicate(timeout=180)
            outputs.append(output)
    finally:
        for process in processes:
            if process.poll() is None:
                process.kill()
                process.communicate(timeout=30)
    for process, output in zip(processes, outputs, strict=True):
        assert process.returncode == 0, output

    closed = Counter(
        day
        for output in outputs
        for day in expected
        if f"close_day: {day.isoformat()}: closed" in output
    )
    assert closed == Counter(expected), outputs  # each date closed by exactly one of them

    db.session.expire_all()
    per_date = Counter(db.session.scalars(select(CloseDayRun.business_date)))
    assert per_date == Counter([FIRST, *expected])
    ordered = list(db.session.scalars(select(CloseDayRun.business_date).order_by(CloseDayRun.id)))
    assert ordered == [FIRST, *expected]
    assert db.session.scalars(select(CloseDayFailure)).all() == []
    # One close-of-day entry per loan and date, never two.
    entries = Counter(
        (entry.entry_date, entry.reference, entry.description)
        for entry in db.session.scalars(
            select(JournalEntry).where(JournalEntry.kind == "close_day")
        )
    )
    assert entries and max(entries.values()) == 1
    result = check_invariants()
    assert result.ok, result.problems
