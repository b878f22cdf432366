"""API v1: the fund's capital received and its position (sources and uses)."""

from __future__ import annotations

from typing import Any

from flask import jsonify
from flask_babel import gettext as _
from sqlalchemy import select

from fundapp.api import bp, shapes
from fundapp.api.common import (
    api_roles,
    body,
    current_api_user,
    idempotent,
    iso_days,
    only_fields,
    paginate,
    within_period,
)
from fundapp.api.spec import Page, fields_of, operation, read_query
from fundapp.core import validation
from fundapp.core.dates import business_date
from fundapp.core.security import STAFF_READ, Role
from fundapp.domain.errors import ValidationFailed
from fundapp.funds import services as funds
from fundapp.ledger import services
from fundapp.ledger.models import CapitalEntry
from fundapp.ledger.services import FundPosition


def capital_entry_json(entry: CapitalEntry) -> shapes.CapitalEntry:
    return {**entry.to_dict(), "origin_fund": funds.code_of(entry.origin_fund_id)}  # type: ignore[typeddict-item]


@bp.route("/capital-entries", methods=["GET"])
@api_roles(*STAFF_READ)
@operation(query=shapes.CapitalEntryQuery, returns=Page[shapes.CapitalEntry])
def list_capital_entries() -> Any:
    """List the capital received, oldest first.

    `source` keeps one kind of capital; `from` and `to` bound the dates received."""
    args = read_query(shapes.CapitalEntryQuery)
    query = within_period(select(CapitalEntry), CapitalEntry.entry_date, args)
    if "source" in args:
        query = query.where(CapitalEntry.source == args["source"])
    if "origin_fund" in args:
        origin = funds.origin_filter(args["origin_fund"], "origin_fund")
        query = origin.apply(query, CapitalEntry.origin_fund_id)
    query = query.order_by(CapitalEntry.entry_date, CapitalEntry.id)
    return jsonify(paginate(query, capital_entry_json))


@bp.route("/capital-entries", methods=["POST"])
@api_roles(Role.ACCOUNTANT)
@idempotent
@operation(body=shapes.NewCapitalEntry, returns=shapes.CapitalEntry, status=201)
def create_capital_entry() -> Any:
    """Record capital received.

    Charter capital from the provincial budget, capital entrusted by a lender (name it in
    `source_name`), a grant or other capital: Dr cash / Cr the capital account.
    `origin_fund` names the fund whose capital it was, when a fund's book is taken over
    (`GET /funds`); by default this fund's."""
    data = body()
    only_fields(data, fields_of(shapes.NewCapitalEntry))
    errors: dict[str, str] = {}
    amount = validation.amount(data, "amount", errors)
    if isinstance(data.get("amount"), str):
        errors["amount"] = _("Số tiền trong JSON là số nguyên (đồng), không phải chuỗi.")
    iso_days(data, ("date",), errors)
    entry_date = validation.iso_date(data, "date", errors) if "date" not in errors else None
    if entry_date and entry_date > business_date():
        errors["date"] = _("Ngày nhận vốn không được sau ngày làm việc hiện tại.")
    for key in ("source", "source_name", "reference", "note", "origin_fund"):
        if data.get(key) is not None and not isinstance(data.get(key), str):
            errors[key] = _("Phải là chuỗi.")
        elif "\x00" in (data.get(key) or ""):
            errors[key] = _("Có ký tự không hợp lệ.")
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
        origin_fund=data.get("origin_fund") or None,
    )
    return jsonify(capital_entry_json(entry)), 201  # committed by @idempotent


def position_json(p: FundPosition) -> shapes.FundPosition:
    return {
        "as_of": p.as_of.isoformat() if p.as_of else None,
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
            "accrued_interest": p.accrued_interest,
            "support_receivable": p.support_receivable,
            "provision": p.provision,
            "total": p.total_uses,
        },
        "total_capital": p.total_capital,
    }


@bp.route("/fund/position", methods=["GET"])
@api_roles(*STAFF_READ)
@operation(query=shapes.AsOfQuery, returns=shapes.FundPosition)
def fund_position() -> Any:
    """The fund's sources and uses of capital from its ledger.

    As of `as_of`, or of everything posted when it is not given (`as_of` is then null)."""
    errors: dict[str, str] = {}
    as_of = validation.iso_date(read_query(shapes.AsOfQuery), "as_of", errors, required=False)
    if errors:
        raise ValidationFailed(_("Ngày không hợp lệ."), errors)
    return jsonify(position_json(services.fund_position(as_of)))
