"""API v1: the lending policy — parameters in force, their history, and changes to them.

A change never rewrites history and takes two board members (maker/checker): one proposes
a new version (``POST /policy/{key}/versions``, 202 with the pending change), another
approves it (``POST /policy-changes/{id}/approve``), which writes the version from its
date, or rejects it with a reason; its proposer may withdraw it. The value must lie in the
parameter's legal range, checked when proposed and again when approved
(fundapp/policy/parameters.py, fundapp/policy/services.py).
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any, Literal

from flask import abort, jsonify
from pydantic import Field
from sqlalchemy import select

from fundapp.api import bp
from fundapp.api.common import api_roles, current_api_user, get_or_404, paginate, timestamp
from fundapp.api.shapes import IsoDate
from fundapp.api.spec import (
    Day,
    Page,
    PageQuery,
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
from fundapp.policy.models import PolicyChange as ChangeRow
from fundapp.policy.models import PolicyParameter
from fundapp.policy.parameters import BY_KEY, PARAMS, Param

READERS = (*STAFF_READ, Role.ADMIN)
NO_NUL = r"^[^\x00]*$"  # PostgreSQL refuses a NUL character in text
PolicyKey = Literal[tuple(p.key for p in PARAMS)]  # type: ignore[valid-type]
ChangeStatus = Literal["pending", "approved", "rejected", "withdrawn"]


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
    # What a new version may take from ``as_of`` on, in words, with the legal act.
    allowed: str
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
class PolicyProposal(TypedDict):
    value: Annotated[str, Field(min_length=1, max_length=255)]
    effective_from: Day
    legal_reference: Annotated[str, Field(min_length=1, max_length=255, pattern=NO_NUL)]
    # Why the change: required, for the board member who decides it.
    note: Annotated[str, Field(min_length=1, max_length=2000, pattern=NO_NUL)]


class PolicyChange(TypedDict):
    id: int
    key: str
    value: str
    effective_from: IsoDate
    legal_reference: str
    reason: str
    status: ChangeStatus
    proposed_by_id: int | None
    proposed_at: Timestamp | None
    decided_by_id: int | None
    decided_at: Timestamp | None
    decision_note: str
    # The version the approval wrote.
    version_id: int | None
    # True where the caller may approve or reject it: another board member than its maker.
    may_decide: bool


class PolicyChangeQuery(PageQuery, total=False):
    status: ChangeStatus
    key: PolicyKey


@strict
class PolicyApproval(TypedDict, total=False):
    note: Annotated[str, Field(max_length=2000, pattern=NO_NUL)]


@strict
class PolicyRejection(TypedDict):
    reason: Annotated[str, Field(min_length=1, max_length=2000, pattern=NO_NUL)]


def version_json(row: PolicyParameter) -> PolicyVersion:
    return {
        "id": row.id,
        "key": row.key,
        # Read tolerantly: a value an older version stored as typed ("6,8") is "6.8".
        "value": BY_KEY[row.key].tolerant(row.value) if row.key in BY_KEY else row.value,
        "effective_from": row.effective_from.isoformat(),
        "legal_reference": row.legal_reference,
        "note": row.note,
        "created_by_id": row.created_by_id,
        "created_at": timestamp(row.created_at),
    }


def change_json(row: ChangeRow) -> PolicyChange:
    return {
        "id": row.id,
        "key": row.key,
        "value": row.value,
        "effective_from": row.effective_from.isoformat(),
        "legal_reference": row.legal_reference,
        "reason": row.reason,
        "status": row.status,  # type: ignore[typeddict-item]
        "proposed_by_id": row.proposed_by_id,
        "proposed_at": timestamp(row.proposed_at),
        "decided_by_id": row.decided_by_id,
        "decided_at": timestamp(row.decided_at),
        "decision_note": row.decision_note,
        "version_id": row.policy_parameter_id,
        "may_decide": services.may_decide(current_api_user(), row),
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
        "allowed": param.allowed(as_of),
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
@operation(body=PolicyProposal, returns=PolicyChange, status=202)
def change_policy(key: str) -> Any:
    """Propose a new version of a parameter, in force from ``effective_from`` once another
    board member approves it.

    Answers 202 with the pending change: nothing is in force until
    ``POST /policy-changes/{change_id}/approve``. The value must lie in the parameter's
    legal range on that date (``allowed`` of ``GET /policy/{key}``); the date may not be
    before the business date nor on or before the latest stored version; the legal
    reference and the reason (``note``) are required.
    """
    _param(key)
    data = read_body(PolicyProposal)
    change = services.propose(
        current_api_user(),
        key,
        data["value"],
        data["effective_from"],
        data["legal_reference"],
        data["note"],
        business_date(),
    )
    db.session.commit()
    return jsonify(change_json(change)), 202


@bp.route("/policy-changes", methods=["GET"])
@api_roles(*READERS)
@operation(query=PolicyChangeQuery, returns=Page[PolicyChange])
def list_policy_changes() -> Any:
    """List the proposed policy changes, newest first.

    ``status=pending`` keeps those waiting for a second board member; ``may_decide`` says
    whether the caller may decide each one."""
    args = read_query(PolicyChangeQuery)
    query = select(ChangeRow).order_by(ChangeRow.id.desc())
    if "status" in args:
        query = query.where(ChangeRow.status == args["status"])
    if "key" in args:
        query = query.where(ChangeRow.key == args["key"])
    return jsonify(paginate(query, change_json))


@bp.route("/policy-changes/<int:change_id>/approve", methods=["POST"])
@api_roles(Role.BOARD)
@operation(body=PolicyApproval, returns=PolicyChange, errors=(409,))
def approve_policy_change(change_id: int) -> Any:
    """Approve a pending policy change: its value becomes the parameter's version from its
    date.

    Only another board member than its proposer may (403); a change already decided is a
    409. The value and the date are checked again: a value outside today's legal range or
    a date already past is refused (422)."""
    get_or_404(ChangeRow, change_id)
    data = read_body(PolicyApproval)
    change = services.approve(current_api_user(), change_id, business_date(), data.get("note", ""))
    db.session.commit()
    return jsonify(change_json(change))


@bp.route("/policy-changes/<int:change_id>/reject", methods=["POST"])
@api_roles(Role.BOARD)
@operation(body=PolicyRejection, returns=PolicyChange, errors=(409,))
def reject_policy_change(change_id: int) -> Any:
    """Reject a pending policy change, with a reason; nothing changes.

    Only another board member than its proposer may (403); a change already decided is a
    409."""
    get_or_404(ChangeRow, change_id)
    data = read_body(PolicyRejection)
    change = services.reject(current_api_user(), change_id, data["reason"])
    db.session.commit()
    return jsonify(change_json(change))


@bp.route("/policy-changes/<int:change_id>/withdraw", methods=["POST"])
@api_roles(Role.BOARD)
@operation(returns=PolicyChange, errors=(409,))
def withdraw_policy_change(change_id: int) -> Any:
    """Withdraw one's own pending policy change.

    Only its proposer may (403); a change already decided is a 409."""
    get_or_404(ChangeRow, change_id)
    change = services.withdraw(current_api_user(), change_id)
    db.session.commit()
    return jsonify(change_json(change))
