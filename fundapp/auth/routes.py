from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

from flask import (
    Blueprint,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_babel import gettext as _
from flask_login import current_user, login_required, login_user, logout_user

from fundapp.auth import services
from fundapp.auth.forms import ChangePasswordForm, LoginForm
from fundapp.core.errors import DomainError
from fundapp.core.forms import apply_errors
from fundapp.extensions import db

bp = Blueprint("auth", __name__)


def safe_next(target: str | None) -> str | None:
    """Only a path on this site: no scheme, no host, no backslash tricks."""
    if not target or len(target) > 500:
        return None
    if "\\" in target or any(ord(c) < 32 for c in target):
        return None
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not target.startswith("/") or target.startswith("//"):
        return None
    return target


def _fresh_session() -> None:
    """Sign-in starts a new session: nothing from before it carries over, above all not the
    CSRF secret, which whoever planted the pre-login cookie would know. Only the language
    chosen on the login page stays."""
    lang = session.get("lang")
    session.clear()
    if lang:
        session["lang"] = lang


@bp.route("/login", methods=["GET", "POST"])
def login() -> Any:
    if current_user.is_authenticated:
        return redirect(url_for("main.home"))
    form = LoginForm()
    if form.validate_on_submit():
        result = services.authenticate(
            form.username.data or "",
            form.password.data or "",
            request.remote_addr or "-",
            current_app.config["LOGIN_MAX_FAILURES"],
            current_app.config["LOGIN_LOCK_MINUTES"],
            current_app.config["LOGIN_MAX_FAILURES_PER_ADDRESS"],
        )
        db.session.commit()
        if result.user is not None:
            _fresh_session()
            login_user(result.user, remember=bool(form.remember.data))
            return redirect(safe_next(request.args.get("next")) or url_for("main.home"))
        if result.locked:
            flash(_("Tạm khóa đăng nhập do nhập sai nhiều lần. Xin thử lại sau ít phút."), "error")
            return render_template("auth/login.html", form=form), 429
        flash(_("Tên đăng nhập hoặc mật khẩu không đúng."), "error")
        return render_template("auth/login.html", form=form), 401
    return render_template("auth/login.html", form=form)


@bp.route("/logout", methods=["POST"])
@login_required
def logout() -> Any:
    logout_user()
    flash(_("Đã đăng xuất."), "info")
    return redirect(url_for("auth.login"))


@bp.route("/account/password", methods=["GET", "POST"])
@login_required
def change_password() -> Any:
    form = ChangePasswordForm()
    if form.validate_on_submit():
        if form.new_password.data != form.confirm.data:
            form.confirm.errors = [_("Hai lần nhập mật khẩu mới không khớp.")]
        else:
            try:
                services.change_own_password(
                    current_user, form.current_password.data or "", form.new_password.data or ""
                )
            except DomainError as exc:
                db.session.rollback()
                apply_errors(form, exc)
            else:
                db.session.commit()
                # Keep this session after the version bump; the user itself, as the proxy
                # stored on ``g`` would stand for itself on any later look at current_user.
                login_user(current_user._get_current_object())
                flash(_("Đã đổi mật khẩu."), "success")
                return redirect(url_for("main.home"))
    return render_template("auth/change_password.html", form=form)
