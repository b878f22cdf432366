"""The maker-checker decision, one for every request that waits for a second person: a
loan's restructuring, its risk handling (write-off), a repayment's reversal, an interest
relief, a removal from off-balance tracking.

The request is re-read under its loan's lock, so of two decisions at once the second
waits and then sees the first; it must still be pending; the one who made it never decides
it. A rejection is stamped and audited here. An approval's effect (a replay, a posting, a
transition) is the caller's, between ``approve`` (status and stamp) and
``record_approval`` (the audit record). The caller checks the checker's role first: it
differs per request.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from operator import attrgetter
from typing import Any

from flask_babel import gettext as _

from fundapp import audit
from fundapp.domain.dates import utcnow
from fundapp.domain.errors import N_, DomainError, NotFound, PermissionDenied
from fundapp.extensions import db
from fundapp.loans import store
from fundapp.loans.models import ApprovalStatus, Loan


def requester(item: Any) -> tuple[Any, ...]:
    """The maker of a request someone asked for (a restructuring, a relief)."""
    return (item.requested_by_id,)


def proposer(item: Any) -> tuple[Any, ...]:
    """The maker of a proposal (a risk handling, a removal)."""
    return (item.proposed_by_id,)


@dataclass(frozen=True)
class Pending:
    """A kind of request a checker decides, and how its audit records are named."""

    model: type[Any]
    entity: str  # the audit log's entity
    action: str  # the audit log's actions are "<action>.reject" and "<action>.approve"
    missing: str  # N_: no such request
    own: str = N_("Người đề nghị không được tự phê duyệt.")  # N_: its maker decides it
    makers: Callable[[Any], tuple[Any, ...]] = requester
    loan_id: Callable[[Any], int] = attrgetter("loan_id")
    # Relief and removal keep the checker's note on the request, and their rejection's
    # audit record carries the states.
    keeps_note: bool = False


def locked(
    model: type[Any],
    item_id: int,
    missing: str,
    loan_id: Callable[[Any], int] = attrgetter("loan_id"),
) -> tuple[Any, Loan]:
    """The row and its loan, the loan locked to the end of the transaction and the row
    re-read after the lock (its status may have changed while we waited); ``missing``
    (an N_ message) when there is no such row."""
    item = db.session.get(model, item_id)
    if item is None:
        raise NotFound(_(missing))
    loan = store.lock_loan(loan_id(item))
    db.session.refresh(item)  # read before the lock: its status may have changed
    return item, loan


def decide(
    actor: Any, kind: Pending, item_id: int, approve_it: bool, note: str
) -> tuple[Any, Loan]:
    """The pending request and its locked loan, refused when it was decided already or
    ``actor`` made it. Rejected here when not ``approve_it``; approved by the caller."""
    item, loan = locked(kind.model, item_id, kind.missing, kind.loan_id)
    if item.status != ApprovalStatus.PENDING:
        raise DomainError(_("Đề nghị này đã được xử lý."))
    if actor.id in kind.makers(item):
        raise PermissionDenied(_(kind.own))
    if not approve_it:
        item.status = ApprovalStatus.REJECTED
        _stamp(actor, kind, item, note)
        if kind.keeps_note:
            audit.record(
                actor,
                f"{kind.action}.reject",
                kind.entity,
                item.id,
                {"status": "pending"},
                {"status": "rejected"},
                note=note,
            )
        else:
            audit.record(actor, f"{kind.action}.reject", kind.entity, item.id, note=note)
    return item, loan


def approve(actor: Any, kind: Pending, item: Any, note: str) -> None:
    """The request approved by ``actor``; its effect and audit record are the caller's."""
    item.status = ApprovalStatus.APPROVED
    _stamp(actor, kind, item, note)


def _stamp(actor: Any, kind: Pending, item: Any, note: str) -> None:
    """Who decided and when (and the note, for the kinds that keep it)."""
    item.approved_by_id, item.decided_at = actor.id, utcnow()
    if kind.keeps_note:
        item.decision_note = (note or "")[:2000]


def record_approval(actor: Any, kind: Pending, item: Any, note: str, **facts: Any) -> None:
    """The approval's audit record: the state it leaves and the facts of its effect."""
    audit.record(
        actor,
        f"{kind.action}.approve",
        kind.entity,
        item.id,
        {"status": "pending"},
        {"status": "approved", **facts},
        note=note,
    )
