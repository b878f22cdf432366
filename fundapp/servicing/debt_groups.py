"""Debt groups as they were classified: the history the close of day writes (a row per
loan or borrower whose group changes) and the latest group of each as of a date, which
the accrual, the reports and the next run read.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from sqlalchemy import func, insert, select

from fundapp.core.db import among, in_chunks
from fundapp.extensions import db
from fundapp.loans.days import DebtGroupHistory


def latest_groups(
    kind: str, *, as_of: date | None = None, refs: list[int] | None = None
) -> dict[int, int]:
    """The debt group of each loan or borrower (``kind``) from its latest classification
    (on or before ``as_of``; of ``refs`` only)."""
    query = latest_groups_query(kind, as_of=as_of, refs=refs)
    return dict(db.session.execute(query).tuples().all())


def latest_groups_query(
    kind: str, *, as_of: date | None = None, refs: list[int] | None = None
) -> Any:
    """:func:`latest_groups` as a statement of (ref_id, debt_group) rows, to run or join.

    Ranked, not probed per loan: a correlated lookup is as fast to run, but the planner
    prices it per loan and, above a few thousand loans, spends longer compiling the
    statement (PostgreSQL's JIT) than running it."""
    conditions = [DebtGroupHistory.kind == kind]
    if as_of is not None:
        conditions.append(DebtGroupHistory.business_date <= as_of)
    if refs is not None:
        conditions.append(among(DebtGroupHistory.ref_id, refs))
    ranked = (
        select(
            DebtGroupHistory.ref_id,
            DebtGroupHistory.debt_group,
            func.row_number()
            .over(
                partition_by=DebtGroupHistory.ref_id,
                order_by=DebtGroupHistory.business_date.desc(),
            )
            .label("n"),
        )
        .where(*conditions)
        .subquery()
    )
    return select(ranked.c.ref_id, ranked.c.debt_group).where(ranked.c.n == 1)


def record_borrower_groups(day: date, borrower_group: dict[int, int]) -> None:
    """A history row for each borrower whose group on ``day`` differs from its latest."""
    if not borrower_group:
        return
    latest: dict[int, int] = {}
    for part in in_chunks(sorted(borrower_group)):
        latest.update(latest_groups("borrower", refs=part))
    rows = [
        {
            "kind": "borrower",
            "ref_id": coop,
            "business_date": day,
            "days_past_due": 0,
            "debt_group": group,
            "previous_group": latest.get(coop),
        }
        for coop, group in borrower_group.items()
        if latest.get(coop) != group
    ]
    if rows:
        db.session.execute(insert(DebtGroupHistory), rows)
