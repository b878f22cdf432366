"""API v1: applications, loans, schedules, disbursements, repayments, reversals."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Any

from flask import abort, jsonify, request
from flask_babel import gettext as _
from sqlalchemy import select

from fundapp.api import bp
from fundapp.api.common import api_roles, body, current_api_user, idempotent, only_fields, paginate
from fundapp.core import validation
from fundapp.core.dates import business_date
from fundapp.core.errors import ValidationFailed
from fundapp.core.security import STAFF_READ, Role, can_see_cooperative, has_role
from fundapp.extensions import db
from fundapp.lending import book
from fundapp.lending import services as lending
from fundapp.lending.models import (
    Application,
    ApplicationStatus,
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
            or not isinstance(item[0], str)
            or isinstance(item[1], bool)
            or not isinstance(item[1], int)
        ):
            errors[key] = _('Mỗi kỳ là ["YYYY-MM-DD", số tiền nguyên đồng].')
            return


def _text(data: dict[str, Any], key: str) -> str:
    value = data.get(key)
    return value if isinstance(value, str) else ""


def _query_int(name: str) -> int | None:
    raw = request.args.get(name, "").strip()
    if not raw:
        return None
    if not raw.isdigit() or len(raw) > 12:
        raise ValidationFailed(
            _("Tham số %(n)s phải là số nguyên.", n=name), {name: _("Giá trị không hợp lệ.")}
        )
    return int(raw)


def _query_status(allowed: tuple[str, ...]) -> str | None:
    raw = request.args.get("status", "").strip()
    if not raw:
        return None
    if raw not in allowed:
        raise ValidationFailed(
            _("Trạng thái không hợp lệ; một trong: %(s)s.", s=", ".join(allowed)),
            {"status": _("Giá trị không hợp lệ.")},
        )
    return raw


def _as_of() -> date:
    errors: dict[str, str] = {}
    as_of = validation.iso_date(dict(request.args), "as_of", errors, required=False)
    if errors:
        raise ValidationFailed(_("Ngày không hợp lệ."), errors)
    return as_of or business_date()


# --- shape of JSON output ------------------------------------------------------------------


def _rate(value: Decimal | None) -> str | None:
    return None if value is None else format(Decimal(value).normalize(), "f")


def _day(value: date | None) -> str | None:
    return value.isoformat() if value else None


def _ts(value: datetime | None) -> str | None:
    return value.isoformat().replace("+00:00", "Z") if value else None


def application_json(app: Application) -> dict[str, Any]:
    return {
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
        "created_at": _ts(app.created_at),
        "submitted_at": _ts(app.submitted_at),
        "recommended_amount": app.recommended_amount,
        "appraised_by_id": app.appraised_by_id,
        "appraised_at": _ts(app.appraised_at),
        "appraisal_note": app.appraisal_note,
        # The rule checks as they stood at appraisal; null until then.
        "checks": app.appraisal_checks,
        "decided_by_id": app.decided_by_id,
        "decided_at": _ts(app.decided_at),
        "decision_note": app.decision_note,
        "override_reason": app.override_reason,
        "loan_id": app.loan.id if app.loan else None,
    }


def loan_json(loan: Loan) -> dict[str, Any]:
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


def balances_json(loan: Loan, as_of: date) -> dict[str, Any]:
    state = book.replay(loan)
    b = state.balances(as_of)
    group = book.own_group(loan, b.days_past_due)
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


def loan_detail_json(loan: Loan, as_of: date) -> dict[str, Any]:
    return {**loan_json(loan), "balances": balances_json(loan, as_of)}


def disbursement_json(d: Disbursement) -> dict[str, Any]:
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
        "decided_at": _ts(d.decided_at),
        "journal_entry_id": d.journal_entry_id,
    }


def repayment_json(r: Repayment) -> dict[str, Any]:
    lines: list[dict[str, Any]] = [
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


def reversal_json(r: Reversal) -> dict[str, Any]:
    return {
        "id": r.id,
        "status": r.status,
        "repayment_id": r.repayment_id,
        "reason": r.reason,
        "requested_by_id": r.requested_by_id,
        "approved_by_id": r.approved_by_id,
        "decided_at": _ts(r.decided_at),
    }


def restructuring_json(r: Restructuring) -> dict[str, Any]:
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
        "decided_at": _ts(r.decided_at),
    }


# --- objects, with the cooperative's own-data rule ------------------------------------------


def _application(app_id: int) -> Application:
    app = db.session.get(Application, app_id)
    # Another cooperative's record is "not found", so ids cannot be probed.
    if app is None or not can_see_cooperative(current_api_user(), app.cooperative_id):
        abort(404)
    return app


def _loan(loan_id: int) -> Loan:
    loan = db.session.get(Loan, loan_id)
    if loan is None or not can_see_cooperative(current_api_user(), loan.cooperative_id):
        abort(404)
    return loan


def _exists(model: Any, object_id: int) -> None:
    """404 before looking at the body: an unknown object is not a validation problem."""
    if db.session.get(model, object_id) is None:
        abort(404)


def _own_filter(query: Any, column: Any) -> Any:
    user = current_api_user()
    if has_role(user, *STAFF_READ):
        coop_id = _query_int("cooperative_id")
        return query if coop_id is None else query.where(column == coop_id)
    return query.where(column == (user.cooperative_id or -1))


# --- applications --------------------------------------------------------------------------


@bp.route("/applications", methods=["GET"])
@api_roles(*READERS)
def list_applications() -> Any:
    query = _own_filter(select(Application), Application.cooperative_id)
    status = _query_status(tuple(s.value for s in ApplicationStatus))
    if status:
        query = query.where(Application.status == status)
    return jsonify(paginate(query.order_by(Application.id.desc()), application_json))


@bp.route("/applications", methods=["POST"])
@api_roles(Role.OFFICER)
def create_application() -> Any:
    data = body()
    only_fields(data, lending.APPLICATION_FIELDS)
    errors: dict[str, str] = {}
    _money_shape(data, APPLICATION_MONEY, errors)
    _text_shape(data, (*APPLICATION_TEXTS, "principal_method"), errors)
    _rate_shape(data, "annual_rate", errors)
    _plan_shape(data, "custom_schedule", errors)
    _invalid(errors)
    app = lending.create_application(current_api_user(), data, business_date())
    db.session.commit()
    return jsonify(application_json(app)), 201


@bp.route("/applications/<int:app_id>", methods=["GET"])
@api_roles(*READERS)
def get_application(app_id: int) -> Any:
    return jsonify(application_json(_application(app_id)))


@bp.route("/applications/<int:app_id>/submit", methods=["POST"])
@api_roles(Role.OFFICER)
def submit_application(app_id: int) -> Any:
    app = _application(app_id)
    only_fields(_optional_body(), ())
    lending.submit(current_api_user(), app)
    db.session.commit()
    return jsonify(application_json(app))


@bp.route("/applications/<int:app_id>/appraise", methods=["POST"])
@api_roles(Role.OFFICER)
def appraise_application(app_id: int) -> Any:
    app = _application(app_id)
    data = body()
    only_fields(data, ("recommended_amount", "note"))
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
def approve_application(app_id: int) -> Any:
    app = _application(app_id)
    data = _optional_body()
    only_fields(data, ("note", "override_reason"))
    errors: dict[str, str] = {}
    _text_shape(data, ("note", "override_reason"), errors)
    _invalid(errors)
    lending.approve(
        current_api_user(),
        app,
        _text(data, "note"),
        business_date(),
        override_reason=_text(data, "override_reason"),
    )
    db.session.commit()
    return jsonify(application_json(app))


@bp.route("/applications/<int:app_id>/reject", methods=["POST"])
@api_roles(*DECIDERS)
def reject_application(app_id: int) -> Any:
    app = _application(app_id)
    data = body()
    only_fields(data, ("reason",))
    errors: dict[str, str] = {}
    _text_shape(data, ("reason",), errors)
    _invalid(errors)
    lending.reject(current_api_user(), app, _text(data, "reason"))
    db.session.commit()
    return jsonify(application_json(app))


@bp.route("/applications/<int:app_id>/withdraw", methods=["POST"])
@api_roles(Role.OFFICER)
def withdraw_application(app_id: int) -> Any:
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


@bp.route("/loans", methods=["GET"])
@api_roles(*READERS)
def list_loans() -> Any:
    query = _own_filter(select(Loan), Loan.cooperative_id)
    status = _query_status(tuple(s.value for s in LoanStatus))
    if status:
        query = query.where(Loan.status == status)
    return jsonify(paginate(query.order_by(Loan.id.desc()), loan_json))


@bp.route("/loans/<int:loan_id>", methods=["GET"])
@api_roles(*READERS)
def get_loan(loan_id: int) -> Any:
    loan = _loan(loan_id)
    return jsonify(loan_detail_json(loan, _as_of()))


@bp.route("/loans/<int:loan_id>/schedule", methods=["GET"])
@api_roles(*READERS)
def get_schedule(loan_id: int) -> Any:
    loan = _loan(loan_id)
    as_of = _as_of()
    rows = db.session.scalars(
        select(Instalment).where(Instalment.loan_id == loan.id).order_by(Instalment.no)
    )
    return jsonify(
        {
            "loan_id": loan.id,
            "as_of": as_of.isoformat(),
            "instalments": [
                {
                    "no": i.no,
                    "due_date": i.due_date.isoformat(),
                    "principal": i.principal,
                    "interest": i.interest,
                    "total": i.total,
                    "principal_paid": i.principal_paid,
                    "interest_paid": i.interest_paid,
                    "penalty_paid": i.penalty_paid,
                    "paid_on": _day(i.paid_on),
                    "status": i.status_on(as_of),
                }
                for i in rows
            ],
        }
    )


@bp.route("/loans/<int:loan_id>/contract", methods=["POST"])
@api_roles(Role.OFFICER, Role.DIRECTOR)
def sign_contract(loan_id: int) -> Any:
    loan = book.lock_loan(loan_id)
    data = body()
    only_fields(data, ("contract_date",))
    errors: dict[str, str] = {}
    contract_date = validation.iso_date(data, "contract_date", errors)
    _invalid(errors)
    as_of = business_date()
    lending.sign_contract(current_api_user(), loan, contract_date, as_of)  # type: ignore[arg-type]
    db.session.commit()
    return jsonify(loan_detail_json(loan, as_of))


# --- disbursements -------------------------------------------------------------------------


@bp.route("/loans/<int:loan_id>/disbursements", methods=["POST"])
@api_roles(Role.ACCOUNTANT)
@idempotent
def record_disbursement(loan_id: int) -> Any:
    _loan(loan_id)
    data = body()
    only_fields(data, ("amount", "date", "reference"))
    errors: dict[str, str] = {}
    _money_shape(data, ("amount",), errors)
    _text_shape(data, ("date", "reference"), errors)
    _invalid(errors)
    disbursement = lending.record_disbursement(current_api_user(), loan_id, data, business_date())
    return jsonify(disbursement_json(disbursement)), 201  # committed by @idempotent


@bp.route("/disbursements/<int:disbursement_id>/approve", methods=["POST"])
@api_roles(Role.DIRECTOR)
@idempotent
def approve_disbursement(disbursement_id: int) -> Any:
    _exists(Disbursement, disbursement_id)
    only_fields(_optional_body(), ())
    disbursement = lending.approve_disbursement(
        current_api_user(), disbursement_id, business_date()
    )
    return jsonify(disbursement_json(disbursement))  # committed by @idempotent


@bp.route("/disbursements/<int:disbursement_id>/reject", methods=["POST"])
@api_roles(Role.DIRECTOR)
def reject_disbursement(disbursement_id: int) -> Any:
    _exists(Disbursement, disbursement_id)
    data = _optional_body()
    only_fields(data, ("reason",))
    errors: dict[str, str] = {}
    _text_shape(data, ("reason",), errors)
    _invalid(errors)
    disbursement = lending.reject_disbursement(
        current_api_user(), disbursement_id, _text(data, "reason").strip()
    )
    db.session.commit()
    return jsonify(disbursement_json(disbursement))


# --- repayments and reversals --------------------------------------------------------------


@bp.route("/loans/<int:loan_id>/repayments", methods=["GET"])
@api_roles(*READERS)
def list_repayments(loan_id: int) -> Any:
    loan = _loan(loan_id)
    query = (
        select(Repayment)
        .where(Repayment.loan_id == loan.id)
        .order_by(Repayment.value_date, Repayment.id)
    )
    return jsonify(paginate(query, repayment_json))


@bp.route("/loans/<int:loan_id>/repayments", methods=["POST"])
@api_roles(Role.ACCOUNTANT)
@idempotent
def record_repayment(loan_id: int) -> Any:
    _loan(loan_id)
    data = body()
    only_fields(data, ("amount", "date", "reference", "method"))
    errors: dict[str, str] = {}
    _money_shape(data, ("amount",), errors)
    _text_shape(data, ("date", "reference", "method"), errors)
    _invalid(errors)
    repayment = repayments.record_repayment(current_api_user(), loan_id, data, business_date())
    return jsonify(repayment_json(repayment)), 201  # committed by @idempotent


@bp.route("/repayments/<int:repayment_id>/reverse", methods=["POST"])
@api_roles(Role.ACCOUNTANT)
def request_reversal(repayment_id: int) -> Any:
    _exists(Repayment, repayment_id)
    data = body()
    only_fields(data, ("reason",))
    errors: dict[str, str] = {}
    _text_shape(data, ("reason",), errors)
    _invalid(errors)
    reversal = repayments.request_reversal(current_api_user(), repayment_id, _text(data, "reason"))
    db.session.commit()
    return jsonify(reversal_json(reversal)), 201


@bp.route("/reversals/<int:reversal_id>/approve", methods=["POST"])
@api_roles(Role.DIRECTOR)
@idempotent
def approve_reversal(reversal_id: int) -> Any:
    _exists(Reversal, reversal_id)
    data = _optional_body()
    only_fields(data, ("note",))
    errors: dict[str, str] = {}
    _text_shape(data, ("note",), errors)
    _invalid(errors)
    reversal = repayments.decide_reversal(
        current_api_user(), reversal_id, True, business_date(), _text(data, "note").strip()
    )
    return jsonify(reversal_json(reversal))  # committed by @idempotent


@bp.route("/reversals/<int:reversal_id>/reject", methods=["POST"])
@api_roles(Role.DIRECTOR)
def reject_reversal(reversal_id: int) -> Any:
    _exists(Reversal, reversal_id)
    data = _optional_body()
    only_fields(data, ("reason",))
    errors: dict[str, str] = {}
    _text_shape(data, ("reason",), errors)
    _invalid(errors)
    reversal = repayments.decide_reversal(
        current_api_user(), reversal_id, False, business_date(), _text(data, "reason").strip()
    )
    db.session.commit()
    return jsonify(reversal_json(reversal))


# --- restructuring -------------------------------------------------------------------------


@bp.route("/loans/<int:loan_id>/restructurings", methods=["POST"])
@api_roles(Role.OFFICER)
def request_restructuring(loan_id: int) -> Any:
    _loan(loan_id)
    data = body()
    only_fields(data, ("kind", "effective_date", "new_maturity", "principal_plan", "reason"))
    errors: dict[str, str] = {}
    _text_shape(data, ("kind", "effective_date", "new_maturity", "reason"), errors)
    _plan_shape(data, "principal_plan", errors)
    _invalid(errors)
    restructuring = lending.request_restructuring(
        current_api_user(), loan_id, data, business_date()
    )
    db.session.commit()
    return jsonify(restructuring_json(restructuring)), 201


def _decide_restructuring(restructuring_id: int, approve_it: bool) -> Any:
    _exists(Restructuring, restructuring_id)
    data = _optional_body()
    only_fields(data, ("note",) if approve_it else ("reason",))
    key = "note" if approve_it else "reason"
    errors: dict[str, str] = {}
    _text_shape(data, (key,), errors)
    _invalid(errors)
    restructuring = lending.decide_restructuring(
        current_api_user(), restructuring_id, approve_it, _text(data, key).strip(), business_date()
    )
    db.session.commit()
    return jsonify(restructuring_json(restructuring))


@bp.route("/restructurings/<int:restructuring_id>/approve", methods=["POST"])
@api_roles(*DECIDERS)
def approve_restructuring(restructuring_id: int) -> Any:
    return _decide_restructuring(restructuring_id, True)


@bp.route("/restructurings/<int:restructuring_id>/reject", methods=["POST"])
@api_roles(*DECIDERS)
def reject_restructuring(restructuring_id: int) -> Any:
    return _decide_restructuring(restructuring_id, False)
