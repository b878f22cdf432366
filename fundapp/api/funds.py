"""API v1: the funds whose books this installation carries (origin funds)."""

from __future__ import annotations

from typing import Annotated, Any

from flask import jsonify
from pydantic import Field

from fundapp.api import bp
from fundapp.api.common import api_roles, current_api_user
from fundapp.api.spec import NotRequired, TypedDict, operation, read_body, strict
from fundapp.core.security import STAFF_READ, Role
from fundapp.extensions import db
from fundapp.funds import services as funds


class OriginFund(TypedDict):
    code: str
    name: str
    is_own: Annotated[bool, Field(description="This fund (records with no origin named)")]


class OriginFunds(TypedDict):
    items: list[OriginFund]


@strict
class NewOriginFund(TypedDict):
    code: Annotated[str, Field(min_length=1, max_length=20, description="e.g. BN")]
    name: Annotated[str, Field(min_length=1, max_length=200, pattern=r"^[^\x00]*$")]
    note: NotRequired[Annotated[str, Field(max_length=2000, pattern=r"^[^\x00]*$")]]


@bp.route("/funds", methods=["GET"])
@api_roles(*STAFF_READ)
@operation(returns=OriginFunds)
def list_funds() -> Any:
    """The funds whose books are carried here: this fund first, then the funds whose
    loans it took over. Their `code` is the `origin_fund` of cooperatives, loans and
    capital entries, and the reports' `origin` filter."""
    return jsonify({"items": [o.to_dict() for o in funds.origins()]})


@bp.route("/funds", methods=["POST"])
@api_roles(Role.ACCOUNTANT, Role.DIRECTOR)
@operation(body=NewOriginFund, returns=OriginFund, status=201)
def create_fund() -> Any:
    """Register a fund whose book is taken over, before importing its loans and
    recording its capital under its `code` (capital letters, digits, `-`, `_`)."""
    data = read_body(NewOriginFund)
    fund = funds.create(current_api_user(), data["code"], data["name"], data.get("note", ""))
    db.session.commit()
    return jsonify({"code": fund.code, "name": fund.name, "is_own": fund.is_own}), 201
