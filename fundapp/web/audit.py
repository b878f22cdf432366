from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from flask import Blueprint, current_app, render_template, request
from flask_babel import gettext as _
from sqlalchemy import select

from fundapp.audit.models import AuditLog
from fundapp.auth.models import User
from fundapp.core import lists
from fundapp.core.forms import page_arg
from fundapp.core.security import AUDIT_READ, roles_required
from fundapp.extensions import db
from fundapp.reports.audit_trail import ENTITY_LABELS, Change, present

bp = Blueprint("audit", __name__, url_prefix="/audit")
# Pages that show a part of the log (the loan page) present it the same way.
bp.add_app_template_global(present, "audit_present")


# Sortable columns of the audit list and its export (fundapp.core.lists).
AUDIT_SORTS: dict[str, tuple[Any, ...]] = {
    "at": (),  # the log's id: the order things happened in
    "user": (AuditLog.username,),
    "action": (AuditLog.action,),
    "entity": (AuditLog.entity,),
}


def audit_columns() -> list[lists.Column]:
    return [
        lists.Column(_("Thời điểm"), "datetime", width=18),
        lists.Column(_("Người thực hiện"), width=18),
        lists.Column(_("Thao tác"), width=26),
        lists.Column(_("Đối tượng"), width=28),
        lists.Column(_("Thay đổi"), width=48),
        lists.Column(_("Ghi chú"), width=40),
    ]


def _change_text(change: Change) -> str:
    """One change as the screen shows it, in one line of text: ``label: before → after``."""
    before = "; ".join(change.before) if change.before is not None else None
    after = "; ".join(change.after) if change.after is not None else None
    if change.same or before is None:
        return f"{change.label}: {after or ''}"
    if after is None:
        return f"{change.label}: {before}"
    return f"{change.label}: {before} → {after}"


def audit_rows(query: Any) -> Any:
    """The export's rows: the screen's presentation (fundapp.reports.audit_trail) — the person's
    name, the action's label, the subject's name, the changes as text — never raw codes."""
    logs = list(db.session.scalars(query.limit(lists.EXPORT_LIMIT)))
    for start in range(0, len(logs), 500):
        for row in present(logs[start : start + 500]):
            yield (
                row.at,
                row.who,
                row.action,
                row.subject,
                "\n".join(_change_text(c) for c in row.changes),
                row.note,
            )


@bp.route("/")
@roles_required(*AUDIT_READ)
def index() -> Any:
    entity = request.args.get("entity", "")[:40]
    user = request.args.get("user", "")[:64]
    query = select(AuditLog).order_by(AuditLog.id.desc())
    if entity:
        query = query.where(AuditLog.entity == entity)
    if user:
        query = query.where(AuditLog.username == user)
    # The date filter (issue 16): days in the fund's time zone, both ends included.
    date_errors: dict[str, str] = {}
    start, end = lists.date_range(date_errors)
    if start:
        query = query.where(AuditLog.at >= local_day_start(start))
    if end:
        query = query.where(AuditLog.at < local_day_start(end + timedelta(days=1)))
    sort = lists.sort_arg(AUDIT_SORTS, "at", descending=True)
    query = query.order_by(None).order_by(*lists.order_by(sort, AUDIT_SORTS, AuditLog.id))
    if lists.wants_xlsx():
        return lists.xlsx_response(
            "nhat-ky-kiem-toan", _("Nhật ký kiểm toán"), audit_columns(), audit_rows(query)
        )
    page = db.paginate(
        query, page=page_arg(), per_page=current_app.config["PAGE_SIZE"] * 2, error_out=False
    )
    entities = list(
        db.session.scalars(select(AuditLog.entity).distinct().order_by(AuditLog.entity))
    )
    listing = lists.Listing(
        "audit.index",
        sort,
        {
            "entity": entity,
            "user": user,
            "from": request.args.get("from", "")[:10] if start else "",
            "to": request.args.get("to", "")[:10] if end else "",
        },
    )
    return render_template(
        "audit/index.html",
        page=page,
        entity=entity,
        user=user,
        entities=entities,
        listing=listing,
        rows=present(page.items),
        entity_names=ENTITY_LABELS,
        users=_people(),
        date_errors=date_errors,
        dated=bool(start or end),
    )


def local_day_start(day: date) -> datetime:
    """Midnight of ``day`` in the fund's time zone, as the UTC instant the log stores."""
    tz = ZoneInfo(current_app.config["FUNDAPP_TIMEZONE"])
    return datetime.combine(day, time.min, tzinfo=tz).astimezone(UTC)


def _people() -> list[tuple[str, str]]:
    """(username, full name) of every account, for the filter's list of people."""
    rows = db.session.execute(select(User.username, User.full_name).order_by(User.username))
    return lists.vn_sorted([(u, f or u) for u, f in rows], key=lambda r: r[1])
