"""Notices: the list of one's notices, marking them read; the supervision list of all."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required
from flask_wtf import FlaskForm

from fundapp.auth.routes import safe_next
from fundapp.core.dates import utcnow
from fundapp.core.forms import page_arg
from fundapp.core.security import STAFF_READ, has_role
from fundapp.extensions import db
from fundapp.notices import services

bp = Blueprint("notices", __name__, url_prefix="/notices")


class MarkReadForm(FlaskForm):
    """A button only: the CSRF token and nothing else."""


@bp.route("/")
@login_required
def index() -> Any:
    status = request.args.get("status", "")
    status = status if status == "unread" else ""
    kind = request.args.get("kind", "")
    kind = kind if kind in services.KIND_LABELS else ""
    supervising = request.args.get("scope") == "all" and services.may_supervise(current_user)
    query = services.notices_query(
        current_user, supervise=supervising, unread_only=status == "unread", kind=kind
    )
    page = db.paginate(
        query, page=page_arg(), per_page=current_app.config["PAGE_SIZE"], error_out=False
    )
    items = list(page.items)
    own = services.own_ids(current_user, [n.id for n in items]) if supervising else None
    return render_template(
        "notices/index.html",
        page=page,
        items=items,
        facts={n.id: services.facts(n) for n in items},
        own=own,
        recipients=services.recipient_labels(items) if supervising else {},
        supervising=supervising,
        may_supervise=services.may_supervise(current_user),
        show_loan_link=has_role(current_user, *STAFF_READ),
        filters={"status": status, "kind": kind, "scope": "all" if supervising else ""},
        kind_labels=services.KIND_LABELS,
        kind_badges=services.KIND_BADGES,
    )


def _back() -> Any:
    return redirect(safe_next(request.form.get("next")) or url_for("notices.index"))


@bp.route("/<int:notice_id>/read", methods=["POST"])
@login_required
def read(notice_id: int) -> Any:
    if not MarkReadForm().validate_on_submit():
        abort(400)
    services.mark_read(current_user, notice_id, utcnow())
    db.session.commit()
    return _back()


@bp.route("/read-all", methods=["POST"])
@login_required
def read_all() -> Any:
    if not MarkReadForm().validate_on_submit():
        abort(400)
    count = services.mark_all_read(current_user, utcnow())
    db.session.commit()
    if count:
        flash(_("Đã đánh dấu %(n)s thông báo là đã đọc.", n=count), "success")
    return _back()
