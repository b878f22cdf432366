"""API v1: the fund's annual plan (docs/rules.md#annual-plan).

The accountant prepares a plan for a year (``POST /plans``) and edits it while it is a
draft (``PATCH /plans/{id}``); a director other than the one who last prepared it approves
it (``POST /plans/{id}/approve``), after which it no longer changes. Plan against actual is
the report ``GET /reports/plan-actual?year=&as_of=``.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from flask import jsonify
from flask_babel import gettext as _
from pydantic import Field

from fundapp.api import bp
from fundapp.api.common import api_roles, current_api_user, get_or_404, timestamp
from fundapp.api.spec import NotRequired, Timestamp, TypedDict, operation, read_body, strict
from fundapp.core.security import STAFF_READ, Role
from fundapp.extensions import db
from fundapp.planning import services
from fundapp.planning.models import AnnualPlan

Amount = Annotated[int, Field(ge=0, description="Whole đồng")]
BasisPoints = Annotated[int, Field(ge=0, le=10_000, description="Basis points (300 = 3 %)")]
Note = Annotated[str, Field(max_length=2000, pattern=r"^[^\x00]*$")]


@strict
class PlanAmounts(TypedDict, total=False):
    disbursed: Amount
    principal_collected: Amount
    outstanding: Amount
    bad_debt_ratio: BasisPoints
    charter_capital: Amount
    interest_income: Amount
    other_income: Amount
    provision_expense: Amount
    operating_costs: Amount


class PlanLine(TypedDict):
    section: Literal["lending", "sources", "income", "expense"]
    code: str
    label: str
    unit: Literal["money", "bp"]
    amount: int


class Plan(TypedDict):
    id: int
    year: int
    status: Literal["draft", "approved"]
    note: str
    prepared_by: str | None
    approved_by: str | None
    approved_at: Timestamp | None
    lines: list[PlanLine]


class Plans(TypedDict):
    items: list[Plan]


@strict
class NewPlan(TypedDict):
    year: Annotated[int, Field(ge=2000, le=2100)]
    lines: NotRequired[PlanAmounts]
    note: NotRequired[Note]


@strict
class PlanChanges(TypedDict, total=False):
    lines: PlanAmounts
    note: Note


def plan_json(plan: AnnualPlan) -> dict[str, Any]:
    amounts = services.amounts_of(plan)
    return {
        "id": plan.id,
        "year": plan.year,
        "status": plan.status,
        "note": plan.note,
        "prepared_by": plan.prepared_by.username if plan.prepared_by else None,
        "approved_by": plan.approved_by.username if plan.approved_by else None,
        "approved_at": timestamp(plan.approved_at),
        "lines": [
            {
                "section": d.section,
                "code": d.code,
                "label": _(d.label),
                "unit": d.unit,
                "amount": amounts[d.code],
            }
            for d in services.LINES
        ],
    }


@bp.route("/plans", methods=["GET"])
@api_roles(*STAFF_READ)
@operation(returns=Plans)
def list_plans() -> Any:
    """The fund's annual plans, the latest year first."""
    return jsonify({"items": [plan_json(p) for p in services.all_plans()]})


@bp.route("/plans", methods=["POST"])
@api_roles(Role.ACCOUNTANT)
@operation(body=NewPlan, returns=Plan, status=201, errors=(409,))
def create_plan() -> Any:
    """Prepare the draft plan of a year (one plan a year: a second is a 409). A line not
    sent is 0; amounts are whole đồng ≥ 0, the bad-debt ratio ceiling basis points."""
    data = read_body(NewPlan)
    plan = services.create(
        current_api_user(), data["year"], data.get("lines", {}), data.get("note", "")
    )
    db.session.commit()
    return jsonify(plan_json(plan)), 201


@bp.route("/plans/<int:plan_id>", methods=["GET"])
@api_roles(*STAFF_READ)
@operation(returns=Plan)
def get_plan(plan_id: int) -> Any:
    """One annual plan with every line."""
    return jsonify(plan_json(get_or_404(AnnualPlan, plan_id)))


@bp.route("/plans/<int:plan_id>", methods=["PATCH"])
@api_roles(Role.ACCOUNTANT)
@operation(body=PlanChanges, returns=Plan, errors=(409,))
def update_plan(plan_id: int) -> Any:
    """Change lines (only those sent) or the note of a draft plan; an approved plan is a
    409."""
    plan = get_or_404(AnnualPlan, plan_id)
    data = read_body(PlanChanges)
    services.update(current_api_user(), plan, data.get("lines", {}), data.get("note"))
    db.session.commit()
    return jsonify(plan_json(plan))


@bp.route("/plans/<int:plan_id>/approve", methods=["POST"])
@api_roles(Role.DIRECTOR)
@operation(returns=Plan, errors=(409,))
def approve_plan(plan_id: int) -> Any:
    """Approve a draft plan. The director who prepared it may not (403); a plan already
    approved is a 409."""
    plan = get_or_404(AnnualPlan, plan_id)
    services.approve(current_api_user(), plan)
    db.session.commit()
    return jsonify(plan_json(plan))
