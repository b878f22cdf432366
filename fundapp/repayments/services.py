"""Repayments and their reversals (SPEC §5)."""

from __future__ import annotations

import uuid
from datetime import date
from typing import Any

from flask_babel import gettext as _
from sqlalchemy import select, update

from fundapp.core import audit, validation
from fundapp.core.security import Role
from fundapp.domain.dates import utcnow
from fundapp.domain.errors import DomainError, NotFound, PermissionDenied, ValidationFailed
from fundapp.extensions import db
from fundapp.ledger.models import JournalEntry
from fundapp.lending.services import STATUS_LABELS, require, transition
from fundapp.loans import store as book
from fundapp.loans.models import ApprovalStatus, LoanStatus, Repayment, Reversal

METHODS = ("bank", "cash", "offset")


def record_repayment(actor: Any, loan_id: int, data: dict, as_of: date) -> Repayment:
    """Money received: allocated oldest instalment first, the excess prepays principal."""
    require(actor, Role.ACCOUNTANT)
    loan = book.lock_loan(loan_id)
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
    state, entry_id = book.refresh(
        loan, as_of, "repayment", actor, "", _("Thu nợ %(c)s", c=loan.contract_no)
    )
    # The receipt number comes last: the series' counter row is then locked from here to
    # the commit only, not through the replay, so repayments on different loans do not
    # queue behind one another. Numbers stay gap-free (a rollback returns the number).
    repayment.receipt_no = book.next_number(f"PT-{as_of.year}", 6)
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
    repayment = db.session.get(Repayment, repayment_id)
    if repayment is None:
        raise NotFound(_("Không tìm thấy khoản thu."))
    book.lock_loan(repayment.loan_id)
    db.session.refresh(repayment)  # read before the lock: it may have been reversed since
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
    db.session.add(reversal)
    db.session.flush()
    audit.record(
        actor,
        "reversal.request",
        "reversal",
        reversal.id,
        None,
        {"receipt_no": repayment.receipt_no, "reason": clean},
    )
    return reversal


def decide_reversal(
    actor: Any, reversal_id: int, approve_it: bool, as_of: date, note: str = ""
) -> Reversal:
    """The checker: someone other than the requester; the loan is replayed without it."""
    require(actor, Role.DIRECTOR)
    reversal = db.session.get(Reversal, reversal_id)
    if reversal is None:
        raise NotFound(_("Không tìm thấy đề nghị hủy."))
    loan = book.lock_loan(reversal.repayment.loan_id)
    db.session.refresh(reversal)
    if reversal.status != ApprovalStatus.PENDING:
        raise DomainError(_("Đề nghị này đã được xử lý."))
    if reversal.requested_by_id == actor.id or reversal.repayment.recorded_by_id == actor.id:
        raise PermissionDenied(_("Người lập đề nghị hủy không được tự phê duyệt."))
    reversal.approved_by_id, reversal.decided_at = actor.id, utcnow()
    if not approve_it:
        reversal.status = ApprovalStatus.REJECTED
        audit.record(actor, "reversal.reject", "reversal", reversal.id, note=note)
        return reversal
    if loan.status not in (LoanStatus.ACTIVE, LoanStatus.CLOSED):
        raise DomainError(_("Không hủy được khoản thu của khoản vay ở trạng thái này."))
    reversal.status = ApprovalStatus.APPROVED
    reversal.repayment.reversed = True
    db.session.flush()
    state, entry_id = book.refresh(
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
    audit.record(
        actor,
        "reversal.approve",
        "reversal",
        reversal.id,
        {"status": "pending"},
        {"status": "approved"},
        note=note,
    )
    return reversal
