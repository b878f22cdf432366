"""Which notices a user sees, and marking them read.

Every view goes through :func:`notices_query`, so the visibility rule is written once and
applied in SQL: a cooperative user sees the notices of its own cooperative, anyone sees the
notices addressed to them (the loan's officer). A director or the controller may also list
every notice, read-only, to supervise; marking stays limited to one's own notices.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import ColumnElement, Select, func, or_, select, update

from fundapp.auth.models import User
from fundapp.cooperatives.models import Cooperative
from fundapp.core.security import Role, has_role
from fundapp.domain.errors import NotFound
from fundapp.extensions import db
from fundapp.loans.days import Notice

KIND_LABELS = {
    "due_soon": _l("Sắp đến hạn"),
    "overdue_transfer": _l("Chuyển nợ quá hạn"),
    "group_change": _l("Thay đổi nhóm nợ"),
    # Notifications of work (fundapp/work/notify.py).
    "decision": _l("Chờ quyết định"),
    "coop_application": _l("Hồ sơ vay trực tuyến"),
    "coop_document": _l("Tài liệu hợp tác xã tải lên"),
}
KIND_BADGES = {
    "due_soon": "badge-info",
    "overdue_transfer": "badge-danger",
    "group_change": "badge-warning",
    "decision": "badge-warning",
    "coop_application": "badge-info",
    "coop_document": "badge-info",
}
SUPERVISORS = (Role.DIRECTOR, Role.CONTROLLER)


def may_supervise(user: Any) -> bool:
    return has_role(user, *SUPERVISORS)


def own_condition(user: Any) -> ColumnElement[bool]:
    """The notices addressed to ``user``: to its cooperative (cooperative role only) or to
    the user itself."""
    conditions: list[ColumnElement[bool]] = [Notice.user_id == user.id]
    if has_role(user, Role.COOPERATIVE) and user.cooperative_id:
        conditions.append(Notice.cooperative_id == user.cooperative_id)
    return or_(*conditions) if len(conditions) > 1 else conditions[0]


def notices_query(
    user: Any,
    *,
    supervise: bool = False,
    unread_only: bool = False,
    kind: str = "",
) -> Select[tuple[Notice]]:
    """The notices ``user`` may see, newest first. ``supervise`` lists every notice, and is
    honoured only for a director or the controller."""
    query = select(Notice)
    if not (supervise and may_supervise(user)):
        query = query.where(own_condition(user))
    if unread_only:
        query = query.where(Notice.read_at.is_(None))
    if kind in KIND_LABELS:
        query = query.where(Notice.kind == kind)
    return query.order_by(Notice.business_date.desc(), Notice.id.desc())


def unread_count(user: Any) -> int:
    """Unread notices addressed to ``user`` (one COUNT on the indexed columns)."""
    if not getattr(user, "is_authenticated", False):
        return 0
    return int(
        db.session.scalar(
            select(func.count(Notice.id)).where(own_condition(user), Notice.read_at.is_(None))
        )
        or 0
    )


def own_ids(user: Any, notice_ids: list[int]) -> set[int]:
    """Which of ``notice_ids`` are addressed to ``user`` (may be marked by them)."""
    if not notice_ids:
        return set()
    return set(
        db.session.scalars(select(Notice.id).where(Notice.id.in_(notice_ids), own_condition(user)))
    )


def mark_read(user: Any, notice_id: int, now: datetime) -> bool:
    """Mark one of ``user``'s notices read; True when it was unread. A notice not addressed
    to ``user`` is not found, whether or not it exists."""
    notice = db.session.scalar(select(Notice).where(Notice.id == notice_id, own_condition(user)))
    if notice is None:
        raise NotFound(_("Không tìm thấy thông báo."))
    if notice.read_at is not None:
        return False
    notice.read_at = now
    db.session.flush()
    return True


def mark_all_read(user: Any, now: datetime) -> int:
    """Mark every unread notice addressed to ``user`` read; returns how many."""
    result = db.session.execute(
        update(Notice)
        .where(own_condition(user), Notice.read_at.is_(None))
        .values(read_at=now)
        .execution_options(synchronize_session=False)
    )
    db.session.flush()
    return int(result.rowcount or 0)


@dataclass(frozen=True)
class Fact:
    """One figure of a notice for display; ``kind`` names the filter that formats it."""

    label: str
    value: Any
    kind: str  # money | date | rate | text


def _date(value: Any) -> date | None:
    try:
        return date.fromisoformat(str(value))
    except ValueError:
        return None


def facts(notice: Notice) -> list[Fact]:
    """The key figures of a notice, typed for the template's filters."""
    data = notice.data or {}
    out: list[Fact] = []
    if notice.kind == "due_soon":
        out.append(Fact(_("Kỳ"), data.get("no"), "text"))
        out.append(Fact(_("Ngày đến hạn"), _date(data.get("due_date")), "date"))
        out.append(Fact(_("Gốc phải trả"), data.get("principal"), "money"))
        out.append(Fact(_("Lãi phải trả"), data.get("interest"), "money"))
    elif notice.kind == "overdue_transfer":
        out.append(Fact(_("Kỳ"), data.get("no"), "text"))
        out.append(Fact(_("Ngày đến hạn"), _date(data.get("due_date")), "date"))
        out.append(Fact(_("Ngày chuyển nợ quá hạn"), _date(data.get("transfer_date")), "date"))
        out.append(Fact(_("Nợ gốc quá hạn"), data.get("overdue_principal"), "money"))
        out.append(Fact(_("Lãi chưa trả"), data.get("unpaid_interest"), "money"))
        rate = data.get("overdue_rate")
        out.append(Fact(_("Lãi suất quá hạn"), Decimal(rate) if rate else None, "rate"))
    elif notice.kind == "group_change":
        out.append(Fact(_("Từ nhóm"), data.get("from"), "text"))
        out.append(Fact(_("Sang nhóm"), data.get("to"), "text"))
    return [f for f in out if f.value is not None]


def recipient_labels(notices: list[Notice]) -> dict[int, str]:
    """Who each notice is for (the supervision list): the cooperative's or officer's name."""
    coop_ids = {n.cooperative_id for n in notices if n.cooperative_id}
    user_ids = {n.user_id for n in notices if n.user_id}
    coops = (
        dict(
            db.session.execute(
                select(Cooperative.id, Cooperative.name).where(Cooperative.id.in_(coop_ids))
            ).all()
        )
        if coop_ids
        else {}
    )
    users = (
        {
            uid: full_name or username
            for uid, full_name, username in db.session.execute(
                select(User.id, User.full_name, User.username).where(User.id.in_(user_ids))
            )
        }
        if user_ids
        else {}
    )
    out: dict[int, str] = {}
    for n in notices:
        if n.cooperative_id:
            out[n.id] = coops.get(n.cooperative_id, "")
        elif n.user_id:
            out[n.id] = _("Cán bộ: %(n)s", n=users.get(n.user_id, ""))
    return out
