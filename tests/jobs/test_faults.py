"""Faults in the night: the scheduler process killed with SIGKILL in the middle of a
catch-up. Every date it had committed stays closed exactly once, nothing of the interrupted
date is left half-written, and the next run completes the dates so that the books equal,
to the đồng, those of a catch-up that was never interrupted."""

from __future__ import annotations

import signal
import subprocess
import time
from collections import Counter
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, select

from fundapp.admin.backup import backup, restore
from fundapp.extensions import db
from fundapp.ledger.models import JournalEntry, JournalLine
from fundapp.ledger.services import check_invariants
from fundapp.loans.days import CloseDayRun
from fundapp.servicing import close_day
from tests.conftest import BUSINESS_DATE, PG_URL
from tests.jobs.helpers import FLASK, ROOT, book_in_arrears, days, scheduler_env, start_scheduler

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.skipif(not PG_URL, reason="needs PostgreSQL (make test starts one)"),
]

START = BUSINESS_DATE - timedelta(days=40)


def _books() -> dict[str, object]:
    """Everything the close of day writes, in a form two runs can be compared by."""
    db.session.expire_all()
    by_account = dict(
        db.session.execute(
            select(JournalLine.account, func.sum(JournalLine.debit - JournalLine.credit))
            .group_by(JournalLine.account)
            .order_by(JournalLine.account)
        ).all()
    )
    entries = Counter(
        (e.entry_date, e.kind, e.reference)
        for e in db.session.scalars(select(JournalEntry).where(JournalEntry.kind == "close_day"))
    )
    closed = sorted(db.session.scalars(select(CloseDayRun.business_date)))
    return {"by_account": by_account, "entries": entries, "closed": closed}


def _closed_count() -> int:
    db.session.expire_all()
    count = db.session.scalar(select(func.count()).select_from(CloseDayRun))
    db.session.rollback()
    return count or 0


def test_a_killed_catch_up_resumes_and_the_ledger_is_exact(app, tmp_path: Path) -> None:
    book_in_arrears(loans=12)
    close_day.run_pending(START, "test")
    db.session.commit()
    saved = backup(tmp_path / "before.tar.gz").path
    db.session.remove()

    env = scheduler_env(PG_URL, BUSINESS_DATE)
    process = start_scheduler(env)
    try:
        deadline = time.monotonic() + 120
        while _closed_count() < 4 and time.monotonic() < deadline and process.poll() is None:
            time.sleep(0.02)
        assert process.poll() is None, "the catch-up ended before it could be interrupted"
        process.send_signal(signal.SIGKILL)
        process.communicate(timeout=30)
    finally:
        if process.poll() is None:
            process.kill()
            process.communicate(timeout=30)

    # What the killed process committed is whole: a prefix of the dates, each closed once,
    # and no close-of-day entry dated after the last closed date.
    interrupted = _books()
    closed = interrupted["closed"]
    expected = days(START, BUSINESS_DATE)
    assert closed == expected[: len(closed)] and START < closed[-1] < BUSINESS_DATE
    assert all(day <= closed[-1] for day, _kind, _ref in interrupted["entries"])
    assert check_invariants().ok

    resumed = subprocess.run(
        [str(FLASK), "jobs", "run", "--once"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert resumed.returncode == 0, resumed.stdout + resumed.stderr
    after_resume = _books()
    assert after_resume["closed"] == expected
    assert max(after_resume["entries"].values()) == 1
    result = check_invariants()
    assert result.ok, result.problems

    # The same catch-up, never interrupted, from the same starting books.
    restore(saved)
    close_day.run_pending(BUSINESS_DATE, "test")
    db.session.commit()
    assert _books() == after_resume
