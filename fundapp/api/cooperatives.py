"""API v1: the borrowers (cooperatives, unions and members)."""

from __future__ import annotations

from typing import Any

from flask import abort, jsonify

from fundapp.api import bp, shapes
from fundapp.api.common import api_roles, current_api_user, get_or_404, paginate
from fundapp.api.spec import Page, operation, read_body, read_query
from fundapp.cooperatives import services
from fundapp.cooperatives.models import Cooperative
from fundapp.core.security import STAFF_READ, Role, can_see_cooperative, has_role
from fundapp.extensions import db

READERS = (*STAFF_READ, Role.COOPERATIVE)


def cooperative_json(coop: Cooperative) -> shapes.Cooperative:
    return coop.to_dict()  # type: ignore[return-value]


@bp.route("/cooperatives", methods=["GET"])
@api_roles(*READERS)
@operation(query=shapes.CooperativeQuery, returns=Page[shapes.Cooperative])
def list_cooperatives() -> Any:
    """List the cooperatives, by name.

    `q` searches the name, registration number, tax code and representative. A
    cooperative's user sees its own cooperative only, whatever the filters."""
    args = read_query(shapes.CooperativeQuery)
    query = services.search(
        args.get("q", ""),
        args.get("district_code", ""),
        args.get("sector", ""),
        args.get("kind", ""),
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

    The registration number and the tax code are unique in the fund; the district is one of
    the province's."""
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
