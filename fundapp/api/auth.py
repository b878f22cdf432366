"""API v1: bearer tokens and the signed-in user."""

from __future__ import annotations

from typing import Any

from flask import current_app, jsonify, request
from flask_babel import gettext as _
from sqlalchemy import select

from fundapp.api import bp, shapes
from fundapp.api.common import ApiUnauthorized, api_roles, current_api_user
from fundapp.api.spec import operation, read_body
from fundapp.auth import services
from fundapp.auth.models import ApiToken
from fundapp.core.security import effective_roles
from fundapp.extensions import db


def _ts(value: Any) -> str:
    return value.isoformat().replace("+00:00", "Z")


@bp.route("/tokens", methods=["POST"])
@operation(body=shapes.TokenRequest, returns=shapes.Token, status=201, errors=(401, 429))
def create_token() -> Any:
    """Get a bearer token.

    Send it as `Authorization: Bearer <token>`; it expires after the configured hours
    (`expires_at`). Repeated failures for a user lock the login for a while (429)."""
    data = read_body(shapes.TokenRequest)
    result = services.authenticate(
        data["username"],
        data["password"],
        request.remote_addr or "-",
        current_app.config["LOGIN_MAX_FAILURES"],
        current_app.config["LOGIN_LOCK_MINUTES"],
        current_app.config["LOGIN_MAX_FAILURES_PER_ADDRESS"],
    )
    if result.user is None:
        db.session.commit()  # the failure counts towards throttling
        if result.locked:
            return jsonify(
                {
                    "error": {
                        "code": "too_many_requests",
                        "message": _("Tạm khóa do đăng nhập sai nhiều lần."),
                    }
                }
            ), 429
        raise ApiUnauthorized(_("Tên đăng nhập hoặc mật khẩu không đúng."))
    hours = current_app.config["API_TOKEN_HOURS"]
    raw, token = services.issue_token(result.user, hours, data.get("name") or "api")
    db.session.commit()
    token_json: shapes.Token = {"token": raw, "expires_at": _ts(token.expires_at)}
    return jsonify(token_json), 201


@bp.route("/tokens/current", methods=["DELETE"])
@api_roles()
@operation(status=204)
def revoke_current_token() -> Any:
    """Revoke the token of this request.

    It is refused from then on (401), as an expired one is."""
    raw = request.headers.get("Authorization", "").partition(" ")[2].strip()
    token = db.session.scalar(select(ApiToken).where(ApiToken.token_hash == services._hash(raw)))
    if token is not None:
        services.revoke_token(current_api_user(), token)
        db.session.commit()
    return "", 204


def me_json(user: Any) -> shapes.Me:
    return {
        "id": user.id,
        "username": user.username,
        "full_name": user.full_name,
        "email": user.email,
        # What the user may do: a forbidden set stored before the rule counts as one role.
        "roles": sorted(effective_roles(user.role_names)),
        "cooperative_id": user.cooperative_id,
    }


@bp.route("/me")
@api_roles()
@operation(returns=shapes.Me)
def me() -> Any:
    """The signed-in user: roles and, for a cooperative's user, its cooperative."""
    return jsonify(me_json(current_api_user()))
