"""Registering and editing borrowers."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from flask_babel import gettext as _
from sqlalchemy import func, select

from fundapp import audit
from fundapp.areas import services as areas
from fundapp.cooperatives.models import (
    Cooperative,
    CooperativeAddress,
    RelatedGroup,
)
from fundapp.core import validation
from fundapp.core.dates import business_date
from fundapp.core.lists import contains
from fundapp.domain.cooperatives import CooperativeKind
from fundapp.domain.dates import format_date
from fundapp.domain.errors import ValidationFailed
from fundapp.extensions import db

FIELDS = (
    "name", "kind", "registration_no", "tax_code", "commune_code", "address",
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


def expired_message(code: str, on: date) -> str | None:
    """Why ``code`` is not a commune on ``on``, naming the units it became; None when the
    code was never a commune of the loaded units."""
    ix = areas.index()
    older = [u for u in ix.by_code.get(("commune", code), []) if u.valid_to and u.valid_to < on]
    if not older:
        return None
    unit = older[-1]
    heirs = ix.successors(unit, on)
    ended = format_date(unit.valid_to + timedelta(days=1))
    if heirs:
        return _(
            "Mã %(code)s (%(name)s) đã hết hiệu lực từ %(date)s; đơn vị kế thừa: %(heirs)s",
            code=code,
            name=unit.name,
            date=ended,
            heirs=", ".join(u.label() for u in heirs),
        )
    return _(
        "Mã %(code)s (%(name)s) đã hết hiệu lực từ %(date)s; "
        "dữ liệu không cho biết đơn vị kế thừa.",
        code=code,
        name=unit.name,
        date=ended,
    )


def _clean_commune(
    data: dict[str, Any],
    existing: Cooperative | None,
    on: date,
    errors: dict[str, str],
    confirm: bool = False,
) -> dict[str, Any]:
    """The commune code: unchanged (blank, or the current or entered commune of
    ``existing``), or a commune-level unit in force on ``on`` (the business date, or a
    historical loan's date for an import); an expired code is refused naming its
    successors. ``confirm`` (an officer saving the cooperative's form): the current commune
    shown through the successions becomes the address as entered, which settles a commune
    that needed confirming; the former district stays."""
    out: dict[str, Any] = {}
    # A new cooperative gives a commune, except from an import of a historical loan that
    # knows only the former district (left for an officer to confirm).
    required = existing is None and not data.get("former_district_code")
    code = validation.text(data, "commune_code", 5, required, errors)
    ix = areas.index()
    keep = False
    if existing is not None and not code:
        keep = True
    elif existing is not None and existing.commune_unit_id:
        entered = ix.units.get(existing.commune_unit_id)
        current = existing.area_on(on)
        if (entered is not None and code == entered.code and entered.valid_on(on)) or (
            code == current.commune_code and not (confirm and current.needs_confirming)
        ):
            keep = True
        elif code == current.commune_code:
            unit = ix.resolve(code, on, "commune")
            out["commune_unit_id"] = unit.id if unit else existing.commune_unit_id
            out["former_district_code"] = existing.former_district_code
            return out
    if keep:
        assert existing is not None
        out["commune_unit_id"] = existing.commune_unit_id
        out["former_district_code"] = existing.former_district_code
    elif code and "commune_code" not in errors:
        unit = ix.resolve(code, on, "commune")
        if unit is None:
            errors["commune_code"] = expired_message(code, on) or _(
                "Mã %(code)s không phải mã xã, phường, thị trấn trong danh mục đơn vị hành chính.",
                code=code,
            )
        else:
            out["commune_unit_id"] = unit.id
    district = data.get("former_district_code")
    if existing is not None and district == existing.former_district_code:
        district = None  # carried over from the record (to_dict), not a new value
    if district:
        district = str(district).strip()
        if ix.district(district) is None:
            errors["former_district_code"] = _(
                "Mã huyện %(code)s không có trong danh mục.", code=district
            )
        out["former_district_code"] = district
    elif not keep and out.get("commune_unit_id"):
        former = ix.former_district(ix.units[out["commune_unit_id"]])
        out["former_district_code"] = former.code if former else None
    return out


def clean(
    data: dict[str, Any],
    existing: Cooperative | None = None,
    on: date | None = None,
    confirm: bool = False,
) -> dict[str, Any]:
    """Every field checked, all messages at once; raises ValidationFailed. ``on``: the date
    the commune code must be in force on (default the business date)."""
    on = on or business_date()
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
    out.update(_clean_commune(data, existing, on, errors, confirm))
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


def create(
    actor: Any, data: dict[str, Any], as_of: date | None = None, entered_on: date | None = None
) -> Cooperative:
    """Register a cooperative on ``as_of`` (default the business date). ``entered_on``: the
    date its commune code is read on (a historical loan's, for an import); its address
    starts then."""
    as_of = as_of or business_date()
    values = clean(data, on=entered_on or as_of)
    coop = Cooperative(**values)
    db.session.add(coop)
    db.session.flush()
    db.session.add(
        CooperativeAddress(
            cooperative_id=coop.id,
            commune_unit_id=coop.commune_unit_id,
            street=coop.address,
            valid_from=entered_on or as_of,
        )
    )
    db.session.flush()
    audit.record(actor, "cooperative.create", "cooperative", coop.id, None, coop.to_dict())
    return coop


def _move(coop: Cooperative, as_of: date) -> None:
    """Keep the address history: the open row closes the day before ``as_of`` and a new
    one starts (a change on the row's own first day corrects it instead)."""
    current = db.session.scalar(
        select(CooperativeAddress)
        .where(CooperativeAddress.cooperative_id == coop.id, CooperativeAddress.valid_to.is_(None))
        .order_by(CooperativeAddress.id.desc())
    )
    if current is not None and (current.commune_unit_id, current.street) == (
        coop.commune_unit_id,
        coop.address,
    ):
        return
    if current is not None and current.valid_from >= as_of:
        current.commune_unit_id = coop.commune_unit_id
        current.street = coop.address
        return
    if current is not None:
        current.valid_to = as_of - timedelta(days=1)
    db.session.add(
        CooperativeAddress(
            cooperative_id=coop.id,
            commune_unit_id=coop.commune_unit_id,
            street=coop.address,
            valid_from=as_of,
        )
    )


def update(
    actor: Any,
    coop: Cooperative,
    data: dict[str, Any],
    as_of: date | None = None,
    confirm: bool = False,
) -> Cooperative:
    """Change a cooperative; ``confirm``: an officer's save of the whole form settles a
    commune that needed confirming (see ``_clean_commune``)."""
    as_of = as_of or business_date()
    values = clean(data, existing=coop, on=as_of, confirm=confirm)
    before = coop.to_dict()
    for key, value in values.items():
        setattr(coop, key, value)
    _move(coop, as_of)
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


def search(
    q: str = "",
    district: str = "",
    sector: str = "",
    kind: str = "",
    commune: str = "",
    as_of: date | None = None,
) -> Any:
    """A select of cooperatives matching the filters, in the Vietnamese order of names."""
    query = select(Cooperative).order_by(Cooperative.name_key, Cooperative.id)
    if q.strip():
        # Name, registration number, tax code, representative, without diacritics or case.
        query = query.where(contains(func.lower(Cooperative.search_key), q.strip()[:100]))
    if district:
        query = query.where(Cooperative.former_district_code == district)
    if commune:
        ids = [c.id for c in located(as_of or business_date()) if c.commune_code == commune]
        query = query.where(Cooperative.id.in_(ids))
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


@dataclass(frozen=True)
class Located:
    id: int
    name: str
    commune_code: str | None
    commune_name: str
    needs_confirming: bool
    former_district_code: str | None
    former_district_name: str
    former_province_code: str | None
    former_province_name: str


def located(as_of: date, ids: list[int] | None = None) -> list[Located]:
    """Every cooperative (or those of ``ids``) with its current commune, former district
    and former province on ``as_of``."""
    query = select(
        Cooperative.id,
        Cooperative.name,
        Cooperative.commune_unit_id,
        Cooperative.former_district_code,
    ).order_by(Cooperative.name, Cooperative.id)
    if ids is not None:
        query = query.where(Cooperative.id.in_(ids))
    out = []
    for cid, name, unit_id, district in db.session.execute(query):
        a = areas.area_of(unit_id, district, as_of)
        doubtful = a.needs_confirming or a.commune_code is None
        out.append(
            Located(
                cid, name, a.commune_code, a.commune_name, doubtful,
                a.former_district_code, a.former_district_name, a.former_province_code,
                a.former_province_name,
            )
        )  # fmt: skip
    return out


def needing_confirmation(as_of: date) -> list[Located]:
    """Cooperatives whose current commune the data cannot settle: a divided commune (the
    default successor is shown) or a commune that vanished with no successor, or none."""
    return [c for c in located(as_of) if c.needs_confirming]
