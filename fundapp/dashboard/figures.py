"""The director's dashboard as of a date: key figures and the series behind the charts.

Balances come from the ledger (``ledger.services``) and the loans' balances summed by debt
group and area (``reports.aggregates``), both as of the requested date; flows over a
period are the journal entries dated in it. Pending approvals are the live queues: they
have no "as of".
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from flask_babel import gettext as _
from sqlalchemy import func, select

from fundapp.core import validation
from fundapp.domain.errors import ValidationFailed
from fundapp.extensions import db
from fundapp.funds.services import ALL, OriginFilter
from fundapp.ledger.services import FundPosition
from fundapp.loans.models import (
    Application,
    ApplicationStatus,
    ApprovalStatus,
    Disbursement,
    DisbursementStatus,
    Restructuring,
    Reversal,
    WriteOff,
)
from fundapp.loans.relief import InterestRelief, OffBalanceRemoval
from fundapp.policy.models import PolicyChange, PolicyChangeStatus
from fundapp.reports import aggregates, cache
from fundapp.reports.aggregates import AREA_AND_GROUP
from fundapp.reports.origin_book import fund_position
from fundapp.reports.series import ChartSeries, chart_series, month_start

BAD_DEBT_GROUPS = (3, 4, 5)


def as_of_from(raw: str | None, today: date) -> date:
    """The date asked for (``yyyy-mm-dd`` or ``dd/mm/yyyy``), ``today`` when none; never
    after ``today``."""
    errors: dict[str, str] = {}
    as_of = validation.iso_date({"as_of": raw}, "as_of", errors, required=False)
    if as_of is not None and as_of > today:
        errors["as_of"] = _(
            "Ngày xem số liệu không được sau ngày làm việc hiện tại (%(d)s).",
            d=today.strftime("%d/%m/%Y"),
        )
    if errors:
        raise ValidationFailed(errors["as_of"], errors)
    return as_of or today


def ratio(part: int, whole: int) -> Decimal:
    """``part`` as a percentage of ``whole``, two decimals, half-up (0 when nothing)."""
    if whole <= 0:
        return Decimal("0.00")
    return (Decimal(part) * 100 / Decimal(whole)).quantize(Decimal("0.01"), ROUND_HALF_UP)


# --- flows over a period ---------------------------------------------------------------------


@dataclass(frozen=True)
class Flows:
    """Money moved on loans over ``[start, end]``, from the journal entries dated in it."""

    start: date
    end: date
    disbursed: int
    collected: int
    principal_collected: int
    interest_collected: int


def _flows(moved: aggregates.FlowTotals) -> Flows:
    return Flows(
        start=moved.start,
        end=moved.end,
        disbursed=moved.disbursed,
        collected=moved.collected,
        principal_collected=moved.principal_collected,
        interest_collected=moved.interest_collected,
    )


def flows(start: date, end: date, origin: OriginFilter = ALL) -> Flows:
    return _flows(aggregates.flow_totals(start, end, origin))


# --- pending approvals -----------------------------------------------------------------------


@dataclass(frozen=True)
class PendingApprovals:
    applications_to_appraise: int
    applications_to_decide: int
    disbursements: int
    reversals: int
    restructurings: int
    write_offs: int
    # Also decided on the approvals page (issue 16): the count there is ``decisions``.
    policy_changes: int = 0
    interest_reliefs: int = 0
    removals: int = 0

    @property
    def decisions(self) -> int:
        """Everything awaiting a decision of the director or the board: the rows of the
        approvals page (fundapp/web/loans.py::approvals), one per item."""
        return (
            self.applications_to_decide
            + self.disbursements
            + self.reversals
            + self.restructurings
            + self.write_offs
            + self.policy_changes
            + self.interest_reliefs
            + self.removals
        )

    @property
    def total(self) -> int:
        return (
            self.applications_to_appraise
            + self.applications_to_decide
            + self.disbursements
            + self.reversals
            + self.restructurings
            + self.write_offs
        )


def pending_approvals() -> PendingApprovals:
    """What waits for a decision, counted in one statement (the dashboard asks on every
    view)."""

    def count(model: type, *where: Any) -> Any:
        return select(func.count()).select_from(model).where(*where).scalar_subquery()

    counts = {
        "policy_changes": count(PolicyChange, PolicyChange.status == PolicyChangeStatus.PENDING),
        "interest_reliefs": count(InterestRelief, InterestRelief.status == "pending"),
        "removals": count(OffBalanceRemoval, OffBalanceRemoval.status == "pending"),
        "applications_to_appraise": count(
            Application, Application.status == ApplicationStatus.SUBMITTED
        ),
        "applications_to_decide": count(
            Application, Application.status == ApplicationStatus.APPRAISED
        ),
        "disbursements": count(Disbursement, Disbursement.status == DisbursementStatus.PENDING),
        "reversals": count(Reversal, Reversal.status == ApprovalStatus.PENDING),
        "restructurings": count(Restructuring, Restructuring.status == ApprovalStatus.PENDING),
        "write_offs": count(WriteOff, WriteOff.status == ApprovalStatus.PENDING),
    }
    row = db.session.execute(select(*counts.values())).one()
    return PendingApprovals(**{k: int(n or 0) for k, n in zip(counts, row, strict=True)})


# --- the dashboard ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Dashboard:
    as_of: date
    position: FundPosition
    bad_debt: int
    projects: int
    cooperatives: int
    month: Flows
    year: Flows
    pending: PendingApprovals
    series: ChartSeries

    @property
    def total_capital(self) -> int:
        return self.position.total_capital

    @property
    def outstanding(self) -> int:
        return self.position.outstanding

    @property
    def available_to_lend(self) -> int:
        return self.position.cash

    @property
    def overdue_ratio(self) -> Decimal:
        return ratio(self.position.loans_overdue, self.outstanding)

    @property
    def bad_debt_ratio(self) -> Decimal:
        return ratio(self.bad_debt, self.outstanding)


def dashboard(as_of: date, by: str = "commune", origin: OriginFilter = ALL) -> Dashboard:
    """The dashboard as of a date; the book's figures are kept while the book does not
    change (``reports.cache``), the approval queues are read live. ``by``: how the area
    chart groups (commune, former_district, former_province). ``origin``: one origin
    fund's book, or all (consolidated, the default)."""
    kept = cache.remembered(
        "dashboard", (as_of, by, origin.code), lambda: _book_figures(as_of, by, origin)
    )
    return replace(kept, pending=pending_approvals())


def _book_figures(as_of: date, by: str = "commune", origin: OriginFilter = ALL) -> Dashboard:
    book = aggregates.book(as_of, AREA_AND_GROUP, origin, row_borrowers=False)
    groups = aggregates.by_debt_group(book.rows)
    month, year = aggregates.flows_since(
        (month_start(as_of), as_of.replace(month=1, day=1)), as_of, origin
    )
    return Dashboard(
        as_of=as_of,
        position=fund_position(as_of, origin),
        bad_debt=sum(groups[g][1] for g in BAD_DEBT_GROUPS),
        projects=book.total.loans,
        cooperatives=book.total.borrowers,
        month=_flows(month),
        year=_flows(year),
        pending=PendingApprovals(0, 0, 0, 0, 0, 0),  # read live by dashboard()
        series=chart_series(as_of, book, by, origin),
    )


def to_json(d: Dashboard) -> dict[str, object]:
    """The dashboard for the API: money in integer đồng, ratios as percent strings."""
    p = d.position

    def period(f: Flows) -> dict[str, object]:
        return {
            "from": f.start.isoformat(),
            "to": f.end.isoformat(),
            "disbursed": f.disbursed,
            "collected": f.collected,
            "principal_collected": f.principal_collected,
            "interest_collected": f.interest_collected,
        }

    return {
        "as_of": d.as_of.isoformat(),
        "capital": {
            "total": p.total_capital,
            "charter": p.charter,
            "entrusted": p.entrusted,
            "grants": p.grants,
            "other": p.other,
        },
        "outstanding": {
            "total": p.outstanding,
            "in_term": p.loans_in_term,
            "overdue": p.loans_overdue,
            "bad_debt": d.bad_debt,
        },
        "available_to_lend": d.available_to_lend,
        "ratios": {"overdue": str(d.overdue_ratio), "bad_debt": str(d.bad_debt_ratio)},
        "projects": d.projects,
        "cooperatives": d.cooperatives,
        "this_month": period(d.month),
        "this_year": period(d.year),
        "pending_approvals": {
            "applications_to_appraise": d.pending.applications_to_appraise,
            "applications_to_decide": d.pending.applications_to_decide,
            "disbursements": d.pending.disbursements,
            "reversals": d.pending.reversals,
            "restructurings": d.pending.restructurings,
            "write_offs": d.pending.write_offs,
            "total": d.pending.total,
        },
        "series": {
            "outstanding_by_month": [
                {"date": day.isoformat(), "outstanding": value}
                for day, value in d.series.outstanding_by_month
            ],
            "area_by": d.series.area_by,
            "by_area": [
                {"code": r.code, "name": r.name, "outstanding": r.outstanding}
                for r in d.series.by_area
            ],
            "debt_groups": [
                {"group": group, "outstanding": value}
                for group, value in sorted(d.series.debt_groups.items())
            ],
            "collections": [
                {"month": m.month.strftime("%Y-%m"), "due": m.due, "collected": m.collected}
                for m in d.series.collections
            ],
        },
    }
