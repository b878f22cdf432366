from __future__ import annotations

from datetime import timedelta
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
from fundapp.core.forms import save
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


def _session_lifetime(remember: bool) -> timedelta:
    """How long the server keeps a new session: as long as the remember-me cookie, or else a
    working day (PERMANENT_SESSION_LIFETIME), however long the browser stays open."""
    if not remember:
        return current_app.permanent_session_lifetime
    duration = current_app.config["REMEMBER_COOKIE_DURATION"]
    return duration if isinstance(duration, timedelta) else timedelta(seconds=int(duration))


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
        remember = bool(form.remember.data)
        if result.user is not None:
            services.start_session(
                result.user,
                remember,
                _session_lifetime(remember),
                request.remote_addr or "",
                request.user_agent.string,
            )
        db.session.commit()
        if result.user is not None:
            _fresh_session()
            login_user(result.user, remember=remember)
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
    services.end_session(current_user.get_id())
    db.session.commit()
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
            saved = save(
                form,
                lambda: services.change_own_password(
                    current_user,
                    form.current_password.data or "",
                    form.new_password.data or "",
                    keep_session=current_user.get_id(),
                ),
            )
            if saved is not None:
                flash(_("Đã đổi mật khẩu."), "success")
                return redirect(url_for("main.home"))
    return render_template("auth/change_password.html", form=form)


@bp.route("/account/sessions")
@login_required
def sessions() -> Any:
    listed = services.live_sessions(current_user, current=current_user.get_id())
    return render_template("auth/sessions.html", sessions=listed)


@bp.route("/account/sessions/end-others", methods=["POST"])
@login_required
def end_other_sessions() -> Any:
    ended = services.revoke_sessions(current_user, keep=current_user.get_id())
    db.session.commit()
    flash(_("Đã đăng xuất %(n)d phiên khác.", n=ended), "success")
    return redirect(url_for(".sessions"))
