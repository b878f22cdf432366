"""Risk handling (xử lý rủi ro) and removal from off-balance tracking (xuất toán).

Risk handling is ``lending.writeoffs.propose_write_off`` / ``decide_write_off``: a group-5
loan's principal is absorbed by the provision (Dr provision / Cr loans), the loan leaves the
balance sheet and is tracked off-balance (memo Dr written-off loans), status
``written_off``; the director proposes and the board approves. The fund keeps pursuing the
debt while it is tracked off-balance.

Removal (xuất toán) ends that tracking: its own proposal (director) and its own approval
(board, someone other than the proposer), never before five years have passed since the risk
handling (Decree 45/2021/NĐ-CP Art. 28–29 as read in
docs/rules.md#interest-relief-and-risk-handling). It posts the memo's
reversal (Dr memo contra / Cr written-off loans) and moves the loan to ``removed`` through
the one table of loan transitions.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from flask_babel import gettext as _
from sqlalchemy import select

from fundapp.core import validation
from fundapp.core.security import Role, has_role
from fundapp.domain.dates import add_months
from fundapp.domain.errors import N_, DomainError, PermissionDenied, ValidationFailed
from fundapp.extensions import db
from fundapp.ledger import accounts as acc
from fundapp.ledger.models import JournalEntry
from fundapp.ledger.services import Line, post
from fundapp.lending import approvals
from fundapp.lending.lifecycle import add_audited, transition
from fundapp.loans import store
from fundapp.loans.models import ApprovalStatus, LoanStatus, WriteOff
from fundapp.loans.relief import OffBalanceRemoval

# Years a risk-handled loan stays tracked off-balance before it may be removed.
TRACKING_YEARS = 5
PENDING = approvals.Pending(
    OffBalanceRemoval,
    "off_balance_removal",
    "removal",
    N_("Không tìm thấy đề nghị xuất toán."),
    makers=approvals.proposer,
    keeps_note=True,
)


def risk_handling_of(loan_id: int) -> tuple[WriteOff, date] | None:
    """The loan's approved risk handling and the business date it was posted on."""
    row = db.session.execute(
        select(WriteOff, JournalEntry.entry_date)
        .join(JournalEntry, JournalEntry.id == WriteOff.journal_entry_id)
        .where(WriteOff.loan_id == loan_id, WriteOff.status == ApprovalStatus.APPROVED)
        .order_by(WriteOff.id.desc())
    ).first()
    return (row[0], row[1]) if row else None


def removable_from(handled_on: date) -> date:
    """The first day removal is allowed: five full years after the risk handling."""
    return add_months(handled_on, 12 * TRACKING_YEARS)


def _check_period(handled_on: date, as_of: date) -> None:
    first = removable_from(handled_on)
    if as_of < first:
        raise DomainError(
            _(
                "Chưa đủ %(y)s năm kể từ ngày xử lý rủi ro %(h)s: chỉ xuất toán khỏi ngoại bảng "
                "từ ngày %(f)s (Nghị định 45/2021/NĐ-CP, Điều 28–29).",
                y=TRACKING_YEARS,
                h=handled_on.strftime("%d/%m/%Y"),
                f=first.strftime("%d/%m/%Y"),
            )
        )


def propose_removal(actor: Any, loan_id: int, reason: str, as_of: date) -> OffBalanceRemoval:
    if not has_role(actor, Role.DIRECTOR):
        raise PermissionDenied(_("Chỉ Giám đốc lập đề nghị xuất toán khỏi ngoại bảng."))
    loan = store.lock_loan(loan_id)
    errors: dict[str, str] = {}
    clean = validation.text({"reason": reason}, "reason", 2000, True, errors)
    if errors:
        raise ValidationFailed(_("Cần ghi lý do."), errors)
    if loan.status != LoanStatus.WRITTEN_OFF:
        raise DomainError(_("Chỉ xuất toán khoản vay đã xử lý rủi ro và đang theo dõi ngoại bảng."))
    handling = risk_handling_of(loan.id)
    if handling is None:
        raise DomainError(_("Không tìm thấy quyết định xử lý rủi ro của khoản vay."))
    write_off, handled_on = handling
    _check_period(handled_on, as_of)
    if db.session.scalar(
        select(OffBalanceRemoval.id).where(
            OffBalanceRemoval.loan_id == loan.id, OffBalanceRemoval.status == "pending"
        )
    ):
        raise DomainError(_("Khoản vay đã có đề nghị xuất toán đang chờ phê duyệt."))
    proposal = OffBalanceRemoval(
        loan_id=loan.id,
        write_off_id=write_off.id,
        amount=loan.written_off,
        reason=clean,
        proposed_by_id=actor.id,
    )
    add_audited(
        actor,
        proposal,
        "removal.propose",
        "off_balance_removal",
        {"loan": loan.contract_no, "amount": proposal.amount, "risk_handled_on": handled_on},
        note=clean,
    )
    return proposal


def decide_removal(
    actor: Any, removal_id: int, approve_it: bool, note: str, as_of: date
) -> OffBalanceRemoval:
    if not has_role(actor, Role.BOARD):
        raise PermissionDenied(_("Hội đồng quản lý phê duyệt xuất toán khỏi ngoại bảng."))
    proposal, loan = approvals.decide(actor, PENDING, removal_id, approve_it, note)
    if not approve_it:
        return proposal
    handling = risk_handling_of(loan.id)
    if loan.status != LoanStatus.WRITTEN_OFF or handling is None:
        raise DomainError(_("Chỉ xuất toán khoản vay đã xử lý rủi ro và đang theo dõi ngoại bảng."))
    _check_period(handling[1], as_of)
    amount = loan.written_off
    entry_id = None
    if amount:
        entry = post(
            as_of,
            "off_balance_removal",
            [
                Line(acc.MEMO_CONTRA, debit=amount),
                Line(acc.WRITTEN_OFF_MEMO, credit=amount, cooperative_id=loan.cooperative_id),
            ],
            actor=actor,
            reference=loan.contract_no,
            description=_("Xuất toán khỏi ngoại bảng khoản vay %(c)s", c=loan.contract_no),
        )
        entry_id = entry.id
    approvals.approve(actor, PENDING, proposal, note)
    proposal.amount = amount
    proposal.removed_on = as_of
    proposal.journal_entry_id = entry_id
    transition(loan, LoanStatus.REMOVED, actor, proposal.reason)
    approvals.record_approval(actor, PENDING, proposal, note, amount=amount, removed_on=as_of)
    return proposal


def removals_of(loan_id: int) -> list[OffBalanceRemoval]:
    return list(
        db.session.scalars(
            select(OffBalanceRemoval)
            .where(OffBalanceRemoval.loan_id == loan_id)
            .order_by(OffBalanceRemoval.id)
        )
    )


def pending_removals() -> list[OffBalanceRemoval]:
    return list(
        db.session.scalars(
            select(OffBalanceRemoval)
            .where(OffBalanceRemoval.status == "pending")
            .order_by(OffBalanceRemoval.id)
        )
    )
