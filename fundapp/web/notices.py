"""Notices: the list of one's notices, marking them read; the supervision list of all."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required
from flask_wtf import FlaskForm

from fundapp.core import lists
from fundapp.core.forms import page_arg
from fundapp.core.security import STAFF_READ, has_role
from fundapp.domain.dates import utcnow
from fundapp.extensions import db
from fundapp.lending.search import loans_matching
from fundapp.loans.days import Notice
from fundapp.notices import services
from fundapp.web.auth import safe_next

bp = Blueprint("notices", __name__, url_prefix="/notices")


class MarkReadForm(FlaskForm):
    """A button only: the CSRF token and nothing else."""


NOTICE_SORTS: dict[str, tuple[Any, ...]] = {
    "date": (Notice.business_date,),
    "kind": (Notice.kind, Notice.business_date),
}


def notice_columns() -> list[lists.Column]:
    return [
        lists.Column(_("Ngày"), "date", width=13),
        lists.Column(_("Loại thông báo"), width=24),
        lists.Column(_("Tiêu đề"), width=60),
        lists.Column(_("Hợp đồng"), width=16),
        lists.Column(_("Trạng thái"), width=12),
        lists.Column(_("Đọc lúc"), "datetime", width=18),
    ]


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
    errors: dict[str, str] = {}
    start, end = lists.date_range(errors)
    q = request.args.get("q", "").strip()[:100]
    if start:
        query = query.where(Notice.business_date >= start)
    if end:
        query = query.where(Notice.business_date <= end)
    if q:  # the contract, its project or its borrower, without diacritics or case
        query = query.where(Notice.loan_id.in_(loans_matching(q)))
    sort = lists.sort_arg(NOTICE_SORTS, "date", descending=True)
    query = query.order_by(None).order_by(*lists.order_by(sort, NOTICE_SORTS, Notice.id))
    if lists.wants_xlsx():
        rows = (
            (
                n.business_date,
                str(services.KIND_LABELS.get(n.kind, n.kind)),
                n.title,
                n.loan.contract_no if n.loan else "",
                _("Chưa đọc") if n.read_at is None else _("Đã đọc"),
                n.read_at,
            )
            for n in db.session.scalars(query.limit(lists.EXPORT_LIMIT))
        )
        return lists.xlsx_response("thong-bao", _("Thông báo"), notice_columns(), rows)
    page = db.paginate(
        query, page=page_arg(), per_page=current_app.config["PAGE_SIZE"], error_out=False
    )
    items = list(page.items)
    own = services.own_ids(current_user, [n.id for n in items]) if supervising else None
    filters = {
        "status": status,
        "kind": kind,
        "scope": "all" if supervising else "",
        "q": q,
        "from": request.args.get("from", "") if start else "",
        "to": request.args.get("to", "") if end else "",
    }
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
        filters=filters,
        listing=lists.Listing("notices.index", sort, filters),
        errors=errors,
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
