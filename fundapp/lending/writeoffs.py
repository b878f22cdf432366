"""Risk handling (xử lý rủi ro, Decree 45/2021 Art. 28–29): the director proposes using the
provision for a group-5 loan, the board decides; the provision absorbs the principal and
the loan is tracked off-balance. Its removal (xuất toán), 5 years on, is
``servicing.risk``.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from flask_babel import gettext as _
from sqlalchemy import select

from fundapp.core.security import Role
from fundapp.domain.errors import N_, DomainError, ValidationFailed
from fundapp.extensions import db
from fundapp.ledger import accounts as acc
from fundapp.ledger.services import Line, post
from fundapp.lending import approvals
from fundapp.lending.lifecycle import add_audited, require, transition
from fundapp.loans import posting, store
from fundapp.loans.models import ApprovalStatus, LoanStatus, WriteOff
from fundapp.policy import services as policy

PENDING = approvals.Pending(
    WriteOff,
    "write_off",
    "write_off",
    N_("Không tìm thấy đề nghị xử lý rủi ro."),
    makers=approvals.proposer,
)


def propose_write_off(actor: Any, loan_id: int, reason: str, as_of: date) -> WriteOff:
    """Risk handling (xử lý rủi ro, Decree 45/2021 Art. 28–29): the director proposes using
    the provision for a group-5 loan; the board decides (``decide_write_off``). The loan is
    then tracked off-balance; its removal (xuất toán) is ``servicing.risk``, 5 years on."""
    require(actor, Role.DIRECTOR)
    loan = store.lock_loan(loan_id)
    if loan.status != LoanStatus.ACTIVE:
        raise DomainError(_("Chỉ xử lý rủi ro khoản vay đang vay."))
    if not (reason or "").strip():
        raise ValidationFailed(_("Cần ghi lý do."), {"reason": _("Cần ghi lý do.")})
    if db.session.scalar(
        select(WriteOff.id).where(
            WriteOff.loan_id == loan.id, WriteOff.status == ApprovalStatus.PENDING
        )
    ):
        raise DomainError(_("Khoản vay đã có đề nghị xử lý rủi ro đang chờ phê duyệt."))
    state = store.replay(loan)
    balances_now = state.balances(as_of)
    group_five = policy.value("group_thresholds_days", as_of)[3]
    if balances_now.days_past_due < group_five:
        raise DomainError(
            _(
                "Chỉ xử lý rủi ro khoản vay nhóm 5 đã trích lập đủ dự phòng "
                "(quá hạn từ %(d)s ngày); khoản này quá hạn %(n)s ngày.",
                d=group_five,
                n=balances_now.days_past_due,
            )
        )
    proposal = WriteOff(
        loan_id=loan.id,
        amount=loan.principal_outstanding,
        reason=reason.strip(),
        proposed_by_id=actor.id,
    )
    add_audited(
        actor,
        proposal,
        "write_off.propose",
        "write_off",
        {"loan": loan.contract_no, "amount": proposal.amount},
    )
    return proposal


def decide_write_off(
    actor: Any, write_off_id: int, approve_it: bool, note: str, as_of: date
) -> WriteOff:
    """The board's decision on a risk handling: the provision absorbs the principal (Dr
    provision / Cr loans), the memo tracks it off-balance (Dr written-off loans)."""
    require(actor, Role.BOARD)
    proposal, loan = approvals.decide(actor, PENDING, write_off_id, approve_it, note)
    if not approve_it:
        return proposal
    approvals.approve(actor, PENDING, proposal, note)
    amount = loan.principal_outstanding
    proposal.amount = amount
    have = posting.ledger_position(loan.id)
    lines = []
    held = -have.get(acc.PROVISION, 0)  # this loan's specific provision (a credit)
    coop = loan.cooperative_id
    if held < amount:
        # Not provisioned to the full amount: the shortfall is an expense of the day.
        top_up = amount - max(held, 0)
        lines += [
            Line(acc.PROVISION_EXPENSE, debit=top_up),
            Line(acc.PROVISION, credit=top_up, cooperative_id=coop, loan_id=loan.id),
        ]
    elif held > amount:
        # Provisioned beyond what is written off: the excess is released as income.
        lines += [
            Line(acc.PROVISION, debit=held - amount, cooperative_id=coop, loan_id=loan.id),
            Line(acc.PROVISION_RELEASE_INCOME, credit=held - amount),
        ]
    lines.append(Line(acc.PROVISION, debit=amount, cooperative_id=coop, loan_id=loan.id))
    overdue = max(have.get(acc.LOANS_OVERDUE, 0), 0)
    in_term = amount - min(overdue, amount)
    if overdue:
        lines.append(
            Line(
                acc.LOANS_OVERDUE, credit=min(overdue, amount), cooperative_id=coop, loan_id=loan.id
            )
        )
    if in_term:
        lines.append(Line(acc.LOANS_IN_TERM, credit=in_term, cooperative_id=coop, loan_id=loan.id))
    lines += [
        Line(acc.WRITTEN_OFF_MEMO, debit=amount, cooperative_id=loan.cooperative_id),
        Line(acc.MEMO_CONTRA, credit=amount),
    ]
    entry = post(
        as_of,
        "write_off",
        lines,
        actor=actor,
        reference=loan.contract_no,
        description=_("Xử lý rủi ro khoản vay %(c)s", c=loan.contract_no),
    )
    proposal.journal_entry_id = entry.id
    loan.written_off = amount
    loan.principal_outstanding = 0
    transition(loan, LoanStatus.WRITTEN_OFF, actor, proposal.reason)
    approvals.record_approval(actor, PENDING, proposal, note, amount=amount)
    return proposal
