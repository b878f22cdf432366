"""Reading and changing the lending policy; a change is a new dated version."""

from __future__ import annotations

from datetime import date
from typing import Any

from flask_babel import gettext as _
from sqlalchemy import select

from fundapp.core import audit
from fundapp.core.errors import ValidationFailed
from fundapp.extensions import db
from fundapp.policy.models import PolicyParameter
from fundapp.policy.parameters import BY_KEY, DEFAULTS_EFFECTIVE, PARAMS


def raw_value(key: str, as_of: date) -> str:
    row = db.session.scalar(
        select(PolicyParameter.value)
        .where(PolicyParameter.key == key, PolicyParameter.effective_from <= as_of)
        .order_by(PolicyParameter.effective_from.desc())
        .limit(1)
    )
    return row if row is not None else BY_KEY[key].default


def value(key: str, as_of: date) -> Any:
    """The typed value of ``key`` in force on ``as_of``."""
    return BY_KEY[key].parse(raw_value(key, as_of))


def snapshot(as_of: date) -> dict[str, str]:
    """Every parameter in force on ``as_of``, as stored: copied onto a contract."""
    return {p.key: raw_value(p.key, as_of) for p in PARAMS}


def install_defaults(actor: Any = None) -> int:
    """Write the legal defaults as the first version of every parameter not yet stored."""
    stored = set(db.session.scalars(select(PolicyParameter.key).distinct()))
    added = 0
    for param in PARAMS:
        if param.key in stored:
            continue
        db.session.add(
            PolicyParameter(
                key=param.key,
                value=param.default,
                effective_from=DEFAULTS_EFFECTIVE,
                legal_reference=param.legal_reference,
                note="Giá trị mặc định theo văn bản pháp luật",
                created_by_id=getattr(actor, "id", None),
            )
        )
        added += 1
    db.session.flush()
    return added


def change(
    actor: Any,
    key: str,
    raw: str,
    effective_from: date,
    legal_reference: str,
    note: str,
    business_date: date,
) -> PolicyParameter:
    """Add a new version of ``key``. History is never rewritten: the date must be today or
    later, and after the latest version already stored."""
    if key not in BY_KEY:
        raise ValidationFailed(_("Tham số không tồn tại."), {"key": _("Tham số không tồn tại.")})
    param = BY_KEY[key]
    try:
        param.parse(raw)
    except ValueError:
        msg = _("Giá trị không hợp lệ cho tham số này.")
        raise ValidationFailed(msg, {"value": msg}) from None
    if effective_from < business_date:
        msg = _("Ngày hiệu lực không được trước ngày làm việc hiện tại (không sửa lịch sử).")
        raise ValidationFailed(msg, {"effective_from": msg})
    latest = db.session.scalar(
        select(PolicyParameter)
        .where(PolicyParameter.key == key)
        .order_by(PolicyParameter.effective_from.desc())
        .limit(1)
    )
    if latest is not None and effective_from <= latest.effective_from:
        msg = _(
            "Đã có phiên bản hiệu lực từ %(d)s; ngày hiệu lực mới phải sau ngày đó.",
            d=latest.effective_from.strftime("%d/%m/%Y"),
        )
        raise ValidationFailed(msg, {"effective_from": msg})
    if not legal_reference.strip():
        msg = _("Cần ghi căn cứ pháp lý của thay đổi.")
        raise ValidationFailed(msg, {"legal_reference": msg})
    if len(legal_reference.strip()) > 255:
        msg = _("Tối đa %(n)s ký tự.", n=255)
        raise ValidationFailed(msg, {"legal_reference": msg})
    before = raw_value(key, effective_from)
    row = PolicyParameter(
        key=key,
        value=raw.strip(),
        effective_from=effective_from,
        legal_reference=legal_reference.strip(),
        note=note.strip(),
        created_by_id=actor.id,
    )
    db.session.add(row)
    db.session.flush()
    audit.record(
        actor,
        "policy.change",
        "policy_parameter",
        row.id,
        {"key": key, "value": before},
        {"key": key, "value": row.value, "effective_from": effective_from},
        note=note,
    )
    return row
