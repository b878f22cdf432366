"""One queue of what awaits the director's or the board's decision (issue 16).

The approvals page (fundapp/web/loans.py::approvals), the landing page's counts
(fundapp/work/services.py::decision_counts) and ``GET /api/v1/approvals``
(fundapp/api/servicing.py::list_approvals) all read :func:`pending_decisions`, so a user's
rows, count and API items are the same items.

Who decides what is the services' own rule:
- an appraised application: the director within ``director_approval_limit``, the board
  above it (fundapp/lending/limits.py::rule_checks, check ``authority``); not its maker
  or appraiser (fundapp/lending/applications.py::approve);
- a disbursement or a reversal: the director (``approve_disbursement``, ``decide_reversal``);
- a restructuring: the director or the board (``decide_restructuring``);
- a write-off: the board (``decide_write_off``); a removal from off-balance tracking: the
  board (fundapp/servicing/risk.py::decide_removal);
- an interest relief: fundapp/servicing/relief.py::may_decide (``director_relief_limit``);
- a policy change: fundapp/policy/services.py::may_decide (another board member).
Nobody decides an item he made (maker ≠ checker): such items are left out of his queue.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import lazyload

from fundapp.core.security import Role, has_role
from fundapp.extensions import db
from fundapp.loans.models import (
    Application,
    ApplicationStatus,
    ApprovalStatus,
    Disbursement,
    DisbursementStatus,
    Restructuring,
    Reversal,
    WriteOff,
)
from fundapp.policy import services as policy
from fundapp.servicing import relief
from fundapp.servicing.risk import pending_removals


@dataclass
class Decision:
    kind: str  # application, disbursement, reversal, restructuring, write_off, ...
    obj: Any
    loan: Any  # None for an application or a policy change
    maker: int | None
    amount: int | None
    reference: str
    requested_at: datetime | None
    approve_path: str  # the API's POST
    deciders: tuple[str, ...] = ()
    makers: set[int | None] = field(default_factory=set)
    # The service's own rule, where it has one (reliefs, policy changes).
    rule: Callable[[Any], bool] | None = None

    @property
    def id(self) -> int:
        return int(self.obj.id)

    def may_decide(self, user: Any) -> bool:
        if user is None or not getattr(user, "is_authenticated", True):
            return False
        if getattr(user, "id", None) in self.makers:
            return False
        if self.rule is not None:
            return bool(self.rule(user))
        return has_role(user, *self.deciders)


def application_deciders(amount: int, as_of: date) -> tuple[str, ...]:
    """Within ``director_approval_limit`` the director decides, above it the board (the
    ``authority`` check of fundapp/lending/limits.py::rule_checks)."""
    limit = policy.value("director_approval_limit", as_of)
    return (Role.DIRECTOR,) if amount <= limit else (Role.BOARD,)


def pending_decisions(as_of: date) -> list[Decision]:
    """Every item awaiting a decision, in the order of the approvals page."""

    def pending(model: Any, status: str = ApprovalStatus.PENDING) -> list[Any]:
        return list(
            db.session.scalars(
                select(model)
                .where(model.status == status)
                .order_by(model.id)
                .options(lazyload("*"))
            )
        )

    out: list[Decision] = []
    for a in db.session.scalars(
        select(Application)
        .where(Application.status == ApplicationStatus.APPRAISED)
        .order_by(Application.appraised_at, Application.id)
        .options(lazyload("*"))
    ):
        amount = int(a.recommended_amount or a.requested_amount)
        out.append(
            Decision(
                "application",
                a,
                None,
                a.appraised_by_id,
                amount,
                a.project_name,
                a.appraised_at,
                f"/applications/{a.id}/approve",
                application_deciders(amount, as_of),
                {a.created_by_id, a.appraised_by_id},
            )
        )
    for d in pending(Disbursement, DisbursementStatus.PENDING):
        out.append(
            Decision(
                "disbursement",
                d,
                d.loan,
                d.recorded_by_id,
                d.amount,
                d.receipt_no,
                d.created_at,
                f"/disbursements/{d.id}/approve",
                (Role.DIRECTOR,),
                {d.recorded_by_id},
            )
        )
    for v in pending(Reversal):
        repayment = v.repayment
        out.append(
            Decision(
                "reversal",
                v,
                repayment.loan,
                v.requested_by_id,
                repayment.amount,
                repayment.receipt_no,
                v.created_at,
                f"/reversals/{v.id}/approve",
                (Role.DIRECTOR,),
                {v.requested_by_id, repayment.recorded_by_id},
            )
        )
    for r in pending(Restructuring):
        out.append(
            Decision(
                "restructuring",
                r,
                r.loan,
                r.requested_by_id,
                None,
                r.kind,
                r.created_at,
                f"/restructurings/{r.id}/approve",
                (Role.DIRECTOR, Role.BOARD),
                {r.requested_by_id},
            )
        )
    for w in pending(WriteOff):
        out.append(
            Decision(
                "write_off",
                w,
                w.loan,
                w.proposed_by_id,
                w.amount,
                "",
                w.created_at,
                f"/write-offs/{w.id}/approve",
                (Role.BOARD,),
                {w.proposed_by_id},
            )
        )
    for c in policy.pending_changes():
        out.append(
            Decision(
                "policy_change",
                c,
                None,
                c.proposed_by_id,
                None,
                c.key,
                c.proposed_at,
                f"/policy-changes/{c.id}/approve",
                (Role.BOARD,),
                {c.proposed_by_id},
                rule=lambda user, c=c: policy.may_decide(user, c),
            )
        )
    for ir in relief.pending_reliefs():
        out.append(
            Decision(
                "interest_relief",
                ir,
                ir.loan,
                ir.requested_by_id,
                ir.total,
                ir.kind,
                ir.created_at,
                f"/interest-reliefs/{ir.id}/approve",
                (Role.DIRECTOR, Role.BOARD),
                {ir.requested_by_id},
                rule=lambda user, ir=ir: relief.may_decide(user, ir, as_of),
            )
        )
    for m in pending_removals():
        out.append(
            Decision(
                "removal",
                m,
                m.loan,
                m.proposed_by_id,
                m.amount,
                "",
                m.created_at,
                f"/removals/{m.id}/approve",
                (Role.BOARD,),
                {m.proposed_by_id},
            )
        )
    return out


def decisions_for(user: Any, as_of: date) -> list[Decision]:
    """The items ``user`` may decide: his queue (the approvals page's rows)."""
    return [d for d in pending_decisions(as_of) if d.may_decide(user)]
