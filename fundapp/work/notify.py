"""Notifications of work (issue 16): a user is told in the app, and by e-mail where an
address is known, when something awaits their decision; an officer when a cooperative
applies online or uploads a document.

The events are read from what a unit of work flushes (new pending disbursements,
reversals, restructurings, write-offs and policy changes; applications reaching
"appraised"; a cooperative user's submission or upload), so no operation has to remember
to call us, and written as notices (fundapp/loans/days.py::Notice) just before the
commit, in the same transaction: rolled back with the work, never sent for work that did
not happen. The notices' unique key (kind, event, recipient) keeps each once per event and
recipient. E-mails go out after the commit (:func:`deliver`).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import date
from typing import Any

from flask import has_app_context
from flask_babel import gettext as _
from sqlalchemy import event, inspect, select, update
from sqlalchemy.orm import Session

from fundapp.auth.models import User, UserRole
from fundapp.core.dates import business_date
from fundapp.core.db import upsert
from fundapp.core.formatting import money_filter
from fundapp.core.security import Role
from fundapp.domain.dates import utcnow
from fundapp.extensions import db
from fundapp.loans.days import Notice
from fundapp.loans.models import (
    Application,
    ApplicationDocument,
    Disbursement,
    Loan,
    Restructuring,
    Reversal,
    WriteOff,
)
from fundapp.notices import delivery
from fundapp.policy import services as policy
from fundapp.policy.models import PolicyChange

log = logging.getLogger("fundapp.mail")

WORK_KINDS = ("decision", "coop_application", "coop_document")
PENDING_KEY = "work_events"
SENT_KEY = "work_notices_written"
RESOLVED_KEY = "work_resolved"


@dataclass(frozen=True)
class Event:
    kind: str  # decision | coop_application | coop_document
    key: str  # e.g. "disbursement:12"
    roles: tuple[str, ...]  # who decides (decision); empty: the officers of ``cooperative_id``
    title: str
    body: str
    link: str  # a path inside the app
    exclude: tuple[int | None, ...] = ()  # the maker never decides his own work
    loan_id: int | None = None
    cooperative_id: int | None = None
    amount: int | None = None


def _is_cooperative_user(user_id: int | None) -> bool:
    if user_id is None:
        return False
    return bool(
        db.session.scalar(
            select(UserRole.user_id).where(
                UserRole.user_id == user_id, UserRole.role == Role.COOPERATIVE
            )
        )
    )


def _events_of(session: Session, new: set[Any], dirty: set[Any]) -> list[Event]:
    events: list[Event] = []
    deciders = (Role.DIRECTOR,)
    for obj in new:
        if isinstance(obj, Disbursement) and obj.status == "pending":
            events.append(
                Event(
                    "decision",
                    f"disbursement:{obj.id}",
                    deciders,
                    _("Giải ngân chờ duyệt: %(a)s", a=money_filter(obj.amount)),
                    _("Một khoản giải ngân %(a)s đang chờ phê duyệt.", a=money_filter(obj.amount)),
                    f"/loans/{obj.loan_id}",
                    (obj.recorded_by_id,),
                    loan_id=obj.loan_id,
                    amount=obj.amount,
                )
            )
        elif isinstance(obj, Reversal) and obj.status == "pending":
            loan_id = obj.repayment.loan_id if obj.repayment is not None else None
            events.append(
                Event(
                    "decision",
                    f"reversal:{obj.id}",
                    deciders,
                    _("Hủy phiếu thu chờ duyệt"),
                    _("Một đề nghị hủy phiếu thu đang chờ phê duyệt: %(r)s", r=obj.reason[:200]),
                    "/loans/approvals",
                    (obj.requested_by_id,),
                    loan_id=loan_id,
                )
            )
        elif isinstance(obj, Restructuring) and obj.status == "pending":
            events.append(
                Event(
                    "decision",
                    f"restructuring:{obj.id}",
                    deciders,
                    _("Cơ cấu lại thời hạn trả nợ chờ duyệt"),
                    _("Một đề nghị cơ cấu lại thời hạn trả nợ đang chờ phê duyệt."),
                    "/loans/approvals",
                    (obj.requested_by_id,),
                    loan_id=obj.loan_id,
                )
            )
        elif isinstance(obj, WriteOff) and obj.status == "pending":
            events.append(
                Event(
                    "decision",
                    f"write_off:{obj.id}",
                    (Role.DIRECTOR, Role.BOARD),
                    _("Xử lý rủi ro chờ duyệt"),
                    _("Một đề nghị xử lý rủi ro đang chờ phê duyệt."),
                    "/loans/approvals",
                    (obj.proposed_by_id,),
                    loan_id=obj.loan_id,
                )
            )
        elif isinstance(obj, PolicyChange) and obj.status == "pending":
            events.append(
                Event(
                    "decision",
                    f"policy_change:{obj.id}",
                    (Role.BOARD,),
                    _("Thay đổi chính sách chờ duyệt: %(k)s", k=obj.key),
                    _(
                        "Đề nghị đổi %(k)s thành %(v)s từ ngày %(d)s.",
                        k=obj.key,
                        v=obj.value,
                        d=obj.effective_from.strftime("%d/%m/%Y"),
                    ),
                    "/loans/approvals",
                    (obj.proposed_by_id,),
                )
            )
        elif isinstance(obj, ApplicationDocument) and _is_cooperative_user(obj.uploaded_by_id):
            app = obj.application or session.get(Application, obj.application_id)
            events.append(
                Event(
                    "coop_document",
                    f"document:{obj.id}",
                    (),
                    _("Hợp tác xã tải lên tài liệu: %(p)s", p=app.project_name if app else ""),
                    _("Tài liệu mới: %(n)s", n=obj.original_name),
                    f"/applications/{obj.application_id}",
                    (obj.uploaded_by_id,),
                    cooperative_id=app.cooperative_id if app else None,
                )
            )
    for obj in new | dirty:
        if not isinstance(obj, Application):
            continue
        history = inspect(obj).attrs.status.history
        if not history.added and obj not in new:
            continue
        if obj.status == "appraised":
            amount = obj.recommended_amount or obj.requested_amount
            events.append(
                Event(
                    "decision",
                    f"application:{obj.id}:appraised",
                    _application_deciders(amount),
                    _("Hồ sơ vay vốn chờ phê duyệt: %(p)s", p=obj.project_name),
                    _("Hồ sơ đã thẩm định, đề nghị cho vay %(a)s.", a=money_filter(amount)),
                    f"/applications/{obj.id}",
                    (obj.appraised_by_id,),
                    cooperative_id=obj.cooperative_id,
                    amount=amount,
                )
            )
        elif obj.status == "submitted" and _is_cooperative_user(obj.created_by_id):
            events.append(
                Event(
                    "coop_application",
                    f"application:{obj.id}:submitted",
                    (),
                    _("Hợp tác xã nộp hồ sơ vay vốn trực tuyến: %(p)s", p=obj.project_name),
                    _("Số tiền đề nghị %(a)s.", a=money_filter(obj.requested_amount)),
                    f"/applications/{obj.id}",
                    (obj.created_by_id,),
                    cooperative_id=obj.cooperative_id,
                    amount=obj.requested_amount,
                )
            )
    return events


def _application_deciders(amount: int) -> tuple[str, ...]:
    """The director within his approval limit, the board above it
    (docs/rules.md#maker-checker-and-approval-authority)."""
    try:
        limit = int(policy.value("director_approval_limit", _today()))
    except Exception:  # no policy stored yet: tell both
        return (Role.DIRECTOR, Role.BOARD)
    return (Role.DIRECTOR,) if amount <= limit else (Role.BOARD,)


def _today() -> date:
    # The business date where the app knows it (always, in the app); else today in UTC.
    return business_date() if has_app_context() else utcnow().date()


def recipients(event_: Event) -> list[tuple[int, str]]:
    """(user id, e-mail) of the active users to tell, without the event's maker."""
    if event_.roles:
        query = (
            select(User.id, User.email)
            .join(UserRole, UserRole.user_id == User.id)
            .where(UserRole.role.in_([str(r) for r in event_.roles]), User.active.is_(True))
            .distinct()
        )
    else:
        query = select(User.id, User.email).where(
            User.id.in_(officers_of(event_.cooperative_id)), User.active.is_(True)
        )
    return [
        (uid, email or "")
        for uid, email in db.session.execute(query.order_by(User.id))
        if uid not in event_.exclude
    ]


def officers_of(cooperative_id: int | None) -> list[int]:
    """The cooperative's officers: those of its loans and applications; when it has none
    yet (a first application online), every active officer."""
    ids: set[int] = set()
    if cooperative_id is not None:
        ids |= set(
            db.session.scalars(
                select(Loan.officer_id).where(
                    Loan.cooperative_id == cooperative_id, Loan.officer_id.is_not(None)
                )
            )
        )
        ids |= set(
            db.session.scalars(
                select(Application.officer_id).where(
                    Application.cooperative_id == cooperative_id,
                    Application.officer_id.is_not(None),
                )
            )
        )
    if ids:
        return sorted(ids)
    return list(
        db.session.scalars(
            select(User.id)
            .join(UserRole, UserRole.user_id == User.id)
            .where(UserRole.role == Role.OFFICER, User.active.is_(True))
        )
    )


def write(events: list[Event], day: date) -> int:
    """The notices of ``events``; one already written for the same event and recipient is
    skipped by the unique key. Returns how many were written."""
    rows = []
    for ev in events:
        for user_id, email in recipients(ev):
            rows.append(
                {
                    "kind": ev.kind,
                    "event_key": ev.key[:120],
                    "recipient_key": f"user:{user_id}",
                    "business_date": day,
                    "loan_id": ev.loan_id,
                    "cooperative_id": None,
                    "user_id": user_id,
                    "title": ev.title[:255],
                    "body": ev.body,
                    "data": {"link": ev.link, **({"amount": ev.amount} if ev.amount else {})},
                    "read_at": None,
                    "emailed_at": None,
                    "email_to": email,
                    "created_at": utcnow(),
                }
            )
    if not rows:
        return 0
    written = upsert(
        Notice, rows, ["kind", "event_key", "recipient_key"], returning=Notice.__table__.c.id
    )
    return len(written)


# --- the session hooks -------------------------------------------------------------------------


def _resolved_of(dirty: set[Any]) -> set[str]:
    """The event keys whose subject left the state that awaited someone in this flush (a
    disbursement approved or rejected, an application decided, …): their notices are done."""
    prefixes = {
        Disbursement: "disbursement",
        Reversal: "reversal",
        Restructuring: "restructuring",
        WriteOff: "write_off",
        PolicyChange: "policy_change",
    }
    keys: set[str] = set()
    for obj in dirty:
        prefix = prefixes.get(type(obj))
        if prefix is None and not isinstance(obj, Application):
            continue
        left = {str(v) for v in inspect(obj).attrs.status.history.deleted or ()}
        if prefix is not None and "pending" in left:
            keys.add(f"{prefix}:{obj.id}")
        elif isinstance(obj, Application):
            keys |= {f"application:{obj.id}:{state}" for state in left}
    return keys


def _after_flush(session: Session, _context: Any) -> None:
    if session.info.get("work_writing") or not _ours(session):
        return
    try:
        dirty = set(session.dirty)
        events = _events_of(session, set(session.new), dirty)
        resolved = _resolved_of(dirty)
    except Exception:  # a notification never stops the work itself
        log.exception("work notifications: events could not be read")
        return
    if events:
        session.info.setdefault(PENDING_KEY, []).extend(events)
    if resolved:
        session.info.setdefault(RESOLVED_KEY, set()).update(resolved)


def resolve(keys: set[str]) -> int:
    """Mark the notifications of ``keys`` read for everyone: the work was done."""
    result = db.session.execute(
        update(Notice)
        .where(
            Notice.kind.in_(WORK_KINDS),
            Notice.event_key.in_(sorted(keys)),
            Notice.read_at.is_(None),
        )
        .values(read_at=utcnow())
        .execution_options(synchronize_session=False)
    )
    return int(result.rowcount or 0)


def _before_commit(session: Session) -> None:
    if not _ours(session):
        return
    session.flush()
    resolved = session.info.pop(RESOLVED_KEY, set())
    # Decided in the same unit of work: nobody needs telling.
    events = [e for e in session.info.pop(PENDING_KEY, []) if e.key not in resolved]
    if not events and not resolved:
        return
    session.info["work_writing"] = True
    try:
        with session.begin_nested():
            if events and write(events, _today()):
                session.info[SENT_KEY] = True
            if resolved:
                resolve(resolved)
    except Exception:
        log.exception("work notifications could not be written")
    finally:
        session.info.pop("work_writing", None)


def _after_rollback(session: Session, _transaction: Any) -> None:
    session.info.pop(PENDING_KEY, None)
    session.info.pop(RESOLVED_KEY, None)


def _ours(session: Session) -> bool:
    """The app's own session, inside an app context (the hooks listen on every Session)."""
    if not has_app_context():
        return False
    return session is db.session()


HOOKS = (
    ("after_flush", _after_flush),
    ("before_commit", _before_commit),
    ("after_soft_rollback", _after_rollback),
)


def install() -> None:
    """Listen on every ORM session (once per process, however many apps)."""
    for name, fn in HOOKS:
        if not event.contains(Session, name, fn):
            event.listen(Session, name, fn)


def deliver(limit: int = 100) -> int:
    """E-mail the notifications of work not yet e-mailed, through the configured backend
    (``notices.delivery``: "log" by default, or SMTP). A mail server that is down leaves
    the notice in the app and its e-mail for the next call."""
    return delivery.deliver(Notice.kind.in_(WORK_KINDS), limit=limit)
