"""API v1: interest relief (miễn, giảm lãi) and removal from off-balance tracking (xuất toán).

Same roles and rules as the loan pages; the rules live in fundapp/servicing/relief.py and
fundapp/servicing/risk.py. Risk handling itself (xử lý rủi ro) is the write-off of
fundapp/api/servicing.py.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from flask import jsonify
from pydantic import Field
from sqlalchemy import select

from fundapp.api import bp, shapes
from fundapp.api.common import (
    api_roles,
    current_api_user,
    idempotent,
    paginate,
    timestamp,
)
from fundapp.api.loan_input import visible_loan
from fundapp.api.servicing import Note, OptionalReason, Reason, decide_request
from fundapp.api.spec import (
    Money,
    NotRequired,
    Page,
    PageQuery,
    Timestamp,
    TypedDict,
    operation,
    read_body,
    read_query,
    strict,
)
from fundapp.core.dates import business_date
from fundapp.core.security import STAFF_READ, Role
from fundapp.extensions import db
from fundapp.loans.relief import InterestRelief, OffBalanceRemoval
from fundapp.servicing import relief as reliefs
from fundapp.servicing import risk

Status = Literal["pending", "approved", "rejected"]
FreeText = Annotated[str, Field(max_length=2000, pattern=r"^[^\x00]*$")]


class ReliefLine(TypedDict):
    no: int
    component: Literal["interest", "penalty"]
    amount: int


class InterestReliefItem(TypedDict):
    id: int
    loan_id: int
    contract_no: str
    kind: Literal["exemption", "reduction"]
    reason_code: Literal["unable_to_pay", "other"]
    # Billed in-term interest and overdue interest waived, whole đồng.
    interest: int
    penalty: int
    total: int
    reason: str
    evidence: str
    status: Status
    requested_on: shapes.IsoDate
    requested_by_id: int | None
    approved_by_id: int | None
    decided_at: Timestamp | None
    decision_note: str
    # The business date of the approval: the relief's date in the loan's history.
    effective_date: shapes.IsoDate | None
    # The instalments it waived, oldest first.
    allocations: list[ReliefLine]
    journal_entry_id: int | None
    created_at: Timestamp | None


class Waivable(TypedDict):
    as_of: shapes.IsoDate
    interest: int
    penalty: int
    # Whole đồng a director may approve alone; the board decides above it.
    director_limit: int


@strict
class ReliefCreate(TypedDict):
    kind: Literal["exemption", "reduction"]
    reason_code: Annotated[
        Literal["unable_to_pay", "other"],
        Field(description="unable_to_pay: the borrower could not pay (financial difficulty)"),
    ]
    interest: NotRequired[Money]
    penalty: NotRequired[Money]
    reason: FreeText
    evidence: FreeText


class ReliefQuery(PageQuery, total=False):
    status: Status


class RemovalItem(TypedDict):
    id: int
    loan_id: int
    write_off_id: int
    amount: int
    reason: str
    status: Status
    proposed_by_id: int | None
    approved_by_id: int | None
    decided_at: Timestamp | None
    decision_note: str
    removed_on: shapes.IsoDate | None
    journal_entry_id: int | None
    created_at: Timestamp | None


def relief_json(item: InterestRelief) -> InterestReliefItem:
    return {
        "id": item.id,
        "loan_id": item.loan_id,
        "contract_no": item.loan.contract_no if item.loan else "",
        "kind": item.kind,  # type: ignore[typeddict-item]
        "reason_code": item.reason_code,  # type: ignore[typeddict-item]
        "interest": item.interest,
        "penalty": item.penalty,
        "total": item.total,
        "reason": item.reason,
        "evidence": item.evidence,
        "status": item.status,  # type: ignore[typeddict-item]
        "requested_on": item.requested_on.isoformat(),
        "requested_by_id": item.requested_by_id,
        "approved_by_id": item.approved_by_id,
        "decided_at": timestamp(item.decided_at),
        "decision_note": item.decision_note,
        "effective_date": item.effective_date.isoformat() if item.effective_date else None,
        "allocations": list(item.allocations or []),
        "journal_entry_id": item.journal_entry_id,
        "created_at": timestamp(item.created_at),
    }


def removal_json(item: OffBalanceRemoval) -> RemovalItem:
    return {
        "id": item.id,
        "loan_id": item.loan_id,
        "write_off_id": item.write_off_id,
        "amount": item.amount,
        "reason": item.reason,
        "status": item.status,  # type: ignore[typeddict-item]
        "proposed_by_id": item.proposed_by_id,
        "approved_by_id": item.approved_by_id,
        "decided_at": timestamp(item.decided_at),
        "decision_note": item.decision_note,
        "removed_on": item.removed_on.isoformat() if item.removed_on else None,
        "journal_entry_id": item.journal_entry_id,
        "created_at": timestamp(item.created_at),
    }


# --- interest relief ---------------------------------------------------------------------------


@bp.route("/interest-reliefs", methods=["GET"])
@api_roles(*STAFF_READ)
@operation(query=ReliefQuery, returns=Page[InterestReliefItem])
def list_interest_reliefs() -> Any:
    """List the fund's interest relief requests, oldest first (``status=pending``: the queue)."""
    args = read_query(ReliefQuery)
    query = select(InterestRelief).order_by(InterestRelief.id)
    if args.get("status"):
        query = query.where(InterestRelief.status == args["status"])
    return jsonify(paginate(query, relief_json))


@bp.route("/loans/<int:loan_id>/interest-reliefs", methods=["GET"])
@api_roles(*STAFF_READ)
@operation(query=PageQuery, returns=Page[InterestReliefItem])
def list_loan_interest_reliefs(loan_id: int) -> Any:
    """List the loan's interest relief requests and their decisions."""
    loan = visible_loan(loan_id)
    read_query(PageQuery)
    query = select(InterestRelief).where(InterestRelief.loan_id == loan.id)
    return jsonify(paginate(query.order_by(InterestRelief.id), relief_json))


@bp.route("/loans/<int:loan_id>/interest-reliefs/waivable", methods=["GET"])
@api_roles(*STAFF_READ)
@operation(returns=Waivable)
def get_waivable_interest(loan_id: int) -> Any:
    """What a relief decided today could waive: billed in-term interest due and unpaid, and
    overdue interest accrued to today; and the director's authority."""
    loan = visible_loan(loan_id)
    today = business_date()
    can = reliefs.waivable(loan, today)
    return jsonify(
        {
            "as_of": today.isoformat(),
            "interest": can.interest,
            "penalty": can.penalty,
            "director_limit": reliefs.director_limit(today),
        }
    )


@bp.route("/loans/<int:loan_id>/interest-reliefs", methods=["POST"])
@api_roles(Role.OFFICER)
@operation(body=ReliefCreate, returns=InterestReliefItem, status=201)
def request_interest_relief(loan_id: int) -> Any:
    """Request an exemption (miễn: the whole of a component) or a reduction (giảm) of an
    active loan's interest: billed in-term interest due or overdue (``interest``) and/or
    overdue interest (``penalty``), with a reason code and the evidence.

    Nothing is waived until a director (up to the policy's ``director_relief_limit``) or
    the board approves it; one pending request per loan.
    """
    loan = visible_loan(loan_id)
    data = read_body(ReliefCreate)
    item = reliefs.request_relief(current_api_user(), loan.id, data, business_date())
    db.session.commit()
    return jsonify(relief_json(item)), 201


@bp.route("/interest-reliefs/<int:relief_id>/approve", methods=["POST"])
@api_roles(Role.DIRECTOR, Role.BOARD)
@idempotent
@operation(body=Note, returns=InterestReliefItem)
def approve_interest_relief(relief_id: int) -> Any:
    """Approve a relief, dated on the business date: the loan's dues drop by the amounts,
    oldest instalment first, and the ledger receives the difference in the same
    transaction (Dr interest income / Cr interest receivable for a group-1 loan; the
    suspended-interest memo for groups 2–5). The requester may not approve; above the
    director's limit only the board may."""
    # committed by @idempotent
    return decide_request(InterestRelief, relief_id, True, reliefs.decide_relief, relief_json)


@bp.route("/interest-reliefs/<int:relief_id>/reject", methods=["POST"])
@api_roles(Role.DIRECTOR, Role.BOARD)
@operation(body=OptionalReason, returns=InterestReliefItem)
def reject_interest_relief(relief_id: int) -> Any:
    """Refuse a relief request; nothing is waived."""
    return decide_request(InterestRelief, relief_id, False, reliefs.decide_relief, relief_json)


# --- removal from off-balance tracking --------------------------------------------------------


@bp.route("/loans/<int:loan_id>/removals", methods=["GET"])
@api_roles(*STAFF_READ)
@operation(query=PageQuery, returns=Page[RemovalItem])
def list_removals(loan_id: int) -> Any:
    """List the loan's proposals to remove it from off-balance tracking (xuất toán)."""
    loan = visible_loan(loan_id)
    read_query(PageQuery)
    query = select(OffBalanceRemoval).where(OffBalanceRemoval.loan_id == loan.id)
    return jsonify(paginate(query.order_by(OffBalanceRemoval.id), removal_json))


@bp.route("/loans/<int:loan_id>/removals", methods=["POST"])
@api_roles(Role.DIRECTOR)
@operation(body=Reason, returns=RemovalItem, status=201)
def propose_removal(loan_id: int) -> Any:
    """Propose removing a risk-handled (written-off) loan from off-balance tracking.

    Refused before five years have passed since the risk handling; the board decides.
    """
    loan = visible_loan(loan_id)
    data = read_body(Reason)
    item = risk.propose_removal(current_api_user(), loan.id, data["reason"], business_date())
    db.session.commit()
    return jsonify(removal_json(item)), 201


@bp.route("/removals/<int:removal_id>/approve", methods=["POST"])
@api_roles(Role.BOARD)
@idempotent
@operation(body=Note, returns=RemovalItem)
def approve_removal(removal_id: int) -> Any:
    """Approve the removal: the memo is reversed (Dr memo contra / Cr written-off loans) and
    the loan becomes ``removed``. The five years are checked again; the proposer may not
    approve."""
    # committed by @idempotent
    return decide_request(OffBalanceRemoval, removal_id, True, risk.decide_removal, removal_json)


@bp.route("/removals/<int:removal_id>/reject", methods=["POST"])
@api_roles(Role.BOARD)
@operation(body=OptionalReason, returns=RemovalItem)
def reject_removal(removal_id: int) -> Any:
    """Refuse a removal proposal; the loan stays tracked off-balance."""
    return decide_request(OffBalanceRemoval, removal_id, False, risk.decide_removal, removal_json)
