"""Debt groups as they were classified: the history the close of day writes (a row per
loan or borrower whose group changes) and the latest group of each as of a date, which
the accrual, the reports and the next run read.
"""

from __future__ import annotations

from datetime import date

from sqlalchemy import func, insert, select

from fundapp.core.db import in_chunks
from fundapp.extensions import db
from fundapp.loans.days import DebtGroupHistory


def latest_groups(
    kind: str, *, as_of: date | None = None, refs: list[int] | None = None
) -> dict[int, int]:
    """The debt group of each loan or borrower (``kind``) from its latest classification
    (on or before ``as_of``; of ``refs`` only)."""
    conditions = [DebtGroupHistory.kind == kind]
    if as_of is not None:
        conditions.append(DebtGroupHistory.business_date <= as_of)
    if refs is not None:
        conditions.append(DebtGroupHistory.ref_id.in_(refs))
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
    return dict(
        db.session.execute(select(ranked.c.ref_id, ranked.c.debt_group).where(ranked.c.n == 1))
        .tuples()
        .all()
    )


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
