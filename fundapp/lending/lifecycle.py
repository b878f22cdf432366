"""The statuses of an application and of a loan: one table of allowed transitions, each
change recorded (who, when, why) and audited. Also the two steps every lending service
shares: the role check it begins with, and a new record flushed for its id and audited.

Every function takes the acting user explicitly, flushes and never commits.
"""

from __future__ import annotations

from typing import Any

from flask_babel import gettext as _

from fundapp import audit
from fundapp.core.security import has_role
from fundapp.domain.dates import utcnow
from fundapp.domain.errors import N_, DomainError, PermissionDenied
from fundapp.extensions import db
from fundapp.loans.models import Application, ApplicationStatus, Loan, LoanStatus, LoanTransition

APPLICATION_TRANSITIONS: dict[str, set[str]] = {
    ApplicationStatus.DRAFT: {ApplicationStatus.SUBMITTED, ApplicationStatus.WITHDRAWN},
    ApplicationStatus.SUBMITTED: {
        ApplicationStatus.APPRAISED,
        ApplicationStatus.REJECTED,
        ApplicationStatus.WITHDRAWN,
    },
    ApplicationStatus.APPRAISED: {
        ApplicationStatus.APPROVED,
        ApplicationStatus.REJECTED,
        ApplicationStatus.WITHDRAWN,
    },
    ApplicationStatus.APPROVED: set(),
    ApplicationStatus.REJECTED: set(),
    ApplicationStatus.WITHDRAWN: set(),
}


LOAN_TRANSITIONS: dict[str, set[str]] = {
    LoanStatus.APPROVED: {LoanStatus.CONTRACTED, LoanStatus.CANCELLED},
    LoanStatus.CONTRACTED: {LoanStatus.ACTIVE, LoanStatus.CANCELLED},
    # A reversal of the last repayment re-opens a closed loan.
    LoanStatus.ACTIVE: {LoanStatus.CLOSED, LoanStatus.WRITTEN_OFF},
    LoanStatus.CLOSED: {LoanStatus.ACTIVE},
    # Risk handled (xử lý rủi ro); removed from off-balance tracking (xuất toán) 5 years on.
    LoanStatus.WRITTEN_OFF: {LoanStatus.REMOVED},
    LoanStatus.REMOVED: set(),
    LoanStatus.CANCELLED: set(),
}


STATUS_LABELS = {
    "draft": N_("Nháp"),
    "submitted": N_("Đã nộp"),
    "appraised": N_("Đã thẩm định"),
    "approved": N_("Đã phê duyệt"),
    "rejected": N_("Từ chối"),
    "withdrawn": N_("Đã rút"),
    "contracted": N_("Đã ký hợp đồng"),
    "active": N_("Đang vay"),
    "closed": N_("Đã tất toán"),
    "written_off": N_("Đã xử lý rủi ro"),
    "removed": N_("Đã xuất toán ngoại bảng"),
    "cancelled": N_("Đã hủy"),
}


def transition(obj: Application | Loan, to: str, actor: Any, reason: str = "") -> None:
    table = APPLICATION_TRANSITIONS if isinstance(obj, Application) else LOAN_TRANSITIONS
    entity = "application" if isinstance(obj, Application) else "loan"
    current = obj.status
    if to not in table.get(current, set()):
        raise DomainError(
            _(
                "Không thể chuyển trạng thái từ «%(a)s» sang «%(b)s».",
                a=_(STATUS_LABELS.get(current, current)),
                b=_(STATUS_LABELS.get(to, to)),
            )
        )
    obj.status = to
    db.session.add(
        LoanTransition(
            entity=entity,
            entity_id=obj.id,
            from_status=current,
            to_status=to,
            at=utcnow(),
            user_id=getattr(actor, "id", None),
            reason=reason[:2000],
        )
    )
    audit.record(
        actor, f"{entity}.{to}", entity, obj.id, {"status": current}, {"status": to}, note=reason
    )


def require(actor: Any, *roles: str) -> None:
    if not has_role(actor, *roles):
        raise PermissionDenied(_("Bạn không có quyền thực hiện thao tác này."))


def add_audited(
    actor: Any,
    item: Any,
    action: str,
    entity: str,
    after: dict[str, Any],
    note: str = "",
) -> None:
    """``item`` added and flushed (the audit log names its id), then audited as created."""
    db.session.add(item)
    db.session.flush()
    audit.record(actor, action, entity, item.id, None, after, note=note)
