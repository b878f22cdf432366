"""The read queries of the loan book that every reader uses: the staff pages, the
cooperative's portal, the documents and the API show the same schedule, the same
repayments and the same position, because they read them here.

Nothing here writes; figures come from the stored schedule and repayments or from the
replay (``loans.store``), and the debt group from ``loans.standing``.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any

from sqlalchemy import and_, func, or_, select, text
from sqlalchemy.orm import Load, defaultload, lazyload

from fundapp.audit.models import AuditLog
from fundapp.auth.models import User
from fundapp.cooperatives.models import Cooperative
from fundapp.domain import terms
from fundapp.domain.replay import Balances, LoanState
from fundapp.extensions import db
from fundapp.loans import book
from fundapp.loans.models import (
    UNSETTLED,
    Collateral,
    Disbursement,
    DisbursementStatus,
    Inspection,
    Instalment,
    Loan,
    LoanStatus,
    LoanTransition,
    Repayment,
    Restructuring,
    Reversal,
    WriteOff,
)
from fundapp.loans.relief import InterestRelief
from fundapp.loans.standing import live_group
from fundapp.loans.stored import state_of

# Loans whose balances come from the replay (a written-off loan is carried off-balance).
REPLAYED_STATUSES = (LoanStatus.ACTIVE, LoanStatus.CLOSED)


def overdue_rate(loan: Loan) -> Decimal:
    """The rate on overdue principal: the in-term rate times the contract's multiplier."""
    return terms.overdue_rate(loan.annual_rate, loan.overdue_multiplier)


# --- the schedule ----------------------------------------------------------------------------


@dataclass(frozen=True)
class ScheduleRow:
    no: int
    due_date: date
    principal: int
    interest: int
    total: int
    principal_paid: int
    interest_paid: int
    remaining: int
    paid_on: date | None
    status: str
    # The budget's share of the interest under interest support (not the borrower's).
    supported: int = 0

    @property
    def paid(self) -> int:
        """Principal and interest paid on the row (the portal shows them as one)."""
        return self.principal_paid + self.interest_paid


@dataclass(frozen=True)
class Schedule:
    rows: list[ScheduleRow]
    totals: dict[str, int]


def instalments_of(loan: Loan) -> list[Instalment]:
    """The loan's stored schedule rows, by number."""
    return list(
        db.session.scalars(
            select(Instalment).where(Instalment.loan_id == loan.id).order_by(Instalment.no)
        )
    )


def build_schedule(
    loan: Loan, as_of: date, instalments: list[Instalment] | None = None
) -> Schedule:
    """The loan's stored schedule with what is paid on each row and its status on
    ``as_of``, and the totals of its columns; ``instalments``: its rows already read
    (:func:`instalments_of`)."""
    rows = [
        ScheduleRow(
            no=i.no,
            due_date=i.due_date,
            principal=i.principal,
            interest=i.interest,
            total=i.total,
            principal_paid=i.principal_paid,
            interest_paid=i.interest_paid - i.interest_supported,
            remaining=i.total - i.principal_paid - i.interest_paid,
            paid_on=i.paid_on,
            status=i.status_on(as_of),
            supported=i.interest_supported,
        )
        for i in (instalments_of(loan) if instalments is None else instalments)
    ]
    keys = (
        "principal",
        "interest",
        "total",
        "principal_paid",
        "interest_paid",
        "remaining",
        "supported",
    )
    totals = {k: sum(getattr(r, k) for r in rows) for k in keys}
    return Schedule(rows, totals)


# --- repayments ------------------------------------------------------------------------------


@dataclass(frozen=True)
class RepaymentRow:
    repayment: Repayment
    by_instalment: list[tuple[int, list[tuple[str, int]]]]
    pending_reversal: Reversal | None


def repayments_of(loan: Loan) -> list[Repayment]:
    """Each repayment of the loan, oldest first (the loan itself is not read again)."""
    return list(
        db.session.scalars(
            select(Repayment)
            .where(Repayment.loan_id == loan.id)
            .order_by(Repayment.value_date, Repayment.id)
            .options(lazyload(Repayment.loan), *_people(Repayment.recorded_by))
        )
    )


def repayment_rows(
    loan: Loan, pending: dict[int, Reversal], repayments: list[Repayment] | None = None
) -> list[RepaymentRow]:
    """Each repayment of the loan, oldest first, with its allocation by instalment and the
    reversal waiting for a decision on it (``pending``, by repayment id); ``repayments``:
    them already read (:func:`repayments_of`)."""
    out = []
    for r in repayments_of(loan) if repayments is None else repayments:
        instalments: dict[int, list[tuple[str, int]]] = {}
        for a in r.allocations or []:
            component = str(a["component"])
            instalments.setdefault(int(a["no"]), []).append((component, int(a["amount"])))
        out.append(RepaymentRow(r, list(instalments.items()), pending.get(r.id)))
    return out


# --- a loan's position -----------------------------------------------------------------------


@dataclass(frozen=True)
class NextDue:
    """The next instalment not yet paid, falling due today or later: what is left on it."""

    no: int
    due_date: date
    principal: int
    interest: int
    total: int


@dataclass(frozen=True)
class LoanPosition:
    loan: Loan
    balances: Balances | None = None
    debt_group: int | None = None
    next_due: NextDue | None = None
    payoff: int = 0

    @property
    def overdue(self) -> bool:
        return bool(self.balances and self.balances.days_past_due)


def _next_due(state: LoanState, as_of: date) -> NextDue | None:
    for row in state.rows:
        if row.due_date >= as_of and (row.principal_unpaid or row.interest_unpaid):
            principal, interest = row.principal_unpaid, row.interest_unpaid
            return NextDue(row.no, row.due_date, principal, interest, principal + interest)
    return None


def loan_position(loan: Loan, as_of: date) -> LoanPosition:
    """The loan on ``as_of`` from its stored state (``loans.stored``: the replayed history
    as stored, read without replaying): balances, the debt group with the borrower's
    (``loans.standing.live_group``), the next instalment, the payoff amount."""
    if loan.status not in REPLAYED_STATUSES or not loan.disbursed:
        return LoanPosition(loan)
    state = state_of(loan)
    balances = state.balances(as_of)
    return LoanPosition(
        loan,
        balances,
        live_group(loan, state, as_of),
        _next_due(state, as_of),
        state.payoff_amount(as_of) if loan.status == LoanStatus.ACTIVE else 0,
    )


# --- a loan's records ----------------------------------------------------------------------


@dataclass(frozen=True)
class LoanRecords:
    """Everything recorded on a loan besides its schedule and repayments, oldest first
    (inspections newest first): what the loan page lists and audits."""

    disbursements: list[Disbursement]
    reversals: list[Reversal]
    restructurings: list[Restructuring]
    write_offs: list[WriteOff]
    collateral: list[Collateral]
    inspections: list[Inspection]
    transitions: list[LoanTransition]
    reliefs: bool = True  # whether the loan has any interest relief (requested or decided)


def posted_disbursements(loan_id: int) -> list[Disbursement]:
    """The loan's tranches paid out (approved and posted), by value date."""
    return list(
        db.session.scalars(
            select(Disbursement)
            .where(
                Disbursement.loan_id == loan_id, Disbursement.status == DisbursementStatus.POSTED
            )
            .order_by(Disbursement.value_date, Disbursement.id)
        )
    )


def transitions_of(entity: str, entity_id: int) -> list[LoanTransition]:
    """The status history of a loan or an application, oldest first."""
    return list(
        db.session.scalars(
            select(LoanTransition)
            .where(LoanTransition.entity == entity, LoanTransition.entity_id == entity_id)
            .order_by(LoanTransition.at, LoanTransition.id)
        )
    )


def _people(*relations: Any) -> list[Any]:
    """Options for rows that name users (``relations``: attributes, or paths to them): only
    the names are shown, so a user's roles and cooperative are not read with them (read
    when something asks for them)."""
    paths = [r if isinstance(r, Load) else defaultload(r) for r in relations]
    return [
        option for p in paths for option in (p.lazyload(User.roles), p.lazyload(User.cooperative))
    ]


def _record_kinds(loan_id: Any) -> list[Any]:
    """Columns: whether the loan ``loan_id`` (a value or a column) has any record of each
    kind the page lists only when there is one."""
    return [
        select(Reversal.id)
        .join(Repayment, Repayment.id == Reversal.repayment_id)
        .where(Repayment.loan_id == loan_id)
        .exists()
        .label("reversals"),
        *(
            select(model.id).where(model.loan_id == loan_id).exists().label(key)
            for key, model in (
                ("restructurings", Restructuring),
                ("write_offs", WriteOff),
                ("collateral", Collateral),
                ("inspections", Inspection),
                ("reliefs", InterestRelief),
            )
        ),
    ]


def loan_for_page(loan_id: int, *options: Any) -> tuple[Loan | None, Any]:
    """The loan (with ``options``) and which kinds of record it has (for
    :func:`loan_records`), in one statement; ``(None, None)`` when there is no such loan."""
    row = db.session.execute(
        select(Loan, *_record_kinds(Loan.id)).where(Loan.id == loan_id).options(*options)
    ).one_or_none()
    return (None, None) if row is None else (row[0], row)


def loan_records(loan: Loan, has: Any = None) -> LoanRecords:
    """The loan's records for its page: the disbursements and the status history, and the
    kinds of record the loan has any of (``has``, from :func:`loan_for_page`, or one
    statement), each read only then. The rows' loan is the one given (already read), not
    read again with each."""
    if has is None:
        has = db.session.execute(select(*_record_kinds(loan.id))).one()

    def of(key: str, model: Any, *options: Any) -> list[Any]:
        if not getattr(has, key):
            return []
        return list(
            db.session.scalars(
                select(model).where(model.loan_id == loan.id).order_by(model.id).options(*options)
            )
        )

    return LoanRecords(
        disbursements=list(
            db.session.scalars(
                select(Disbursement)
                .where(Disbursement.loan_id == loan.id)
                .order_by(Disbursement.value_date, Disbursement.id)
                .options(
                    lazyload(Disbursement.loan),
                    *_people(Disbursement.recorded_by, Disbursement.approved_by),
                )
            )
        ),
        reversals=list(
            db.session.scalars(
                select(Reversal)
                .join(Repayment, Repayment.id == Reversal.repayment_id)
                .where(Repayment.loan_id == loan.id)
                .order_by(Reversal.id)
                .options(
                    defaultload(Reversal.repayment).lazyload(Repayment.loan),
                    *_people(
                        Reversal.requested_by,
                        Reversal.approved_by,
                        defaultload(Reversal.repayment).defaultload(Repayment.recorded_by),
                    ),
                )
            )
        )
        if has.reversals
        else [],
        restructurings=of(
            "restructurings",
            Restructuring,
            lazyload(Restructuring.loan),
            *_people(Restructuring.requested_by, Restructuring.approved_by),
        ),
        write_offs=of("write_offs", WriteOff, lazyload(WriteOff.loan)),
        collateral=of("collateral", Collateral),
        inspections=list(
            db.session.scalars(
                select(Inspection)
                .where(Inspection.loan_id == loan.id)
                .order_by(Inspection.inspected_on.desc(), Inspection.id.desc())
                .options(*_people(Inspection.inspector))
            )
        )
        if has.inspections
        else [],
        transitions=list(
            db.session.scalars(
                select(LoanTransition)
                .where(LoanTransition.entity == "loan", LoanTransition.entity_id == loan.id)
                .order_by(LoanTransition.at, LoanTransition.id)
                .options(*_people(LoanTransition.user))
            )
        ),
        reliefs=bool(has.reliefs),
    )


def audit_rows(loan: Loan, ids: dict[str, list[int]]) -> list[AuditLog]:
    """The audit trail of the loan and of its records (``ids``: by entity), newest first."""
    clauses = [and_(AuditLog.entity == "loan", AuditLog.entity_id == str(loan.id))]
    for entity, entity_ids in ids.items():
        if entity_ids:
            clauses.append(
                and_(
                    AuditLog.entity == entity, AuditLog.entity_id.in_([str(i) for i in entity_ids])
                )
            )
    return list(
        db.session.scalars(select(AuditLog).where(or_(*clauses)).order_by(AuditLog.id.desc()))
    )


# --- the book --------------------------------------------------------------------------------


def overdue_clause(as_of: date, whole_set: bool) -> Any:
    """Loans with something still owed on an instalment due before ``as_of``: principal,
    interest or late interest (cached columns). The condition is the unsettled-instalments
    index's own, so the loans come from that index alone, without reading the instalments.

    ``whole_set``: for totals over every such loan, the set is built once and joined by hash;
    a page of 25 instead walks the loans and probes each one's instalments, and stops early.
    """
    late = select(Instalment.loan_id).where(Instalment.due_date < as_of, text(f"({UNSETTLED})"))
    if whole_set:
        late = late.group_by(Instalment.loan_id)
    return Loan.id.in_(late)


@dataclass(frozen=True)
class BookSlice:
    """The loans of one status, district, officer and lateness: how many, their amounts and
    their outstanding principal."""

    status: str
    district: str
    officer: int | None
    late: bool
    count: int
    amount: int
    outstanding: int


def book_slices(as_of: date) -> tuple[BookSlice, ...]:
    """The whole book cut by every filter of the loan list but the search: from the kept
    totals (``loans.book``), the late loans' from the kept loans by their oldest amount
    owed; summed from the loans when this transaction has changed some."""
    if book.pending():
        return _summed_slices(as_of)
    late = {
        (status, district, officer): rest
        for status, district, officer, *rest in book.late_totals(as_of)
    }
    whole = {
        (row["status"], row["former_district_code"], row["officer_id"]): (
            row["loans"],
            row["amount"],
            row["outstanding"],
        )
        for row in book.totals(("status", "former_district_code", "officer_id"))
    }
    out = []
    for key, (n, amount, outstanding) in sorted(whole.items(), key=lambda kv: repr(kv[0])):
        late_n, late_amount, late_outstanding = late.get(key, (0, 0, 0))
        if late_n:
            out.append(BookSlice(*key, True, late_n, late_amount, late_outstanding))
        if n - late_n:
            out.append(
                BookSlice(
                    *key, False, n - late_n, amount - late_amount, outstanding - late_outstanding
                )
            )
    return tuple(out)


def _summed_slices(as_of: date) -> tuple[BookSlice, ...]:
    """``book_slices`` summed from the loans, in one statement."""
    loans = (
        select(
            Loan.status.label("status"),
            Cooperative.former_district_code.label("district"),
            Loan.officer_id.label("officer"),
            overdue_clause(as_of, whole_set=True).label("late"),
            Loan.amount.label("amount"),
            Loan.principal_outstanding.label("outstanding"),
        )
        .join(Cooperative, Cooperative.id == Loan.cooperative_id)
        .subquery()
    )
    keys = (loans.c.status, loans.c.district, loans.c.officer, loans.c.late)
    rows = db.session.execute(
        select(
            *keys,
            func.count(),
            func.coalesce(func.sum(loans.c.amount), 0),
            func.coalesce(func.sum(loans.c.outstanding), 0),
        ).group_by(*keys)
    )
    return tuple(
        BookSlice(status, district, officer, bool(late), int(n), int(amount), int(outstanding))
        for status, district, officer, late, n, amount, outstanding in rows
    )


def overview_figures() -> dict[str, Any]:
    """How many loans are being repaid and by how many borrowers (the overview page)."""
    active = db.session.execute(
        select(func.count(Loan.id), func.count(func.distinct(Loan.cooperative_id))).where(
            Loan.status == LoanStatus.ACTIVE
        )
    ).one()
    return {"projects": int(active[0]), "borrowers": int(active[1])}
