"""Figures built from the whole book, kept while the book does not change.

The dashboard and the reports read every loan's position; at a hundred thousand loans
that takes seconds, while the book changes only when something is posted. A result is
kept in the process under its arguments, the business date, the language and the
*book version*: counts and latest marks of the append-only tables every change to the
figures goes through, namely

- the journal (every movement of money, the close of day's accruals and provisions),
- the audit log (every change to a cooperative, a loan, its collateral or the policy),
- the debt-group history and the close-of-day runs (classification).

These tables are append-only or only ever grow within a day, so any committed change
alters the version; counts, not only the highest ids, catch a transaction that took a
lower id and committed after a higher one. The version is read before the figures, so a
result can only be newer than the version it is stored under, never older.

On PostgreSQL the version is the server's transaction snapshot instead (``xmin:xmax:``
and the transactions in progress): it changes whenever any writing transaction ends,
committed or not, and costs nothing to read, where the counts above read four growing
tables on every page. It is conservative — a change outside the book (a sign-in) also
renews it — and exact: ``xmax`` only grows and, while it stays, the list in progress
only shrinks, so a snapshot text never comes back. A request that has written in its
own transaction, not yet committed, is not served from or stored in the cache.

On a streaming replica (``fundapp.core.replica``) the snapshot is no version at all: a hot
standby's snapshot keeps every transaction in progress out of the text, so the commit of
one that is neither the oldest in progress nor the newest changes the data and not the
text. There the version is the WAL position replayed so far (``pg_last_wal_replay_lsn``):
a standby's data changes only by replaying WAL, and that position only grows. (On the
primary it is empty, or frozen since a promotion, so it is kept in the version everywhere.)
``txid_current()`` and its kind cannot run on a standby; ``pg_current_xact_id_if_assigned``
can, and is empty there. Results are kept per server read (the session's bind), so the
primary's and a lagging replica's are never confused.

Each process keeps at most ``REPORT_CACHE_SIZE`` results (least recently used out);
``REPORT_CACHE_SIZE = 0`` turns the cache off (the test configuration does, so each test
computes its figures).
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable
from typing import Any, TypeVar

from flask import current_app
from flask_babel import get_locale
from sqlalchemy import func, select, text

from fundapp.audit.models import AuditLog
from fundapp.core.dates import business_date
from fundapp.extensions import db
from fundapp.ledger.models import JournalEntry
from fundapp.loans.days import CloseDayRun, DebtGroupHistory

T = TypeVar("T")

_lock = threading.Lock()
_results: OrderedDict[tuple[Hashable, ...], Any] = OrderedDict()
_stats = {"hits": 0, "misses": 0}


def book_version() -> tuple[Any, ...] | None:
    """Marks that change whenever a committed change can alter a figure of the book;
    ``None`` when this transaction has itself written (its figures are its own)."""
    if db.session.get_bind().dialect.name == "postgresql":
        snapshot, replayed, own = db.session.execute(
            text(
                "SELECT pg_current_snapshot()::text, pg_last_wal_replay_lsn()::text,"
                " pg_current_xact_id_if_assigned()"
            )
        ).one()
        return None if own is not None else (snapshot, replayed)
    columns = (
        func.count(JournalEntry.id),
        func.max(JournalEntry.id),
        func.max(JournalEntry.created_at),
        func.count(AuditLog.id),
        func.max(AuditLog.id),
        func.count(DebtGroupHistory.id),
        func.max(DebtGroupHistory.id),
        func.count(CloseDayRun.id),
        func.max(CloseDayRun.finished_at),
    )
    row = db.session.execute(select(*(select(c).scalar_subquery() for c in columns))).one()
    return tuple(row)


def _capacity() -> int:
    return int(current_app.config.get("REPORT_CACHE_SIZE", 0) or 0)


def remembered(name: str, args: tuple[Hashable, ...], compute: Callable[[], T]) -> T:
    """``compute()``, or the result kept for the same name, arguments and book."""
    capacity = _capacity()
    if capacity <= 0:
        return compute()
    version = book_version()
    if version is None:
        return compute()
    key = (
        str(db.session.get_bind().url),
        name,
        args,
        business_date(),
        str(get_locale() or ""),
        version,
    )
    with _lock:
        if key in _results:
            _results.move_to_end(key)
            _stats["hits"] += 1
            return _results[key]
    value = compute()
    with _lock:
        _stats["misses"] += 1
        _results[key] = value
        _results.move_to_end(key)
        while len(_results) > capacity:
            _results.popitem(last=False)
    return value


def clear() -> None:
    with _lock:
        _results.clear()
        _stats.update(hits=0, misses=0)


def stats() -> dict[str, int]:
    with _lock:
        return {**_stats, "kept": len(_results)}
