"""API v1: one's notices (due soon, overdue transfer, group change), marking them read.

Visibility is the web's (fundapp/notices/services.py): a cooperative sees its own
cooperative's notices, anyone the notices addressed to them; the director and the
controller may list every notice to supervise, and mark only their own.
"""

from __future__ import annotations

from typing import Any, Literal

from flask import jsonify
from flask_babel import gettext as _

from fundapp.api import bp
from fundapp.api.common import api_roles, check_id, current_api_user, paginate, timestamp
from fundapp.api.shapes import IsoDate
from fundapp.api.spec import PageQuery, Timestamp, TypedDict, operation, read_query
from fundapp.domain.dates import utcnow
from fundapp.domain.errors import PermissionDenied
from fundapp.extensions import db
from fundapp.loans.days import Notice
from fundapp.notices import services

# The close of day's notices, then the notifications of work (fundapp/work/notify.py).
NoticeKind = Literal[
    "due_soon", "overdue_transfer", "group_change", "decision", "coop_application", "coop_document"
]


class NoticeItem(TypedDict):
    id: int
    kind: NoticeKind
    kind_label: str
    title: str
    body: str
    business_date: IsoDate
    loan_id: int | None
    cooperative_id: int | None
    user_id: int | None
    data: dict[str, Any]
    read_at: Timestamp | None
    emailed_at: Timestamp | None
    created_at: Timestamp | None
    # Addressed to the caller (may be marked read by them); false only when supervising.
    own: bool


class NoticeList(TypedDict):
    items: list[NoticeItem]
    page: int
    per_page: int
    total: int
    unread: int


class NoticeQuery(PageQuery, total=False):
    unread: bool
    kind: NoticeKind
    scope: Literal["own", "all"]


class ReadAll(TypedDict):
    marked: int
    unread: int


def notice_json(notice: Notice, own: bool = True) -> NoticeItem:
    return {
        "id": notice.id,
        "kind": notice.kind,  # type: ignore[typeddict-item]
        "kind_label": str(services.KIND_LABELS.get(notice.kind, notice.kind)),
        "title": notice.title,
        "body": notice.body,
        "business_date": notice.business_date.isoformat(),
        "loan_id": notice.loan_id,
        "cooperative_id": notice.cooperative_id,
        "user_id": notice.user_id,
        "data": notice.data or {},
        "read_at": timestamp(notice.read_at),
        "emailed_at": timestamp(notice.emailed_at),
        "created_at": timestamp(notice.created_at),
        "own": own,
    }


@bp.route("/notices", methods=["GET"])
@api_roles()
@operation(query=NoticeQuery, returns=NoticeList)
def list_notices() -> Any:
    """List the caller's notices, newest first, with the unread count.

    ``scope=all`` lists every notice of the fund (director and controller only); ``own``
    then says which ones are addressed to the caller.
    """
    args = read_query(NoticeQuery)
    user = current_api_user()
    supervising = args.get("scope") == "all"
    if supervising and not services.may_supervise(user):
        raise PermissionDenied(_("Chỉ Giám đốc và Kiểm soát viên xem được mọi thông báo."))
    query = services.notices_query(
        user,
        supervise=supervising,
        unread_only=bool(args.get("unread")),
        kind=args.get("kind", ""),
    )
    page = paginate(query, notice_json)
    if supervising:
        own = services.own_ids(user, [item["id"] for item in page["items"]])
        for item in page["items"]:
            item["own"] = item["id"] in own
    return jsonify({**page, "unread": services.unread_count(user)})


@bp.route("/notices/<int:notice_id>/read", methods=["POST"])
@api_roles()
@operation(returns=NoticeItem)
def mark_notice_read(notice_id: int) -> Any:
    """Mark one of the caller's notices read.

    Marking it again changes nothing; a notice addressed to someone else is not found.
    """
    user = current_api_user()
    services.mark_read(user, check_id(notice_id), utcnow())
    db.session.commit()
    notice = db.session.get(Notice, notice_id)
    return jsonify(notice_json(notice))  # type: ignore[arg-type]


@bp.route("/notices/read-all", methods=["POST"])
@api_roles()
@operation(returns=ReadAll)
def mark_all_notices_read() -> Any:
    """Mark every unread notice addressed to the caller read."""
    user = current_api_user()
    marked = services.mark_all_read(user, utcnow())
    db.session.commit()
    return jsonify({"marked": marked, "unread": services.unread_count(user)})
