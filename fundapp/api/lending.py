"""API v1: applications, loans, schedules, disbursements, repayments, reversals."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

from flask import abort, jsonify, request
from flask_babel import gettext as _
from sqlalchemy import or_, select

from fundapp.api import bp, shapes
from fundapp.api.common import (
    api_roles,
    body,
    check_id,
    current_api_user,
    get_or_404,
    idempotent,
    iso_days,
    only_fields,
    paginate,
    timestamp,
)
from fundapp.api.spec import MAX_ID, Page, fields_of, operation, read_body, read_query
from fundapp.cooperatives.models import Cooperative
from fundapp.core import lists, validation
from fundapp.core.dates import business_date
from fundapp.core.security import STAFF_READ, Role, can_see_cooperative, has_role
from fundapp.domain.errors import ValidationFailed
from fundapp.extensions import db
from fundapp.funds import services as funds
from fundapp.lending import services as lending
from fundapp.loans import store as book
from fundapp.loans.models import (
    Application,
    Disbursement,
    Instalment,
    Loan,
    LoanStatus,
    Repayment,
    Restructuring,
    Reversal,
)
from fundapp.repayments import services as repayments

READERS = (*STAFF_READ, Role.COOPERATIVE)
DECIDERS = (Role.DIRECTOR, Role.BOARD)

APPLICATION_TEXTS = ("project_name", "purpose", "description", "collateral_offered")
APPLICATION_MONEY = ("total_project_cost", "own_equity", "requested_amount")

# --- shape of JSON input -------------------------------------------------------------------


def _invalid(errors: dict[str, str]) -> None:
    if errors:
        raise ValidationFailed(_("Dữ liệu chưa hợp lệ, xin kiểm tra lại."), errors)


def _optional_body() -> dict[str, Any]:
    """Approvals may come without a body; anything sent must still be a JSON object."""
    if not request.get_data():
        return {}
    return body()


def _money_shape(data: dict[str, Any], keys: tuple[str, ...], errors: dict[str, str]) -> None:
    """JSON carries money as integers: a string or a float is refused, not parsed."""
    for key in keys:
        raw = data.get(key)
        if isinstance(raw, str):
            errors[key] = _("Số tiền trong JSON là số nguyên (đồng), không phải chuỗi.")
        elif isinstance(raw, float):
            errors[key] = _("Số tiền phải là số nguyên đồng, không có phần thập phân.")
        elif isinstance(raw, bool) or (raw is not None and not isinstance(raw, int)):
            errors[key] = _("Số tiền phải là số nguyên đồng.")


def _text_shape(data: dict[str, Any], keys: tuple[str, ...], errors: dict[str, str]) -> None:
    for key in keys:
        if data.get(key) is not None and not isinstance(data.get(key), str):
            errors[key] = _("Phải là chuỗi.")
        elif "\x00" in (data.get(key) or ""):
            errors[key] = _("Có ký tự không hợp lệ.")


def _id_shape(data: dict[str, Any], key: str, errors: dict[str, str]) -> None:
    """An id beyond what the database holds names nothing (and would overflow a query)."""
    raw = str(data.get(key, "")).strip()
    if validation.digits(raw) and int(raw) > MAX_ID:
        errors[key] = _("Không tồn tại.")


def _rate_shape(data: dict[str, Any], key: str, errors: dict[str, str]) -> None:
    raw = data.get(key)
    if raw is None or isinstance(raw, str) or (isinstance(raw, int) and not isinstance(raw, bool)):
        return
    errors[key] = _('Lãi suất là chuỗi (ví dụ "7.2") hoặc số nguyên, không phải số thực.')


def _plan_shape(data: dict[str, Any], key: str, errors: dict[str, str]) -> None:
    """``[["YYYY-MM-DD", amount], …]`` with integer amounts."""
    raw = data.get(key)
    if raw is None:
        return
    if not isinstance(raw, list):
        errors[key] = _('Là danh sách [["YYYY-MM-DD", số tiền], …].')
        return
    for item in raw:
        if (
            not isinstance(item, list)
            or len(item) != 2
            or validation.iso_day(item[0]) is None
            or isinstance(item[1], bool)
            or not isinstance(item[1], int)
        ):
            errors[key] = _('Mỗi kỳ là ["YYYY-MM-DD", số tiền nguyên đồng].')
            return


def _text(data: dict[str, Any], key: str) -> str:
    value = data.get(key)
    return value if isinstance(value, str) else ""


def _as_of() -> date:
    errors: dict[str, str] = {}
    as_of = validation.iso_date(read_query(shapes.AsOfQuery), "as_of", errors, required=False)
    if errors:
        raise ValidationFailed(_("Ngày không hợp lệ."), errors)
    return as_of or business_date()


# --- shape of JSON output ------------------------------------------------------------------


def _rate(value: Decimal | None) -> str | None:
    return None if value is None else format(Decimal(value).normalize(), "f")


def _day(value: date | None) -> str | None:
    return value.isoformat() if value else None


# What only the fund's staff read of an application: the appraisal (its rule checks hold
# the fund's cash and charter capital, and the debt of the other borrowers of a related
# group), the appraiser's note, the board's override and who handled it. A cooperative's user
# reads the status, its own figures and the decision with its reasons (as the portal shows).
STAFF_ONLY = (
    "created_by_id",
    "recommended_amount",
    "appraised_by_id",
    "appraisal_note",
    "checks",
    "decided_by_id",
    "override_reason",
)


def application_json(app: Application) -> shapes.Application | shapes.OwnApplication:
    """The application as the API's user may read it: staff whole, a cooperative without
    the fund's internals (``STAFF_ONLY``)."""
    data: dict[str, Any] = {
        "id": app.id,
        "status": app.status,
        "cooperative_id": app.cooperative_id,
        "cooperative_name": app.cooperative.name if app.cooperative else None,
        "project_name": app.project_name,
        "purpose": app.purpose,
        "description": app.description,
        "total_project_cost": app.total_project_cost,
        "own_equity": app.own_equity,
        "requested_amount": app.requested_amount,
        "term_months": app.term_months,
        "annual_rate": _rate(app.annual_rate),
        "principal_method": app.principal_method,
        "principal_every_months": app.principal_every_months,
        "interest_every_months": app.interest_every_months,
        "grace_months": app.grace_months,
        "custom_schedule": app.custom_schedule,
        "collateral_offered": app.collateral_offered,
        "created_by_id": app.created_by_id,
        "created_at": timestamp(app.created_at),
        "submitted_at": timestamp(app.submitted_at),
        "recommended_amount": app.recommended_amount,
        "appraised_by_id": app.appraised_by_id,
        "appraised_at": timestamp(app.appraised_at),
        "appraisal_note": app.appraisal_note,
        # The rule checks as they stood at appraisal; null until then.
        "checks": app.appraisal_checks,
        "decided_by_id": app.decided_by_id,
        "decided_at": timestamp(app.decided_at),
        "decision_note": app.decision_note,
        "override_reason": app.override_reason,
        "loan_id": app.loan.id if app.loan else None,
    }
    if not has_role(current_api_user(), *STAFF_READ):
        for key in STAFF_ONLY:
            del data[key]
    return data  # type: ignore[return-value]


def loan_json(loan: Loan) -> shapes.Loan:
    """The loan's terms and cached figures (cheap: no replay; lists use this)."""
    return {
        "id": loan.id,
        "contract_no": loan.contract_no,
        "application_id": loan.application_id,
        "cooperative_id": loan.cooperative_id,
        "cooperative_name": loan.cooperative.name if loan.cooperative else None,
        "project_name": loan.project_name,
        "purpose": loan.purpose,
        "status": loan.status,
        "amount": loan.amount,
        "term_months": loan.term_months,
        "annual_rate": _rate(loan.annual_rate),
        "principal_method": loan.principal_method,
        "principal_every_months": loan.principal_every_months,
        "interest_every_months": loan.interest_every_months,
        "grace_months": loan.grace_months,
        "custom_schedule": loan.custom_schedule,
        "repayment_order": loan.repayment_order,
        "prepayment_mode": loan.prepayment_mode,
        "origin_fund": funds.code_of(loan.origin_fund_id),
        "overdue_rate_pct": _rate(loan.overdue_multiplier),
        "late_interest_rate": _rate(loan.late_rate),
        "approved_on": _day(loan.approved_on),
        "contract_date": _day(loan.contract_date),
        "first_disbursement_date": _day(loan.first_disbursement_date),
        "maturity_date": _day(loan.maturity_date),
        "closed_on": _day(loan.closed_on),
        "disbursed": loan.disbursed,
        "principal_outstanding": loan.principal_outstanding,
        "principal_paid": loan.principal_paid,
        "interest_paid": loan.interest_paid,
        "penalty_paid": loan.penalty_paid,
        "written_off": loan.written_off,
        "term_adjustments": loan.term_adjustments,
        "extensions": loan.extensions,
    }


def balances_json(loan: Loan, as_of: date) -> shapes.Balances:
    state = book.replay(loan)
    b = state.balances(as_of)
    group = book.live_group(loan, state, as_of)
    return {
        "as_of": as_of.isoformat(),
        "disbursed": b.disbursed,
        "principal_outstanding": max(b.principal_outstanding - loan.written_off, 0),
        "principal_overdue": b.principal_overdue,
        "principal_due": b.principal_due,
        "interest_due": b.interest_due,
        "interest_overdue": b.interest_overdue,
        "penalty_due": b.penalty_due,
        "total_due": b.total_due,
        "days_past_due": b.days_past_due,
        "oldest_unpaid_due_date": _day(b.oldest_unpaid_due_date),
        "debt_group": group,
        # As the loan page shows it: only an active loan has something to pay off (the
        # engine would count again the interest a closing repayment paid up to its date).
        "payoff_amount": state.payoff_amount(as_of) if loan.status == LoanStatus.ACTIVE else 0,
    }


def loan_detail_json(loan: Loan, as_of: date) -> shapes.LoanDetail:
    return {**loan_json(loan), "balances": balances_json(loan, as_of)}


def instalment_json(i: Instalment, as_of: date) -> shapes.Instalment:
    return {
        "no": i.no,
        "due_date": i.due_date.isoformat(),
        "principal": i.principal,
        "interest": i.interest,
        "total": i.total,
        "principal_paid": i.principal_paid,
        # Money received; what an interest relief waived is shown apart.
        "interest_paid": i.interest_paid - i.interest_waived,
        "penalty_paid": i.penalty_paid - i.penalty_waived,
        "interest_waived": i.interest_waived,
        "penalty_waived": i.penalty_waived,
        "paid_on": _day(i.paid_on),
        "status": i.status_on(as_of),  # type: ignore[typeddict-item]
    }


def schedule_json(loan: Loan, as_of: date) -> shapes.Schedule:
    rows = db.session.scalars(
        select(Instalment).where(Instalment.loan_id == loan.id).order_by(Instalment.no)
    )
    return {
        "loan_id": loan.id,
        "as_of": as_of.isoformat(),
        "instalments": [instalment_json(i, as_of) for i in rows],
    }


def disbursement_json(d: Disbursement) -> shapes.Disbursement:
    return {
        "id": d.id,
        "loan_id": d.loan_id,
        "status": d.status,
        "receipt_no": d.receipt_no,
        "amount": d.amount,
        "date": _day(d.value_date),
        "reference": d.reference,
        "recorded_by_id": d.recorded_by_id,
        "approved_by_id": d.approved_by_id,
        "decided_at": timestamp(d.decided_at),
        "journal_entry_id": d.journal_entry_id,
    }


def repayment_json(r: Repayment) -> shapes.Repayment:
    lines: list[shapes.AllocationLine] = [
        {"no": a["no"], "component": a["component"], "amount": a["amount"]}
        for a in r.allocations or []
    ]
    if r.prepaid_principal:
        # The excess over what was due prepays principal: shown as its own line so the
        # allocation amounts always add up to the repayment.
        lines.append(
            {
                "no": None,
                "component": "principal",
                "amount": r.prepaid_principal,
                "prepayment": True,
            }
        )
    return {
        "id": r.id,
        "loan_id": r.loan_id,
        "receipt_no": r.receipt_no,
        "amount": r.amount,
        "date": _day(r.value_date),
        "method": r.method,
        "reference": r.reference,
        "reversed": r.reversed,
        "allocations": lines,
        "prepaid_principal": r.prepaid_principal,
        "recorded_by_id": r.recorded_by_id,
    }


def reversal_json(r: Reversal) -> shapes.Reversal:
    return {
        "id": r.id,
        "status": r.status,
        "repayment_id": r.repayment_id,
        "reason": r.reason,
        "requested_by_id": r.requested_by_id,
        "approved_by_id": r.approved_by_id,
        "decided_at": timestamp(r.decided_at),
    }


def restructuring_json(r: Restructuring) -> shapes.Restructuring:
    return {
        "id": r.id,
        "loan_id": r.loan_id,
        "status": r.status,
        "kind": r.kind,
        "effective_date": _day(r.effective_date),
        "new_maturity": _day(r.new_maturity),
        "principal_plan": r.principal_plan,
        "reason": r.reason,
        "requested_by_id": r.requested_by_id,
        "approved_by_id": r.approved_by_id,
        "decided_at": timestamp(r.decided_at),
    }


# --- objects, with the cooperative's own-data rule ------------------------------------------


def _application(app_id: int) -> Application:
    app = get_or_404(Application, app_id)
    # Another cooperative's record is "not found", so ids cannot be probed.
    if not can_see_cooperative(current_api_user(), app.cooperative_id):
        abort(404)
    return app


def _loan(loan_id: int) -> Loan:
    loan = get_or_404(Loan, loan_id)
    if not can_see_cooperative(current_api_user(), loan.cooperative_id):
        abort(404)
    return loan


def _exists(model: Any, object_id: int) -> None:
    """404 before looking at the body: an unknown object is not a validation problem."""
    get_or_404(model, object_id)


def _own_filter(query: Any, column: Any, args: dict[str, Any]) -> Any:
    """Staff see every cooperative's (or the one ``cooperative_id`` names); a cooperative's
    user its own only, whatever it asks for."""
    user = current_api_user()
    if has_role(user, *STAFF_READ):
        if "cooperative_id" in args:
            return query.where(column == args["cooperative_id"])
        return query
    return query.where(column == (user.cooperative_id or -1))


# --- applications --------------------------------------------------------------------------


@bp.route("/applications", methods=["GET"])
@api_roles(*READERS)
@operation(query=shapes.ApplicationQuery, returns=Page[shapes.ApplicationView])
def list_applications() -> Any:
    """List loan applications, newest first.

    A cooperative's user sees its own cooperative's applications only, whatever
    `cooperative_id` says, and without the fund's appraisal (`OwnApplication`)."""
    args = read_query(shapes.ApplicationQuery)
    query = _own_filter(select(Application), Application.cooperative_id, args)
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
    only_fields(data, lending.APPLICATION_FIELDS)
    errors: dict[str, str] = {}
    _money_shape(data, APPLICATION_MONEY, errors)
    _id_shape(data, "cooperative_id", errors)
    _text_shape(data, (*APPLICATION_TEXTS, "principal_method"), errors)
    _rate_shape(data, "annual_rate", errors)
    _plan_shape(data, "custom_schedule", errors)
    _invalid(errors)
    app = lending.create_application(current_api_user(), data, business_date())
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
    return jsonify(application_json(_application(app_id)))


@bp.route("/applications/<int:app_id>/submit", methods=["POST"])
@api_roles(Role.OFFICER, Role.COOPERATIVE)
@operation(body=shapes.NoFields, returns=shapes.ApplicationView)
def submit_application(app_id: int) -> Any:
    """Submit a draft application for appraisal."""
    app = _application(app_id)
    only_fields(_optional_body(), ())
    lending.submit(current_api_user(), app)
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
    app = _application(app_id)
    data = body()
    only_fields(data, fields_of(shapes.Appraisal))
    errors: dict[str, str] = {}
    _money_shape(data, ("recommended_amount",), errors)
    _text_shape(data, ("note",), errors)
    _invalid(errors)
    lending.appraise(
        current_api_user(),
        app,
        data.get("recommended_amount"),
        _text(data, "note"),
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
    app = _application(app_id)
    data = read_body(shapes.Approval)
    lending.approve(
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
    app = _application(app_id)
    data = read_body(shapes.Rejection)
    lending.reject(current_api_user(), app, data["reason"])
    db.session.commit()
    return jsonify(application_json(app))


@bp.route("/applications/<int:app_id>/withdraw", methods=["POST"])
@api_roles(Role.OFFICER, Role.COOPERATIVE)
@operation(body=shapes.Withdrawal, returns=shapes.ApplicationView)
def withdraw_application(app_id: int) -> Any:
    """Withdraw an application not yet decided.

    A cooperative's user may withdraw its own until it is appraised."""
    app = _application(app_id)
    data = _optional_body()
    only_fields(data, ("reason",))
    errors: dict[str, str] = {}
    _text_shape(data, ("reason",), errors)
    _invalid(errors)
    lending.withdraw(current_api_user(), app, _text(data, "reason").strip()[:2000])
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
        from fundapp.cooperatives.services import located

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
        query = query.where(Loan.id.in_(lending.loans_matching(text, borrower=False)))
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
    query = _loan_filters(_own_filter(select(Loan), Loan.cooperative_id, args), args)
    return jsonify(paginate(query.order_by(Loan.id.desc()), loan_json))


@bp.route("/loans/<int:loan_id>", methods=["GET"])
@api_roles(*READERS)
@operation(query=shapes.AsOfQuery, returns=shapes.LoanDetail)
def get_loan(loan_id: int) -> Any:
    """A loan: terms, status and balances.

    The balances are computed from the loan's history as of `as_of` (default: the business
    date): outstanding, overdue and due amounts, overdue interest, days past due, debt
    group and the amount that would pay it off."""
    loan = _loan(loan_id)
    return jsonify(loan_detail_json(loan, _as_of()))


@bp.route("/loans/<int:loan_id>/schedule", methods=["GET"])
@api_roles(*READERS)
@operation(query=shapes.AsOfQuery, returns=shapes.Schedule)
def get_schedule(loan_id: int) -> Any:
    """The loan's repayment schedule with what has been paid on each instalment.

    Each instalment's `status` is read as of `as_of` (default: the business date)."""
    loan = _loan(loan_id)
    return jsonify(schedule_json(loan, _as_of()))


@bp.route("/loans/<int:loan_id>/contract", methods=["POST"])
@api_roles(Role.OFFICER, Role.DIRECTOR)
@operation(body=shapes.ContractSigning, returns=shapes.LoanDetail)
def sign_contract(loan_id: int) -> Any:
    """Record the signing of an approved loan's contract.

    The date lies between the approval and the business date. `repayment_order` is the
    allocation order the contract chooses (default `standard`: penalty → interest →
    principal; or `principal_first`)."""
    loan = book.lock_loan(check_id(loan_id))
    data = read_body(shapes.ContractSigning)
    as_of = business_date()
    lending.sign_contract(
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
    loan = _loan(loan_id)
    data = read_body(shapes.LoanChanges)
    if "repayment_order" in data:
        lending.set_repayment_order(current_api_user(), loan, data["repayment_order"])
        db.session.commit()
    return jsonify(loan_detail_json(loan, business_date()))


# --- disbursements -------------------------------------------------------------------------


@bp.route("/loans/<int:loan_id>/disbursements", methods=["POST"])
@api_roles(Role.ACCOUNTANT)
@idempotent
@operation(body=shapes.NewDisbursement, returns=shapes.Disbursement, status=201)
def record_disbursement(loan_id: int) -> Any:
    """Record a disbursement (a tranche), pending the director's approval.

    Nothing moves until it is approved; its debt receipt number (`receipt_no`) is given
    now. The amount fits within what is approved and not yet disbursed, and within the
    fund's cash."""
    _loan(loan_id)
    data = body()
    only_fields(data, fields_of(shapes.NewDisbursement))
    errors: dict[str, str] = {}
    _money_shape(data, ("amount",), errors)
    _text_shape(data, ("date", "reference"), errors)
    iso_days(data, ("date",), errors)
    _invalid(errors)
    disbursement = lending.record_disbursement(current_api_user(), loan_id, data, business_date())
    return jsonify(disbursement_json(disbursement)), 201  # committed by @idempotent


@bp.route("/disbursements/<int:disbursement_id>/approve", methods=["POST"])
@api_roles(Role.DIRECTOR)
@idempotent
@operation(body=shapes.NoFields, returns=shapes.Disbursement)
def approve_disbursement(disbursement_id: int) -> Any:
    """Approve a pending disbursement: it is posted (Dr loans / Cr cash).

    The first one starts the loan and its schedule. Whoever recorded it may not approve
    it."""
    _exists(Disbursement, disbursement_id)
    read_body(shapes.NoFields)
    disbursement = lending.approve_disbursement(
        current_api_user(), disbursement_id, business_date()
    )
    return jsonify(disbursement_json(disbursement))  # committed by @idempotent


@bp.route("/disbursements/<int:disbursement_id>/reject", methods=["POST"])
@api_roles(Role.DIRECTOR)
@operation(body=shapes.DecisionReason, returns=shapes.Disbursement)
def reject_disbursement(disbursement_id: int) -> Any:
    """Reject a pending disbursement; nothing is posted."""
    _exists(Disbursement, disbursement_id)
    data = read_body(shapes.DecisionReason)
    disbursement = lending.reject_disbursement(
        current_api_user(), disbursement_id, data.get("reason", "").strip()
    )
    db.session.commit()
    return jsonify(disbursement_json(disbursement))


# --- repayments and reversals --------------------------------------------------------------


@bp.route("/loans/<int:loan_id>/repayments", methods=["GET"])
@api_roles(*READERS)
@operation(query=shapes.RepaymentQuery, returns=Page[shapes.Repayment])
def list_repayments(loan_id: int) -> Any:
    """List a loan's repayments by value date, with their allocations.

    Reversed ones are listed too (`reversed: true`) unless `reversed` asks otherwise."""
    loan = _loan(loan_id)
    args = read_query(shapes.RepaymentQuery)
    query = select(Repayment).where(Repayment.loan_id == loan.id)
    if "reversed" in args:
        query = query.where(Repayment.reversed == args["reversed"])
    return jsonify(paginate(query.order_by(Repayment.value_date, Repayment.id), repayment_json))


@bp.route("/loans/<int:loan_id>/repayments", methods=["POST"])
@api_roles(Role.ACCOUNTANT)
@idempotent
@operation(body=shapes.NewRepayment, returns=shapes.Repayment, status=201)
def record_repayment(loan_id: int) -> Any:
    """Record a repayment; it is allocated at once and gets its receipt number.

    Oldest instalment first; inside one, penalty interest, then interest, then principal
    (or the loan's own order). What exceeds the amount due prepays principal: one more
    allocation line with `no: null` and `prepayment: true`, so the lines add up to the
    amount. A back-dated repayment (`date` before today) is allocated as of its date."""
    _loan(loan_id)
    data = body()
    only_fields(data, fields_of(shapes.NewRepayment))
    errors: dict[str, str] = {}
    _money_shape(data, ("amount",), errors)
    _text_shape(data, ("date", "reference", "method"), errors)
    iso_days(data, ("date",), errors)
    _invalid(errors)
    repayment = repayments.record_repayment(current_api_user(), loan_id, data, business_date())
    return jsonify(repayment_json(repayment)), 201  # committed by @idempotent


@bp.route("/repayments/<int:repayment_id>/reverse", methods=["POST"])
@api_roles(Role.ACCOUNTANT)
@operation(body=shapes.ReversalRequest, returns=shapes.Reversal, status=201)
def request_reversal(repayment_id: int) -> Any:
    """Ask to reverse a repayment recorded by mistake.

    Nothing changes until the director approves it."""
    _exists(Repayment, repayment_id)
    data = read_body(shapes.ReversalRequest)
    reversal = repayments.request_reversal(current_api_user(), repayment_id, data["reason"])
    db.session.commit()
    return jsonify(reversal_json(reversal)), 201


@bp.route("/reversals/<int:reversal_id>/approve", methods=["POST"])
@api_roles(Role.DIRECTOR)
@idempotent
@operation(body=shapes.DecisionNote, returns=shapes.Reversal)
def approve_reversal(reversal_id: int) -> Any:
    """Approve a reversal: the loan is recomputed from its history without the repayment.

    Whoever recorded the repayment or asked for the reversal may not approve it."""
    _exists(Reversal, reversal_id)
    data = read_body(shapes.DecisionNote)
    reversal = repayments.decide_reversal(
        current_api_user(), reversal_id, True, business_date(), data.get("note", "").strip()
    )
    return jsonify(reversal_json(reversal))  # committed by @idempotent


@bp.route("/reversals/<int:reversal_id>/reject", methods=["POST"])
@api_roles(Role.DIRECTOR)
@operation(body=shapes.DecisionReason, returns=shapes.Reversal)
def reject_reversal(reversal_id: int) -> Any:
    """Reject a reversal: the repayment stands."""
    _exists(Reversal, reversal_id)
    data = read_body(shapes.DecisionReason)
    reversal = repayments.decide_reversal(
        current_api_user(), reversal_id, False, business_date(), data.get("reason", "").strip()
    )
    db.session.commit()
    return jsonify(reversal_json(reversal))


# --- restructuring -------------------------------------------------------------------------


@bp.route("/loans/<int:loan_id>/restructurings", methods=["POST"])
@api_roles(Role.OFFICER)
@operation(body=shapes.RestructuringRequest, returns=shapes.Restructuring, status=201)
def request_restructuring(loan_id: int) -> Any:
    """Ask to restructure an active loan (Decree 45 Art. 27), pending approval.

    A term adjustment (`term_adjustment`) moves the principal to the dates of
    `principal_plan`, maturity unchanged; an extension (`extension`) moves the maturity to
    `new_maturity`. Either counts towards the debt group's floor once approved."""
    _loan(loan_id)
    data = body()
    only_fields(data, fields_of(shapes.RestructuringRequest))
    errors: dict[str, str] = {}
    _text_shape(data, ("kind", "effective_date", "new_maturity", "reason"), errors)
    iso_days(data, ("effective_date", "new_maturity"), errors)
    _plan_shape(data, "principal_plan", errors)
    _invalid(errors)
    restructuring = lending.request_restructuring(
        current_api_user(), loan_id, data, business_date()
    )
    db.session.commit()
    return jsonify(restructuring_json(restructuring)), 201


def _decide_restructuring(restructuring_id: int, approve_it: bool) -> Any:
    _exists(Restructuring, restructuring_id)
    shape, key = (shapes.DecisionNote, "note") if approve_it else (shapes.DecisionReason, "reason")
    text = read_body(shape).get(key, "").strip()
    restructuring = lending.decide_restructuring(
        current_api_user(), restructuring_id, approve_it, text, business_date()
    )
    db.session.commit()
    return jsonify(restructuring_json(restructuring))


@bp.route("/restructurings/<int:restructuring_id>/approve", methods=["POST"])
@api_roles(*DECIDERS)
@operation(body=shapes.DecisionNote, returns=shapes.Restructuring)
def approve_restructuring(restructuring_id: int) -> Any:
    """Approve a restructuring: the schedule is rebuilt from its effective date.

    Whoever asked for it may not approve it."""
    return _decide_restructuring(restructuring_id, True)


@bp.route("/restructurings/<int:restructuring_id>/reject", methods=["POST"])
@api_roles(*DECIDERS)
@operation(body=shapes.DecisionReason, returns=shapes.Restructuring)
def reject_restructuring(restructuring_id: int) -> Any:
    """Reject a restructuring: the loan keeps its schedule."""
    return _decide_restructuring(restructuring_id, False)
