"""Restructuring of the repayment term (cơ cấu lại thời hạn trả nợ): an officer requests a
term adjustment (new dates and principal) or an extension (a new maturity); the replay
checks the new plan when it is requested, and the director or the board decides it
(``approvals.decide``).
"""

from __future__ import annotations

from datetime import date
from typing import Any

from flask_babel import gettext as _

from fundapp import audit
from fundapp.core import validation
from fundapp.core.security import Role
from fundapp.domain.errors import N_, DomainError, ValidationFailed
from fundapp.extensions import db
from fundapp.lending import approvals
from fundapp.lending.lifecycle import require
from fundapp.lending.terms import parse_custom
from fundapp.loans import store
from fundapp.loans.models import LoanStatus, Restructuring

PENDING = approvals.Pending(
    Restructuring, "restructuring", "restructuring", N_("Không tìm thấy đề nghị cơ cấu.")
)


def request_restructuring(actor: Any, loan_id: int, data: dict, as_of: date) -> Restructuring:
    require(actor, Role.OFFICER)
    loan = store.lock_loan(loan_id)
    if loan.status != LoanStatus.ACTIVE:
        raise DomainError(_("Chỉ cơ cấu lại khoản vay đang vay."))
    errors: dict[str, str] = {}
    kind = str(data.get("kind") or "")
    if kind not in ("term_adjustment", "extension"):
        errors["kind"] = _("Chọn điều chỉnh kỳ hạn hoặc gia hạn nợ.")
    effective = validation.iso_date(data, "effective_date", errors)
    if effective and effective > as_of:
        errors["effective_date"] = _("Ngày hiệu lực không được sau ngày làm việc hiện tại.")
    if effective and loan.first_disbursement_date and effective < loan.first_disbursement_date:
        errors["effective_date"] = _("Ngày hiệu lực không được trước ngày giải ngân.")
    new_maturity = validation.iso_date(data, "new_maturity", errors, required=kind == "extension")
    plan = parse_custom(data.get("principal_plan"), errors, "principal_plan") or []
    if kind == "term_adjustment" and not plan:
        errors["principal_plan"] = _("Điều chỉnh kỳ hạn cần các ngày và số gốc mới.")
    reason = validation.text(data, "reason", 2000, True, errors)
    if errors:
        raise ValidationFailed(_("Dữ liệu chưa hợp lệ, xin kiểm tra lại."), errors)
    restructuring = Restructuring(
        loan_id=loan.id,
        kind=kind,
        effective_date=effective,
        new_maturity=new_maturity if kind == "extension" else None,
        principal_plan=plan,
        reason=reason,
        requested_by_id=actor.id,
    )
    db.session.add(restructuring)
    db.session.flush()
    history = store.history_of(loan)
    store.replay(
        loan,
        store.History(
            history.disbursements,
            history.repayments,
            (*history.restructures, store.restructure_event(restructuring)),
            history.reliefs,
        ),
    )
    audit.record(
        actor,
        "restructuring.request",
        "restructuring",
        restructuring.id,
        None,
        {
            "loan": loan.contract_no,
            "kind": kind,
            "effective_date": effective,
            "new_maturity": new_maturity,
            "plan": plan,
        },
    )
    return restructuring


def decide_restructuring(
    actor: Any, restructuring_id: int, approve_it: bool, note: str, as_of: date
) -> Restructuring:
    require(actor, Role.DIRECTOR, Role.BOARD)
    restructuring, loan = approvals.decide(actor, PENDING, restructuring_id, approve_it, note)
    if not approve_it:
        return restructuring
    approvals.approve(actor, PENDING, restructuring, note)
    if restructuring.kind == "extension":
        loan.extensions += 1
    else:
        loan.term_adjustments += 1
    db.session.flush()
    store.refresh(
        loan,
        as_of,
        "restructuring",
        actor,
        loan.contract_no,
        _("Cơ cấu lại thời hạn trả nợ %(c)s", c=loan.contract_no),
    )
    approvals.record_approval(actor, PENDING, restructuring, note)
    return restructuring
