"""API v1: applications, loans, schedules, disbursements, repayments, reversals."""

from __future__ import annotations

from datetime import date
from typing import Any

from flask import jsonify
from sqlalchemy import or_, select

from fundapp.api import bp, shapes
from fundapp.api.common import (
    api_roles,
    body,
    check_id,
    current_api_user,
    only_fields,
    paginate,
)
from fundapp.api.loan_input import (
    as_of_query,
    id_shape,
    invalid,
    money_shape,
    optional_body,
    own_filter,
    plan_shape,
    rate_shape,
    text_shape,
    text_value,
    visible_application,
    visible_loan,
)
from fundapp.api.loan_output import (
    application_json,
    loan_detail_json,
    loan_json,
    schedule_json,
)
from fundapp.api.spec import Page, fields_of, operation, read_body, read_query
from fundapp.cooperatives.models import Cooperative
from fundapp.cooperatives.services import located
from fundapp.core import lists
from fundapp.core.dates import business_date
from fundapp.core.security import STAFF_READ, Role
from fundapp.extensions import db
from fundapp.funds import services as funds
from fundapp.lending import applications, contracts, search
from fundapp.loans import store
from fundapp.loans.models import (
    Application,
    Instalment,
    Loan,
)

READERS = (*STAFF_READ, Role.COOPERATIVE)
DECIDERS = (Role.DIRECTOR, Role.BOARD)

APPLICATION_TEXTS = ("project_name", "purpose", "description", "collateral_offered")
APPLICATION_MONEY = ("total_project_cost", "own_equity", "requested_amount")

# --- applications --------------------------------------------------------------------------


@bp.route("/applications", methods=["GET"])
@api_roles(*READERS)
@operation(query=shapes.ApplicationQuery, returns=Page[shapes.ApplicationView])
def list_applications() -> Any:
    """List loan applications, newest first.

    A cooperative's user sees its own cooperative's applications only, whatever
    `cooperative_id` says, and without the fund's appraisal (`OwnApplication`)."""
    args = read_query(shapes.ApplicationQuery)
    query = own_filter(select(Application), Application.cooperative_id, args)
    if "status" in args:
        query = query.where(Application.status == args["status"])
    text = args.get("q", "").strip()
    if text:  # the project or the borrower, without diacritics or case (fundapp.core.lists)
        borrowers = select(Cooperative.id).where(lists.contains(Cooperative.search_key, text))
        query = query.where(
            or_(
                lists.contains(Application.search_key, text),
                Application.cooperative_id.in_(borrowers),
            )
        )
    return jsonify(paginate(query.order_by(Application.id.desc()), application_json))


@bp.route("/applications", methods=["POST"])
@api_roles(Role.OFFICER, Role.COOPERATIVE)
@operation(body=shapes.NewApplication, returns=shapes.ApplicationView, status=201)
def create_application() -> Any:
    """Apply for a loan: the project's figures and the terms asked for.

    The application starts as a draft. An officer names the cooperative; a cooperative's
    user applies for its own, at the rate of the fund's policy (`annual_rate` is not
    theirs to set)."""
    data = body()
    only_fields(data, applications.APPLICATION_FIELDS)
    errors: dict[str, str] = {}
    money_shape(data, APPLICATION_MONEY, errors)
    id_shape(data, "cooperative_id", errors)
    text_shape(data, (*APPLICATION_TEXTS, "principal_method"), errors)
    rate_shape(data, "annual_rate", errors)
    plan_shape(data, "custom_schedule", errors)
    invalid(errors)
    app = applications.create_application(current_api_user(), data, business_date())
    db.session.commit()
    return jsonify(application_json(app)), 201


@bp.route("/applications/<int:app_id>", methods=["GET"])
@api_roles(*READERS)
@operation(returns=shapes.ApplicationView)
def get_application(app_id: int) -> Any:
    """A loan application, with the rule checks (`checks`) once appraised.

    Staff read it whole (`Application`). A cooperative's user reads its own without the
    fund's appraisal, internal notes or staff (`OwnApplication`): the status, its figures and
    the decision with its note."""
    return jsonify(application_json(visible_application(app_id)))


@bp.route("/applications/<int:app_id>/submit", methods=["POST"])
@api_roles(Role.OFFICER, Role.COOPERATIVE)
@operation(body=shapes.NoFields, returns=shapes.ApplicationView)
def submit_application(app_id: int) -> Any:
    """Submit a draft application for appraisal."""
    app = visible_application(app_id)
    only_fields(optional_body(), ())
    applications.submit(current_api_user(), app)
    db.session.commit()
    return jsonify(application_json(app))


@bp.route("/applications/<int:app_id>/appraise", methods=["POST"])
@api_roles(Role.OFFICER)
@operation(body=shapes.Appraisal, returns=shapes.Application)
def appraise_application(app_id: int) -> Any:
    """Appraise a submitted application (thẩm định).

    Records the amount recommended (at most the amount asked for) and runs the fund's
    rules, each with pass or fail and the headroom left, into `checks`. Whoever created or
    appraised an application may not decide it."""
    app = visible_application(app_id)
    data = body()
    only_fields(data, fields_of(shapes.Appraisal))
    errors: dict[str, str] = {}
    money_shape(data, ("recommended_amount",), errors)
    text_shape(data, ("note",), errors)
    invalid(errors)
    applications.appraise(
        current_api_user(),
        app,
        data.get("recommended_amount"),
        text_value(data, "note"),
        business_date(),
    )
    db.session.commit()
    return jsonify(application_json(app))


@bp.route("/applications/<int:app_id>/approve", methods=["POST"])
@api_roles(*DECIDERS)
@operation(body=shapes.Approval, returns=shapes.Application)
def approve_application(app_id: int) -> Any:
    """Approve an appraised application; the loan is created (`loan_id`).

    The rules are checked again. Eligibility, equity, cash and the approver's authority
    (the director up to the policy's limit, the board above) block; a board member may
    override a concentration limit with `override_reason`."""
    app = visible_application(app_id)
    data = read_body(shapes.Approval)
    applications.approve(
        current_api_user(),
        app,
        data.get("note", ""),
        business_date(),
        override_reason=data.get("override_reason", ""),
    )
    db.session.commit()
    return jsonify(application_json(app))


@bp.route("/applications/<int:app_id>/reject", methods=["POST"])
@api_roles(*DECIDERS)
@operation(body=shapes.Rejection, returns=shapes.Application)
def reject_application(app_id: int) -> Any:
    """Reject an application, with the reason."""
    app = visible_application(app_id)
    data = read_body(shapes.Rejection)
    applications.reject(current_api_user(), app, data["reason"])
    db.session.commit()
    return jsonify(application_json(app))


@bp.route("/applications/<int:app_id>/withdraw", methods=["POST"])
@api_roles(Role.OFFICER, Role.COOPERATIVE)
@operation(body=shapes.Withdrawal, returns=shapes.ApplicationView)
def withdraw_application(app_id: int) -> Any:
    """Withdraw an application not yet decided.

    A cooperative's user may withdraw its own until it is appraised."""
    app = visible_application(app_id)
    data = optional_body()
    only_fields(data, ("reason",))
    errors: dict[str, str] = {}
    text_shape(data, ("reason",), errors)
    invalid(errors)
    applications.withdraw(current_api_user(), app, text_value(data, "reason").strip()[:2000])
    db.session.commit()
    return jsonify(application_json(app))


# --- loans ---------------------------------------------------------------------------------


def _has_overdue(as_of: date) -> Any:
    """The loan has an instalment due before ``as_of`` and not fully paid."""
    return (
        select(Instalment.id)
        .where(
            Instalment.loan_id == Loan.id,
            Instalment.due_date < as_of,
            or_(
                Instalment.principal_paid < Instalment.principal,
                Instalment.interest_paid < Instalment.interest,
            ),
        )
        .exists()
    )


def _loan_filters(query: Any, args: dict[str, Any]) -> Any:
    if "status" in args:
        query = query.where(Loan.status == args["status"])
    if "former_district_code" in args:
        in_district = select(Cooperative.id).where(
            Cooperative.former_district_code == args["former_district_code"]
        )
        query = query.where(Loan.cooperative_id.in_(in_district))
    if "commune_code" in args:
        in_commune = [
            c.id for c in located(business_date()) if c.commune_code == args["commune_code"]
        ]
        query = query.where(Loan.cooperative_id.in_(in_commune))
    if "debt_group" in args:
        query = query.where(Loan.debt_group == args["debt_group"])
    if "origin_fund" in args:
        origin = funds.origin_filter(args["origin_fund"], "origin_fund")
        query = origin.apply(query, Loan.origin_fund_id)
    if "overdue" in args:
        overdue = _has_overdue(business_date())
        query = query.where(overdue if args["overdue"] else ~overdue)
    text = args.get("q", "").strip()
    if text:
        query = query.where(Loan.id.in_(search.loans_matching(text, borrower=False)))
    return query


@bp.route("/loans", methods=["GET"])
@api_roles(*READERS)
@operation(query=shapes.LoanQuery, returns=Page[shapes.Loan])
def list_loans() -> Any:
    """List loans, newest first, with their terms and cached figures.

    `debt_group` is the group of the last close of day; `overdue` asks whether an
    instalment is past due and unpaid on the business date. A cooperative's user sees its
    own cooperative's loans only, whatever `cooperative_id` says."""
    args = read_query(shapes.LoanQuery)
    query = _loan_filters(own_filter(select(Loan), Loan.cooperative_id, args), args)
    return jsonify(paginate(query.order_by(Loan.id.desc()), loan_json))


@bp.route("/loans/<int:loan_id>", methods=["GET"])
@api_roles(*READERS)
@operation(query=shapes.AsOfQuery, returns=shapes.LoanDetail)
def get_loan(loan_id: int) -> Any:
    """A loan: terms, status and balances.

    The balances are computed from the loan's history as of `as_of` (default: the business
    date): outstanding, overdue and due amounts, overdue interest, days past due, debt
    group and the amount that would pay it off."""
    loan = visible_loan(loan_id)
    return jsonify(loan_detail_json(loan, as_of_query()))


@bp.route("/loans/<int:loan_id>/schedule", methods=["GET"])
@api_roles(*READERS)
@operation(query=shapes.AsOfQuery, returns=shapes.Schedule)
def get_schedule(loan_id: int) -> Any:
    """The loan's repayment schedule with what has been paid on each instalment.

    Each instalment's `status` is read as of `as_of` (default: the business date)."""
    loan = visible_loan(loan_id)
    return jsonify(schedule_json(loan, as_of_query()))


@bp.route("/loans/<int:loan_id>/contract", methods=["POST"])
@api_roles(Role.OFFICER, Role.DIRECTOR)
@operation(body=shapes.ContractSigning, returns=shapes.LoanDetail)
def sign_contract(loan_id: int) -> Any:
    """Record the signing of an approved loan's contract.

    The date lies between the approval and the business date. `repayment_order` is the
    allocation order the contract chooses (default `standard`: penalty → interest →
    principal; or `principal_first`)."""
    loan = store.lock_loan(check_id(loan_id))
    data = read_body(shapes.ContractSigning)
    as_of = business_date()
    contracts.sign_contract(
        current_api_user(), loan, data["contract_date"], as_of, data.get("repayment_order")
    )
    db.session.commit()
    return jsonify(loan_detail_json(loan, as_of))


@bp.route("/loans/<int:loan_id>", methods=["PATCH"])
@api_roles(Role.OFFICER, Role.DIRECTOR)
@operation(body=shapes.LoanChanges, returns=shapes.LoanDetail)
def update_loan(loan_id: int) -> Any:
    """Change the contract's allocation order (`repayment_order`).

    Only before the first disbursement: afterwards it is read-only (409), since the
    repayments allocated under one order are not re-read under another. A body without
    fields changes nothing."""
    loan = visible_loan(loan_id)
    data = read_body(shapes.LoanChanges)
    if "repayment_order" in data:
        contracts.set_repayment_order(current_api_user(), loan, data["repayment_order"])
        db.session.commit()
    return jsonify(loan_detail_json(loan, business_date()))
