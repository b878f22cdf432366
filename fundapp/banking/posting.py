"""Posting the confirmed lines of a statement as repayments, in batches (docs/rules.md
"Bank statement import and matching"): the accountant makes the batch; it posts at once, or,
when its total is above the policy's ``bank_batch_approval_above``, when the director
approves it (never the maker).

Exactly once: the statement row is locked while a batch takes its lines, the batch row
while it is decided, each line is taken by one batch only and becomes one repayment
(``bank_lines.repayment_id`` is UNIQUE). Per line: each line posts in its own savepoint,
so a line the engine refuses (the loan no longer active, an overpayment) stays confirmed
with the reason while the others post.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from flask_babel import gettext as _
from sqlalchemy import select

from fundapp import audit
from fundapp.auth.models import User
from fundapp.banking.models import BankBatch, BankLine, BankStatement
from fundapp.banking.services import can_move
from fundapp.core.security import Role, has_role
from fundapp.domain.dates import utcnow
from fundapp.domain.errors import (
    Conflict,
    DomainError,
    NotFound,
    PermissionDenied,
    ValidationFailed,
)
from fundapp.extensions import db
from fundapp.policy import services as policy
from fundapp.repayments.services import record_repayment

APPROVAL_PARAM = "bank_batch_approval_above"
# The repayment method of a transfer into the collection account.
BANK_METHOD = "bank"


@dataclass(frozen=True)
class LineOutcome:
    line_id: int
    txn_id: str
    posted: bool
    receipt_no: str | None
    error: str


@dataclass(frozen=True)
class BatchResult:
    batch: BankBatch
    outcomes: tuple[LineOutcome, ...]


def _require(actor: Any, role: Role) -> None:
    if not has_role(actor, role):
        raise PermissionDenied(_("Bạn không có quyền thực hiện thao tác này."))


def post_batch(actor: Any, statement_id: int, today: date) -> BatchResult:
    """Send the statement's confirmed lines not in a batch yet to posting: posted now when
    their total is within the policy, else left pending for the director."""
    _require(actor, Role.ACCOUNTANT)
    statement = db.session.execute(
        select(BankStatement)
        .where(BankStatement.id == statement_id)
        .with_for_update(of=BankStatement)
    ).scalar_one_or_none()
    if statement is None:
        raise NotFound(_("Không tìm thấy sao kê."))
    lines = _lock_lines(
        BankLine.statement_id == statement_id,
        BankLine.status == "confirmed",
        BankLine.batch_id.is_(None),
    )
    if not lines:
        raise Conflict(_("Sao kê này không còn dòng đã xác nhận nào chưa ghi sổ."))
    total = sum(line.amount for line in lines)
    limit = policy.value(APPROVAL_PARAM, today)
    batch = BankBatch(
        statement_id=statement_id,
        status="pending",
        needs_approval=total > limit,
        made_by_id=actor.id,
        made_at=utcnow(),
        note="",
        lines=len(lines),
        total=total,
        posted=0,
        posted_total=0,
        failed=0,
    )
    db.session.add(batch)
    db.session.flush()
    for line in lines:
        line.batch_id = batch.id
    db.session.flush()
    audit.record(
        actor,
        "bank_batch.create",
        "bank_batch",
        batch.id,
        None,
        {
            "statement_id": statement_id,
            "lines": batch.lines,
            "total": total,
            "approval_above": limit,
            "needs_approval": batch.needs_approval,
        },
    )
    if batch.needs_approval:
        return BatchResult(batch, ())
    return BatchResult(batch, _post(batch, actor, actor, lines, today))


def approve_batch(actor: Any, batch_id: int, today: date, note: str = "") -> BatchResult:
    """The director approves a pending batch: its lines post, each once."""
    _require(actor, Role.DIRECTOR)
    batch = _pending(actor, batch_id)
    maker = db.session.get(User, batch.made_by_id)
    if maker is None or not has_role(maker, Role.ACCOUNTANT):
        raise Conflict(_("Người lập lô không còn là kế toán; hãy từ chối lô và lập lại."))
    lines = _lock_lines(BankLine.batch_id == batch.id, BankLine.status == "confirmed")
    batch.note = _clean(note)
    return BatchResult(batch, _post(batch, maker, actor, lines, today))


def reject_batch(actor: Any, batch_id: int, reason: str) -> BankBatch:
    """The director refuses a pending batch: nothing posts, its lines stay confirmed and
    free for the accountant to correct and send again."""
    _require(actor, Role.DIRECTOR)
    reason = _clean(reason)
    if not reason:
        raise ValidationFailed(
            _("Dữ liệu chưa hợp lệ, xin kiểm tra lại."), {"reason": _("Nhập lý do.")}
        )
    batch = _pending(actor, batch_id)
    lines = _lock_lines(BankLine.batch_id == batch.id, BankLine.status == "confirmed")
    for line in lines:
        line.batch_id = None
    batch.status = "rejected"
    batch.decided_by_id = actor.id
    batch.decided_at = utcnow()
    batch.note = reason
    db.session.flush()
    audit.record(
        actor,
        "bank_batch.reject",
        "bank_batch",
        batch.id,
        {"status": "pending"},
        {"status": "rejected", "lines": len(lines)},
        reason,
    )
    return batch


def batch_lines(batch_id: int) -> list[BankLine]:
    if db.session.get(BankBatch, batch_id) is None:
        raise NotFound(_("Không tìm thấy lô ghi sổ."))
    return list(
        db.session.scalars(
            select(BankLine).where(BankLine.batch_id == batch_id).order_by(BankLine.line_no)
        )
    )


def _clean(text: str) -> str:
    return " ".join(str(text or "").split())[:500]


def _lock_lines(*where: Any) -> list[BankLine]:
    # Posted in value-date order, so that each loan receives its money in date order.
    return list(
        db.session.scalars(
            select(BankLine)
            .where(*where)
            .order_by(BankLine.value_date, BankLine.line_no, BankLine.id)
            .with_for_update(of=BankLine)
            .execution_options(populate_existing=True)
        )
    )


def _pending(actor: Any, batch_id: int) -> BankBatch:
    batch = db.session.execute(
        select(BankBatch)
        .where(BankBatch.id == batch_id)
        .with_for_update(of=BankBatch)
        .execution_options(populate_existing=True)
    ).scalar_one_or_none()
    if batch is None:
        raise NotFound(_("Không tìm thấy lô ghi sổ."))
    if batch.status != "pending" or not batch.needs_approval:
        raise Conflict(_("Lô này đã được quyết định; không ghi sổ lần nữa."))
    if batch.made_by_id == actor.id:
        raise PermissionDenied(_("Người lập lô không được tự phê duyệt."))
    return batch


def _post(
    batch: BankBatch, maker: Any, checker: Any, lines: list[BankLine], today: date
) -> tuple[LineOutcome, ...]:
    """Each line as a repayment recorded by the maker, in its own savepoint: a refused
    line is left confirmed (out of the batch) with the reason."""
    outcomes: list[LineOutcome] = []
    for line in lines:
        if not can_move(line.status, "posted") or line.repayment_id is not None:
            continue
        data = {
            "amount": line.amount,
            "date": line.value_date,
            "reference": line.txn_id,
            "method": BANK_METHOD,
        }
        try:
            with db.session.begin_nested():
                repayment = record_repayment(maker, line.loan_id, data, today)
        except DomainError as refused:
            line.batch_id = None
            line.post_error = _clean(_error_text(refused))
            outcomes.append(LineOutcome(line.id, line.txn_id, False, None, line.post_error))
            continue
        line.repayment_id = repayment.id
        line.status = "posted"
        line.post_error = ""
        outcomes.append(LineOutcome(line.id, line.txn_id, True, repayment.receipt_no, ""))
    posted = [o for o in outcomes if o.posted]
    amount_of = {line.id: line.amount for line in lines}
    batch.status = "posted"
    batch.posted = len(posted)
    batch.posted_total = sum(amount_of[o.line_id] for o in posted)
    batch.failed = len(outcomes) - len(posted)
    batch.decided_at = utcnow()
    if checker is not maker:
        batch.decided_by_id = checker.id
    db.session.flush()
    audit.record(
        checker,
        "bank_batch.post",
        "bank_batch",
        batch.id,
        {"status": "pending"},
        {
            "status": "posted",
            "posted": batch.posted,
            "posted_total": batch.posted_total,
            "failed": batch.failed,
            "receipts": [o.receipt_no for o in posted],
            "refused": {o.txn_id: o.error for o in outcomes if not o.posted},
        },
        batch.note,
    )
    return tuple(outcomes)


def _error_text(error: DomainError) -> str:
    if error.fields:
        return "; ".join([error.message, *error.fields.values()])
    return error.message
