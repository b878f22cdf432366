from __future__ import annotations

from typing import Any

from flask import jsonify
from flask_babel import gettext as _
from sqlalchemy import select

from fundapp.api import bp
from fundapp.api.common import api_roles, body, current_api_user, idempotent, only_fields, paginate
from fundapp.core import validation
from fundapp.core.dates import business_date
from fundapp.core.errors import ValidationFailed
from fundapp.core.security import STAFF_READ, Role
from fundapp.ledger import services
from fundapp.ledger.models import CapitalEntry

CAPITAL_FIELDS = ("source", "source_name", "amount", "date", "reference", "note")


@bp.route("/capital-entries", methods=["GET"])
@api_roles(*STAFF_READ)
def list_capital_entries() -> Any:
    query = select(CapitalEntry).order_by(CapitalEntry.entry_date, CapitalEntry.id)
    return jsonify(paginate(query, CapitalEntry.to_dict))


@bp.route("/capital-entries", methods=["POST"])
@api_roles(Role.ACCOUNTANT)
@idempotent
def create_capital_entry() -> Any:
    data = body()
    only_fields(data, CAPITAL_FIELDS)
    errors: dict[str, str] = {}
    amount = validation.amount(data, "amount", errors)
    if isinstance(data.get("amount"), str):
        errors["amount"] = _("Số tiền trong JSON là số nguyên (đồng), không phải chuỗi.")
    entry_date = validation.iso_date(data, "date", errors)
    if entry_date and entry_date > business_date():
        errors["date"] = _("Ngày nhận vốn không được sau ngày làm việc hiện tại.")
    for key in ("source", "source_name", "reference", "note"):
        if data.get(key) is not None and not isinstance(data.get(key), str):
            errors[key] = _("Phải là chuỗi.")
    if errors:
        raise ValidationFailed(_("Dữ liệu chưa hợp lệ, xin kiểm tra lại."), errors)
    entry = services.record_capital(
        current_api_user(),
        data.get("source") or "",
        amount,
        entry_date,  # type: ignore[arg-type]
        reference=data.get("reference") or "",
        note=data.get("note") or "",
        source_name=data.get("source_name") or "",
    )
    return jsonify(entry.to_dict()), 201  # committed by @idempotent


@bp.route("/fund/position", methods=["GET"])
@api_roles(*STAFF_READ)
def fund_position() -> Any:
    from flask import request

    errors: dict[str, str] = {}
    as_of = validation.iso_date(dict(request.args), "as_of", errors, required=False)
    if errors:
        raise ValidationFailed(_("Ngày không hợp lệ."), errors)
    p = services.fund_position(as_of)
    return jsonify(
        {
            "as_of": as_of.isoformat() if as_of else None,
            "sources": {
                "charter_capital": p.charter,
                "entrusted_capital": p.entrusted,
                "entrusted_by_source": p.entrusted_sources,
                "grants": p.grants,
                "other_capital": p.other,
                "accumulated_result": p.accumulated_result,
                "total": p.total_sources,
            },
            "uses": {
                "cash": p.cash,
                "loans_in_term": p.loans_in_term,
                "loans_overdue": p.loans_overdue,
                "interest_receivable": p.interest_receivable,
                "provision": p.provision,
                "total": p.total_uses,
            },
            "total_capital": p.total_capital,
        }
    )
