"""``flask fund check --deep``: each loan's history replayed and compared with everything
stored from the last replay (``loans.store``): the instalment rows, each repayment's and
relief's allocation, the loan's cached balances.

The set-based check (``loans.integrity``) proves the stored figures agree with each other;
only a replay proves they are the ones the history makes, so this reads every loan's events
and replays them, in parallel worker processes for a whole book. Each worker is a fork of
the process that runs the check: it holds the same application and configuration, drops
the database connections it inherited (they belong to the parent) and opens its own.
"""

from __future__ import annotations

import multiprocessing
import os
from collections import defaultdict
from collections.abc import Sequence
from concurrent.futures import ProcessPoolExecutor
from datetime import date
from typing import Any

from flask import Flask, current_app
from sqlalchemy import func, select

from fundapp.core.db import among
from fundapp.domain import replay as engine
from fundapp.domain.errors import DomainError
from fundapp.extensions import db
from fundapp.loans.days import last_run_date
from fundapp.loans.models import Instalment, Loan, LoanStatus, Repayment
from fundapp.loans.relief import InterestRelief
from fundapp.loans.store import (
    History,
    allocation_json,
    histories_of,
    instalment_columns,
    loan_columns,
    repayment_columns,
    replay,
)

# Loans read and replayed together: one statement per table for the batch.
BATCH = 500

_INSTALMENT_COLUMNS = (
    "due_date",
    "interest_from",
    "principal_due_date",
    "opening_principal",
    "principal",
    "interest",
    "principal_paid",
    "interest_paid",
    "penalty_paid",
    "interest_waived",
    "penalty_waived",
    "interest_supported",
    "paid_on",
    "principal_balance_days",
    "interest_balance_days",
    "penalty_accrued",
)
_SCHEDULE_COLUMNS = _INSTALMENT_COLUMNS[:-3]


def _allocation_key(raw: Any) -> list[tuple[int, str, int]] | None:
    """An allocation to compare; None when it is not one (written by hand), so that it
    differs from any the replay makes."""
    try:
        return [(int(a["no"]), str(a["component"]), int(a["amount"])) for a in raw or ()]
    except (KeyError, TypeError, ValueError):
        return None


def differences(
    loan: Any,
    book_date: date | None,
    history: History | None = None,
    instalments: Sequence[Any] | None = None,
    repayments: Sequence[Any] | None = None,
    reliefs: Sequence[Any] | None = None,
) -> list[str]:
    """What is stored for ``loan`` (a Loan, or a row of its columns) and differs from the
    replay of its history, one message each; ``book_date`` is the last close of day, as of
    which the overdue columns are stored. The rows not given are read (instalment rows with
    the columns of ``_INSTALMENT_COLUMNS`` and ``no``; repayments and reliefs with ``id``
    and ``allocations``, and ``prepaid_principal`` for a repayment)."""
    name = f"loan {loan.contract_no}"
    try:
        state = replay(loan, history)
    except DomainError as exc:
        return [f"{name}: its history does not replay: {exc.message}"]
    if instalments is None:
        instalments = db.session.execute(
            select(Instalment).where(Instalment.loan_id == loan.id).order_by(Instalment.no)
        ).scalars()
    if repayments is None:
        repayments = db.session.scalars(select(Repayment).where(Repayment.loan_id == loan.id))
    if reliefs is None:
        reliefs = db.session.scalars(
            select(InterestRelief).where(InterestRelief.loan_id == loan.id)
        )
    problems: list[str] = []
    # The close of day keeps the overdue state of active loans only; a loan closed or
    # written off keeps that of its last change.
    columns = _INSTALMENT_COLUMNS if loan.status == LoanStatus.ACTIVE else _SCHEDULE_COLUMNS
    problems += _instalment_differences(name, state, book_date, instalments, columns)
    for repayment in repayments:
        allocations, prepaid = repayment_columns(state, repayment.id)
        if _allocation_key(repayment.allocations) != _allocation_key(allocations):
            problems.append(
                f"{name}: repayment {repayment.id} allocation {repayment.allocations} != "
                f"replay {allocations}"
            )
        if int(repayment.prepaid_principal or 0) != prepaid:
            problems.append(
                f"{name}: repayment {repayment.id} prepaid principal "
                f"{repayment.prepaid_principal} != replay {prepaid}"
            )
    for relief in reliefs:
        result = state.reliefs.get(relief.id)
        if result is None:
            continue  # not approved: ``store`` leaves its allocation alone
        wanted = allocation_json(result.allocations)
        if _allocation_key(relief.allocations) != _allocation_key(wanted):
            problems.append(
                f"{name}: relief {relief.id} allocation {relief.allocations} != replay {wanted}"
            )
    for column, value in loan_columns(state, loan.written_off).items():
        stored = getattr(loan, column)
        if stored != value:
            if column == "principal_outstanding":
                problems.append(
                    f"{name}: cached outstanding differs from the replayed history "
                    f"({stored} != {value})"
                )
            else:
                problems.append(f"{name}: cached {column} {stored} != replay {value}")
    return problems


def _instalment_differences(
    name: str,
    state: engine.LoanState,
    book_date: date | None,
    instalments: Sequence[Any],
    columns: Sequence[str],
) -> list[str]:
    wanted = instalment_columns(state, book_date)
    problems = []
    stored_nos = set()
    for inst in instalments:
        stored_nos.add(inst.no)
        values = wanted.get(inst.no)
        if values is None:
            problems.append(f"{name}: instalment {inst.no} is stored but not in the replay")
            continue
        for column in columns:
            stored = getattr(inst, column)
            if stored != values[column]:
                problems.append(
                    f"{name}: instalment {inst.no} {column} {stored} != replay {values[column]}"
                )
    for no in sorted(set(wanted) - stored_nos):
        problems.append(f"{name}: instalment {no} of the replay is not stored")
    return problems


def differences_between(
    first_id: int, last_id: int, book_date: date | None, release: bool = False
) -> list[str]:
    """The differences of every loan with ``first_id <= id <= last_id``, read in batches;
    ``release``: end the session's transaction after each batch's reads, before replaying
    it (a worker's own session: on SQLite every transaction holds the write lock, which the
    other workers and the application wait for)."""
    problems: list[str] = []
    ids = list(
        db.session.scalars(
            select(Loan.id).where(Loan.id.between(first_id, last_id)).order_by(Loan.id)
        )
    )
    if release:
        db.session.rollback()
    for start in range(0, len(ids), BATCH):
        problems += _batch(ids[start : start + BATCH], book_date, release)
    return problems


def _batch(ids: list[int], book_date: date | None, release: bool) -> list[str]:
    if release and db.engine.dialect.name == "postgresql":
        # The batch's statements read one snapshot: a repayment recorded meanwhile is in
        # all of them or in none, never a difference that is not there.
        db.session.connection(execution_options={"isolation_level": "REPEATABLE READ"})
    # The loans' columns, not ORM rows: the caller's session keeps no row of the whole book.
    loans = db.session.execute(
        select(*Loan.__table__.c).where(among(Loan.id, ids)).order_by(Loan.id)
    ).all()
    histories = histories_of(ids)
    instalments: dict[int, list[Any]] = defaultdict(list)
    for row in db.session.execute(
        select(Instalment.loan_id, Instalment.no, *map(_column, _INSTALMENT_COLUMNS))
        .where(among(Instalment.loan_id, ids))
        .order_by(Instalment.loan_id, Instalment.no)
    ):
        instalments[row.loan_id].append(row)
    repayments: dict[int, list[Any]] = defaultdict(list)
    for row in db.session.execute(
        select(Repayment.loan_id, Repayment.id, Repayment.allocations, Repayment.prepaid_principal)
        .where(among(Repayment.loan_id, ids))
        .order_by(Repayment.id)
    ):
        repayments[row.loan_id].append(row)
    reliefs: dict[int, list[Any]] = defaultdict(list)
    for row in db.session.execute(
        select(InterestRelief.loan_id, InterestRelief.id, InterestRelief.allocations)
        .where(among(InterestRelief.loan_id, ids))
        .order_by(InterestRelief.id)
    ):
        reliefs[row.loan_id].append(row)
    if release:
        db.session.rollback()
    problems: list[str] = []
    for loan in loans:
        problems += differences(
            loan,
            book_date,
            histories[loan.id],
            instalments[loan.id],
            repayments[loan.id],
            reliefs[loan.id],
        )
    return problems


def _column(name: str) -> Any:
    return getattr(Instalment, name)


# --- the whole book, in worker processes -------------------------------------------------

_worker_app: Flask | None = None


def _start_worker(app: Flask) -> None:
    """In a forked worker: forget the parent's connections (closing them would close the
    parent's sockets) so that the worker's first statement opens its own."""
    global _worker_app
    _worker_app = app
    with app.app_context():
        db.engine.dispose(close=False)


def _work(first_id: int, last_id: int, book_date: date | None) -> list[str]:
    assert _worker_app is not None  # set by _start_worker in every worker
    with _worker_app.app_context():
        try:
            return differences_between(first_id, last_id, book_date, release=True)
        finally:
            db.session.remove()


def _ranges(workers: int) -> list[tuple[int, int]]:
    """Loan id ranges of about ``BATCH × 4`` loans each, several per worker so that a
    worker that finishes early takes the next one."""
    low, high, count = db.session.execute(
        select(func.min(Loan.id), func.max(Loan.id), func.count(Loan.id))
    ).one()
    if not count:
        return []
    pieces = max(workers * 4, -(-count // (BATCH * 4)))
    step = max(1, -(-(high - low + 1) // pieces))
    return [(start, min(start + step - 1, high)) for start in range(low, high + 1, step)]


def _in_memory() -> bool:
    return db.engine.url.get_backend_name() == "sqlite" and db.engine.url.database in (
        None,
        "",
        ":memory:",
    )


def deep_check(result: Any, workers: int | None = None) -> None:
    """``flask fund check --deep``: every loan replayed and compared with what is stored,
    by ``workers`` processes (default: one per CPU; 1, or an in-memory SQLite database
    that other processes cannot see: in this process). With workers, the session's
    transaction is ended first (rolled back): they read what is committed."""
    result.checked.append(
        "each loan: schedule, allocations and cached balances = replay of its history"
    )
    book_date = last_run_date()
    workers = workers or os.cpu_count() or 1
    ranges = _ranges(workers)
    if workers <= 1 or len(ranges) <= 1 or _in_memory():
        for first_id, last_id in ranges:
            for problem in differences_between(first_id, last_id, book_date):
                result.fail(problem)
        return
    # The workers read committed rows only: end this session's transaction so that nothing
    # it holds (a SQLite read lock) is inherited or stands in their way.
    db.session.rollback()
    app = current_app._get_current_object()  # type: ignore[attr-defined]
    # Fork, not spawn: a worker inherits the application as it is configured (a test's
    # configuration class cannot be imported by name in a fresh interpreter).
    context = multiprocessing.get_context("fork")
    with ProcessPoolExecutor(
        max_workers=workers, mp_context=context, initializer=_start_worker, initargs=(app,)
    ) as pool:
        futures = [pool.submit(_work, a, b, book_date) for a, b in ranges]
        for future in futures:
            for problem in future.result():
                result.fail(problem)
