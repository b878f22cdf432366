"""API v1: the readiness check (fundapp/lending/readiness.py), on typed amounts before
applying, or on an application's own amounts. Nothing is stored.
"""

from __future__ import annotations

from typing import Annotated, Any

from flask import abort, jsonify
from flask_babel import gettext as _
from pydantic import Field

from fundapp.api import bp
from fundapp.api.common import api_roles, current_api_user, get_or_404
from fundapp.api.loan_input import visible_application
from fundapp.api.spec import (
    Id,
    Money,
    NotRequired,
    PositiveMoney,
    TypedDict,
    operation,
    read_query,
)
from fundapp.cooperatives.models import Cooperative
from fundapp.core.dates import business_date
from fundapp.core.security import STAFF_READ, Role, can_see_cooperative, has_role
from fundapp.domain.errors import ValidationFailed
from fundapp.lending import readiness


class ReadinessQuery(TypedDict):
    total_project_cost: PositiveMoney
    own_equity: Money
    requested_amount: PositiveMoney
    collateral: NotRequired[Annotated[bool, Field(description="Collateral offered")]]
    purpose: NotRequired[Annotated[str, Field(max_length=255, pattern=r"^[^\x00]*$")]]
    cooperative_id: NotRequired[
        Annotated[Id, Field(description="Staff: the borrower; a cooperative: its own")]
    ]


class ReadinessCondition(TypedDict):
    code: str
    label: str
    passed: bool
    detail: str
    bring: str
    basis: str
    missing: Annotated[int, Field(description="Đồng still lacking (own equity), else 0")]


class Readiness(TypedDict):
    cooperative_id: int
    ready: bool
    conditions: list[ReadinessCondition]


def _answer(coop_id: int, conditions: list[readiness.Condition]) -> Any:
    return jsonify(
        {
            "cooperative_id": coop_id,
            "ready": all(c.passed for c in conditions),
            "conditions": [c.to_dict() for c in conditions],
        }
    )


@bp.route("/portal/readiness", methods=["GET"])
@api_roles(*STAFF_READ, Role.COOPERATIVE)
@operation(query=ReadinessQuery, returns=Readiness)
def portal_readiness() -> Any:
    """Which lending conditions a borrower meets on the amounts given, and what to bring.

    A cooperative's user checks its own cooperative (another's id is not found); staff
    name the borrower with `cooperative_id`.
    """
    args = read_query(ReadinessQuery)
    user = current_api_user()
    coop_id = args.get("cooperative_id")
    if coop_id is None:
        if has_role(user, *STAFF_READ) or not user.cooperative_id:
            message = _("Nêu hợp tác xã cần kiểm tra (cooperative_id).")
            raise ValidationFailed(message, {"cooperative_id": message})
        coop_id = user.cooperative_id
    coop = get_or_404(Cooperative, coop_id)
    if not can_see_cooperative(user, coop.id):
        abort(404)
    amounts = readiness.Amounts(
        total_project_cost=args["total_project_cost"],
        own_equity=args["own_equity"],
        requested_amount=args["requested_amount"],
        collateral=bool(args.get("collateral", False)),
        purpose=args.get("purpose", "").strip(),
    )
    return _answer(coop.id, readiness.check(coop, amounts, business_date()))


@bp.route("/applications/<int:app_id>/readiness", methods=["GET"])
@api_roles(*STAFF_READ, Role.COOPERATIVE)
@operation(returns=Readiness)
def application_readiness(app_id: int) -> Any:
    """The readiness check on an application's own amounts (the loan as recommended once
    appraised, else as asked)."""
    app = visible_application(app_id)
    return _answer(app.cooperative_id, readiness.check_application(app, business_date()))
