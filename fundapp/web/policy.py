from __future__ import annotations

from typing import Any

from flask import Blueprint, abort, flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_login import current_user
from flask_wtf import FlaskForm
from sqlalchemy import select

from fundapp.core import validation
from fundapp.core.dates import business_date
from fundapp.core.forms import apply_errors
from fundapp.core.security import STAFF_READ, Role, roles_required
from fundapp.domain.errors import DomainError
from fundapp.extensions import db
from fundapp.policy import services
from fundapp.policy.forms import PolicyChangeForm, PolicyDecisionForm
from fundapp.policy.models import PolicyChange, PolicyChangeStatus, PolicyParameter
from fundapp.policy.parameters import BY_KEY, PARAMS

bp = Blueprint("policy", __name__, url_prefix="/policy")
READERS = (*STAFF_READ, Role.ADMIN)


class DecisionForms:
    """The approve / reject / withdraw form of each pending change on a page: the one that
    was just refused (with its messages), fresh ones for the others."""

    def __init__(self, failed: dict[str, FlaskForm] | None = None) -> None:
        self.failed = failed or {}

    def get(self, prefix: str) -> FlaskForm:
        return self.failed.get(prefix) or PolicyDecisionForm(prefix=prefix)

    def is_open(self, prefix: str) -> bool:
        return prefix in self.failed


@bp.route("/")
@roles_required(*READERS)
def index() -> Any:
    today = business_date()
    rows = []
    for param in PARAMS:
        current = db.session.scalar(
            select(PolicyParameter)
            .where(PolicyParameter.key == param.key, PolicyParameter.effective_from <= today)
            .order_by(PolicyParameter.effective_from.desc())
            .limit(1)
        )
        upcoming = db.session.scalar(
            select(PolicyParameter)
            .where(PolicyParameter.key == param.key, PolicyParameter.effective_from > today)
            .order_by(PolicyParameter.effective_from)
            .limit(1)
        )
        rows.append({"param": param, "current": current, "upcoming": upcoming})
    return render_template(
        "policy/index.html",
        rows=rows,
        pending=services.pending_changes(),
        params=BY_KEY,
        may_decide=services.may_decide,
    )


@bp.route("/<key>")
@roles_required(*READERS)
def history(key: str) -> Any:
    BY_KEY.get(key) or abort(404)
    return _history_page(key)


def _history_page(key: str, failed: dict[str, FlaskForm] | None = None, status: int = 200) -> Any:
    param = BY_KEY[key]
    versions = list(
        db.session.scalars(
            select(PolicyParameter)
            .where(PolicyParameter.key == key)
            .order_by(PolicyParameter.effective_from.desc())
        )
    )
    approved = {
        c.policy_parameter_id: c
        for c in db.session.scalars(
            select(PolicyChange).where(
                PolicyChange.key == key, PolicyChange.status == PolicyChangeStatus.APPROVED
            )
        )
    }
    return (
        render_template(
            "policy/history.html",
            param=param,
            versions=versions,
            approved=approved,
            pending=services.pending_changes(key),
            decided=services.decided_changes(key),
            forms=DecisionForms(failed),
            may_decide=services.may_decide,
            status_labels=services.STATUS_LABELS,
        ),
        status,
    )


@bp.route("/<key>/change", methods=["GET", "POST"])
@roles_required(Role.BOARD)
def change(key: str) -> Any:
    param = BY_KEY.get(key) or abort(404)
    form = PolicyChangeForm()
    if not form.is_submitted():
        form.value.data = services.raw_value(key, business_date())
        form.effective_from.data = business_date().strftime("%d/%m/%Y")
        form.legal_reference.data = param.legal_reference
    if form.validate_on_submit():
        errors: dict[str, str] = {}
        effective = validation.iso_date({"d": form.effective_from.data}, "d", errors)
        try:
            services.propose(
                current_user,
                key,
                form.value.data or "",
                None if errors else effective,
                form.legal_reference.data or "",
                form.note.data or "",
                business_date(),
            )
        except DomainError as exc:
            db.session.rollback()
            if errors:
                exc.fields["effective_from"] = errors["d"]
            apply_errors(form, exc)
        else:
            db.session.commit()
            flash(
                _(
                    "Đã gửi đề xuất thay đổi. Giá trị mới chỉ được áp dụng khi một thành viên "
                    "Hội đồng quản lý khác phê duyệt."
                ),
                "success",
            )
            return redirect(url_for(".history", key=key, _anchor="pending"))
    return render_template(
        "policy/change.html",
        param=param,
        form=form,
        allowed=param.allowed(business_date()),
        pending=services.pending_changes(key),
    )


def _decide(item_id: int, action: str) -> Any:
    item = db.get_or_404(PolicyChange, item_id)
    prefix = f"chg{item.id}-{action}"
    form = PolicyDecisionForm(prefix=prefix)
    key = item.key
    if not form.validate_on_submit():
        flash(_("Biểu mẫu không hợp lệ, xin tải lại trang và thử lại."), "error")
        return _history_page(key, {prefix: form}, 400)
    note = form.note.data or ""
    try:
        if action == "approve":
            services.approve(current_user, item.id, business_date(), note)
            message = _(
                "Đã phê duyệt: giá trị mới áp dụng từ ngày %(d)s.",
                d=item.effective_from.strftime("%d/%m/%Y"),
            )
        elif action == "reject":
            services.reject(current_user, item.id, note)
            message = _("Đã từ chối đề xuất thay đổi.")
        else:
            services.withdraw(current_user, item.id, note)
            message = _("Đã rút đề xuất thay đổi.")
    except DomainError as exc:
        db.session.rollback()
        apply_errors(form, exc)
        return _history_page(key, {prefix: form}, exc.status_code)
    db.session.commit()
    flash(message, "success")
    return redirect(url_for(".history", key=key, _anchor="changes"))


@bp.route("/changes/<int:item_id>/approve", methods=["POST"])
@roles_required(Role.BOARD)
def approve_change(item_id: int) -> Any:
    return _decide(item_id, "approve")


@bp.route("/changes/<int:item_id>/reject", methods=["POST"])
@roles_required(Role.BOARD)
def reject_change(item_id: int) -> Any:
    return _decide(item_id, "reject")


@bp.route("/changes/<int:item_id>/withdraw", methods=["POST"])
@roles_required(Role.BOARD)
def withdraw_change(item_id: int) -> Any:
    return _decide(item_id, "withdraw")
