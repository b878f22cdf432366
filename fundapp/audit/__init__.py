"""The audit trail: every service that changes data records one row here.

The trail (the ``AuditLog`` model and :func:`record`) is one low package, just above
``core``, so that every feature package can record without importing anything above it;
how people read the trail (labels, names of objects) is ``fundapp.reports.audit_trail``."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Any

from fundapp.audit.models import AuditLog
from fundapp.extensions import db


def _plain(value: Any) -> Any:
    if isinstance(value, (date, datetime)):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    return value


def diff(before: dict[str, Any], after: dict[str, Any]) -> tuple[dict, dict]:
    """Only the keys that changed, in both directions."""
    keys = [k for k in after if before.get(k) != after.get(k)]
    return {k: before.get(k) for k in keys}, {k: after[k] for k in keys}


def record(
    actor: Any,
    action: str,
    entity: str,
    entity_id: Any = "",
    before: dict[str, Any] | None = None,
    after: dict[str, Any] | None = None,
    note: str = "",
) -> None:
    db.session.add(
        AuditLog(
            user_id=getattr(actor, "id", None),
            username=getattr(actor, "username", "") or "system",
            action=action,
            entity=entity,
            entity_id=str(entity_id or ""),
            before=_plain(before) if before is not None else None,
            after=_plain(after) if after is not None else None,
            note=note[:500],
        )
    )
