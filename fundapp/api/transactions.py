"""The money that moves on a loan through the API: disbursements, repayments and their
reversals, and restructurings, each recorded by one role and decided by another.

Every amount is whole đồng in the JSON (a string or a float is refused, not parsed);
whoever recorded or asked for a change may not approve it (the services check).
"""

from __future__ import annotations

from typing import Any

from flask import jsonify
from sqlalchemy import select

from fundapp.api import bp, shapes, transaction_shapes
from fundapp.api.common import (
    api_roles,
    body,
    current_api_user,
    decide_pending,
    idempotent,
    iso_days,
    only_fields,
    paginate,
)
from fundapp.api.lending import DECIDERS, READERS
from fundapp.api.loan_input import (
    invalid,
    money_shape,
    must_exist,
    plan_shape,
    text_shape,
    visible_loan,
)
from fundapp.api.loan_output import (
    disbursement_json,
    repayment_json,
    restructuring_json,
    reversal_json,
)
from fundapp.api.spec import Page, fields_of, operation, read_body, read_query
from fundapp.core.dates import business_date
from fundapp.core.security import Role
from fundapp.extensions import db
from fundapp.lending import disbursements
from fundapp.lending import restructuring as lending_restructuring
from fundapp.loans.models import Disbursement, Repayment, Restructuring, Reversal
from fundapp.repayments import services as repayments

# --- disbursements -------------------------------------------------------------------------


@bp.route("/loans/<int:loan_id>/disbursements", methods=["POST"])
@api_roles(Role.ACCOUNTANT)
@idempotent
@operation(
    body=transaction_shapes.NewDisbursement, returns=transaction_shapes.Disbursement, status=201
)
def record_disbursement(loan_id: int) -> Any:
    """Record a disbursement (a tranche), pending the director's approval.

    Nothing moves until it is approved; its debt receipt number (`receipt_no`) is given
    now. The amount fits within what is approved and not yet disbursed, and within the
    fund's cash."""
    visible_loan(loan_id)
    data = body()
    only_fields(data, fields_of(transaction_shapes.NewDisbursement))
    errors: dict[str, str] = {}
    money_shape(data, ("amount",), errors)
    text_shape(data, ("date", "reference"), errors)
    iso_days(data, ("date",), errors)
    invalid(errors)
    disbursement = disbursements.record_disbursement(
        current_api_user(), loan_id, data, business_date()
    )
    return jsonify(disbursement_json(disbursement)), 201  # committed by @idempotent


@bp.route("/disbursements/<int:disbursement_id>/approve", methods=["POST"])
@api_roles(Role.DIRECTOR)
@idempotent
@operation(body=shapes.NoFields, returns=transaction_shapes.Disbursement)
def approve_disbursement(disbursement_id: int) -> Any:
    """Approve a pending disbursement: it is posted (Dr loans / Cr cash).

    The first one starts the loan and its schedule. Whoever recorded it may not approve
    it."""
    must_exist(Disbursement, disbursement_id)
    read_body(shapes.NoFields)
    disbursement = disbursements.approve_disbursement(
        current_api_user(), disbursement_id, business_date()
    )
    return jsonify(disbursement_json(disbursement))  # committed by @idempotent


@bp.route("/disbursements/<int:disbursement_id>/reject", methods=["POST"])
@api_roles(Role.DIRECTOR)
@operation(body=transaction_shapes.DecisionReason, returns=transaction_shapes.Disbursement)
def reject_disbursement(disbursement_id: int) -> Any:
    """Reject a pending disbursement; nothing is posted."""
    return decide_pending(
        Disbursement,
        disbursement_id,
        transaction_shapes.DecisionReason,
        "reason",
        lambda user, text: disbursements.reject_disbursement(user, disbursement_id, text),
        disbursement_json,
        commit=True,
    )


# --- repayments and reversals --------------------------------------------------------------


@bp.route("/loans/<int:loan_id>/repayments", methods=["GET"])
@api_roles(*READERS)
@operation(query=transaction_shapes.RepaymentQuery, returns=Page[transaction_shapes.Repayment])
def list_repayments(loan_id: int) -> Any:
    """List a loan's repayments by value date, with their allocations.

    Reversed ones are listed too (`reversed: true`) unless `reversed` asks otherwise."""
    loan = visible_loan(loan_id)
    args = read_query(transaction_shapes.RepaymentQuery)
    query = select(Repayment).where(Repayment.loan_id == loan.id)
    if "reversed" in args:
        query = query.where(Repayment.reversed == args["reversed"])
    return jsonify(paginate(query.order_by(Repayment.value_date, Repayment.id), repayment_json))


@bp.route("/loans/<int:loan_id>/repayments", methods=["POST"])
@api_roles(Role.ACCOUNTANT)
@idempotent
@operation(body=transaction_shapes.NewRepayment, returns=transaction_shapes.Repayment, status=201)
def record_repayment(loan_id: int) -> Any:
    """Record a repayment; it is allocated at once and gets its receipt number.

    Oldest instalment first; inside one, penalty interest, then interest, then principal
    (or the loan's own order). What exceeds the amount due prepays principal: one more
    allocation line with `no: null` and `prepayment: true`, so the lines add up to the
    amount. A back-dated repayment (`date` before today) is allocated as of its date."""
    visible_loan(loan_id)
    data = body()
    only_fields(data, fields_of(transaction_shapes.NewRepayment))
    errors: dict[str, str] = {}
    money_shape(data, ("amount",), errors)
    text_shape(data, ("date", "reference", "method"), errors)
    iso_days(data, ("date",), errors)
    invalid(errors)
    repayment = repayments.record_repayment(current_api_user(), loan_id, data, business_date())
    return jsonify(repayment_json(repayment)), 201  # committed by @idempotent


@bp.route("/repayments/<int:repayment_id>/reverse", methods=["POST"])
@api_roles(Role.ACCOUNTANT)
@operation(body=transaction_shapes.ReversalRequest, returns=transaction_shapes.Reversal, status=201)
def request_reversal(repayment_id: int) -> Any:
    """Ask to reverse a repayment recorded by mistake.

    Nothing changes until the director approves it."""
    must_exist(Repayment, repayment_id)
    data = read_body(transaction_shapes.ReversalRequest)
    reversal = repayments.request_reversal(current_api_user(), repayment_id, data["reason"])
    db.session.commit()
    return jsonify(reversal_json(reversal)), 201


@bp.route("/reversals/<int:reversal_id>/approve", methods=["POST"])
@api_roles(Role.DIRECTOR)
@idempotent
@operation(body=transaction_shapes.DecisionNote, returns=transaction_shapes.Reversal)
def approve_reversal(reversal_id: int) -> Any:
    """Approve a reversal: the loan is recomputed from its history without the repayment.

    Whoever recorded the repayment or asked for the reversal may not approve it."""
    return decide_pending(
        Reversal,
        reversal_id,
        transaction_shapes.DecisionNote,
        "note",
        lambda user, text: repayments.decide_reversal(
            user, reversal_id, True, business_date(), text
        ),
        reversal_json,
        commit=False,
    )  # committed by @idempotent


@bp.route("/reversals/<int:reversal_id>/reject", methods=["POST"])
@api_roles(Role.DIRECTOR)
@operation(body=transaction_shapes.DecisionReason, returns=transaction_shapes.Reversal)
def reject_reversal(reversal_id: int) -> Any:
    """Reject a reversal: the repayment stands."""
    return decide_pending(
        Reversal,
        reversal_id,
        transaction_shapes.DecisionReason,
        "reason",
        lambda user, text: repayments.decide_reversal(
            user, reversal_id, False, business_date(), text
        ),
        reversal_json,
        commit=True,
    )


# --- restructuring -------------------------------------------------------------------------


@bp.route("/loans/<int:loan_id>/restructurings", methods=["POST"])
@api_roles(Role.OFFICER)
@operation(
    body=transaction_shapes.RestructuringRequest,
    returns=transaction_shapes.Restructuring,
    status=201,
)
def request_restructuring(loan_id: int) -> Any:
    """Ask to restructure an active loan (Decree 45 Art. 27), pending approval.

    A term adjustment (`term_adjustment`) moves the principal to the dates of
    `principal_plan`, maturity unchanged; an extension (`extension`) moves the maturity to
    `new_maturity`. Either counts towards the debt group's floor once approved."""
    visible_loan(loan_id)
    data = body()
    only_fields(data, fields_of(transaction_shapes.RestructuringRequest))
    errors: dict[str, str] = {}
    text_shape(data, ("kind", "effective_date", "new_maturity", "reason"), errors)
    iso_days(data, ("effective_date", "new_maturity"), errors)
    plan_shape(data, "principal_plan", errors)
    invalid(errors)
    restructuring = lending_restructuring.request_restructuring(
        current_api_user(), loan_id, data, business_date()
    )
    db.session.commit()
    return jsonify(restructuring_json(restructuring)), 201


def _decide_restructuring(restructuring_id: int, approve_it: bool) -> Any:
    shape, key = (
        (transaction_shapes.DecisionNote, "note")
        if approve_it
        else (transaction_shapes.DecisionReason, "reason")
    )
    return decide_pending(
        Restructuring,
        restructuring_id,
        shape,
        key,
        lambda user, text: lending_restructuring.decide_restructuring(
            user, restructuring_id, approve_it, text, business_date()
        ),
        restructuring_json,
        commit=True,
    )


@bp.route("/restructurings/<int:restructuring_id>/approve", methods=["POST"])
@api_roles(*DECIDERS)
@operation(body=transaction_shapes.DecisionNote, returns=transaction_shapes.Restructuring)
def approve_restructuring(restructuring_id: int) -> Any:
    """Approve a restructuring: the schedule is rebuilt from its effective date.

    Whoever asked for it may not approve it."""
    return _decide_restructuring(restructuring_id, True)


@bp.route("/restructurings/<int:restructuring_id>/reject", methods=["POST"])
@api_roles(*DECIDERS)
@operation(body=transaction_shapes.DecisionReason, returns=transaction_shapes.Restructuring)
def reject_restructuring(restructuring_id: int) -> Any:
    """Reject a restructuring: the loan keeps its schedule."""
    return _decide_restructuring(restructuring_id, False)
