"""A loan's terms and its product, and the overdue rate: the one place these are set.

Rules stated here (docs/rules.md#interest-overdue-interest-and-late-interest,
docs/rules.md#schedules, docs/rules.md#allocation-and-prepayment):

* The in-term rate is a yearly percentage (``Decimal``), actual/365.
* The overdue rate replaces the in-term rate on principal that fell due unpaid:
  :func:`overdue_rate` = the in-term rate × the overdue multiplier / 100. The multiplier is
  a percentage of the in-term rate, 150 % by default and at most 150 % (Decree 45/2021
  Art. 25; Civil Code 2015 Art. 466 par. 5); the policy parameter ``overdue_rate_pct`` may
  set it lower for new loans, and each loan keeps the multiplier of its contract.
* Interest billed and not paid on its due date bears the late rate, 10 %/year by default
  and at most (Civil Code 2015 Art. 468 par. 2).
* A product is serviced in the ``standard`` or ``principal_first`` order, and a prepayment
  keeps the maturity or shortens the term.

Vocabulary of the domain: the money those two rates produce is *overdue interest* (lãi quá
hạn on principal and lãi chậm trả on interest): overdue principal × overdue rate plus unpaid
interest × late rate. In code it is the allocation component ``penalty``
(``Row.penalty_due``, ``ReliefEvent.penalty``…), the name the database, the API and the
templates already use; "late" names only the late rate on unpaid interest.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal

from fundapp.domain.support import Support

# The legal caps: the overdue rate at most 150 % of the in-term rate (Civil Code 2015 Art. 466
# par. 5), interest on unpaid interest at most 10 %/year (Art. 468 par. 2).
MAX_OVERDUE_MULTIPLIER = Decimal("150")
MAX_LATE_RATE = Decimal("10")
# The fund's defaults are the caps: of every product, contract column and policy parameter.
DEFAULT_OVERDUE_MULTIPLIER = MAX_OVERDUE_MULTIPLIER
DEFAULT_LATE_RATE = MAX_LATE_RATE

METHODS: tuple[str, ...] = ("equal_principal", "annuity", "bullet", "custom")
FREQUENCIES: tuple[int, ...] = (1, 3, 6, 12)
REBUILD_MODES: tuple[str, ...] = ("keep_maturity", "shorten_term")
MAX_TERM_MONTHS = 600


def overdue_rate(rate_pct: Decimal, multiplier_pct: Decimal) -> Decimal:
    """The yearly overdue rate, in %, of a loan at ``rate_pct`` with the overdue multiplier
    ``multiplier_pct`` (% of the in-term rate): exact, unrounded, in the caller's decimal
    context (the overdue maths runs it at 60 digits)."""
    return rate_pct * multiplier_pct / 100


@dataclass(frozen=True)
class CustomPrincipal:
    """One line of an officer-entered (harvest-linked) principal plan."""

    date: dt.date
    amount: int


@dataclass(frozen=True)
class LoanTerms:
    """What the schedule is built from: the amount, the in-term rate and the calendar."""

    amount: int
    annual_rate: Decimal
    term_months: int
    principal_method: str = "equal_principal"
    principal_every_months: int = 1
    interest_every_months: int = 1
    grace_months: int = 0
    custom_principal: tuple[CustomPrincipal, ...] = ()


@dataclass(frozen=True)
class Product:
    """How a loan is serviced, beyond its schedule terms (snapshotted on the contract)."""

    terms: LoanTerms
    repayment_order: str = "standard"  # or principal_first
    prepayment_mode: str = "keep_maturity"  # or shorten_term
    overdue_multiplier: Decimal = DEFAULT_OVERDUE_MULTIPLIER
    late_rate: Decimal = DEFAULT_LATE_RATE
    # The interest support the loan is enrolled on (domain.support), if any.
    support: Support | None = None
