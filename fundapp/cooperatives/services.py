"""Registering and editing borrowers."""

from __future__ import annotations

import re
from typing import Any

from flask_babel import gettext as _
from sqlalchemy import func, or_, select

from fundapp.cooperatives.districts import DISTRICTS
from fundapp.cooperatives.models import Cooperative, CooperativeKind, RelatedGroup
from fundapp.core import audit, validation
from fundapp.core.errors import ValidationFailed
from fundapp.extensions import db

FIELDS = (
    "name", "kind", "registration_no", "tax_code", "district_code", "commune", "address",
    "sector", "representative", "phone", "email", "members_count", "bank_account",
    "bank_name", "related_group_id",
)  # fmt: skip


def normalise_tax_code(raw: str) -> str | None:
    """10 digits, or 13 digits (a branch), written with or without the dash."""
    compact = raw.replace(" ", "")
    if re.fullmatch(r"[0-9]{10}", compact) or re.fullmatch(r"[0-9]{13}", compact):
        return compact
    if re.fullmatch(r"[0-9]{10}-[0-9]{3}", compact):
        return compact.replace("-", "")
    return None


def clean(data: dict[str, Any], existing: Cooperative | None = None) -> dict[str, Any]:
    """Every field checked, all messages at once; raises ValidationFailed."""
    errors: dict[str, str] = {}
    out: dict[str, Any] = {}
    out["name"] = validation.text(data, "name", 200, True, errors)
    kind = validation.text(data, "kind", 20, True, errors) or CooperativeKind.COOPERATIVE.value
    if "kind" not in errors and kind not in {k.value for k in CooperativeKind}:
        errors["kind"] = _("Loại hình không hợp lệ.")
    out["kind"] = kind
    out["registration_no"] = validation.text(data, "registration_no", 30, True, errors)
    tax = validation.text(data, "tax_code", 14, True, errors)
    if tax and "tax_code" not in errors:
        normal = normalise_tax_code(tax)
        if normal is None:
            errors["tax_code"] = _("Mã số thuế gồm 10 hoặc 13 chữ số.")
        tax = normal or tax
    out["tax_code"] = tax
    district = validation.text(data, "district_code", 3, True, errors)
    if district and district not in DISTRICTS:
        errors["district_code"] = _("Mã huyện không thuộc tỉnh Bắc Giang.")
    out["district_code"] = district
    out["commune"] = validation.text(data, "commune", 100, False, errors)
    out["address"] = validation.text(data, "address", 255, False, errors)
    out["sector"] = validation.text(data, "sector", 100, False, errors)
    out["representative"] = validation.text(data, "representative", 120, False, errors)
    out["phone"] = validation.phone(data, "phone", errors)
    out["email"] = validation.email(data, "email", errors)
    out["members_count"] = validation.whole_number(data, "members_count", errors, 0, 1_000_000)
    bank = validation.text(data, "bank_account", 30, False, errors)
    if bank and not re.fullmatch(r"[0-9 .\-]{4,30}", bank):
        errors["bank_account"] = _("Số tài khoản chỉ gồm chữ số.")
    out["bank_account"] = bank
    out["bank_name"] = validation.text(data, "bank_name", 120, False, errors)
    group = data.get("related_group_id")
    group_id = validation.row_id(group)
    if group in (None, "", 0, "0"):
        out["related_group_id"] = None
    elif group_id is not None and db.session.get(RelatedGroup, group_id):
        out["related_group_id"] = group_id
    else:
        errors["related_group_id"] = _("Nhóm người có liên quan không tồn tại.")

    own_id = existing.id if existing else -1
    if out["registration_no"] and "registration_no" not in errors:
        taken = db.session.scalar(
            select(Cooperative.id).where(
                func.lower(Cooperative.registration_no) == out["registration_no"].lower(),
                Cooperative.id != own_id,
            )
        )
        if taken:
            errors["registration_no"] = _("Số đăng ký này đã có trong hệ thống.")
    if out["tax_code"] and "tax_code" not in errors:
        taken = db.session.scalar(
            select(Cooperative.id).where(
                Cooperative.tax_code == out["tax_code"], Cooperative.id != own_id
            )
        )
        if taken:
            errors["tax_code"] = _("Mã số thuế này đã có trong hệ thống.")
    if errors:
        raise ValidationFailed(_("Dữ liệu chưa hợp lệ, xin kiểm tra lại."), errors)
    return out


def create(actor: Any, data: dict[str, Any]) -> Cooperative:
    values = clean(data)
    coop = Cooperative(**values)
    db.session.add(coop)
    db.session.flush()
    audit.record(actor, "cooperative.create", "cooperative", coop.id, None, coop.to_dict())
    return coop


def update(actor: Any, coop: Cooperative, data: dict[str, Any]) -> Cooperative:
    values = clean(data, existing=coop)
    before = coop.to_dict()
    for key, value in values.items():
        setattr(coop, key, value)
    db.session.flush()
    old, new = audit.diff(before, coop.to_dict())
    if new:
        audit.record(actor, "cooperative.update", "cooperative", coop.id, old, new)
    return coop


def create_group(actor: Any, name: str, note: str = "") -> RelatedGroup:
    errors: dict[str, str] = {}
    clean_name = validation.text({"name": name}, "name", 200, True, errors)
    if not errors and db.session.scalar(
        select(RelatedGroup.id).where(RelatedGroup.name == clean_name)
    ):
        errors["name"] = _("Tên nhóm đã tồn tại.")
    if errors:
        raise ValidationFailed(_("Dữ liệu chưa hợp lệ, xin kiểm tra lại."), errors)
    group = RelatedGroup(name=clean_name, note=note.strip()[:1000])
    db.session.add(group)
    db.session.flush()
    audit.record(actor, "related_group.create", "related_group", group.id, None, {"name": name})
    return group


def search(q: str = "", district: str = "", sector: str = "", kind: str = "") -> Any:
    """A select of cooperatives matching the filters, by name."""
    query = select(Cooperative).order_by(Cooperative.name, Cooperative.id)
    if q:
        like = f"%{q.strip().lower()[:100]}%"
        query = query.where(
            or_(
                func.lower(Cooperative.name).like(like),
                Cooperative.registration_no.like(like),
                Cooperative.tax_code.like(like),
                func.lower(Cooperative.representative).like(like),
            )
        )
    if district:
        query = query.where(Cooperative.district_code == district)
    if sector:
        query = query.where(Cooperative.sector == sector)
    if kind:
        query = query.where(Cooperative.kind == kind)
    return query


def sectors() -> list[str]:
    return [
        s
        for s in db.session.scalars(
            select(Cooperative.sector).distinct().order_by(Cooperative.sector)
        )
        if s
    ]
