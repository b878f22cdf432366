"""The landing page of work for each role and the collection calendar of a month."""

from __future__ import annotations

import re
from datetime import date
from typing import Any

from flask import Blueprint, current_app, render_template, request
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user

from fundapp.core.dates import business_date
from fundapp.core.security import STAFF_READ, Role, has_role, roles_required
from fundapp.extensions import db
from fundapp.work import notify, services
from fundapp.work.decisions import decisions_for

bp = Blueprint("work", __name__, url_prefix="/work")


@bp.after_app_request
def _deliver_work_mail(response: Any) -> Any:
    """After a request whose commit wrote notifications of work, their e-mails (the nightly
    run's delivery picks up any left behind)."""
    if db.session().info.pop(notify.SENT_KEY, False):
        try:
            notify.deliver()
        except Exception:  # the work is committed; a mail problem never turns it into a 500
            db.session.rollback()
            current_app.logger.exception("notifications of work: e-mail delivery failed")
    return response


DECISION_LABELS = {
    "applications": _l("Hồ sơ vay vốn chờ phê duyệt"),
    "disbursements": _l("Giải ngân chờ duyệt"),
    "reversals": _l("Hủy phiếu thu chờ duyệt"),
    "restructurings": _l("Cơ cấu lại thời hạn trả nợ chờ duyệt"),
    "write_offs": _l("Xử lý rủi ro chờ duyệt"),
    "policy_changes": _l("Thay đổi chính sách chờ duyệt"),
    "reliefs": _l("Miễn, giảm lãi và xuất toán ngoại bảng chờ duyệt"),
}
DECISION_KIND_LABELS = {
    "application": _l("Hồ sơ vay vốn"),
    "disbursement": _l("Giải ngân"),
    "reversal": _l("Hủy phiếu thu"),
    "restructuring": _l("Cơ cấu lại thời hạn trả nợ"),
    "write_off": _l("Xử lý rủi ro"),
    "policy_change": _l("Thay đổi chính sách"),
    "interest_relief": _l("Miễn, giảm lãi"),
    "removal": _l("Xuất toán khỏi ngoại bảng"),
}
MISSING_LABELS = {
    "representative": _l("người đại diện"),
    "phone": _l("điện thoại"),
    "bank_account": _l("tài khoản ngân hàng"),
    "sector": _l("ngành nghề"),
    "commune": _l("xã/phường cần xác nhận"),
}
APPLICATION_LABELS = {"draft": _l("Cần hoàn thiện"), "submitted": _l("Cần thẩm định")}
ENTRY_LABELS = {"disbursement": _l("Giải ngân"), "reversal": _l("Hủy phiếu thu")}


@bp.route("/")
@roles_required(*STAFF_READ)
def index() -> Any:
    today = business_date()
    context: dict[str, Any] = {"today": today}
    if has_role(current_user, Role.OFFICER):
        me = current_user.id
        context["officer"] = {
            "due": services.due_soon(today, me),
            "overdue": services.overdue_loans(today, me),
            "inspections": services.inspections_due(today, me),
            "applications": services.applications_to_work(me),
            "to_complete": services.cooperatives_to_complete(today, me),
        }
    if has_role(current_user, Role.ACCOUNTANT, Role.CONTROLLER):
        context["accountant"] = {
            "collections": services.collections_of(today),
            "pending": services.pending_entries(current_user.id),
            "close_day": services.close_day_state(today),
        }
    if has_role(current_user, Role.DIRECTOR, Role.BOARD, Role.CONTROLLER):
        counts = services.decision_counts(current_user, today)
        context["decisions"] = {
            "counts": counts,
            "total": sum(c.count for c in counts),
            # The same items as the approvals page's rows, one list (issue 16).
            "items": decisions_for(current_user, today),
        }
    return render_template(
        "work/index.html",
        decision_labels=DECISION_LABELS,
        decision_kinds=DECISION_KIND_LABELS,
        missing_labels=MISSING_LABELS,
        application_labels=APPLICATION_LABELS,
        entry_labels=ENTRY_LABELS,
        **context,
    )


MONTH = re.compile(r"^(\d{4})-(\d{2})$")


def _month_arg(today: date) -> tuple[date, str]:
    """``month=YYYY-MM`` (default: the business date's month); a bad value falls back to
    the current month with a message, never a 500."""
    raw = request.args.get("month", "").strip()
    if not raw:
        return today.replace(day=1), ""
    match = MONTH.match(raw)
    if match:
        year, month = int(match.group(1)), int(match.group(2))
        if 1900 <= year <= 2200 and 1 <= month <= 12:
            return date(year, month, 1), ""
    return today.replace(day=1), _(
        "Tháng không hợp lệ (định dạng YYYY-MM); hiển thị tháng hiện tại."
    )


@bp.route("/calendar")
@roles_required(*STAFF_READ)
def collection_calendar() -> Any:
    today = business_date()
    first, error = _month_arg(today)
    is_officer = has_role(current_user, Role.OFFICER)
    mine = is_officer and request.args.get("mine", "1" if is_officer else "") == "1"
    month = services.month_calendar(first.year, first.month, current_user.id if mine else None)
    return render_template(
        "work/calendar.html",
        cal=month,
        today=today,
        error=error,
        mine=mine,
        is_officer=is_officer,
    ), (422 if error else 200)
