"""Applications (hồ sơ vay vốn), from draft to decision: a cooperative or an officer
prepares the file, another officer appraises it against the rules (``limits``), the
director or the board approves it within authority, and the approval creates the loan with
the policy in force (``contracts.new_loan``).

Every function takes the acting user and the business date explicitly, flushes and never
commits; a refused action raises a DomainError naming the rule and changes nothing.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from flask_babel import gettext as _
from sqlalchemy import select

from fundapp import audit
from fundapp.cooperatives.models import Cooperative
from fundapp.core import validation
from fundapp.core.security import Role, has_role
from fundapp.domain.dates import utcnow
from fundapp.domain.errors import DomainError, NotFound, PermissionDenied, ValidationFailed
from fundapp.extensions import db
from fundapp.lending.contracts import new_loan
from fundapp.lending.lifecycle import add_audited, require, transition
from fundapp.lending.limits import Check, rule_checks
from fundapp.lending.terms import check_terms, clean_terms
from fundapp.loans import numbering
from fundapp.loans.models import Application, ApplicationStatus, Loan
from fundapp.policy import services as policy

APPLICATION_FIELDS = (
    "cooperative_id", "project_name", "description", "purpose", "total_project_cost",
    "own_equity", "requested_amount", "term_months", "annual_rate", "principal_method",
    "principal_every_months", "interest_every_months", "grace_months", "custom_schedule",
    "collateral_offered",
)  # fmt: skip


def clean_application(
    data: dict, as_of: date, known: dict[str, str] | None = None
) -> dict[str, Any]:
    """Every field checked, all messages at once (with ``known`` ones found earlier)."""
    errors: dict[str, str] = dict(known or {})
    out: dict[str, Any] = {}
    coop_id = data.get("cooperative_id")
    coop = None
    if coop_id in (None, ""):
        errors["cooperative_id"] = _("Chọn hợp tác xã vay vốn.")
    elif (wanted := validation.row_id(coop_id)) is None:
        errors["cooperative_id"] = _("Hợp tác xã không tồn tại.")
    else:
        coop = db.session.get(Cooperative, wanted)
        if coop is None:
            errors["cooperative_id"] = _("Hợp tác xã không tồn tại.")
    out["cooperative_id"] = coop.id if coop else None
    out["project_name"] = validation.text(data, "project_name", 200, True, errors)
    out["description"] = validation.text(data, "description", 5000, False, errors)
    out["purpose"] = validation.text(data, "purpose", 255, False, errors)
    out["collateral_offered"] = validation.text(data, "collateral_offered", 2000, False, errors)
    out["total_project_cost"] = validation.amount(data, "total_project_cost", errors)
    equity = data.get("own_equity")
    if equity in (0, "0"):
        out["own_equity"] = 0
    else:
        out["own_equity"] = validation.amount(data, "own_equity", errors)
    out["requested_amount"] = validation.amount(data, "requested_amount", errors)
    if (
        "total_project_cost" not in errors
        and "own_equity" not in errors
        and out["own_equity"] > out["total_project_cost"]
    ):
        errors["own_equity"] = _("Vốn đối ứng không được lớn hơn tổng mức đầu tư.")
    if (
        "total_project_cost" not in errors
        and "requested_amount" not in errors
        and out["requested_amount"] > out["total_project_cost"]
    ):
        errors["requested_amount"] = _("Số tiền đề nghị vay không được lớn hơn tổng mức đầu tư.")
    terms = clean_terms(data, errors, policy.value("default_annual_rate", as_of))
    check_terms(terms, out.get("requested_amount") or 0, errors)
    out.update(terms.__dict__)
    if errors:
        raise ValidationFailed(_("Dữ liệu chưa hợp lệ, xin kiểm tra lại."), errors)
    return out


def _app_snapshot(app: Application) -> dict[str, Any]:
    return {k: getattr(app, k) for k in APPLICATION_FIELDS}


def _for_actor(actor: Any, data: dict) -> tuple[dict, dict[str, str]]:
    """A cooperative applies for itself at the rate the fund's policy sets: another
    cooperative's id or a rate of its own choosing is refused. Staff data is unchanged."""
    if not has_role(actor, Role.COOPERATIVE):
        return data, {}
    if not getattr(actor, "cooperative_id", None):
        raise PermissionDenied(_("Tài khoản chưa được gắn với hợp tác xã nào."))
    errors: dict[str, str] = {}
    given = data.get("cooperative_id")
    if given not in (None, "") and str(given) != str(actor.cooperative_id):
        errors["cooperative_id"] = _("Hợp tác xã chỉ lập hồ sơ vay cho chính mình.")
    if data.get("annual_rate") not in (None, ""):
        errors["annual_rate"] = _("Lãi suất do Quỹ quy định theo chính sách cho vay.")
    return {**data, "cooperative_id": actor.cooperative_id, "annual_rate": None}, errors


def _lock(app: Application) -> None:
    """``app`` re-read and locked to the end of the transaction, before its status is
    checked: of two decisions at once the second waits and then sees the first (FOR UPDATE
    on PostgreSQL; on SQLite each transaction runs alone, see ``core.db``)."""
    db.session.execute(
        select(Application)
        .where(Application.id == app.id)
        .with_for_update(of=Application)
        .execution_options(populate_existing=True)
    ).scalar_one()


def _check_own(actor: Any, app: Application) -> None:
    """A cooperative acts on its own applications only; another's is not found."""
    if has_role(actor, Role.COOPERATIVE) and app.cooperative_id != actor.cooperative_id:
        raise NotFound(_("Không tìm thấy hồ sơ vay."))


def create_application(actor: Any, data: dict, as_of: date) -> Application:
    require(actor, Role.OFFICER, Role.COOPERATIVE)
    data, known = _for_actor(actor, data)
    values = clean_application(data, as_of, known)
    app = Application(
        **values,
        created_by_id=actor.id,
        officer_id=actor.id if has_role(actor, Role.OFFICER) else None,
    )
    add_audited(actor, app, "application.create", "application", _app_snapshot(app))
    return app


def update_application(actor: Any, app: Application, data: dict, as_of: date) -> Application:
    require(actor, Role.OFFICER, Role.COOPERATIVE)
    _lock(app)
    _check_own(actor, app)
    if app.status != ApplicationStatus.DRAFT:
        raise DomainError(_("Chỉ sửa được hồ sơ ở trạng thái nháp."))
    data, known = _for_actor(actor, data)
    values = clean_application(data, as_of, known)
    before = _app_snapshot(app)
    for key, value in values.items():
        setattr(app, key, value)
    db.session.flush()
    old, new = audit.diff(before, _app_snapshot(app))
    if new:
        audit.record(actor, "application.update", "application", app.id, old, new)
    return app


def submit(actor: Any, app: Application) -> None:
    require(actor, Role.OFFICER, Role.COOPERATIVE)
    _lock(app)
    _check_own(actor, app)
    transition(app, ApplicationStatus.SUBMITTED, actor)
    app.submitted_at = utcnow()


def withdraw(actor: Any, app: Application, reason: str) -> None:
    require(actor, Role.OFFICER, Role.COOPERATIVE)
    _lock(app)
    _check_own(actor, app)
    if has_role(actor, Role.COOPERATIVE) and app.status == ApplicationStatus.APPRAISED:
        # The fund has done its appraisal: withdrawing now goes through the officer.
        raise DomainError(
            _("Hồ sơ đã được thẩm định; muốn rút hồ sơ xin liên hệ cán bộ tín dụng của Quỹ.")
        )
    transition(app, ApplicationStatus.WITHDRAWN, actor, reason)


def prepared_by(actor: Any, app: Application) -> bool:
    """Whether ``actor`` prepared ``app``: created it, or is its officer."""
    return actor.id in {app.created_by_id, app.officer_id}


def may_appraise(actor: Any, app: Application, as_of: date) -> bool:
    """The policy's ``self_appraisal_allowed`` (default no): may the officer who prepared
    the file appraise it too?"""
    return not prepared_by(actor, app) or bool(policy.value("self_appraisal_allowed", as_of))


def check_appraiser(actor: Any, app: Application, as_of: date) -> None:
    if not may_appraise(actor, app, as_of):
        raise PermissionDenied(
            _(
                "Cán bộ lập hồ sơ không được tự thẩm định hồ sơ của mình: cần một cán bộ tín "
                "dụng khác thẩm định (chính sách cho vay của Quỹ, tham số “Cán bộ lập hồ sơ "
                "được tự thẩm định”)."
            )
        )


def appraise(
    actor: Any, app: Application, recommended_amount: Any, note: str, as_of: date
) -> list[Check]:
    require(actor, Role.OFFICER)
    _lock(app)
    if app.status != ApplicationStatus.SUBMITTED:
        raise DomainError(_("Chỉ thẩm định hồ sơ đã nộp."))
    check_appraiser(actor, app, as_of)
    errors: dict[str, str] = {}
    amount = validation.amount(
        {"recommended_amount": recommended_amount}, "recommended_amount", errors
    )
    if not errors and amount > app.requested_amount:
        errors["recommended_amount"] = _("Số đề nghị cho vay không vượt số tiền xin vay.")
    clean_note = validation.text({"note": note}, "note", 5000, True, errors)
    if errors:
        raise ValidationFailed(_("Dữ liệu chưa hợp lệ, xin kiểm tra lại."), errors)
    checks = rule_checks(app, amount, as_of)
    transition(app, ApplicationStatus.APPRAISED, actor)
    app.appraised_by_id = actor.id
    app.appraised_at = utcnow()
    app.recommended_amount = amount
    app.appraisal_note = clean_note
    app.appraisal_checks = [c.__dict__ for c in checks]
    audit.record(
        actor,
        "application.appraise",
        "application",
        app.id,
        None,
        {"recommended_amount": amount, "checks": app.appraisal_checks},
    )
    return checks


def reject(actor: Any, app: Application, reason: str) -> None:
    require(actor, Role.DIRECTOR, Role.BOARD)
    if not (reason or "").strip():
        raise ValidationFailed(_("Cần ghi lý do từ chối."), {"reason": _("Cần ghi lý do từ chối.")})
    _lock(app)
    if app.appraised_by_id == actor.id:
        raise PermissionDenied(_("Người thẩm định không được tự quyết định hồ sơ của mình."))
    transition(app, ApplicationStatus.REJECTED, actor, reason.strip())
    app.decided_by_id, app.decided_at, app.decision_note = actor.id, utcnow(), reason.strip()


def approve(
    actor: Any, app: Application, note: str, as_of: date, override_reason: str = ""
) -> Loan:
    """Approve within authority; creates the loan with the policy snapshot."""
    require(actor, Role.DIRECTOR, Role.BOARD)
    _lock(app)
    if app.status != ApplicationStatus.APPRAISED:
        raise DomainError(_("Chỉ phê duyệt hồ sơ đã thẩm định."))
    if app.appraised_by_id == actor.id or app.created_by_id == actor.id:
        raise PermissionDenied(_("Người lập hoặc thẩm định hồ sơ không được tự phê duyệt."))
    amount = app.recommended_amount or app.requested_amount
    checks = rule_checks(app, amount, as_of, approver=actor)
    failed = [c for c in checks if not c.passed]
    blocking = [c for c in failed if c.blocking]
    if blocking:
        raise DomainError(
            _(
                "Không phê duyệt được: %(r)s.",
                r="; ".join(f"{c.label} ({c.detail})" for c in blocking),
            )
        )
    if failed:
        if not has_role(actor, Role.BOARD):
            raise DomainError(
                _(
                    "Vượt giới hạn: %(r)s. Chỉ Hội đồng quản lý được phê duyệt vượt giới hạn, "
                    "kèm lý do.",
                    r="; ".join(f"{c.label} ({c.detail})" for c in failed),
                )
            )
        if not (override_reason or "").strip():
            msg = _("Phê duyệt vượt giới hạn cần ghi rõ lý do.")
            raise ValidationFailed(msg, {"override_reason": msg})
    transition(app, ApplicationStatus.APPROVED, actor, note)
    app.decided_by_id, app.decided_at = actor.id, utcnow()
    app.decision_note = (note or "").strip()[:5000]
    app.override_reason = (override_reason or "").strip()[:5000] if failed else ""
    loan = new_loan(
        actor,
        app,
        as_of,
        note or "",
        contract_no=numbering.next_number(f"HD-{as_of.year}", 4),
        application_id=app.id,
        cooperative_id=app.cooperative_id,
        officer_id=app.officer_id or app.appraised_by_id,
        project_name=app.project_name,
        purpose=app.purpose,
        amount=amount,
    )
    audit.record(
        actor,
        "loan.create",
        "loan",
        loan.id,
        None,
        {"contract_no": loan.contract_no, "amount": amount, "override_reason": app.override_reason},
    )
    return loan
