"""API v1: the borrowers (cooperatives, unions and members)."""

from __future__ import annotations

from typing import Any

from flask import abort, jsonify

from fundapp.api import bp, shapes
from fundapp.api.common import api_roles, current_api_user, get_or_404, paginate
from fundapp.api.spec import Page, operation, read_body, read_query
from fundapp.cooperatives import services
from fundapp.cooperatives.models import Cooperative
from fundapp.core.dates import business_date
from fundapp.core.security import STAFF_READ, Role, can_see_cooperative, has_role
from fundapp.extensions import db
from fundapp.funds import services as funds

READERS = (*STAFF_READ, Role.COOPERATIVE)


def cooperative_json(coop: Cooperative) -> shapes.Cooperative:
    return {**coop.to_dict(), "origin_fund": funds.code_of(coop.origin_fund_id)}  # type: ignore[typeddict-item]


@bp.route("/cooperatives", methods=["GET"])
@api_roles(*READERS)
@operation(query=shapes.CooperativeQuery, returns=Page[shapes.Cooperative])
def list_cooperatives() -> Any:
    """List the cooperatives, by name.

    `q` searches the name, registration number, tax code and representative;
    `commune_code` is the current commune (through the successions of 2025),
    `former_district_code` the district before 01/07/2025; `needs_confirming=true` lists
    those whose current commune the data cannot settle (a divided or vanished commune). A
    cooperative's user sees its own cooperative only, whatever the filters."""
    args = read_query(shapes.CooperativeQuery)
    today = business_date()
    query = services.search(
        args.get("q", ""),
        args.get("former_district_code", ""),
        args.get("sector", ""),
        args.get("kind", ""),
        args.get("commune_code", ""),
        today,
    )
    if "needs_confirming" in args:
        doubtful = [c.id for c in services.needing_confirmation(today)]
        query = query.where(
            Cooperative.id.in_(doubtful)
            if args["needs_confirming"]
            else Cooperative.id.not_in(doubtful)
        )
    user = current_api_user()
    if not has_role(user, *STAFF_READ):
        query = query.where(Cooperative.id == (user.cooperative_id or -1))
    return jsonify(paginate(query, cooperative_json))


@bp.route("/cooperatives", methods=["POST"])
@api_roles(Role.OFFICER)
@operation(body=shapes.NewCooperative, returns=shapes.Cooperative, status=201)
def create_cooperative() -> Any:
    """Register a cooperative.

    The registration number and the tax code are unique in the fund. `commune_code` is a
    commune-level unit in force on the business date; an expired code is refused (422)
    naming the unit(s) that succeeded it. The former district and province are derived."""
    data = read_body(shapes.NewCooperative)
    coop = services.create(current_api_user(), data)
    db.session.commit()
    return jsonify(cooperative_json(coop)), 201


def _visible(coop_id: int) -> Cooperative:
    coop = get_or_404(Cooperative, coop_id)
    # Another cooperative's record is "not found", so ids cannot be probed.
    if not can_see_cooperative(current_api_user(), coop.id):
        abort(404)
    return coop


@bp.route("/cooperatives/<int:coop_id>", methods=["GET"])
@api_roles(*READERS)
@operation(returns=shapes.Cooperative)
def get_cooperative(coop_id: int) -> Any:
    """A cooperative (a cooperative's user: its own only)."""
    return jsonify(cooperative_json(_visible(coop_id)))


@bp.route("/cooperatives/<int:coop_id>", methods=["PATCH"])
@api_roles(Role.OFFICER)
@operation(body=shapes.CooperativeChanges, returns=shapes.Cooperative)
def update_cooperative(coop_id: int) -> Any:
    """Change a cooperative's details.

    Only the fields sent change; they are checked as on registration."""
    coop = _visible(coop_id)
    data = read_body(shapes.CooperativeChanges)
    services.update(current_api_user(), coop, {**coop.to_dict(), **data})
    db.session.commit()
    return jsonify(cooperative_json(coop))
