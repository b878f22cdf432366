"""Disbursements (giải ngân): the accountant records a tranche, the director (someone else)
approves it, and the loan is replayed and posted on its date. A tranche beyond the
approved amount, beyond the fund's cash, or that the replay would refuse is refused when
it is recorded, not only at approval.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from flask_babel import gettext as _
from sqlalchemy import func, select

from fundapp import audit
from fundapp.core import validation
from fundapp.core.formatting import money_filter
from fundapp.core.security import Role
from fundapp.domain import replay as engine
from fundapp.domain.dates import utcnow
from fundapp.domain.errors import N_, DomainError, PermissionDenied, ValidationFailed
from fundapp.extensions import db
from fundapp.lending import approvals
from fundapp.lending.lifecycle import add_audited, require, transition
from fundapp.lending.limits import cash_available
from fundapp.loans import numbering, store
from fundapp.loans.models import Disbursement, DisbursementStatus, Loan, LoanStatus


def record_disbursement(actor: Any, loan_id: int, data: dict, as_of: date) -> Disbursement:
    require(actor, Role.ACCOUNTANT)
    loan = store.lock_loan(loan_id)
    if loan.status not in (LoanStatus.CONTRACTED, LoanStatus.ACTIVE):
        raise DomainError(_("Chỉ giải ngân khoản vay đã ký hợp đồng."))
    errors: dict[str, str] = {}
    amount = validation.amount(data, "amount", errors)
    value_date = validation.iso_date(data, "date", errors)
    reference = validation.text(data, "reference", 80, False, errors)
    if value_date and loan.contract_date and value_date < loan.contract_date:
        errors["date"] = _("Ngày giải ngân không được trước ngày ký hợp đồng.")
    if value_date and value_date > as_of:
        errors["date"] = _("Ngày giải ngân không được sau ngày làm việc hiện tại.")
    if value_date and loan.first_disbursement_date and value_date < loan.first_disbursement_date:
        errors["date"] = _("Đợt giải ngân mới không được trước đợt đã giải ngân.")
    pending = _pending_disbursed(loan.id)
    if amount and "amount" not in errors and amount > loan.amount - loan.disbursed - pending:
        errors["amount"] = _(
            "Vượt số tiền được duyệt: còn được giải ngân %(r)s.",
            r=money_filter(loan.amount - loan.disbursed - pending),
        )
    if amount and "amount" not in errors and amount > cash_available(as_of):
        errors["amount"] = _("Quỹ không đủ tiền: còn %(c)s.", c=money_filter(cash_available(as_of)))
    if errors:
        raise ValidationFailed(_("Dữ liệu chưa hợp lệ, xin kiểm tra lại."), errors)
    if loan.disbursed:
        _try_with(loan, disbursement=(value_date, amount))
    disbursement = Disbursement(
        loan_id=loan.id,
        amount=amount,
        value_date=value_date,
        reference=reference,
        receipt_no=numbering.next_number(f"KU-{value_date.year}", 4),  # type: ignore[union-attr]
        status=DisbursementStatus.PENDING,
        recorded_by_id=actor.id,
    )
    add_audited(
        actor,
        disbursement,
        "disbursement.create",
        "disbursement",
        {"loan": loan.contract_no, "amount": amount, "date": value_date},
    )
    return disbursement


def _pending_disbursed(loan_id: int) -> int:
    return int(
        db.session.scalar(
            select(func.coalesce(func.sum(Disbursement.amount), 0)).where(
                Disbursement.loan_id == loan_id,
                Disbursement.status == DisbursementStatus.PENDING,
            )
        )
        or 0
    )


def _try_with(loan: Loan, disbursement: tuple[Any, int] | None = None) -> None:
    """Refuse now what the replay would refuse at approval."""
    history = store.history_of(loan)
    if disbursement:
        history = store.History(
            (*history.disbursements, engine.DisbursementEvent(0, *disbursement)),
            history.repayments,
            history.restructures,
            history.reliefs,
        )
    store.replay(loan, history)


def _pending(disbursement_id: int) -> tuple[Disbursement, Loan]:
    """The tranche, still pending, and its loan locked (``approvals.locked``)."""
    disbursement, loan = approvals.locked(
        Disbursement, disbursement_id, N_("Không tìm thấy đợt giải ngân.")
    )
    if disbursement.status != DisbursementStatus.PENDING:
        raise DomainError(_("Đợt giải ngân này đã được xử lý."))
    return disbursement, loan


def approve_disbursement(actor: Any, disbursement_id: int, as_of: date) -> Disbursement:
    require(actor, Role.DIRECTOR)
    disbursement, loan = _pending(disbursement_id)
    if disbursement.recorded_by_id == actor.id:
        raise PermissionDenied(_("Người lập đợt giải ngân không được tự phê duyệt."))
    if disbursement.amount > cash_available(as_of):
        raise DomainError(_("Quỹ không đủ tiền để giải ngân."))
    disbursement.status = DisbursementStatus.POSTED
    disbursement.approved_by_id = actor.id
    disbursement.decided_at = utcnow()
    db.session.flush()
    if loan.status == LoanStatus.CONTRACTED:
        transition(loan, LoanStatus.ACTIVE, actor, _("Giải ngân lần đầu"))
    _state, entry_id = store.refresh(
        loan,
        as_of,
        "disbursement",
        actor,
        disbursement.receipt_no,
        _("Giải ngân %(c)s", c=loan.contract_no),
    )
    disbursement.journal_entry_id = entry_id
    audit.record(
        actor,
        "disbursement.approve",
        "disbursement",
        disbursement.id,
        {"status": "pending"},
        {"status": "posted"},
    )
    return disbursement


def reject_disbursement(actor: Any, disbursement_id: int, reason: str) -> Disbursement:
    require(actor, Role.DIRECTOR)
    disbursement, _loan = _pending(disbursement_id)
    disbursement.status = DisbursementStatus.REJECTED
    disbursement.approved_by_id = actor.id
    disbursement.decided_at = utcnow()
    audit.record(
        actor,
        "disbursement.reject",
        "disbursement",
        disbursement.id,
        {"status": "pending"},
        {"status": "rejected"},
        note=reason or "",
    )
    return disbursement
