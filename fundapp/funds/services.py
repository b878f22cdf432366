"""Origin funds: this fund's own row, the funds it took over, and reading an ``origin``.

Records store ``origin_fund_id`` NULL for this fund (``resolve`` never returns this fund's
id), so "this fund's" is one test (``IS NULL``) everywhere, and a record made by code that
knows nothing of origins is this fund's. The consolidated figure of any report is the sum
of the per-origin figures because every record has exactly one origin.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from flask import current_app, g, has_app_context
from flask_babel import gettext as _
from sqlalchemy import select

from fundapp import audit
from fundapp.domain.errors import ValidationFailed
from fundapp.extensions import db
from fundapp.funds.models import Fund

# This fund's code while its row has not been written (a database built by create_all).
OWN_CODE = "QUY"
CODE_PATTERN = re.compile(r"^[A-Z0-9][A-Z0-9_-]{0,19}$")


@dataclass(frozen=True)
class Origin:
    """A fund as readers show it; ``id`` is None for this fund."""

    id: int | None
    code: str
    name: str
    is_own: bool

    def to_dict(self) -> dict[str, Any]:
        return {"code": self.code, "name": self.name, "is_own": self.is_own}


def _own_name() -> str:
    if has_app_context():
        return str(current_app.config.get("FUNDAPP_NAME") or "")
    return ""


def own_fund() -> Fund | None:
    return db.session.scalar(select(Fund).where(Fund.is_own.is_(True)))


def ensure_own(name: str | None = None) -> Fund:
    """This fund's row, written if missing (``flask policy init``, the demo). Flushes."""
    fund = own_fund()
    if fund is None:
        fund = Fund(code=OWN_CODE, name=(name or _own_name() or OWN_CODE)[:200], is_own=True)
        db.session.add(fund)
        db.session.flush()
    return fund


def origins() -> list[Origin]:
    """Every fund, this fund first."""
    own = own_fund()
    out = [
        Origin(None, own.code, own.name, True)
        if own is not None
        else Origin(None, OWN_CODE, _own_name() or OWN_CODE, True)
    ]
    others = select(Fund).where(Fund.is_own.is_(False)).order_by(Fund.code)
    out += [Origin(f.id, f.code, f.name, False) for f in db.session.scalars(others)]
    return out


def _cache() -> dict[int | None, Origin]:
    """Origins by id for the current request or command (a handful of rows)."""
    if has_app_context():
        cached = g.get("_origin_funds")
        if cached is None:
            cached = g._origin_funds = {o.id: o for o in origins()}
        return cached
    return {o.id: o for o in origins()}


def origin_of(fund_id: int | None) -> Origin:
    cache = _cache()
    found = cache.get(fund_id)
    if found is None:
        # Added in this request after the cache was filled.
        if has_app_context():
            g.pop("_origin_funds", None)
        found = _cache().get(fund_id) or cache[None]
    return found


def code_of(fund_id: int | None) -> str:
    return origin_of(fund_id).code


def find(code: str) -> Origin | None:
    wanted = (code or "").strip().upper()
    for origin in _cache().values():
        if origin.code.upper() == wanted:
            return origin
    fund = db.session.scalar(select(Fund).where(Fund.code == wanted))
    if fund is None:
        return None
    return Origin(None if fund.is_own else fund.id, fund.code, fund.name, fund.is_own)


def unknown_message(code: str) -> str:
    known = ", ".join(o.code for o in origins())
    return _(
        "Không có quỹ gốc mã “%(c)s”; các quỹ đã đăng ký: %(k)s.", c=(code or "")[:40], k=known
    )


def resolve(code: str | None, field: str = "origin_fund") -> int | None:
    """The ``origin_fund_id`` to store for ``code``: None for blank or this fund's code.
    An unknown code is refused naming the field and the codes there are."""
    if code is None or not str(code).strip():
        return None
    origin = find(str(code))
    if origin is None:
        message = unknown_message(str(code))
        raise ValidationFailed(message, {field: message})
    return origin.id


@dataclass(frozen=True)
class OriginFilter:
    """A report's ``origin``: None = consolidated (every origin)."""

    origin: Origin | None

    @property
    def code(self) -> str | None:
        return self.origin.code if self.origin else None

    def clause(self, column: Any) -> Any:
        """The SQL condition on an ``origin_fund_id`` column, or None for all."""
        if self.origin is None:
            return None
        if self.origin.id is None:
            return column.is_(None)
        return column == self.origin.id

    def apply(self, query: Any, column: Any) -> Any:
        condition = self.clause(column)
        return query if condition is None else query.where(condition)

    def matches(self, fund_id: int | None) -> bool:
        return self.origin is None or fund_id == self.origin.id


ALL = OriginFilter(None)


def origin_filter(code: str | None, field: str = "origin") -> OriginFilter:
    """A report's ``origin=`` parameter: blank for the consolidated figures."""
    if code is None or not str(code).strip():
        return ALL
    origin = find(str(code))
    if origin is None:
        message = unknown_message(str(code))
        raise ValidationFailed(message, {field: message})
    return OriginFilter(origin)


def create(actor: Any, code: str, name: str, note: str = "") -> Fund:
    """Register a fund whose book is taken over. Flushes; the caller commits."""
    clean = (code or "").strip().upper()
    errors: dict[str, str] = {}
    if not CODE_PATTERN.fullmatch(clean):
        errors["code"] = _("Mã quỹ gồm 1–20 chữ cái in hoa không dấu, chữ số, “-” hoặc “_”.")
    elif find(clean) is not None or clean == OWN_CODE:
        errors["code"] = _("Mã quỹ “%(c)s” đã có.", c=clean)
    title = (name or "").strip()
    if not title or len(title) > 200 or "\x00" in title:
        errors["name"] = _("Ghi tên quỹ (tối đa 200 ký tự).")
    if "\x00" in (note or "") or len(note or "") > 2000:
        errors["note"] = _("Ghi chú không hợp lệ (tối đa 2000 ký tự).")
    if errors:
        raise ValidationFailed(_("Dữ liệu chưa hợp lệ, xin kiểm tra lại."), errors)
    fund = Fund(code=clean, name=title, note=(note or "").strip(), is_own=False)
    db.session.add(fund)
    db.session.flush()
    if has_app_context():
        g.pop("_origin_funds", None)
    audit.record(actor, "fund.create", "fund", fund.id, None, {"code": clean, "name": title})
    return fund
