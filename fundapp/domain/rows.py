"""One instalment of a loan's current schedule with what has been paid, waived and supported
on it (:class:`Row`), and the rows after a new plan (:func:`merge`): the pieces of the replayed
state (``domain.replay``), pure.

Rules: docs/rules.md#interest-overdue-interest-and-late-interest (the overdue interest of a
row), docs/rules.md#interest-support (the budget's share of its interest).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass, field, replace

from fundapp.domain.overdue import OverdueComponent, Reduction, overdue_interest
from fundapp.domain.schedule import Instalment
from fundapp.domain.support import Support, split
from fundapp.domain.terms import Product


@dataclass(frozen=True)
class FinalPenalty:
    """A settled row's overdue interest, ``value`` on any date from ``since`` (its last
    payment), for the product, plan and number of payments it was computed from."""

    product: Product
    plan: Instalment
    paid: tuple[int, int, int]
    since: dt.date
    value: int


@dataclass
class Row:
    """One instalment of the current schedule with what has been paid on it."""

    plan: Instalment
    principal_paid: list[tuple[dt.date, int]] = field(default_factory=list)
    interest_paid: list[tuple[dt.date, int]] = field(default_factory=list)
    penalty_paid: int = 0
    # Waived by an approved relief: owed no more, like a payment, but not money received.
    interest_waived: list[tuple[dt.date, int]] = field(default_factory=list)
    penalty_waived: int = 0
    # The budget's share of the interest (domain.support), settled on the due date: owed by
    # the budget, not by the borrower. Set from the plan by :func:`apply_support`.
    interest_supported: int = 0
    # The overdue interest of a row paid in full: it stops growing on its last payment.
    _final_penalty: FinalPenalty | None = field(default=None, init=False, repr=False, compare=False)

    @property
    def no(self) -> int:
        return self.plan.no

    @property
    def due_date(self) -> dt.date:
        return self.plan.due_date

    @property
    def principal_unpaid(self) -> int:
        return self.plan.principal - sum(a for _, a in self.principal_paid)

    @property
    def interest_unpaid(self) -> int:
        return (
            self.plan.interest
            - self.interest_supported
            - sum(a for _, a in self.interest_paid)
            - sum(a for _, a in self.interest_waived)
        )

    def interest_reductions(self) -> list[tuple[dt.date, int]]:
        """What reduced the row's interest, dated: payments, waivers and the budget's share
        (on the due date, so it never bears late interest)."""
        supported = [(self.due_date, self.interest_supported)] if self.interest_supported else []
        return supported + self.interest_paid + self.interest_waived

    def support_billed(self, book_date: dt.date | None, closed: bool = False) -> int:
        """The budget's share billed to the budget by ``book_date`` (the last close of day):
        once the row has fallen due, once the borrower has settled it ahead, or once the
        whole loan is settled (``closed``: a payoff, after which nothing falls due)."""
        if not self.interest_supported:
            return 0
        due = book_date is not None and self.due_date < book_date
        settled_ahead = bool(self.interest_paid) and not (
            self.interest_unpaid or self.principal_unpaid
        )
        return self.interest_supported if due or settled_ahead or closed else 0

    def penalty_accrued(self, product: Product, as_of: dt.date) -> int:
        """Overdue interest of this instalment over [due date, as_of), rounded once."""
        if as_of <= self.due_date or (not self.plan.principal and not self.plan.interest):
            return 0
        paid = (
            len(self.principal_paid),
            len(self.interest_paid) + len(self.interest_waived),
            self.interest_supported,
        )
        final = self._final_penalty
        if (
            final is not None
            and final.product is product
            and final.plan is self.plan
            and final.paid == paid
            and as_of >= final.since
        ):
            return final.value
        value = self._penalty(product, as_of)
        if not self.principal_unpaid and not self.interest_unpaid:
            # Nothing owed from the last payment on: no more balance-days, the same amount.
            last = max(d for d, _ in (*self.principal_paid, *self.interest_reductions()))
            if as_of >= last:
                self._final_penalty = FinalPenalty(product, self.plan, paid, last, value)
        return value

    def _penalty(self, product: Product, as_of: dt.date) -> int:
        return overdue_interest(
            self.due_date,
            as_of,
            product.terms.annual_rate,
            OverdueComponent(
                self.plan.principal, tuple(Reduction(d, a) for d, a in self.principal_paid)
            ),
            OverdueComponent(
                self.plan.interest,
                tuple(Reduction(d, a) for d, a in sorted(self.interest_reductions())),
            ),
            overdue_multiplier=product.overdue_multiplier,
            late_rate=product.late_rate,
        )

    def penalty_due(self, product: Product, as_of: dt.date) -> int:
        return max(
            self.penalty_accrued(product, as_of) - self.penalty_paid - self.penalty_waived, 0
        )

    def owed(self, component: str, product: Product, as_of: dt.date) -> int:
        """What a relief on ``as_of`` may waive of ``component`` (penalty or interest)."""
        if component == "penalty":
            return self.penalty_due(product, as_of)
        return self.interest_unpaid

    def waive(self, component: str, day: dt.date, amount: int) -> None:
        """Record ``amount`` of ``component`` waived by a relief dated ``day``."""
        if component == "penalty":
            self.penalty_waived += amount
        else:
            self.interest_waived.append((day, amount))

    def settled(self, product: Product, as_of: dt.date) -> bool:
        return (
            self.principal_unpaid == 0
            and self.interest_unpaid == 0
            and self.penalty_due(product, as_of) == 0
        )


def apply_support(rows: Sequence[Row], support: Support | None) -> None:
    """Set the budget's share of each row's interest (``domain.support``) from the plan."""
    if support is None:
        return
    for row, part in zip(
        rows, split(((r.due_date, r.plan.interest) for r in rows), support), strict=True
    ):
        row.interest_supported = part


def merge(old: Sequence[Row], plans: Sequence[Instalment], as_of: dt.date) -> list[Row]:
    """New plan rows; rows due on or before ``as_of`` keep what was paid on them."""
    kept = {r.due_date: r for r in old if r.due_date <= as_of}
    out = []
    for plan in plans:
        previous = kept.get(plan.due_date) if plan.due_date <= as_of else None
        if previous is not None:
            out.append(replace(previous, plan=plan))
        else:
            out.append(Row(plan))
    return out
