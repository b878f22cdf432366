from __future__ import annotations

from typing import Any

from flask import Blueprint, redirect, request, session, url_for
from flask_login import current_user, login_required
from flask_wtf import FlaskForm
from sqlalchemy import text

from fundapp.core.security import Role, has_role
from fundapp.extensions import db
from fundapp.web.auth import safe_next

bp = Blueprint("main", __name__)


@bp.route("/")
@login_required
def home() -> Any:
    if has_role(current_user, Role.COOPERATIVE):
        return redirect(url_for("portal.home"))
    # Staff land on their work (fundapp/work): the officer's collections and files, the
    # accountant's day, the decisions awaiting the director and the board.
    if has_role(current_user, Role.DIRECTOR, Role.BOARD, Role.OFFICER, Role.ACCOUNTANT):
        return redirect(url_for("work.index"))
    if has_role(current_user, Role.CONTROLLER):
        return redirect(url_for("ledger.overview"))
    if has_role(current_user, Role.ADMIN):
        return redirect(url_for("admin.users"))
    return redirect(url_for("auth.change_password"))


@bp.route("/language/<code>", methods=["POST"])
def language(code: str) -> Any:
    FlaskForm().validate_on_submit()  # CSRF is checked by CSRFProtect before we get here
    if code in ("vi", "en"):
        session["lang"] = code
    return redirect(safe_next(request.form.get("next")) or url_for("main.home"))


@bp.route("/healthz")
def healthz() -> Any:
    db.session.execute(text("SELECT 1"))
    return {"status": "ok"}
