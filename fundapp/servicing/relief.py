"""Exemption and reduction of interest (miễn, giảm lãi): request, decision, posting.

An officer asks to waive some of a loan's billed in-term interest and/or its overdue
interest, with a reason code and the evidence. The director decides up to the policy's
``director_relief_limit`` (total waived by one decision), the board above it; the one who
asked never decides. An approved relief is an event of the loan's history dated on its
approval: the replay (``domain.replay``) waives it oldest row first, so the schedule, the
balances, a later repayment's allocation and the ledger all follow from the history. The
ledger entry is the difference ``store.refresh`` posts in the same transaction: for a
group-1 loan billed interest was income, so the waiver reverses it (Dr interest income or
overdue interest income / Cr interest receivable); for groups 2–5 the interest was only
tracked off-balance, so only the memo falls (Dr memo contra / Cr suspended interest).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from flask_babel import gettext as _
from sqlalchemy import select

from fundapp.core import validation
from fundapp.core.formatting import money_filter
from fundapp.core.security import Role, has_role
from fundapp.domain import replay as engine
from fundapp.domain.errors import N_, DomainError, PermissionDenied, ValidationFailed
from fundapp.extensions import db
from fundapp.lending import approvals
from fundapp.lending.lifecycle import add_audited, require, transition
from fundapp.loans import store, stored
from fundapp.loans.models import Loan, LoanStatus
from fundapp.loans.relief import InterestRelief, ReliefKind, ReliefReason
from fundapp.policy import services as policy

KIND_LABELS = {
    ReliefKind.EXEMPTION: N_("Miễn lãi"),
    ReliefKind.REDUCTION: N_("Giảm lãi"),
}
REASON_LABELS = {
    ReliefReason.UNABLE_TO_PAY: N_("Khách hàng không có khả năng trả lãi (khó khăn tài chính)"),
    ReliefReason.OTHER: N_("Lý do khác"),
}
STATUS_LABELS = {
    "pending": N_("Chờ phê duyệt"),
    "approved": N_("Đã phê duyệt"),
    "rejected": N_("Từ chối"),
}

PENDING = approvals.Pending(
    InterestRelief,
    "interest_relief",
    "interest_relief",
    N_("Không tìm thấy đề nghị miễn, giảm lãi."),
    keeps_note=True,
)


@dataclass(frozen=True)
class Waivable:
    """What a relief dated ``as_of`` may waive: interest billed on rows due on or before
    it and not paid, and overdue interest accrued to it and not paid."""

    as_of: date
    interest: int
    penalty: int


def waivable(loan: Loan, as_of: date, state: engine.LoanState | None = None) -> Waivable:
    state = state or stored.state_of(loan)
    rows = [r for r in state.rows if r.due_date <= as_of]
    return Waivable(
        as_of,
        sum(r.interest_unpaid for r in rows),
        sum(r.penalty_due(state.product, as_of) for r in rows),
    )


def director_limit(as_of: date) -> int:
    return int(policy.value("director_relief_limit", as_of))


def may_decide(user: Any, relief: InterestRelief, as_of: date) -> bool:
    """Whether ``user`` may approve ``relief`` (for the pages' buttons)."""
    if relief.status != "pending" or relief.requested_by_id == getattr(user, "id", None):
        return False
    if has_role(user, Role.BOARD):
        return True
    return has_role(user, Role.DIRECTOR) and relief.total <= director_limit(as_of)


def _money(data: dict, key: str, errors: dict) -> int:
    raw = data.get(key)
    if raw is None or (isinstance(raw, str) and raw.strip() in ("", "0")) or raw == 0:
        return 0
    return validation.amount(data, key, errors)


def request_relief(actor: Any, loan_id: int, data: dict, as_of: date) -> InterestRelief:
    """The officer's request; nothing is waived until it is approved."""
    if not has_role(actor, Role.OFFICER):
        raise PermissionDenied(_("Chỉ cán bộ tín dụng lập đề nghị miễn, giảm lãi."))
    loan = store.lock_loan(loan_id)
    if loan.status != LoanStatus.ACTIVE:
        raise DomainError(_("Chỉ miễn, giảm lãi cho khoản vay đang vay."))
    errors: dict[str, str] = {}
    kind = str(data.get("kind") or "")
    if kind not in {k.value for k in ReliefKind}:
        errors["kind"] = _("Chọn miễn lãi hoặc giảm lãi.")
    reason_code = str(data.get("reason_code") or "")
    if reason_code not in {r.value for r in ReliefReason}:
        errors["reason_code"] = _(
            "Chọn lý do: khách hàng không có khả năng trả lãi, hoặc lý do khác."
        )
    interest = _money(data, "interest", errors)
    penalty = _money(data, "penalty", errors)
    reason = validation.text(data, "reason", 2000, True, errors)
    evidence = validation.text(data, "evidence", 2000, True, errors)
    if not errors and interest + penalty <= 0:
        errors["interest"] = _("Nhập số lãi hoặc số lãi quá hạn được miễn, giảm (lớn hơn 0).")
    if not errors:
        can = waivable(loan, as_of)
        if interest > can.interest:
            errors["interest"] = _(
                "Vượt số lãi trong hạn đã đến hạn còn phải trả (%(a)s).",
                a=money_filter(can.interest),
            )
        if penalty > can.penalty:
            errors["penalty"] = _(
                "Vượt số lãi quá hạn còn phải trả (%(a)s).", a=money_filter(can.penalty)
            )
        if kind == ReliefKind.EXEMPTION and not errors:
            # An exemption waives the whole of each component it names.
            if interest and interest != can.interest:
                errors["interest"] = _(
                    "Miễn lãi là miễn toàn bộ %(a)s; một phần là giảm lãi.",
                    a=money_filter(can.interest),
                )
            if penalty and penalty != can.penalty:
                errors["penalty"] = _(
                    "Miễn lãi là miễn toàn bộ %(a)s; một phần là giảm lãi.",
                    a=money_filter(can.penalty),
                )
    if errors:
        raise ValidationFailed(_("Dữ liệu chưa hợp lệ, xin kiểm tra lại."), errors)
    if db.session.scalar(
        select(InterestRelief.id).where(
            InterestRelief.loan_id == loan.id, InterestRelief.status == "pending"
        )
    ):
        raise DomainError(_("Khoản vay đã có đề nghị miễn, giảm lãi đang chờ phê duyệt."))
    relief = InterestRelief(
        loan_id=loan.id,
        kind=kind,
        reason_code=reason_code,
        interest=interest,
        penalty=penalty,
        reason=reason,
        evidence=evidence,
        requested_on=as_of,
        requested_by_id=actor.id,
    )
    add_audited(
        actor,
        relief,
        "interest_relief.request",
        "interest_relief",
        {
            "loan": loan.contract_no,
            "kind": kind,
            "reason_code": reason_code,
            "interest": interest,
            "penalty": penalty,
            "evidence": evidence,
        },
        note=reason,
    )
    return relief


def decide_relief(
    actor: Any, relief_id: int, approve_it: bool, note: str, as_of: date
) -> InterestRelief:
    """The checker. Approval waives the amounts as of ``as_of`` and posts the difference."""
    require(actor, Role.DIRECTOR, Role.BOARD)
    relief, loan = approvals.decide(actor, PENDING, relief_id, approve_it, note)
    if not approve_it:
        return relief
    limit = director_limit(as_of)
    if not has_role(actor, Role.BOARD) and relief.total > limit:
        raise PermissionDenied(
            _(
                "Tổng số miễn, giảm %(a)s vượt thẩm quyền của Giám đốc (%(l)s): "
                "Hội đồng quản lý quyết định.",
                a=money_filter(relief.total),
                l=money_filter(limit),
            )
        )
    if loan.status != LoanStatus.ACTIVE:
        raise DomainError(_("Chỉ miễn, giảm lãi cho khoản vay đang vay."))
    approvals.approve(actor, PENDING, relief, note)
    relief.effective_date = as_of
    db.session.flush()
    # Replayed with the relief on its date: more than is owed then is refused (whole).
    state, entry_id = store.refresh(
        loan,
        as_of,
        "interest_relief",
        actor,
        loan.contract_no,
        _("Miễn, giảm lãi khoản vay %(c)s", c=loan.contract_no),
    )
    relief.journal_entry_id = entry_id
    if state.is_settled():
        # Principal was repaid and the relief waived the last interest owed.
        transition(loan, LoanStatus.CLOSED, actor, _("Đã trả hết nợ (sau miễn, giảm lãi)"))
        loan.closed_on = as_of
    counted = relief.reason_code == ReliefReason.UNABLE_TO_PAY
    if counted:
        # Counts towards the debt group (group 3 at least, Circular 14/2024/TT-NHNN).
        loan.interest_reliefs = (loan.interest_reliefs or 0) + 1
    approvals.record_approval(
        actor,
        PENDING,
        relief,
        note,
        effective_date=as_of,
        interest=relief.interest,
        penalty=relief.penalty,
        journal_entry_id=entry_id,
        counts_for_group=counted,
    )
    return relief


def pending_reliefs() -> list[InterestRelief]:
    return list(
        db.session.scalars(
            select(InterestRelief)
            .where(InterestRelief.status == "pending")
            .order_by(InterestRelief.id)
        )
    )


def reliefs_of(loan_id: int) -> list[InterestRelief]:
    return list(
        db.session.scalars(
            select(InterestRelief)
            .where(InterestRelief.loan_id == loan_id)
            .order_by(InterestRelief.id)
        )
    )
