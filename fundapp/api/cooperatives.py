from __future__ import annotations

from typing import Any

from flask import abort, jsonify, request
from sqlalchemy import select

from fundapp.api import bp
from fundapp.api.common import api_roles, body, current_api_user, only_fields, paginate
from fundapp.cooperatives import services
from fundapp.cooperatives.models import Cooperative
from fundapp.core.security import STAFF_READ, Role, can_see_cooperative, has_role
from fundapp.extensions import db

READERS = (*STAFF_READ, Role.COOPERATIVE)


@bp.route("/cooperatives", methods=["GET"])
@api_roles(*READERS)
def list_cooperatives() -> Any:
    user = current_api_user()
    if has_role(user, *STAFF_READ):
        query = services.search(
            request.args.get("q", "")[:100],
            request.args.get("district_code", "")[:3],
            request.args.get("sector", "")[:100],
            request.args.get("kind", "")[:20],
        )
    else:
        query = select(Cooperative).where(Cooperative.id == (user.cooperative_id or -1))
    return jsonify(paginate(query, Cooperative.to_dict))


@bp.route("/cooperatives", methods=["POST"])
@api_roles(Role.OFFICER)
def create_cooperative() -> Any:
    data = body()
    only_fields(data, services.FIELDS)
    coop = services.create(current_api_user(), data)
    db.session.commit()
    return jsonify(coop.to_dict()), 201


def _visible(coop_id: int) -> Cooperative:
    coop = db.session.get(Cooperative, coop_id)
    # Another cooperative's record is "not found", so ids cannot be probed.
    if coop is None or not can_see_cooperative(current_api_user(), coop.id):
        abort(404)
    return coop


@bp.route("/cooperatives/<int:coop_id>", methods=["GET"])
@api_roles(*READERS)
def get_cooperative(coop_id: int) -> Any:
    return jsonify(_visible(coop_id).to_dict())


@bp.route("/cooperatives/<int:coop_id>", methods=["PATCH"])
@api_roles(Role.OFFICER)
def update_cooperative(coop_id: int) -> Any:
    coop = _visible(coop_id)
    data = body()
    only_fields(data, services.FIELDS)
    merged = {**coop.to_dict(), **data}
    services.update(current_api_user(), coop, merged)
    db.session.commit()
    return jsonify(coop.to_dict())
