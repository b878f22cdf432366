"""Repayments and their reversals (docs/rules.md#allocation-and-prepayment,
docs/rules.md#back-dated-events-and-reversals)."""

from __future__ import annotations

import uuid
from datetime import date
from typing import Any

from flask_babel import gettext as _
from sqlalchemy import select, update

from fundapp import audit
from fundapp.core import validation
from fundapp.core.security import Role
from fundapp.domain.errors import N_, DomainError, ValidationFailed
from fundapp.extensions import db
from fundapp.ledger.models import JournalEntry
from fundapp.lending import approvals
from fundapp.lending.lifecycle import STATUS_LABELS, add_audited, require, transition
from fundapp.loans import incremental, numbering, store
from fundapp.loans.models import ApprovalStatus, LoanStatus, Repayment, Reversal

METHODS = ("bank", "cash", "offset")
# A reversal is decided by neither who asked for it nor who recorded the repayment.
PENDING = approvals.Pending(
    Reversal,
    "reversal",
    "reversal",
    N_("Không tìm thấy đề nghị hủy."),
    own=N_("Người lập đề nghị hủy không được tự phê duyệt."),
    makers=lambda reversal: (reversal.requested_by_id, reversal.repayment.recorded_by_id),
    loan_id=lambda reversal: reversal.repayment.loan_id,
)


def record_repayment(actor: Any, loan_id: int, data: dict, as_of: date) -> Repayment:
    """Money received: allocated oldest instalment first, the excess prepays principal."""
    require(actor, Role.ACCOUNTANT)
    loan = store.lock_loan(loan_id)
    if loan.status != LoanStatus.ACTIVE:
        raise DomainError(
            _(
                "Chỉ nhận trả nợ cho khoản vay đang vay (khoản này: %(s)s).",
                s=_(STATUS_LABELS.get(loan.status, loan.status)),
            )
        )
    errors: dict[str, str] = {}
    amount = validation.amount(data, "amount", errors)
    value_date = validation.iso_date(data, "date", errors)
    method = str(data.get("method") or "bank")
    if method not in METHODS:
        errors["method"] = _("Hình thức nộp tiền không hợp lệ.")
    reference = validation.text(data, "reference", 80, False, errors)
    if value_date and value_date > as_of:
        errors["date"] = _("Ngày trả nợ không được sau ngày làm việc hiện tại.")
    if value_date and loan.first_disbursement_date and value_date < loan.first_disbursement_date:
        errors["date"] = _("Ngày trả nợ không được trước ngày giải ngân đầu tiên.")
    if errors:
        raise ValidationFailed(_("Dữ liệu chưa hợp lệ, xin kiểm tra lại."), errors)
    # On or after every other event of the loan: applied to its stored state, no replay.
    prior = incremental.prior_state(loan, value_date)
    repayment = Repayment(
        loan_id=loan.id,
        amount=amount,
        value_date=value_date,
        method=method,
        reference=reference,
        receipt_no=f"~{uuid.uuid4().hex}",  # provisional, replaced below before the commit
        recorded_by_id=actor.id,
    )
    db.session.add(repayment)
    db.session.flush()
    description = _("Thu nợ %(c)s", c=loan.contract_no)
    if prior is not None:
        state, entry_id = incremental.post_repayment(
            loan, prior, repayment, as_of, actor, description
        )
    else:
        state, entry_id = store.refresh(loan, as_of, "repayment", actor, "", description)
    # The receipt number comes last: the series' counter row is then locked from here to
    # the commit only, not through the replay, so repayments on different loans do not
    # queue behind one another. Numbers stay gap-free (a rollback returns the number).
    repayment.receipt_no = numbering.next_number(f"PT-{as_of.year}", 6)
    repayment.journal_entry_id = entry_id
    if entry_id is not None:  # one UPDATE, not a load of the entry and its lines
        db.session.execute(
            update(JournalEntry)
            .where(JournalEntry.id == entry_id)
            .values(reference=repayment.receipt_no)
            .execution_options(synchronize_session=False)
        )
    if state.is_settled():
        transition(loan, LoanStatus.CLOSED, actor, _("Đã trả hết nợ"))
        loan.closed_on = value_date
    audit.record(
        actor,
        "repayment.create",
        "repayment",
        repayment.id,
        None,
        {
            "loan": loan.contract_no,
            "amount": amount,
            "date": value_date,
            "receipt_no": repayment.receipt_no,
            "allocations": repayment.allocations,
        },
    )
    return repayment


def request_reversal(actor: Any, repayment_id: int, reason: str) -> Reversal:
    require(actor, Role.ACCOUNTANT)
    # Read again after the lock: it may have been reversed since.
    repayment, _loan = approvals.locked(Repayment, repayment_id, N_("Không tìm thấy khoản thu."))
    errors: dict[str, str] = {}
    clean = validation.text({"reason": reason}, "reason", 2000, True, errors)
    if errors:
        raise ValidationFailed(_("Cần ghi lý do hủy khoản thu."), errors)
    if repayment.reversed:
        raise DomainError(_("Khoản thu này đã được hủy."))
    if db.session.scalar(
        select(Reversal.id).where(
            Reversal.repayment_id == repayment.id, Reversal.status == ApprovalStatus.PENDING
        )
    ):
        raise DomainError(_("Đã có đề nghị hủy khoản thu này đang chờ duyệt."))
    reversal = Reversal(repayment_id=repayment.id, reason=clean, requested_by_id=actor.id)
    add_audited(
        actor,
        reversal,
        "reversal.request",
        "reversal",
        {"receipt_no": repayment.receipt_no, "reason": clean},
    )
    return reversal


def decide_reversal(
    actor: Any, reversal_id: int, approve_it: bool, as_of: date, note: str = ""
) -> Reversal:
    """The checker: someone other than the requester; the loan is replayed without it."""
    require(actor, Role.DIRECTOR)
    reversal, loan = approvals.decide(actor, PENDING, reversal_id, approve_it, note)
    if not approve_it:
        return reversal
    if loan.status not in (LoanStatus.ACTIVE, LoanStatus.CLOSED):
        raise DomainError(_("Không hủy được khoản thu của khoản vay ở trạng thái này."))
    approvals.approve(actor, PENDING, reversal, note)
    reversal.repayment.reversed = True
    db.session.flush()
    state, entry_id = store.refresh(
        loan,
        as_of,
        "reversal",
        actor,
        reversal.repayment.receipt_no,
        _("Hủy khoản thu %(r)s", r=reversal.repayment.receipt_no),
    )
    reversal.journal_entry_id = entry_id
    if loan.status == LoanStatus.CLOSED and not state.is_settled():
        transition(
            loan,
            LoanStatus.ACTIVE,
            actor,
            _("Hủy khoản thu %(r)s", r=reversal.repayment.receipt_no),
        )
        loan.closed_on = None
    approvals.record_approval(actor, PENDING, reversal, note)
    return reversal
