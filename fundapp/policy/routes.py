from __future__ import annotations

from typing import Any

from flask import Blueprint, abort, flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import select

from fundapp.core import validation
from fundapp.core.dates import business_date
from fundapp.core.errors import DomainError, ValidationFailed
from fundapp.core.forms import apply_errors
from fundapp.core.security import STAFF_READ, Role, roles_required
from fundapp.extensions import db
from fundapp.policy import services
from fundapp.policy.forms import PolicyChangeForm
from fundapp.policy.models import PolicyParameter
from fundapp.policy.parameters import BY_KEY, PARAMS

bp = Blueprint("policy", __name__, url_prefix="/policy")
READERS = (*STAFF_READ, Role.ADMIN)


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
    return render_template("policy/index.html", rows=rows)


@bp.route("/<key>")
@roles_required(*READERS)
def history(key: str) -> Any:
    param = BY_KEY.get(key) or abort(404)
    versions = list(
        db.session.scalars(
            select(PolicyParameter)
            .where(PolicyParameter.key == key)
            .order_by(PolicyParameter.effective_from.desc())
        )
    )
    return render_template(
        "policy/history.html", param=param, versions=versions, form=PolicyChangeForm()
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
            if errors:
                msg = errors["d"]
                raise ValidationFailed(msg, {"effective_from": msg})
            services.change(
                current_user,
                key,
                form.value.data or "",
                effective,  # type: ignore[arg-type]
                form.legal_reference.data or "",
                form.note.data or "",
                business_date(),
            )
        except DomainError as exc:
            db.session.rollback()
            apply_errors(form, exc)
        else:
            db.session.commit()
            flash(_("Đã lưu phiên bản mới của tham số."), "success")
            return redirect(url_for(".history", key=key))
    return render_template("policy/change.html", param=param, form=form)
