"""A loan's debt group as the law in force gives it, and its borrower's group.

One borrower, one group: the close of day, the API, the portal and the statement all reach
the group through here, so they agree. The rules themselves (the bands, the restructuring
floors, the upgrade waiting period) are pure, in ``domain.overdue``; here is what they read
of the stored loans: the contract's policy snapshot, the policy versions in force on a day,
the standing the last close of day stored, and the borrower's other active loans.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from sqlalchemy import func, select

from fundapp.core.dates import business_date
from fundapp.domain import replay as engine
from fundapp.domain.overdue import (
    CIRCULAR_14_FROM,
    LoanFacts,
    Standing,
    classify,
    days_past_due,
    standing,
    upgrade_months,
    version_of,
    worst_group,
)
from fundapp.extensions import db
from fundapp.loans.days import LoanDay
from fundapp.loans.models import ApprovalStatus, Loan, LoanStatus, Restructuring
from fundapp.loans.stored import states_of
from fundapp.policy import services as policy
from fundapp.policy.parameters import BY_KEY, DEFAULTS_EFFECTIVE


def loan_policy(loan: Any, key: str) -> Any:
    """A parameter as snapshotted on the contract (the legal default if it predates it)."""
    param = BY_KEY[key]
    raw = (loan.policy_snapshot or {}).get(key)
    try:
        return param.parse(raw) if raw else param.parse(param.default)
    except ValueError:
        return param.parse(param.default)


def classification_version(day: date) -> Any:
    """The classification law in force on ``day`` (classification is law, not a contract
    term: docs/rules.md#debt-classification-and-provisions): the debt-group bands and
    restructuring floors of the policy versions in force that day, and the clauses of the act
    in force (Circular 11/2021 until 11/08/2024, Circular 14/2024 from 12/08/2024). Contract
    terms (rates, multipliers) stay with the loan's snapshot."""
    rows = [
        policy.version_in_force(key, day)
        for key in ("group_thresholds_days", "restructure_floor_groups")
    ]
    since = max(
        [r.effective_from for r in rows if r is not None]
        + [CIRCULAR_14_FROM if day >= CIRCULAR_14_FROM else DEFAULTS_EFFECTIVE]
    )
    bands = rows[0]
    return version_of(
        day,
        policy.value("group_thresholds_days", day),
        policy.value("restructure_floor_groups", day),
        reference=bands.legal_reference if bands is not None and bands.legal_reference else "",
        effective_from=since,
    )


def is_short_term(loan: Any) -> bool:
    """A short-term loan for the upgrade waiting period: its term within the contract's
    short-term class (Circular 39/2016 Art. 10)."""
    return int(loan.term_months) <= int(loan_policy(loan, "short_term_max_months"))


def facts_of(loan: Any, days_past_due: int, restructured_days_past_due: int = 0) -> LoanFacts:
    """What the classification reads of ``loan`` (a Loan or a row with its
    term_adjustments, extensions and interest_reliefs)."""
    count = loan.term_adjustments + loan.extensions
    kind = None
    if count == 1:
        kind = "extension" if loan.extensions else "term_adjustment"
    return LoanFacts(
        days_past_due=days_past_due,
        restructure_count=count,
        first_restructure_kind=kind,
        restructured_days_past_due=restructured_days_past_due,
        interest_reliefs=int(getattr(loan, "interest_reliefs", 0) or 0),
    )


def own_group(
    loan: Any,
    days_past_due: int,
    as_of: date | None = None,
    restructured_days_past_due: int = 0,
    version: Any = None,
) -> int:
    """The group the law in force on ``as_of`` gives the loan's facts, before the upgrade
    waiting period (:func:`own_standing` adds it) and the borrower's group."""
    day = as_of or business_date()
    return classify(
        facts_of(loan, days_past_due, restructured_days_past_due),
        version or classification_version(day),
    )


def own_standing(
    loan: Any,
    days_past_due: int,
    as_of: date,
    previous: Any,
    restructured_days_past_due: int = 0,
    version: Any = None,
) -> Any:
    """The loan's own group on ``as_of`` with the upgrade rule: ``previous`` is its standing
    as the close of day last left it (None when never classified). The close of day and the
    live views both go through here, so they agree."""
    version = version or classification_version(as_of)
    group = own_group(loan, days_past_due, as_of, restructured_days_past_due, version)
    wait = upgrade_months(version, is_short_term(loan))
    return standing(previous, group, days_past_due, as_of, wait)


def stored_standing(loan_id: int, as_of: date) -> Standing | None:
    """The loan's standing as the last close of day on or before ``as_of`` stored it."""
    row = db.session.get(LoanDay, loan_id)
    if row is None or row.business_date > as_of:
        return None
    return Standing(row.group_by_days, row.days_past_due, row.cured_on)


def latest_restructuring(loan_id: int, until: date | None = None) -> date | None:
    """When the loan's latest approved restructuring took effect (until ``until``)."""
    query = select(func.max(Restructuring.effective_date)).where(
        Restructuring.loan_id == loan_id, Restructuring.status == ApprovalStatus.APPROVED
    )
    if until is not None:
        query = query.where(Restructuring.effective_date <= until)
    return db.session.scalar(query)


def restructured_days_past_due(state: engine.LoanState, as_of: date, since: date | None) -> int:
    """Days past due on the restructured schedule: from the oldest instalment due after the
    latest restructuring took effect (``since``), before ``as_of``, and not settled."""
    if since is None:
        return 0
    late = [
        r.due_date
        for r in state.rows
        if since < r.due_date < as_of
        and (r.principal_unpaid or r.interest_unpaid or r.penalty_due(state.product, as_of))
    ]
    return days_past_due(min(late, default=None), as_of)


def live_own_group(
    loan: Any,
    state: engine.LoanState,
    as_of: date,
    restructured: Any = None,
    version: Any = None,
) -> int:
    """The loan's own group on ``as_of`` from its replayed ``state``, as the close of day of
    that date sets it. ``restructured``: the loan as its restructurings stood on ``as_of``
    (a statement of a past date), else the loan itself."""
    subject = restructured if restructured is not None else loan
    dpd = state.balances(as_of).days_past_due
    since = None
    if subject.term_adjustments + subject.extensions:
        since = latest_restructuring(loan.id, as_of if restructured is not None else None)
    late = restructured_days_past_due(state, as_of, since)
    previous = stored_standing(loan.id, as_of)
    return own_standing(subject, dpd, as_of, previous, late, version).group


def live_group(loan: Any, state: engine.LoanState, as_of: date, restructured: Any = None) -> int:
    """The debt group the API, the portal and the statement show: the loan's own (the law
    in force on ``as_of``, the upgrade rule), then its borrower's worst."""
    version = classification_version(as_of)
    own = live_own_group(loan, state, as_of, restructured, version)
    return borrower_group(loan, own, as_of, version)


def borrower_group(loan: Any, own: int, as_of: date, version: Any = None) -> int:
    """One borrower, one group (docs/rules.md#debt-classification-and-provisions): an active
    loan takes the worst own group, as of
    ``as_of``, of its borrower's active loans (``own`` is this loan's)."""
    if loan.status != LoanStatus.ACTIVE:
        return own
    siblings = list(
        db.session.scalars(
            select(Loan).where(
                Loan.cooperative_id == loan.cooperative_id,
                Loan.id != loan.id,
                Loan.status == LoanStatus.ACTIVE,
            )
        )
    )
    if not siblings:
        return own
    states = states_of(siblings)
    version = version or classification_version(as_of)
    return worst_group(
        [own, *(live_own_group(s, states[s.id], as_of, None, version) for s in siblings)]
    )
