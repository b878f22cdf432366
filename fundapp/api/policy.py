"""API v1: the lending policy — parameters in force, their history, a new dated version.

A change never rewrites history: it is a new version from a date no earlier than the
business date and after the latest stored one (fundapp/policy/services.py).
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any

from flask import abort, jsonify
from pydantic import Field
from sqlalchemy import select

from fundapp.api import bp
from fundapp.api.common import api_roles, current_api_user, timestamp
from fundapp.api.shapes import IsoDate
from fundapp.api.spec import (
    Day,
    NotRequired,
    Timestamp,
    TypedDict,
    operation,
    read_body,
    read_query,
    strict,
)
from fundapp.core.dates import business_date
from fundapp.core.security import STAFF_READ, Role
from fundapp.extensions import db
from fundapp.policy import services
from fundapp.policy.models import PolicyParameter
from fundapp.policy.parameters import BY_KEY, PARAMS, Param

READERS = (*STAFF_READ, Role.ADMIN)
NO_NUL = r"^[^\x00]*$"  # PostgreSQL refuses a NUL character in text


class PolicyVersion(TypedDict):
    id: int
    key: str
    value: str
    effective_from: IsoDate
    legal_reference: str
    note: str
    created_by_id: int | None
    created_at: Timestamp | None


class PolicyParam(TypedDict):
    key: str
    label: str
    kind: str
    default: str
    legal_reference: str
    # The value in force on ``as_of`` (the legal default when no version is stored yet).
    value: str
    as_of: IsoDate
    current: PolicyVersion | None
    upcoming: PolicyVersion | None


class PolicyHistory(PolicyParam):
    versions: list[PolicyVersion]


class PolicyList(TypedDict):
    items: list[PolicyParam]


class AsOfQuery(TypedDict, total=False):
    as_of: Day


@strict
class PolicyChange(TypedDict):
    value: Annotated[str, Field(min_length=1, max_length=255)]
    effective_from: Day
    legal_reference: Annotated[str, Field(min_length=1, max_length=255, pattern=NO_NUL)]
    note: NotRequired[Annotated[str, Field(max_length=2000, pattern=NO_NUL)]]


def version_json(row: PolicyParameter) -> PolicyVersion:
    return {
        "id": row.id,
        "key": row.key,
        "value": row.value,
        "effective_from": row.effective_from.isoformat(),
        "legal_reference": row.legal_reference,
        "note": row.note,
        "created_by_id": row.created_by_id,
        "created_at": timestamp(row.created_at),
    }


def _version(key: str, as_of: dt.date, upcoming: bool) -> PolicyVersion | None:
    query = select(PolicyParameter).where(PolicyParameter.key == key)
    if upcoming:
        query = query.where(PolicyParameter.effective_from > as_of).order_by(
            PolicyParameter.effective_from
        )
    else:
        query = query.where(PolicyParameter.effective_from <= as_of).order_by(
            PolicyParameter.effective_from.desc()
        )
    row = db.session.scalar(query.limit(1))
    return version_json(row) if row is not None else None


def param_json(param: Param, as_of: dt.date) -> PolicyParam:
    return {
        "key": param.key,
        "label": str(param.label),
        "kind": param.kind,
        "default": param.default,
        "legal_reference": param.legal_reference,
        "value": services.raw_value(param.key, as_of),
        "as_of": as_of.isoformat(),
        "current": _version(param.key, as_of, upcoming=False),
        "upcoming": _version(param.key, as_of, upcoming=True),
    }


def _param(key: str) -> Param:
    param = BY_KEY.get(key)
    if param is None:
        abort(404)
    return param


@bp.route("/policy", methods=["GET"])
@api_roles(*READERS)
@operation(query=AsOfQuery, returns=PolicyList)
def list_policy() -> Any:
    """List the lending policy's parameters with the version in force and the next one.

    ``as_of`` defaults to the business date.
    """
    as_of = read_query(AsOfQuery).get("as_of") or business_date()
    return jsonify({"items": [param_json(p, as_of) for p in PARAMS]})


@bp.route("/policy/<key>", methods=["GET"])
@api_roles(*READERS)
@operation(query=AsOfQuery, returns=PolicyHistory)
def get_policy(key: str) -> Any:
    """One parameter with every stored version, newest first."""
    param = _param(key)
    as_of = read_query(AsOfQuery).get("as_of") or business_date()
    versions = db.session.scalars(
        select(PolicyParameter)
        .where(PolicyParameter.key == key)
        .order_by(PolicyParameter.effective_from.desc())
    )
    return jsonify({**param_json(param, as_of), "versions": [version_json(v) for v in versions]})


@bp.route("/policy/<key>/versions", methods=["POST"])
@api_roles(Role.BOARD)
@operation(body=PolicyChange, returns=PolicyVersion, status=201)
def change_policy(key: str) -> Any:
    """Add a new version of a parameter, in force from ``effective_from``.

    The date may not be before the business date nor on or before the latest stored
    version; the value must suit the parameter's kind; the legal reference is required.
    """
    _param(key)
    data = read_body(PolicyChange)
    row = services.change(
        current_api_user(),
        key,
        data["value"],
        data["effective_from"],
        data["legal_reference"],
        data.get("note", ""),
        business_date(),
    )
    db.session.commit()
    return jsonify(version_json(row)), 201
