"""API v1: related groups — borrowers that count together for the 25 % group limit."""

from __future__ import annotations

from typing import Annotated, Any

from flask import jsonify
from pydantic import Field
from sqlalchemy import select

from fundapp.api import bp
from fundapp.api.common import api_roles, current_api_user, paginate, timestamp
from fundapp.api.shapes import SearchText
from fundapp.api.spec import (
    NotRequired,
    Page,
    PageQuery,
    Timestamp,
    TypedDict,
    operation,
    read_body,
    read_query,
    strict,
)
from fundapp.cooperatives import services
from fundapp.cooperatives.models import Cooperative, RelatedGroup
from fundapp.core import lists
from fundapp.core.security import STAFF_READ, Role
from fundapp.extensions import db


class GroupMember(TypedDict):
    id: int
    name: str


class RelatedGroupItem(TypedDict):
    id: int
    name: str
    note: str
    created_at: Timestamp | None
    members: list[GroupMember]


class GroupQuery(PageQuery, total=False):
    q: Annotated[SearchText, Field(description="Part of the group's name")]


@strict
class GroupCreate(TypedDict):
    name: Annotated[str, Field(max_length=200)]
    # PostgreSQL refuses a NUL character in text.
    note: NotRequired[Annotated[str, Field(max_length=1000, pattern=r"^[^\x00]*$")]]


def group_json(group: RelatedGroup) -> RelatedGroupItem:
    members = db.session.execute(
        select(Cooperative.id, Cooperative.name)
        .where(Cooperative.related_group_id == group.id)
        .order_by(Cooperative.name)
    )
    return {
        "id": group.id,
        "name": group.name,
        "note": group.note,
        "created_at": timestamp(group.created_at),
        "members": [{"id": coop_id, "name": name} for coop_id, name in members],
    }


@bp.route("/related-groups", methods=["GET"])
@api_roles(*STAFF_READ)
@operation(query=GroupQuery, returns=Page[RelatedGroupItem])
def list_related_groups() -> Any:
    """List the related groups by name, each with its member cooperatives."""
    args = read_query(GroupQuery)
    query = select(RelatedGroup).order_by(RelatedGroup.name, RelatedGroup.id)
    if args.get("q"):
        # Part of the name, without diacritics or case (fundapp.core.lists).
        query = query.where(lists.contains(RelatedGroup.search_key, args["q"]))
    return jsonify(paginate(query, group_json))


@bp.route("/related-groups", methods=["POST"])
@api_roles(Role.OFFICER)
@operation(body=GroupCreate, returns=RelatedGroupItem, status=201)
def create_related_group() -> Any:
    """Create a related group; cooperatives join it through their own record.

    Group names are unique.
    """
    data = read_body(GroupCreate)
    group = services.create_group(current_api_user(), data["name"], data.get("note", ""))
    db.session.commit()
    return jsonify(group_json(group)), 201
