"""Who may borrow from the fund: the borrower kinds of Decree 45/2021/NĐ-CP Art. 20
(docs/rules.md#eligibility-and-lending-limits). The policy parameter ``eligible_kinds``
names a subset of these; the cooperative register stores one per borrower.
"""

from __future__ import annotations

import enum


class CooperativeKind(enum.StrEnum):
    """Eligible borrower types of Decree 45/2021 Art. 20."""

    COOPERATIVE = "cooperative"
    UNION = "union"
    COOP_MEMBER = "coop_member"
    GROUP_MEMBER = "group_member"
