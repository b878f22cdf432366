"""The work of each role, read from the book: what falls due, what is late, what waits for
a decision, what data is missing, and the collection calendar of a month.

Readers only (no writes); every function takes the business date ``as_of``.
"""

from __future__ import annotations

import calendar
from collections import defaultdict
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from sqlalchemy import func, or_, select

from fundapp.cooperatives.models import Cooperative
from fundapp.cooperatives.services import needing_confirmation
from fundapp.extensions import db
from fundapp.loans.days import CloseDayFailure, CloseDayRun, last_run_date
from fundapp.loans.models import (
    Application,
    ApplicationStatus,
    ApprovalStatus,
    Disbursement,
    DisbursementStatus,
    Inspection,
    Instalment,
    Loan,
    LoanStatus,
    Repayment,
    Reversal,
)
from fundapp.servicing.close_day import pending_dates
from fundapp.work.decisions import decisions_for

DUE_SOON_DAYS = 7
# Loan-use inspection (kiểm tra sử dụng vốn vay): the first one within 30 days of the first
# disbursement, then at least once a year (the fund's practice;
# docs/rules.md#work-lists-and-trial-balance).
FIRST_INSPECTION_DAYS = 30
INSPECTION_EVERY_DAYS = 365
# A loan's schedule counts in the calendar once disbursed (active or settled since).
SCHEDULED = (LoanStatus.ACTIVE, LoanStatus.CLOSED)


def _remaining() -> Any:
    """What the borrower still owes on an instalment, principal and interest: the interest
    settled (``interest_paid``) already counts what a relief waived and the budget's share
    under interest support (``loans.models.Instalment``)."""
    return (
        Instalment.principal
        - Instalment.principal_paid
        + Instalment.interest
        - Instalment.interest_paid
    )


@dataclass(frozen=True)
class DueRow:
    loan_id: int
    contract_no: str
    cooperative_id: int
    cooperative: str
    phone: str
    no: int
    due_date: date
    amount: int


@dataclass(frozen=True)
class Arrears:
    """A loan's overdue principal and interest on ``as_of`` and its days past due."""

    loan_id: int
    amount: int
    days_past_due: int
    oldest_due: date


@dataclass(frozen=True)
class OverdueRow:
    loan_id: int
    contract_no: str
    cooperative_id: int
    cooperative: str
    phone: str
    amount: int
    days_past_due: int
    debt_group: int


@dataclass(frozen=True)
class InspectionRow:
    loan_id: int
    contract_no: str
    cooperative: str
    last_inspected: date | None
    due_on: date


@dataclass(frozen=True)
class ApplicationRow:
    id: int
    cooperative_id: int
    cooperative: str
    project_name: str
    requested_amount: int
    status: str


@dataclass(frozen=True)
class MissingRow:
    cooperative_id: int
    name: str
    missing: tuple[str, ...]  # field keys: phone, representative, bank_account, sector, commune


def due_soon(as_of: date, officer_id: int | None = None, days: int = DUE_SOON_DAYS) -> list[DueRow]:
    """Unsettled instalments of active loans due from ``as_of`` to ``as_of + days`` (of one
    officer's loans, or all), soonest first."""
    query = (
        select(
            Loan.id,
            Loan.contract_no,
            Cooperative.id,
            Cooperative.name,
            Cooperative.phone,
            Instalment.no,
            Instalment.due_date,
            _remaining(),
        )
        .join(Loan, Loan.id == Instalment.loan_id)
        .join(Cooperative, Cooperative.id == Loan.cooperative_id)
        .where(
            Loan.status == LoanStatus.ACTIVE,
            Instalment.due_date.between(as_of, as_of + timedelta(days=days)),
            _unsettled(),
        )
        .order_by(Instalment.due_date, Loan.contract_no, Instalment.no)
    )
    if officer_id is not None:
        query = query.where(Loan.officer_id == officer_id)
    return [DueRow(*row) for row in db.session.execute(query)]


def _unsettled() -> Any:
    """Principal or interest still owed on the instalment (waived interest is settled)."""
    return or_(
        Instalment.principal_paid < Instalment.principal,
        Instalment.interest_paid < Instalment.interest,
    )


def arrears(as_of: date, loan_ids: list[int] | None = None) -> dict[int, Arrears]:
    """Per loan with something due before ``as_of`` still unpaid: the principal and interest
    overdue and the days past due (``as_of`` − the oldest unpaid due date,
    docs/rules.md#close-of-day step 3)."""
    query = (
        select(
            Instalment.loan_id,
            func.sum(_remaining()),
            func.min(Instalment.due_date),
        )
        .join(Loan, Loan.id == Instalment.loan_id)
        .where(
            Loan.status == LoanStatus.ACTIVE,
            Instalment.due_date < as_of,
            _unsettled(),
        )
        .group_by(Instalment.loan_id)
    )
    if loan_ids is not None:
        if not loan_ids:
            return {}
        query = query.where(Instalment.loan_id.in_(loan_ids))
    out: dict[int, Arrears] = {}
    for loan_id, amount, oldest in db.session.execute(query):
        out[loan_id] = Arrears(loan_id, int(amount or 0), (as_of - oldest).days, oldest)
    return out


def overdue_loans(as_of: date, officer_id: int | None = None) -> list[OverdueRow]:
    """Active loans with overdue principal or interest, most days past due first."""
    late = arrears(as_of)
    if not late:
        return []
    query = (
        select(
            Loan.id,
            Loan.contract_no,
            Cooperative.id,
            Cooperative.name,
            Cooperative.phone,
            Loan.debt_group,
        )
        .join(Cooperative, Cooperative.id == Loan.cooperative_id)
        .where(Loan.id.in_(list(late)))
    )
    if officer_id is not None:
        query = query.where(Loan.officer_id == officer_id)
    rows = [
        OverdueRow(
            loan_id,
            contract,
            coop_id,
            name,
            phone,
            late[loan_id].amount,
            late[loan_id].days_past_due,
            group,
        )
        for loan_id, contract, coop_id, name, phone, group in db.session.execute(query)
    ]
    return sorted(rows, key=lambda r: (-r.days_past_due, r.contract_no))


def inspections_due(as_of: date, officer_id: int | None = None) -> list[InspectionRow]:
    """Active loans whose loan-use inspection is due: none within 30 days of the first
    disbursement, or none in the last year."""
    last = (
        select(Inspection.loan_id, func.max(Inspection.inspected_on).label("last"))
        .group_by(Inspection.loan_id)
        .subquery()
    )
    query = (
        select(
            Loan.id, Loan.contract_no, Cooperative.name, Loan.first_disbursement_date, last.c.last
        )
        .join(Cooperative, Cooperative.id == Loan.cooperative_id)
        .outerjoin(last, last.c.loan_id == Loan.id)
        .where(Loan.status == LoanStatus.ACTIVE, Loan.first_disbursement_date.is_not(None))
    )
    if officer_id is not None:
        query = query.where(Loan.officer_id == officer_id)
    rows = []
    for loan_id, contract, name, first, last_on in db.session.execute(query):
        due_on = (
            last_on + timedelta(days=INSPECTION_EVERY_DAYS)
            if last_on is not None
            else first + timedelta(days=FIRST_INSPECTION_DAYS)
        )
        if due_on <= as_of:
            rows.append(InspectionRow(loan_id, contract, name, last_on, due_on))
    return sorted(rows, key=lambda r: (r.due_on, r.contract_no))


def applications_to_work(officer_id: int | None = None) -> list[ApplicationRow]:
    """Applications to prepare (drafts) or to appraise (submitted), oldest first."""
    query = (
        select(
            Application.id,
            Cooperative.id,
            Cooperative.name,
            Application.project_name,
            Application.requested_amount,
            Application.status,
        )
        .join(Cooperative, Cooperative.id == Application.cooperative_id)
        .where(Application.status.in_([ApplicationStatus.DRAFT, ApplicationStatus.SUBMITTED]))
        .order_by(Application.id)
    )
    if officer_id is not None:
        query = query.where(
            or_(
                Application.officer_id == officer_id,
                Application.created_by_id == officer_id,
                Application.officer_id.is_(None),
            )
        )
    return [ApplicationRow(*row) for row in db.session.execute(query)]


REQUIRED_FIELDS = ("representative", "phone", "bank_account", "sector")


def cooperatives_to_complete(as_of: date, officer_id: int | None = None) -> list[MissingRow]:
    """Cooperatives (of the officer's loans and applications, or all) missing contact or bank
    data, or whose commune of today needs confirming (fundapp/cooperatives)."""
    query = select(
        Cooperative.id,
        Cooperative.name,
        *(getattr(Cooperative, f) for f in REQUIRED_FIELDS),
    ).order_by(Cooperative.name, Cooperative.id)
    if officer_id is not None:
        mine = (
            select(Loan.cooperative_id)
            .where(Loan.officer_id == officer_id)
            .union(
                select(Application.cooperative_id).where(
                    or_(
                        Application.officer_id == officer_id,
                        Application.created_by_id == officer_id,
                    )
                )
            )
        )
        query = query.where(Cooperative.id.in_(mine))
    to_confirm = {c.id for c in needing_confirmation(as_of)}
    rows = []
    for coop_id, name, *values in db.session.execute(query):
        missing = [f for f, v in zip(REQUIRED_FIELDS, values, strict=True) if not (v or "").strip()]
        if coop_id in to_confirm:
            missing.append("commune")
        if missing:
            rows.append(MissingRow(coop_id, name, tuple(missing)))
    return rows


# --- the accountant ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Collections:
    expected: int  # due today, still unpaid
    expected_rows: list[DueRow]
    collected: int  # repayments valued today, not reversed
    receipts: int


def collections_of(as_of: date) -> Collections:
    rows = due_soon(as_of, days=0)
    collected, receipts = db.session.execute(
        select(func.coalesce(func.sum(Repayment.amount), 0), func.count(Repayment.id)).where(
            Repayment.value_date == as_of, Repayment.reversed.is_(False)
        )
    ).one()
    return Collections(sum(r.amount for r in rows), rows, int(collected), int(receipts))


@dataclass(frozen=True)
class PendingEntry:
    kind: str  # disbursement | reversal
    id: int
    loan_id: int
    contract_no: str
    amount: int
    on: date
    mine: bool


def pending_entries(user_id: int) -> list[PendingEntry]:
    """Disbursements and reversals awaiting approval; ``mine`` when ``user_id`` recorded it."""
    out = [
        PendingEntry(
            "disbursement",
            d.id,
            d.loan_id,
            d.loan.contract_no,
            d.amount,
            d.value_date,
            d.recorded_by_id == user_id,
        )
        for d in db.session.scalars(
            select(Disbursement)
            .where(Disbursement.status == DisbursementStatus.PENDING)
            .order_by(Disbursement.id)
        )
    ]
    out += [
        PendingEntry(
            "reversal",
            r.id,
            r.repayment.loan_id,
            r.repayment.loan.contract_no,
            r.repayment.amount,
            r.repayment.value_date,
            r.requested_by_id == user_id,
        )
        for r in db.session.scalars(
            select(Reversal).where(Reversal.status == ApprovalStatus.PENDING).order_by(Reversal.id)
        )
    ]
    return out


@dataclass(frozen=True)
class CloseDayState:
    last: date | None
    pending: list[date]
    failed_on: date | None

    @property
    def up_to_date(self) -> bool:
        return not self.pending


def close_day_state(as_of: date) -> CloseDayState:
    last = last_run_date()
    pending = pending_dates(as_of)
    failed = db.session.scalar(
        select(CloseDayFailure.business_date)
        .where(CloseDayFailure.business_date.not_in(select(CloseDayRun.business_date)))
        .order_by(CloseDayFailure.id.desc())
        .limit(1)
    )
    return CloseDayState(last, pending, failed)


# --- decisions --------------------------------------------------------------------------------


@dataclass(frozen=True)
class DecisionCount:
    key: str
    count: int
    endpoint: str


# The landing page's kinds: the shared queue's kinds (fundapp/work/decisions.py), reliefs and
# removals from off-balance tracking together.
DECISION_KEYS = {
    "application": "applications",
    "disbursement": "disbursements",
    "reversal": "reversals",
    "restructuring": "restructurings",
    "write_off": "write_offs",
    "policy_change": "policy_changes",
    "interest_relief": "reliefs",
    "removal": "reliefs",
}


def decision_counts(user: Any, as_of: date) -> list[DecisionCount]:
    """What waits for ``user``'s decision, by kind: the rows of his approvals page
    (fundapp/web/loans.py::approvals), counted from the same queue
    (fundapp/work/decisions.py::decisions_for), so the total equals those rows."""
    counts = dict.fromkeys(DECISION_KEYS.values(), 0)
    for d in decisions_for(user, as_of):
        counts[DECISION_KEYS[d.kind]] += 1
    return [DecisionCount(key, count, "loans.approvals") for key, count in counts.items()]


# --- the collection calendar ------------------------------------------------------------------


@dataclass(frozen=True)
class CalendarDay:
    day: date
    expected: int  # scheduled principal + interest due that day
    collected: int  # repayments valued that day, not reversed
    loans: int  # loans with an instalment due that day


@dataclass(frozen=True)
class MonthCalendar:
    year: int
    month: int
    weeks: list[list[CalendarDay | None]]  # Monday first; None outside the month
    expected: int
    collected: int

    @property
    def first(self) -> date:
        return date(self.year, self.month, 1)

    @property
    def previous(self) -> date:
        return (self.first - timedelta(days=1)).replace(day=1)

    @property
    def next(self) -> date:
        return (self.first + timedelta(days=31)).replace(day=1)


def month_calendar(year: int, month: int, officer_id: int | None = None) -> MonthCalendar:
    """Per day of the month: the schedule's dues (principal + interest of every instalment
    of disbursed loans) and what was collected; the month's totals are their sums."""
    first = date(year, month, 1)
    last = date(year, month, calendar.monthrange(year, month)[1])
    dues = (
        select(
            Instalment.due_date,
            func.sum(Instalment.principal + Instalment.interest),
            func.count(func.distinct(Instalment.loan_id)),
        )
        .join(Loan, Loan.id == Instalment.loan_id)
        .where(Loan.status.in_(SCHEDULED), Instalment.due_date.between(first, last))
        .group_by(Instalment.due_date)
    )
    paid = (
        select(Repayment.value_date, func.sum(Repayment.amount))
        .join(Loan, Loan.id == Repayment.loan_id)
        .where(Repayment.reversed.is_(False), Repayment.value_date.between(first, last))
        .group_by(Repayment.value_date)
    )
    if officer_id is not None:
        dues = dues.where(Loan.officer_id == officer_id)
        paid = paid.where(Loan.officer_id == officer_id)
    expected: dict[date, tuple[int, int]] = defaultdict(lambda: (0, 0))
    for day, amount, loans in db.session.execute(dues):
        expected[day] = (int(amount or 0), int(loans))
    collected = {day: int(amount or 0) for day, amount in db.session.execute(paid)}
    weeks: list[list[CalendarDay | None]] = []
    for week in calendar.Calendar(firstweekday=0).monthdatescalendar(year, month):
        weeks.append(
            [
                CalendarDay(d, expected[d][0], collected.get(d, 0), expected[d][1])
                if d.month == month
                else None
                for d in week
            ]
        )
    return MonthCalendar(
        year,
        month,
        weeks,
        sum(v[0] for v in expected.values()),
        sum(collected.values()),
    )


# --- the cooperative's page -------------------------------------------------------------------


@dataclass(frozen=True)
class CoopLoan:
    loan: Loan
    overdue: int
    days_past_due: int


@dataclass(frozen=True)
class CoopSummary:
    loans: list[CoopLoan]
    applications: list[Application]
    outstanding: int
    overdue: int
    days_past_due: int
    group_members: list[Cooperative]


def cooperative_summary(coop: Cooperative, as_of: date) -> CoopSummary:
    """The cooperative's loans (with what is overdue), its applications, its outstanding and
    overdue totals, and the other members of its related group."""
    loans = list(
        db.session.scalars(
            select(Loan).where(Loan.cooperative_id == coop.id).order_by(Loan.id.desc())
        )
    )
    late = arrears(as_of, [loan.id for loan in loans])
    rows = [
        CoopLoan(
            loan,
            late[loan.id].amount if loan.id in late else 0,
            late[loan.id].days_past_due if loan.id in late else 0,
        )
        for loan in loans
    ]
    applications = list(
        db.session.scalars(
            select(Application)
            .where(Application.cooperative_id == coop.id)
            .order_by(Application.id.desc())
        )
    )
    members: list[Cooperative] = []
    if coop.related_group_id:
        members = list(
            db.session.scalars(
                select(Cooperative)
                .where(
                    Cooperative.related_group_id == coop.related_group_id,
                    Cooperative.id != coop.id,
                )
                .order_by(Cooperative.name)
            )
        )
    return CoopSummary(
        rows,
        applications,
        sum(loan.principal_outstanding for loan in loans),
        sum(a.amount for a in late.values()),
        max((a.days_past_due for a in late.values()), default=0),
        members,
    )
