"""API v1: what the cooperative portal lets a cooperative change of its own record.

The contact details (phone, e-mail, address) are the cooperative's to keep up to date;
everything else is registered by the fund's officers (``PATCH /cooperatives/{id}``).
"""

from __future__ import annotations

from typing import Annotated, Any

from flask import abort, jsonify
from pydantic import Field

from fundapp.api import bp, shapes
from fundapp.api.common import api_roles, current_api_user, get_or_404
from fundapp.api.spec import TypedDict, operation, read_body, strict
from fundapp.cooperatives.models import Cooperative
from fundapp.core.security import Role, has_role
from fundapp.extensions import db
from fundapp.portal import services as portal


@strict
class ContactChange(TypedDict, total=False):
    phone: Annotated[str, Field(max_length=20, description="e.g. 0912345678, +84912345678")]
    email: Annotated[str, Field(max_length=254)] | None
    address: Annotated[str, Field(max_length=255)]


@bp.route("/cooperatives/<int:coop_id>/contact", methods=["PATCH"])
@api_roles(Role.COOPERATIVE, Role.OFFICER)
@operation(body=ContactChange, returns=shapes.Cooperative)
def update_own_contact(coop_id: int) -> Any:
    """Update a cooperative's phone, e-mail or address, and nothing else.

    Fields left out keep their value; an empty string clears one. A cooperative updates
    its own record (another's is not found); an officer any.
    """
    coop = get_or_404(Cooperative, coop_id)
    user = current_api_user()
    if not has_role(user, Role.OFFICER) and coop.id != user.cooperative_id:
        abort(404)
    data = read_body(ContactChange)
    current = {key: getattr(coop, key) for key in portal.CONTACT_FIELDS}
    portal.update_contact(user, coop, {**current, **data})
    db.session.commit()
    return jsonify(coop.to_dict())
