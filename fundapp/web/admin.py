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
from fundapp.core import lists
from fundapp.core.forms import page_arg, save
from fundapp.core.security import ROLE_LABELS, Role, roles_required
from fundapp.core.validation import row_id
from fundapp.domain.errors import DomainError
from fundapp.extensions import db

bp = Blueprint("admin", __name__, url_prefix="/admin")


def _cooperatives() -> list[Cooperative]:
    return list(db.session.scalars(select(Cooperative).order_by(Cooperative.name_key)))


def _coop_id(raw: str | None) -> int | None:
    return row_id(raw) if raw else None


@bp.route("/users")
@roles_required(Role.ADMIN)
def users() -> Any:
    q = request.args.get("q", "")[:64].strip()
    query = select(User)
    if q:  # username, name or e-mail, without diacritics or case
        query = query.where(lists.contains(User.search_key, q))
    sort = lists.sort_arg(USER_SORTS, "username")
    query = query.order_by(*lists.order_by(sort, USER_SORTS, User.id))
    if lists.wants_xlsx():
        rows = (
            (
                u.username,
                u.full_name,
                u.email,
                ", ".join(str(ROLE_LABELS[r]) for r in u.role_names if r in ROLE_LABELS),
                u.cooperative.name if u.cooperative else "",
                _("Đang hoạt động") if u.active else _("Đã khóa"),
                u.last_login_at,
            )
            for u in db.session.scalars(query.limit(lists.EXPORT_LIMIT))
        )
        return lists.xlsx_response("nguoi-dung", _("Người dùng"), user_columns(), rows)
    page = db.paginate(
        query, page=page_arg(), per_page=current_app.config["PAGE_SIZE"], error_out=False
    )
    listing = lists.Listing("admin.users", sort, {"q": q})
    return render_template("admin/users.html", page=page, q=q, listing=listing)


USER_SORTS: dict[str, tuple[Any, ...]] = {
    "username": (User.username,),
    "name": (User.name_key,),
    "active": (User.active,),
    "last_login": (User.last_login_at,),
}


def user_columns() -> list[lists.Column]:
    return [
        lists.Column(_("Tên đăng nhập"), width=18),
        lists.Column(_("Họ và tên"), width=26),
        lists.Column(_("Thư điện tử"), width=28),
        lists.Column(_("Vai trò"), width=30),
        lists.Column(_("Hợp tác xã"), width=30),
        lists.Column(_("Trạng thái"), width=16),
        lists.Column(_("Đăng nhập gần nhất"), "datetime", width=18),
    ]


@bp.route("/users/new", methods=["GET", "POST"])
@roles_required(Role.ADMIN)
def user_new() -> Any:
    form = UserForm()
    form.fill_choices(_cooperatives())
    if form.validate_on_submit():
        saved = save(
            form,
            lambda: services.create_user(
                current_user,
                form.username.data or "",
                form.password.data or "",
                list(form.roles.data or []),
                full_name=form.full_name.data or "",
                email=form.email.data or None,
                cooperative_id=_coop_id(form.cooperative_id.data),
            ),
        )
        if saved is not None:
            flash(_("Đã tạo tài khoản %(u)s.", u=saved.value.username), "success")
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
        saved = save(
            form,
            lambda: services.update_user(
                current_user,
                user,
                list(form.roles.data or []),
                form.full_name.data or "",
                form.email.data or None,
                _coop_id(form.cooperative_id.data),
                bool(form.active.data),
            ),
        )
        if saved is not None:
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
