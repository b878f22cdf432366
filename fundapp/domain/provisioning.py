"""Loan-loss provisions (docs/rules.md#debt-classification-and-provisions): pure rules, no
database.

* Specific provision of a loan: the rate of its debt group × (principal outstanding −
  discounted collateral), never below 0, rounded half-up to the đồng once
  (:func:`fundapp.domain.money.provision`). The five group rates are a dated policy
  parameter (``provision_rates_pct``, groups 1 to 5 in order).
* Discounted collateral: each item's valuation × its discount factor, the fraction of the
  đồng dropped (the item counts for no more than its discounted value).
* General provision: its rate (``general_provision_pct``) × the principal of the loans in
  groups 1–4; a group-5 loan is fully covered by its specific provision.

The close of day posts these figures and the classification report shows them: both call
this module, so the report always states what was posted.
"""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal

from fundapp.domain.money import provision

# The groups whose principal the general provision covers (1 to this one).
GENERAL_PROVISION_MAX_GROUP = 4


def group_rate(rates: Sequence[Decimal], group: int) -> Decimal:
    """The specific-provision rate of debt ``group`` (1–5) among the five ``rates``."""
    return rates[group - 1]


def discounted_value(valuation: int, discount_factor: Decimal) -> int:
    """What one collateral item counts for in the provision base: valuation × factor,
    the fraction of the đồng dropped."""
    return int(Decimal(valuation) * Decimal(discount_factor))


def specific_provision(outstanding: int, discounted_collateral: int, rate: Decimal) -> int:
    """The specific provision of a loan: ``rate`` % of (principal − discounted collateral)."""
    return provision(outstanding - discounted_collateral, rate)


def in_general_base(group: int) -> bool:
    """Whether a loan of debt ``group`` counts in the general provision's base."""
    return group <= GENERAL_PROVISION_MAX_GROUP


def general_provision(base: int, rate: Decimal) -> int:
    """The general provision: ``rate`` % of ``base`` (the groups 1–4 principal)."""
    return provision(base, rate)
