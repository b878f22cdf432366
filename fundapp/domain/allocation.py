"""Allocation of a repayment to what is due (docs/rules.md#allocation-and-prepayment):
pure, integer đồng, no database.

Readings:

* Instalments are served oldest first (by due date, then number), whatever order the caller
  lists them in; inside an instalment the components follow the product's order:
  ``standard`` = penalty → interest → principal, ``principal_first`` = principal →
  interest → penalty.
* Only instalments due on or before the value date are payable; later ones are not
  touched. What is left after every payable component is the ``excess``; the caller treats
  it as a prepayment of principal (interest only up to the payment date, no fee).
* Components with nothing to pay get no allocation line, so every line is above 0.

``penalty`` is the component name of the instalment's overdue interest (the domain's
vocabulary: :mod:`fundapp.domain.terms`); the name is the one stored and shown.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

from fundapp.domain.errors import RuleError
from fundapp.domain.money import is_whole

Component = Literal["penalty", "interest", "principal"]
AllocationOrder = Literal["standard", "principal_first"]

COMPONENT_ORDERS: dict[str, tuple[Component, ...]] = {
    "standard": ("penalty", "interest", "principal"),
    "principal_first": ("principal", "interest", "penalty"),
}


class AllocationError(RuleError):
    """Input no allocation can honour; ``rule`` names the broken rule."""


@dataclass(frozen=True)
class Due:
    """What is still unpaid on one instalment, per component."""

    no: int
    due_date: dt.date
    penalty: int
    interest: int
    principal: int

    @property
    def total(self) -> int:
        return self.penalty + self.interest + self.principal


@dataclass(frozen=True)
class Allocation:
    no: int
    component: Component
    amount: int


@dataclass(frozen=True)
class AllocationResult:
    allocations: tuple[Allocation, ...]
    excess: int

    @property
    def allocated(self) -> int:
        return sum(a.amount for a in self.allocations)

    def paid(self, no: int, component: Component) -> int:
        return sum(a.amount for a in self.allocations if a.no == no and a.component == component)


def allocate(
    amount: int,
    value_date: dt.date,
    dues: Sequence[Due],
    order: AllocationOrder = "standard",
) -> AllocationResult:
    """Allocate ``amount`` paid on ``value_date`` to ``dues`` (oldest first)."""
    if order not in COMPONENT_ORDERS:
        raise AllocationError("order", "order must be standard or principal_first")
    if not is_whole(amount) or amount < 0:
        raise AllocationError("amount", "the amount must be a whole đồng of 0 or more")
    for due in dues:
        parts = (due.penalty, due.interest, due.principal)
        if not all(is_whole(part) and part >= 0 for part in parts):
            raise AllocationError("due_amounts", f"instalment {due.no}: dues must be 0 or more")
    if len({due.no for due in dues}) != len(dues):
        raise AllocationError("due_numbers", "each instalment may be listed once")
    left = amount
    allocations: list[Allocation] = []
    payable = sorted(
        (d for d in dues if d.due_date <= value_date), key=lambda d: (d.due_date, d.no)
    )
    for due in payable:
        for component in COMPONENT_ORDERS[order]:
            if left == 0:
                break
            take = min(left, getattr(due, component))
            if take:
                allocations.append(Allocation(due.no, component, take))
                left -= take
    return AllocationResult(tuple(allocations), left)
