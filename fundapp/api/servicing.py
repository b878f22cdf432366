"""API v1: servicing a loan — cancellation, collateral, loan-use inspections, write-offs,
the loan's history lists, and the queue of what awaits a checker's decision.

Same roles as the loan pages (fundapp/web/loans.py); the rules live in fundapp/lending/
(contracts, collateral, inspections, writeoffs). A cooperative reads its own loans' posted
disbursements (its debt receipts), as its portal shows them; the rest of a loan's file is
for staff.
"""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal
from typing import Annotated, Any, Literal

from flask import jsonify
from pydantic import Field
from sqlalchemy import select

from fundapp.api import bp, shapes, transaction_shapes
from fundapp.api.common import (
    api_roles,
    current_api_user,
    decide_pending,
    get_or_404,
    idempotent,
    paginate,
    timestamp,
)
from fundapp.api.loan_input import visible_loan
from fundapp.api.loan_output import (
    disbursement_json,
    loan_detail_json,
    restructuring_json,
    reversal_json,
)
from fundapp.api.spec import (
    Day,
    NotRequired,
    Page,
    PageQuery,
    PositiveMoney,
    Timestamp,
    TypedDict,
    operation,
    read_body,
    read_query,
    strict,
)
from fundapp.core.dates import business_date
from fundapp.core.security import STAFF_READ, Role, has_role
from fundapp.domain.provisioning import discounted_value
from fundapp.extensions import db
from fundapp.lending import collateral, contracts, inspections, writeoffs
from fundapp.loans import store
from fundapp.loans.models import (
    Collateral,
    Disbursement,
    DisbursementStatus,
    Inspection,
    Loan,
    LoanTransition,
    Repayment,
    Restructuring,
    Reversal,
    WriteOff,
)
from fundapp.work.decisions import pending_decisions

READERS = (*STAFF_READ, Role.COOPERATIVE)
# Stored as typed: PostgreSQL refuses a NUL character in text.
FreeText = Annotated[str, Field(max_length=2000, pattern=r"^[^\x00]*$")]
ApprovalKind = Literal[
    "application",
    "disbursement",
    "reversal",
    "restructuring",
    "write_off",
    "policy_change",
    "interest_relief",
    "removal",
]
Finding = Literal["proper", "partial", "improper"]

# --- shapes ------------------------------------------------------------------------------------


class CollateralItem(TypedDict):
    id: int
    loan_id: int
    kind: str
    description: str
    valuation: int
    discount_factor: str
    # Valuation × discount factor: what the provision is reduced by.
    counted: int
    created_at: Timestamp | None


class InspectionItem(TypedDict):
    id: int
    loan_id: int
    inspected_on: shapes.IsoDate
    inspector_id: int | None
    finding: Finding
    finding_label: str
    notes: str
    created_at: Timestamp | None


class WriteOffItem(TypedDict):
    id: int
    loan_id: int
    status: Literal["pending", "approved", "rejected"]
    amount: int
    reason: str
    proposed_by_id: int | None
    approved_by_id: int | None
    decided_at: Timestamp | None
    journal_entry_id: int | None
    created_at: Timestamp | None


class TransitionItem(TypedDict):
    id: int
    from_status: str
    to_status: str
    at: Timestamp
    user_id: int | None
    reason: str


class ApprovalItem(TypedDict):
    kind: ApprovalKind
    # The item's own id (for an application: the application's id).
    id: int
    # Null for an application (no loan yet) and a policy change.
    loan_id: int | None
    contract_no: str
    # Null for a policy change.
    cooperative_id: int | None
    cooperative_name: str
    # Disbursed, repaid (the receipt to reverse), written off or, for an application, the
    # amount to approve (recommended, else requested); null for a restructuring or a policy
    # change.
    amount: int | None
    # The receipt, the kind, the project's name (application) or the parameter (policy).
    reference: str
    requested_by_id: int | None
    requested_at: Timestamp | None
    # Where a checker approves it (POST; ``/reject`` beside it refuses it).
    approve_path: str
    # The caller's roles allow the decision and the caller did not make the request; the
    # approvals page and the landing page show exactly the items where this is true.
    may_decide: bool


class ApprovalQueue(TypedDict):
    items: list[ApprovalItem]
    total: int


class ApprovalQuery(TypedDict, total=False):
    kind: ApprovalKind
    mine: Annotated[bool, Field(description="Only what the caller may decide")]


@strict
class Reason(TypedDict):
    reason: FreeText


@strict
class Note(TypedDict, total=False):
    note: FreeText


@strict
class OptionalReason(TypedDict, total=False):
    reason: FreeText


@strict
class CollateralCreate(TypedDict):
    kind: Annotated[str, Field(max_length=60, description="e.g. quyền sử dụng đất")]
    description: NotRequired[FreeText]
    valuation: PositiveMoney
    discount_factor: NotRequired[
        Annotated[
            str,
            Field(
                pattern=r"^[0-9](\.[0-9]{1,4})?$",
                description='Share of the valuation counted, 0 to 1 (e.g. "0.5")',
            ),
        ]
    ]


@strict
class InspectionCreate(TypedDict):
    inspected_on: Day
    finding: Finding
    notes: NotRequired[Annotated[str, Field(max_length=5000)]]


# --- serialisers -------------------------------------------------------------------------------


def collateral_json(item: Collateral) -> CollateralItem:
    return {
        "id": item.id,
        "loan_id": item.loan_id,
        "kind": item.kind,
        "description": item.description,
        "valuation": item.valuation,
        "discount_factor": format(Decimal(item.discount_factor).normalize(), "f"),
        "counted": discounted_value(item.valuation, item.discount_factor),
        "created_at": timestamp(item.created_at),
    }


def inspection_json(item: Inspection) -> InspectionItem:
    return {
        "id": item.id,
        "loan_id": item.loan_id,
        "inspected_on": item.inspected_on.isoformat(),
        "inspector_id": item.inspector_id,
        "finding": item.finding,  # type: ignore[typeddict-item]
        "finding_label": str(inspections.FINDINGS.get(item.finding, item.finding)),
        "notes": item.notes,
        "created_at": timestamp(item.created_at),
    }


def write_off_json(item: WriteOff) -> WriteOffItem:
    return {
        "id": item.id,
        "loan_id": item.loan_id,
        "status": item.status,  # type: ignore[typeddict-item]
        "amount": item.amount,
        "reason": item.reason,
        "proposed_by_id": item.proposed_by_id,
        "approved_by_id": item.approved_by_id,
        "decided_at": timestamp(item.decided_at),
        "journal_entry_id": item.journal_entry_id,
        "created_at": timestamp(item.created_at),
    }


def transition_json(item: LoanTransition) -> TransitionItem:
    return {
        "id": item.id,
        "from_status": item.from_status,
        "to_status": item.to_status,
        "at": timestamp(item.at) or "",
        "user_id": item.user_id,
        "reason": item.reason,
    }


# --- objects -----------------------------------------------------------------------------------


def decide_request(
    model: type, object_id: int, approve: bool, decide: Callable[..., Any], serialise: Any
) -> Any:
    """Approve (with an optional ``note``) or reject (with an optional ``reason``) a pending
    request whose service decides as ``decide(user, id, approve, text, as_of)``: a relief, a
    removal, a write-off. An approval is committed by its view's ``@idempotent``."""
    shape, key = (Note, "note") if approve else (OptionalReason, "reason")
    return decide_pending(
        model,
        object_id,
        shape,
        key,
        lambda user, text: decide(user, object_id, approve, text, business_date()),
        serialise,
        commit=not approve,
    )


def _page(query: Any, serialise: Any) -> Any:
    read_query(PageQuery)
    return jsonify(paginate(query, serialise))


# --- cancellation ------------------------------------------------------------------------------


@bp.route("/loans/<int:loan_id>/cancel", methods=["POST"])
@api_roles(Role.DIRECTOR, Role.BOARD)
@operation(body=Reason, returns=shapes.LoanDetail)
def cancel_loan(loan_id: int) -> Any:
    """Cancel an approved or contracted loan before any disbursement.

    A reason is required; a loan with a disbursement, even one still pending, cannot be
    cancelled.
    """
    get_or_404(Loan, loan_id)
    data = read_body(Reason)
    loan = store.lock_loan(loan_id)
    contracts.cancel(current_api_user(), loan, data["reason"])
    db.session.commit()
    return jsonify(loan_detail_json(loan, business_date()))


# --- collateral and inspections ----------------------------------------------------------------


@bp.route("/loans/<int:loan_id>/collateral", methods=["GET"])
@api_roles(*STAFF_READ)
@operation(query=PageQuery, returns=Page[CollateralItem])
def list_collateral(loan_id: int) -> Any:
    """List the loan's collateral (tài sản bảo đảm)."""
    loan = visible_loan(loan_id)
    return _page(
        select(Collateral).where(Collateral.loan_id == loan.id).order_by(Collateral.id),
        collateral_json,
    )


@bp.route("/loans/<int:loan_id>/collateral", methods=["POST"])
@api_roles(Role.OFFICER)
@operation(body=CollateralCreate, returns=CollateralItem, status=201)
def add_collateral(loan_id: int) -> Any:
    """Record collateral on a loan not yet closed.

    Its valuation times the discount factor reduces the loan's specific provision from the
    next close of day.
    """
    loan = visible_loan(loan_id)
    data = read_body(CollateralCreate)
    item = collateral.add_collateral(current_api_user(), loan, data)
    db.session.commit()
    return jsonify(collateral_json(item)), 201


@bp.route("/loans/<int:loan_id>/inspections", methods=["GET"])
@api_roles(*STAFF_READ)
@operation(query=PageQuery, returns=Page[InspectionItem])
def list_inspections(loan_id: int) -> Any:
    """List the loan-use inspections (kiểm tra sử dụng vốn vay), latest first."""
    loan = visible_loan(loan_id)
    return _page(
        select(Inspection)
        .where(Inspection.loan_id == loan.id)
        .order_by(Inspection.inspected_on.desc(), Inspection.id.desc()),
        inspection_json,
    )


@bp.route("/loans/<int:loan_id>/inspections", methods=["POST"])
@api_roles(Role.OFFICER)
@operation(body=InspectionCreate, returns=InspectionItem, status=201)
def add_inspection(loan_id: int) -> Any:
    """Record a loan-use inspection of a disbursed loan.

    The date lies between the first disbursement and the business date; the finding is
    ``proper`` (đúng mục đích), ``partial`` or ``improper``.
    """
    loan = visible_loan(loan_id)
    data = read_body(InspectionCreate)
    item = inspections.add_inspection(current_api_user(), loan, data, business_date())
    db.session.commit()
    return jsonify(inspection_json(item)), 201


# --- write-offs --------------------------------------------------------------------------------


@bp.route("/loans/<int:loan_id>/write-offs", methods=["GET"])
@api_roles(*STAFF_READ)
@operation(query=PageQuery, returns=Page[WriteOffItem])
def list_write_offs(loan_id: int) -> Any:
    """List the loan's write-off proposals and their decisions."""
    loan = visible_loan(loan_id)
    return _page(
        select(WriteOff).where(WriteOff.loan_id == loan.id).order_by(WriteOff.id),
        write_off_json,
    )


@bp.route("/loans/<int:loan_id>/write-offs", methods=["POST"])
@api_roles(Role.DIRECTOR)
@operation(body=Reason, returns=WriteOffItem, status=201)
def propose_write_off(loan_id: int) -> Any:
    """Propose writing off an active loan in group 5 (xử lý rủi ro); the board decides.

    One proposal at a time per loan.
    """
    loan = visible_loan(loan_id)
    data = read_body(Reason)
    item = writeoffs.propose_write_off(current_api_user(), loan.id, data["reason"], business_date())
    db.session.commit()
    return jsonify(write_off_json(item)), 201


@bp.route("/write-offs/<int:write_off_id>/approve", methods=["POST"])
@api_roles(Role.BOARD)
@idempotent
@operation(body=Note, returns=WriteOffItem)
def approve_write_off(write_off_id: int) -> Any:
    """Approve a write-off: the provision absorbs the principal, the loan goes off-balance.

    Posts Dr provision / Cr loans (any provision shortfall expensed first) and the memo
    Dr written-off loans. The proposer may not approve.
    """
    # committed by @idempotent
    return decide_request(WriteOff, write_off_id, True, writeoffs.decide_write_off, write_off_json)


@bp.route("/write-offs/<int:write_off_id>/reject", methods=["POST"])
@api_roles(Role.BOARD)
@operation(body=OptionalReason, returns=WriteOffItem)
def reject_write_off(write_off_id: int) -> Any:
    """Refuse a write-off proposal; the loan stays as it is."""
    return decide_request(WriteOff, write_off_id, False, writeoffs.decide_write_off, write_off_json)


# --- the loan's history ------------------------------------------------------------------------


@bp.route("/loans/<int:loan_id>/disbursements", methods=["GET"])
@api_roles(*READERS)
@operation(query=PageQuery, returns=Page[transaction_shapes.Disbursement])
def list_disbursements(loan_id: int) -> Any:
    """List the loan's disbursements (tranches) by value date.

    Staff see the pending and rejected ones too; a cooperative sees the posted ones, as its
    portal shows them.
    """
    loan = visible_loan(loan_id)
    query = select(Disbursement).where(Disbursement.loan_id == loan.id)
    if not has_role(current_api_user(), *STAFF_READ):
        query = query.where(Disbursement.status == DisbursementStatus.POSTED)
    return _page(query.order_by(Disbursement.value_date, Disbursement.id), disbursement_json)


@bp.route("/loans/<int:loan_id>/reversals", methods=["GET"])
@api_roles(*STAFF_READ)
@operation(query=PageQuery, returns=Page[transaction_shapes.Reversal])
def list_reversals(loan_id: int) -> Any:
    """List the reversal requests of the loan's repayments and their decisions."""
    loan = visible_loan(loan_id)
    return _page(
        select(Reversal)
        .join(Repayment, Repayment.id == Reversal.repayment_id)
        .where(Repayment.loan_id == loan.id)
        .order_by(Reversal.id),
        reversal_json,
    )


@bp.route("/loans/<int:loan_id>/restructurings", methods=["GET"])
@api_roles(*STAFF_READ)
@operation(query=PageQuery, returns=Page[transaction_shapes.Restructuring])
def list_restructurings(loan_id: int) -> Any:
    """List the loan's restructuring requests (term adjustments, extensions)."""
    loan = visible_loan(loan_id)
    return _page(
        select(Restructuring).where(Restructuring.loan_id == loan.id).order_by(Restructuring.id),
        restructuring_json,
    )


@bp.route("/loans/<int:loan_id>/transitions", methods=["GET"])
@api_roles(*STAFF_READ)
@operation(query=PageQuery, returns=Page[TransitionItem])
def list_loan_transitions(loan_id: int) -> Any:
    """List the loan's status changes: who, when, from, to and why."""
    loan = visible_loan(loan_id)
    return _page(
        select(LoanTransition)
        .where(LoanTransition.entity == "loan", LoanTransition.entity_id == loan.id)
        .order_by(LoanTransition.at, LoanTransition.id),
        transition_json,
    )


# --- the approvals queue -----------------------------------------------------------------------


def _item(d: Any, user: Any) -> ApprovalItem:
    """One row of the shared queue (fundapp/work/decisions.py) in the API's shape."""
    loan = d.loan
    cooperative = loan.cooperative if loan is not None else getattr(d.obj, "cooperative", None)
    return {
        "kind": d.kind,
        "id": d.id,
        "loan_id": loan.id if loan is not None else None,
        "contract_no": loan.contract_no if loan is not None else "",
        "cooperative_id": cooperative.id if cooperative is not None else None,
        "cooperative_name": cooperative.name if cooperative is not None else "",
        "requested_by_id": d.maker,
        "requested_at": timestamp(d.requested_at),
        "approve_path": d.approve_path,
        "may_decide": d.may_decide(user),
        "amount": d.amount,
        "reference": d.reference,
    }


@bp.route("/approvals", methods=["GET"])
@api_roles(*STAFF_READ)
@operation(query=ApprovalQuery, returns=ApprovalQueue)
def list_approvals() -> Any:
    """What awaits a checker: appraised applications, pending disbursements, reversals,
    restructurings, write-offs, policy changes, interest reliefs and removals.

    ``may_decide`` is true where the caller's roles decide the item and the caller did not
    make it (separation of duties); ``mine=true`` keeps only those.
    """
    args = read_query(ApprovalQuery)
    user = current_api_user()
    items = []
    for decision in pending_decisions(business_date()):
        item = _item(decision, user)
        if args.get("kind") not in (None, item["kind"]):
            continue
        if args.get("mine") and not item["may_decide"]:
            continue
        items.append(item)
    return jsonify({"items": items, "total": len(items)})
