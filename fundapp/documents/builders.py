"""Plain data for the loan documents: schedule, receipt, debt receipt, notice, confirmation.

Each builder reads the stored facts and returns dataclasses of ints, dates and strings that
the templates in ``templates/documents/`` print as they are.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from itertools import pairwise

from flask_babel import gettext as _
from sqlalchemy import select

from fundapp.cooperatives.models import Cooperative
from fundapp.core import validation
from fundapp.documents.payment_qr import loan_qr
from fundapp.documents.positions import Position, local_date, position_at
from fundapp.documents.statement import (
    LoanFacts,
    Party,
    cooperative_party,
    loan_facts,
    party_of,
)
from fundapp.documents.words import amount_in_words
from fundapp.domain import replay as engine
from fundapp.domain.errors import DomainError, ValidationFailed
from fundapp.domain.money import interest_exact, round_dong
from fundapp.extensions import db
from fundapp.loans import store
from fundapp.loans.days import Notice
from fundapp.loans.models import (
    ApprovalStatus,
    Disbursement,
    DisbursementStatus,
    Instalment,
    Loan,
    Repayment,
    Reversal,
)
from fundapp.loans.queries import ScheduleRow, build_schedule, posted_disbursements
from fundapp.payments.vietqr import PaymentQR
from fundapp.servicing.notices import transfer_date as transfer_date_of

# --- repayment schedule ----------------------------------------------------------------------


@dataclass(frozen=True)
class ScheduleDocument:
    loan: LoanFacts
    borrower: Party
    as_of: date
    lines: list[ScheduleRow]
    totals: dict[str, int]
    position: Position
    disbursements: list[tuple[str, date, int]]
    # The VietQR code for what is due on ``as_of`` (or the next instalment).
    qr: PaymentQR | None = None


def schedule_document(loan: Loan, as_of: date) -> ScheduleDocument:
    """The loan's current schedule with what has been paid, as the loan page shows it."""
    schedule = build_schedule(loan, as_of)
    tranches = [(d.receipt_no, d.value_date, d.amount) for d in posted_disbursements(loan.id)]
    position = position_at(loan, as_of) if tranches else Position(as_of=as_of)
    qr = loan_qr(loan, schedule.rows, position.total_due, as_of)
    return ScheduleDocument(
        loan_facts(loan),
        party_of(loan),
        as_of,
        schedule.rows,
        dict(schedule.totals),
        position,
        tranches,
        qr,
    )


# --- repayment receipt (phiếu thu) -----------------------------------------------------------


@dataclass(frozen=True)
class AllocationLine:
    no: int | None  # None: a prepayment of principal not yet due
    due_date: date | None
    component: str  # penalty | interest | principal
    amount: int


@dataclass(frozen=True)
class ReceiptDocument:
    receipt_no: str
    value_date: date
    recorded_on: date | None
    amount: int
    amount_words: str
    method: str
    reference: str
    loan: LoanFacts
    payer: Party
    lines: list[AllocationLine]
    by_component: dict[str, int]
    outstanding_after: int | None
    recorded_by: str
    reversed: bool
    reversal_reason: str


def receipt_document(repayment: Repayment) -> ReceiptDocument:
    loan = repayment.loan
    due_dates = dict(
        db.session.execute(
            select(Instalment.no, Instalment.due_date).where(Instalment.loan_id == loan.id)
        ).all()
    )
    lines = [
        AllocationLine(int(a["no"]), due_dates.get(int(a["no"])), a["component"], int(a["amount"]))
        for a in repayment.allocations or []
    ]
    if repayment.prepaid_principal:
        lines.append(AllocationLine(None, None, "principal", repayment.prepaid_principal))
    by_component = {"penalty": 0, "interest": 0, "principal": 0}
    for line in lines:
        by_component[line.component] += line.amount
    reason = ""
    if repayment.reversed:
        reason = (
            db.session.scalar(
                select(Reversal.reason)
                .where(
                    Reversal.repayment_id == repayment.id,
                    Reversal.status == ApprovalStatus.APPROVED,
                )
                .order_by(Reversal.id.desc())
            )
            or ""
        )
    recorder = repayment.recorded_by
    return ReceiptDocument(
        receipt_no=repayment.receipt_no,
        value_date=repayment.value_date,
        recorded_on=local_date(repayment.created_at),
        amount=repayment.amount,
        amount_words=amount_in_words(repayment.amount),
        method=repayment.method,
        reference=repayment.reference,
        loan=loan_facts(loan),
        payer=party_of(loan),
        lines=lines,
        by_component=by_component,
        outstanding_after=None if repayment.reversed else _outstanding_after(loan, repayment),
        recorded_by=(recorder.full_name or recorder.username) if recorder else "",
        reversed=repayment.reversed,
        reversal_reason=reason,
    )


def _outstanding_after(loan: Loan, repayment: Repayment) -> int:
    """Principal outstanding right after this repayment (same-day payments in recording
    order, as the replay takes them)."""
    history = store.history_of(loan)
    key = (repayment.value_date, repayment.id)
    disbursed = sum(d.amount for d in history.disbursements if d.date <= repayment.value_date)
    state = store.replay(loan, history)
    repaid = sum(
        r.by_component()["principal"] for r in state.repayments.values() if (r.date, r.id) <= key
    )
    return disbursed - repaid


# --- debt receipt (khế ước nhận nợ) ----------------------------------------------------------


@dataclass(frozen=True)
class TrancheLine:
    due_date: date
    principal: int
    interest: int

    @property
    def total(self) -> int:
        return self.principal + self.interest


@dataclass(frozen=True)
class DebtReceiptDocument:
    number: str
    tranche_no: int
    tranche_count: int
    value_date: date
    amount: int
    amount_words: str
    disbursed_before: int
    undisbursed_after: int
    reference: str
    loan: LoanFacts
    borrower: Party
    lines: list[TrancheLine]
    totals: dict[str, int] = field(default_factory=dict)


def debt_receipt_document(disbursement: Disbursement) -> DebtReceiptDocument:
    if disbursement.status != DisbursementStatus.POSTED:
        raise DomainError(_("Chỉ lập khế ước nhận nợ cho đợt giải ngân đã được duyệt."))
    loan = disbursement.loan
    history = store.history_of(loan)
    key = (disbursement.value_date, disbursement.id)
    earlier = [d for d in history.disbursements if (d.date, d.id) < key]
    this = next(d for d in history.disbursements if d.id == disbursement.id)
    lines = tranche_lines(loan, history, earlier, this)
    return DebtReceiptDocument(
        number=disbursement.receipt_no,
        tranche_no=len(earlier) + 1,
        tranche_count=len(history.disbursements),
        value_date=disbursement.value_date,
        amount=disbursement.amount,
        amount_words=amount_in_words(disbursement.amount),
        disbursed_before=sum(d.amount for d in earlier),
        undisbursed_after=loan.amount - sum(d.amount for d in earlier) - disbursement.amount,
        reference=disbursement.reference,
        loan=loan_facts(loan),
        borrower=party_of(loan),
        lines=lines,
        totals={
            "principal": sum(x.principal for x in lines),
            "interest": sum(x.interest for x in lines),
            "total": sum(x.total for x in lines),
        },
    )


def tranche_lines(
    loan: Loan,
    history: store.History,
    earlier: list[engine.DisbursementEvent],
    this: engine.DisbursementEvent,
) -> list[TrancheLine]:
    """This tranche's part of the schedule on the day it is received, from the facts known
    that day: its principal is what it adds to each date (the schedule with it less the
    schedule without it), adding up to the tranche; its interest is the in-term interest on
    its own balance over each row's interest span, rounded once per row."""
    before = tuple(r for r in history.repayments if r.date < this.date)
    restructures = tuple(r for r in history.restructures if r.date <= this.date)
    with_it = store.replay(loan, store.History((*earlier, this), before, restructures))
    without = (
        store.replay(loan, store.History(tuple(earlier), before, restructures)) if earlier else None
    )
    old = {r.due_date: r.plan.principal for r in without.rows} if without else {}
    rows = [r.plan for r in with_it.rows if r.due_date > this.date]
    principal = {p.due_date: p.principal - old.get(p.due_date, 0) for p in rows}
    lines = []
    for plan in rows:
        interest = 0
        if plan.interest_from is not None:
            start = max(plan.interest_from, this.date)
            days = _balance_days(this.amount, principal, start, plan.due_date)
            interest = round_dong(interest_exact(days, loan.annual_rate, 1))
        if principal[plan.due_date] or interest:
            lines.append(TrancheLine(plan.due_date, principal[plan.due_date], interest))
    return lines


def _balance_days(amount: int, repaid_on: dict[date, int], start: date, end: date) -> int:
    """Σ balance × days over [start, end): principal stops earning on its due date."""
    total = 0
    balance = amount - sum(a for d, a in repaid_on.items() if d <= start)
    cuts = sorted(d for d in repaid_on if start < d < end)
    for left, right in pairwise([start, *cuts, end]):
        total += balance * (right - left).days
        balance -= repaid_on.get(right, 0)
    return total


# --- notices ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class NoticeDocument:
    id: int
    kind: str
    business_date: date
    loan: LoanFacts | None
    borrower: Party | None
    no: int | None
    due_date: date | None
    transfer_date: date | None
    principal: int
    interest: int
    overdue_principal: int
    unpaid_interest: int
    overdue_rate: Decimal | None
    late_rate: Decimal | None
    group_from: int | None
    group_to: int | None
    position: Position | None

    @property
    def total(self) -> int:
        return self.principal + self.interest


def _iso(value: object) -> date | None:
    try:
        return date.fromisoformat(str(value))
    except ValueError:
        return None


def _int(value: object) -> int:
    return value if isinstance(value, int) and not isinstance(value, bool) else 0


def notice_document(notice: Notice) -> NoticeDocument:
    """The notice's own figures (as of its business date) and the loan's position then."""
    data = notice.data or {}
    loan = notice.loan
    rate = data.get("overdue_rate")
    position = None
    if loan is not None and loan.disbursed and notice.kind == "overdue_transfer":
        position = position_at(loan, notice.business_date)
    due = _iso(data.get("due_date"))
    return NoticeDocument(
        id=notice.id,
        kind=notice.kind,
        business_date=notice.business_date,
        loan=loan_facts(loan) if loan is not None else None,
        borrower=party_of(loan) if loan is not None else None,
        no=_int(data.get("no")) or None,
        due_date=due,
        # The statement's transfer date (the day after the due date), even on a notice an
        # older version wrote with its run's date (issue 16).
        transfer_date=(
            transfer_date_of(due)
            if notice.kind == "overdue_transfer" and due is not None
            else _iso(data.get("transfer_date"))
        ),
        principal=_int(data.get("principal")),
        interest=_int(data.get("interest")),
        overdue_principal=_int(data.get("overdue_principal")),
        unpaid_interest=_int(data.get("unpaid_interest")),
        overdue_rate=Decimal(str(rate)) if rate else None,
        late_rate=loan.late_rate if loan is not None else None,
        group_from=_int(data.get("from")) or None,
        group_to=_int(data.get("to")) or None,
        position=position,
    )


# --- year-end debt confirmation (biên bản đối chiếu công nợ) ----------------------------------


@dataclass(frozen=True)
class ConfirmationLine:
    contract_no: str
    project_name: str
    first_disbursement_date: date | None
    maturity_date: date | None
    position: Position

    @property
    def total(self) -> int:
        return (
            self.position.principal_outstanding
            + self.position.interest_unpaid
            + (self.position.penalty_due)
        )


@dataclass(frozen=True)
class ConfirmationDocument:
    year: int
    as_of: date
    borrower: Party
    lines: list[ConfirmationLine]
    totals: dict[str, int]


def confirmation_year(raw: str | None, today: date) -> int:
    """The year asked for (default: last year); its 31/12 must not be after ``today``."""
    if raw is None or not str(raw).strip():
        return today.year - 1
    text = str(raw).strip()
    if not validation.digits(text) or len(text) != 4:
        raise ValidationFailed(
            _("Năm đối chiếu không hợp lệ (ví dụ: %(y)s).", y=today.year - 1),
            {"year": _("Năm gồm 4 chữ số.")},
        )
    year = int(text)
    if year < 2000 or date(year, 12, 31) > today:
        raise ValidationFailed(
            _(
                "Chỉ đối chiếu công nợ đến ngày 31/12 của năm đã qua (từ năm 2000 đến năm %(y)s).",
                y=today.year - 1 if today < date(today.year, 12, 31) else today.year,
            ),
            {"year": _("Năm chưa kết thúc hoặc ngoài khoảng cho phép.")},
        )
    return year


def confirmation_document(coop: Cooperative, year: int) -> ConfirmationDocument:
    as_of = date(year, 12, 31)
    loans = list(
        db.session.scalars(
            select(Loan)
            .where(
                Loan.cooperative_id == coop.id,
                Loan.first_disbursement_date.is_not(None),
                Loan.first_disbursement_date <= as_of,
            )
            .order_by(Loan.first_disbursement_date, Loan.id)
        )
    )
    lines = []
    for loan in loans:
        position = position_at(loan, as_of)
        if position.principal_outstanding or position.interest_unpaid or position.penalty_due:
            lines.append(
                ConfirmationLine(
                    loan.contract_no,
                    loan.project_name,
                    loan.first_disbursement_date,
                    loan_facts(loan).maturity_date,
                    position,
                )
            )
    totals = {
        "principal_outstanding": sum(x.position.principal_outstanding for x in lines),
        "principal_in_term": sum(x.position.principal_in_term for x in lines),
        "principal_overdue": sum(x.position.principal_overdue for x in lines),
        "interest_unpaid": sum(x.position.interest_unpaid for x in lines),
        "penalty_due": sum(x.position.penalty_due for x in lines),
        "total": sum(x.total for x in lines),
    }
    return ConfirmationDocument(year, as_of, cooperative_party(coop), lines, totals)
