from __future__ import annotations

from typing import Any

from flask import Blueprint, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import select

from fundapp.admin.forms import ResetPasswordForm, UserForm
from fundapp.auth import services
from fundapp.auth.models import ApiToken, User
from fundapp.cooperatives.models import Cooperative
from fundapp.core.errors import DomainError
from fundapp.core.forms import apply_errors, page_arg
from fundapp.core.security import Role, roles_required
from fundapp.core.validation import row_id
from fundapp.extensions import db

bp = Blueprint("admin", __name__, url_prefix="/admin")


def _cooperatives() -> list[Cooperative]:
    return list(db.session.scalars(select(Cooperative).order_by(Cooperative.name)))


def _coop_id(raw: str | None) -> int | None:
    return row_id(raw) if raw else None


@bp.route("/users")
@roles_required(Role.ADMIN)
def users() -> Any:
    q = request.args.get("q", "")[:64].strip().lower()
    query = select(User).order_by(User.username)
    if q:
        query = query.where(User.username.like(f"%{q}%"))
    page = db.paginate(
        query, page=page_arg(), per_page=current_app.config["PAGE_SIZE"], error_out=False
    )
    return render_template("admin/users.html", page=page, q=q)


@bp.route("/users/new", methods=["GET", "POST"])
@roles_required(Role.ADMIN)
def user_new() -> Any:
    form = UserForm()
    form.fill_choices(_cooperatives())
    if form.validate_on_submit():
        try:
            user = services.create_user(
                current_user,
                form.username.data or "",
                form.password.data or "",
                list(form.roles.data or []),
                full_name=form.full_name.data or "",
                email=form.email.data or None,
                cooperative_id=_coop_id(form.cooperative_id.data),
            )
        except DomainError as exc:
            db.session.rollback()
            apply_errors(form, exc)
        else:
            db.session.commit()
            flash(_("Đã tạo tài khoản %(u)s.", u=user.username), "success")
            return redirect(url_for(".users"))
    return render_template("admin/user_form.html", form=form, user=None)


@bp.route("/users/<int:user_id>", methods=["GET", "POST"])
@roles_required(Role.ADMIN)
def user_edit(user_id: int) -> Any:
    user = db.get_or_404(User, user_id)
    form = UserForm()
    form.fill_choices(_cooperatives())
    if not form.is_submitted():
        form.full_name.data = user.full_name
        form.email.data = user.email
        form.roles.data = user.role_names
        form.cooperative_id.data = str(user.cooperative_id or "")
        form.active.data = user.active
    if form.validate_on_submit():
        try:
            services.update_user(
                current_user,
                user,
                list(form.roles.data or []),
                form.full_name.data or "",
                form.email.data or None,
                _coop_id(form.cooperative_id.data),
                bool(form.active.data),
            )
        except DomainError as exc:
            db.session.rollback()
            apply_errors(form, exc)
        else:
            db.session.commit()
            flash(_("Đã lưu tài khoản %(u)s.", u=user.username), "success")
            return redirect(url_for(".users"))
    tokens = list(
        db.session.scalars(
            select(ApiToken).where(ApiToken.user_id == user.id).order_by(ApiToken.id.desc())
        )
    )
    return render_template(
        "admin/user_form.html",
        form=form,
        user=user,
        reset_form=ResetPasswordForm(),
        tokens=tokens,
        sessions=services.live_sessions(user),
    )


@bp.route("/users/<int:user_id>/password", methods=["POST"])
@roles_required(Role.ADMIN)
def user_password(user_id: int) -> Any:
    user = db.get_or_404(User, user_id)
    form = ResetPasswordForm()
    if form.validate_on_submit():
        try:
            services.set_password(current_user, user, form.new_password.data or "")
        except DomainError as exc:
            db.session.rollback()
            flash(exc.message, "error")
        else:
            db.session.commit()
            flash(_("Đã đặt lại mật khẩu cho %(u)s.", u=user.username), "success")
    return redirect(url_for(".user_edit", user_id=user.id))


@bp.route("/tokens/<int:token_id>/revoke", methods=["POST"])
@roles_required(Role.ADMIN)
def token_revoke(token_id: int) -> Any:
    token = db.get_or_404(ApiToken, token_id)
    if ResetPasswordForm().validate_on_submit():
        services.revoke_token(current_user, token)
        db.session.commit()
        flash(_("Đã thu hồi mã truy cập API."), "success")
    return redirect(url_for(".user_edit", user_id=token.user_id))
