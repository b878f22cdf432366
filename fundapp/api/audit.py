"""API v1: the audit log — who changed what, when, before and after (controller, admin)."""

from __future__ import annotations

import datetime as dt
from datetime import UTC, datetime, timedelta
from typing import Annotated, Any, get_type_hints
from zoneinfo import ZoneInfo

from flask import current_app, jsonify
from flask_babel import gettext as _
from pydantic import Field
from sqlalchemy import select

from fundapp.api import bp
from fundapp.api.common import api_roles, paginate, timestamp
from fundapp.api.shapes import SearchText
from fundapp.api.spec import Day, Page, PageQuery, Timestamp, TypedDict, operation, read_query
from fundapp.audit.models import AuditLog
from fundapp.core.security import AUDIT_READ
from fundapp.domain.errors import ValidationFailed


class AuditEntry(TypedDict):
    id: int
    at: Timestamp
    user_id: int | None
    username: str
    action: str
    entity: str
    entity_id: str
    before: dict[str, Any] | None
    after: dict[str, Any] | None
    note: str


AuditQuery = TypedDict(  # "from" is a keyword: the functional form names it
    "AuditQuery",
    {
        **get_type_hints(PageQuery, include_extras=True),
        "actor": Annotated[SearchText, Field(description="Username")],
        "entity": Annotated[SearchText, Field(description="e.g. loan, application")],
        "entity_id": SearchText,
        "action": Annotated[SearchText, Field(description="e.g. loan.cancelled")],
        "from": Annotated[Day, Field(description="On or after this day (fund's time)")],
        "to": Annotated[Day, Field(description="On or before this day (fund's time)")],
    },
    total=False,
)


def audit_json(row: AuditLog) -> AuditEntry:
    return {
        "id": row.id,
        "at": timestamp(row.at) or "",
        "user_id": row.user_id,
        "username": row.username,
        "action": row.action,
        "entity": row.entity,
        "entity_id": row.entity_id,
        "before": row.before,
        "after": row.after,
        "note": row.note,
    }


def _day_start(day: dt.date) -> datetime:
    """The first instant of ``day`` in the fund's time zone, in UTC as the log stores it."""
    zone = ZoneInfo(current_app.config["FUNDAPP_TIMEZONE"])
    return datetime.combine(day, dt.time(), tzinfo=zone).astimezone(UTC)


@bp.route("/audit", methods=["GET"])
@api_roles(*AUDIT_READ)
@operation(query=AuditQuery, returns=Page[AuditEntry])
def list_audit() -> Any:
    """List the audit log, newest first.

    Filters: the actor's username, the entity and its id, the action, a range of days in
    the fund's time zone (``from`` ≤ ``to``).
    """
    args = read_query(AuditQuery)
    start, end = args.get("from"), args.get("to")
    if start and end and start > end:
        message = _("Ngày bắt đầu sau ngày kết thúc; xin chọn lại khoảng thời gian.")
        raise ValidationFailed(message, {"from": message})
    query = select(AuditLog)
    for key, column in (
        ("actor", AuditLog.username),
        ("entity", AuditLog.entity),
        ("entity_id", AuditLog.entity_id),
        ("action", AuditLog.action),
    ):
        if args.get(key):
            query = query.where(column == args[key])
    if start:
        query = query.where(AuditLog.at >= _day_start(start))
    if end:
        query = query.where(AuditLog.at < _day_start(end + timedelta(days=1)))
    return jsonify(paginate(query.order_by(AuditLog.id.desc()), audit_json))
