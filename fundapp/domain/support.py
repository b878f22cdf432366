"""Interest support (hỗ trợ lãi suất): the budget's share of a loan's in-term interest
(docs/rules.md#interest-support).

A support scheme of the province pays a share of the interest of the loans it covers
(Cooperative Law 2023 Art. 29; a provincial resolution such as Bắc Giang's
24/2018/NQ-HĐND). A loan enrolled in a scheme carries its terms (:class:`Support`): the
share, the due dates covered and the most the budget pays on the loan. Rules:

* Each instalment whose due date falls in the covered dates (both ends included) is split:
  the budget's share = its in-term interest × share / 100, rounded half-up to the đồng once;
  the borrower owes the rest.
* The cap is the most the budget pays on the loan, taken in the order the instalments fall
  due: the instalment that reaches it gets what is left of it, later ones nothing.
* Only in-term interest is supported; overdue interest (on principal and on unpaid interest)
  is the borrower's alone, and runs only on what the borrower owes.
* The split follows the schedule: when a prepayment or a restructuring changes an
  instalment's interest, its split is taken again from the new interest. An instalment's
  interest settled at a payoff before its due date is split the same way (its due date as
  scheduled decides whether it is covered).

Pure: no database. The replay (``domain.replay``) applies the split to the rows of every
state; the posting rule (``domain.posting``) bills the budget's share to the budget's
receivable when the instalment falls due.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal

from fundapp.domain.money import round_dong


@dataclass(frozen=True)
class Support:
    """The support terms a loan is enrolled on (snapshotted on the loan)."""

    share: Decimal  # % of each covered instalment's in-term interest, 0 < share ≤ 100
    first_due: dt.date  # covers instalments falling due from this date …
    last_due: dt.date | None = None  # … to this one, both included (None: no end)
    cap: int | None = None  # the most the budget pays on the loan, whole đồng

    def covers(self, due_date: dt.date) -> bool:
        return self.first_due <= due_date and (self.last_due is None or due_date <= self.last_due)


def budget_share(interest: int, share: Decimal) -> int:
    """The budget's share of ``interest`` at ``share`` %, rounded half-up once."""
    return round_dong(Decimal(interest) * share / 100)


def split(rows: Iterable[tuple[dt.date, int]], support: Support | None) -> list[int]:
    """The budget's share of each of ``rows`` (due date, in-term interest), in schedule order:
    0 outside the covered dates, and none beyond the cap."""
    left = support.cap if support is not None else None
    out = []
    for due_date, interest in rows:
        part = 0
        if support is not None and interest > 0 and support.covers(due_date):
            part = budget_share(interest, support.share)
            if left is not None:
                part = min(part, left)
                left -= part
        out.append(part)
    return out
