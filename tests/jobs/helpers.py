"""A small book for close-of-day tests (loans in arrears, so every step has work to do), and
the environment of a scheduler process of its own."""

from __future__ import annotations

import os
import subprocess
import sys
from datetime import date, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import select

from fundapp.extensions import db
from fundapp.loans.days import CloseDayRun, LoanDay
from fundapp.loans.models import Loan
from fundapp.servicing.close_day import run_close_day, run_pending
from tests.services.lending_helpers import contracted_loan, disburse, fund_and_staff

ROOT = Path(__file__).resolve().parents[2]
FLASK = Path(sys.executable).with_name("flask")

# The business date of tests/conftest.py is 2026-11-20; tests close the book up to FIRST.
FIRST = date(2026, 11, 14)


def book_in_arrears(loans: int = 2) -> Any:
    """Funded fund, staff and ``loans`` disbursed loans nobody has repaid since February."""
    staff = fund_and_staff()
    for n in range(loans):
        loan = contracted_loan(staff, amount=120_000_000 + n * 30_000_000)
        disburse(staff, loan, loan.amount, date(2026, 1, 15))
    return staff


def days(first: date, last: date) -> list[date]:
    return [first + timedelta(days=n) for n in range((last - first).days + 1)]


def runs() -> list[tuple[int, date, str]]:
    """(id, business_date, trigger) of every run, by id."""
    db.session.expire_all()
    return [
        (r.id, r.business_date, r.trigger)
        for r in db.session.scalars(select(CloseDayRun).order_by(CloseDayRun.id))
    ]


def scheduler_env(database_url: str, business_day: date, **extra: str) -> dict[str, str]:
    """The environment of a `flask jobs run` process of its own, as production starts it."""
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("FUNDAPP_", "FLASK_")) and k not in {"DATABASE_URL", "SECRET_KEY"}
    }
    env.update(
        FLASK_APP="wsgi.py",
        FUNDAPP_CONFIG="development",
        DATABASE_URL=database_url,
        SECRET_KEY="jobs-test-secret-key-0123456789abcdef",
        FUNDAPP_BUSINESS_DATE=business_day.isoformat(),
        PYTHONUNBUFFERED="1",
        **extra,
    )
    return env


def start_scheduler(env: dict[str, str]) -> subprocess.Popen[str]:
    """`flask jobs run --once` in a process of its own (output and errors in one pipe)."""
    return subprocess.Popen(
        [str(FLASK), "jobs", "run", "--once"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )


def close(until: date, start: date | None = None) -> None:
    """Close the book up to ``until`` (a first run of ``start`` before, when given); the
    caller commits."""
    if start is not None:
        run_close_day(start, "cli")
        db.session.commit()
    run_pending(until, "cli")


def day_of(loan: Loan) -> LoanDay:
    """The loan's classification row (days past due, group) as the last run left it."""
    return db.session.get(LoanDay, loan.id)
