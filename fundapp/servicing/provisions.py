"""Step 5 of the close of day: the provisions posted as differences.

The figures are the rules of ``fundapp.domain.provisioning`` (specific provision per loan,
the general provision on the groups 1–4 principal of the book); this module reads what they
apply to and what the ledger already holds, and posts the difference in one entry: a
provision that grows is an expense, one that shrinks is a release, which is income
(hoàn nhập dự phòng), not a negative expense.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from flask_babel import gettext as _
from sqlalchemy import func, select

from fundapp.core.db import among, in_chunks
from fundapp.domain import provisioning
from fundapp.extensions import db
from fundapp.ledger import accounts as acc
from fundapp.ledger.models import JournalLine
from fundapp.ledger.services import Line, post
from fundapp.loans.models import Collateral, Loan, LoanStatus
from fundapp.policy import services as policy


def rates_of(day: date) -> tuple[Any, Any]:
    """The specific rates by group and the general rate in force on ``day``."""
    return (policy.value("provision_rates_pct", day), policy.value("general_provision_pct", day))


def discounted_collateral(loan_ids: list[int]) -> dict[int, int]:
    """Σ discounted value of each loan's collateral (loans without any are left out)."""
    out: dict[int, int] = {}
    for part in in_chunks(loan_ids):
        for loan_id, valuation, factor in db.session.execute(
            select(Collateral.loan_id, Collateral.valuation, Collateral.discount_factor).where(
                among(Collateral.loan_id, part)
            )
        ):
            out[loan_id] = out.get(loan_id, 0) + provisioning.discounted_value(valuation, factor)
    return out


def post_provisions(
    day: date, loans: dict[int, Any], groups: dict[int, int], have: dict[int, dict[str, int]]
) -> tuple[int, dict[int, int]]:
    """Specific provision of each examined loan and the general provision, as differences."""
    rates, general_rate = rates_of(day)
    collateral = discounted_collateral(list(loans))
    lines: list[Line] = []
    change = 0
    wanted: dict[int, int] = {}
    for loan_id, row in loans.items():
        want = provisioning.specific_provision(
            row.principal_outstanding,
            collateral.get(loan_id, 0),
            provisioning.group_rate(rates, groups[loan_id]),
        )
        wanted[loan_id] = want
        held = -have.get(loan_id, {}).get(acc.PROVISION, 0)
        delta = want - held
        if delta:
            change += delta
            lines.append(_provision_line(delta, loan_id, row.cooperative_id))
    # General provision: on all group 1–4 principal of the book (set-based).
    base = int(
        db.session.scalar(
            select(func.coalesce(func.sum(Loan.principal_outstanding), 0)).where(
                Loan.status == LoanStatus.ACTIVE,
                Loan.debt_group <= provisioning.GENERAL_PROVISION_MAX_GROUP,
            )
        )
        or 0
    )
    want_general = provisioning.general_provision(base, general_rate)
    have_general = int(
        db.session.scalar(
            select(func.coalesce(func.sum(JournalLine.credit - JournalLine.debit), 0)).where(
                JournalLine.account == acc.PROVISION, JournalLine.loan_id.is_(None)
            )
        )
        or 0
    )
    delta = want_general - have_general
    if delta:
        change += delta
        lines.append(_provision_line(delta, None, None))
    if lines:
        if change > 0:
            lines.append(Line(acc.PROVISION_EXPENSE, debit=change))
        elif change < 0:
            # A release (hoàn nhập dự phòng) is income, not a negative provision expense.
            lines.append(Line(acc.PROVISION_RELEASE_INCOME, credit=-change))
        post(
            day,
            "provision",
            lines,
            reference=day.isoformat(),
            description=_("Trích lập dự phòng rủi ro ngày %(d)s", d=day.strftime("%d/%m/%Y")),
        )
    return change, wanted


def _provision_line(delta: int, loan_id: int | None, cooperative_id: int | None) -> Line:
    if delta > 0:
        return Line(acc.PROVISION, credit=delta, loan_id=loan_id, cooperative_id=cooperative_id)
    return Line(acc.PROVISION, debit=-delta, loan_id=loan_id, cooperative_id=cooperative_id)
