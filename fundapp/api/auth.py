from __future__ import annotations

from typing import Any

from flask import current_app, jsonify, request
from flask_babel import gettext as _

from fundapp.api import bp
from fundapp.api.common import ApiUnauthorized, api_roles, body, current_api_user, only_fields
from fundapp.auth import services
from fundapp.core.errors import ValidationFailed
from fundapp.extensions import db


@bp.route("/tokens", methods=["POST"])
def create_token() -> Any:
    data = body()
    only_fields(data, {"username", "password", "name"})
    username, password = data.get("username"), data.get("password")
    if not isinstance(username, str) or not isinstance(password, str):
        raise ValidationFailed(
            _("Cần username và password dạng chuỗi."),
            {"username": _("Bắt buộc."), "password": _("Bắt buộc.")},
        )
    result = services.authenticate(
        username,
        password,
        request.remote_addr or "-",
        current_app.config["LOGIN_MAX_FAILURES"],
        current_app.config["LOGIN_LOCK_MINUTES"],
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
    name = data.get("name") if isinstance(data.get("name"), str) else "api"
    raw, token = services.issue_token(result.user, current_app.config["API_TOKEN_HOURS"], name)
    db.session.commit()
    return jsonify(
        {"token": raw, "expires_at": token.expires_at.isoformat().replace("+00:00", "Z")}
    ), 201


@bp.route("/tokens/current", methods=["DELETE"])
@api_roles()
def revoke_current_token() -> Any:
    raw = request.headers.get("Authorization", "").partition(" ")[2].strip()
    from sqlalchemy import select

    from fundapp.auth.models import ApiToken

    token = db.session.scalar(select(ApiToken).where(ApiToken.token_hash == services._hash(raw)))
    if token is not None:
        services.revoke_token(current_api_user(), token)
        db.session.commit()
    return "", 204


@bp.route("/me")
@api_roles()
def me() -> Any:
    user = current_api_user()
    return jsonify(
        {
            "id": user.id,
            "username": user.username,
            "full_name": user.full_name,
            "email": user.email,
            "roles": user.role_names,
            "cooperative_id": user.cooperative_id,
        }
    )
