"""API v1: user accounts and API tokens (admin), one's own tokens and password.

Token secrets are never shown again after ``POST /tokens``: lists carry the name and
dates only. An administrator has no money actions; these are the admin pages' only.
"""

from __future__ import annotations

from typing import Annotated, Any

from flask import abort, jsonify
from pydantic import Field
from sqlalchemy import select

from fundapp.api import bp
from fundapp.api.common import (
    api_roles,
    check_id,
    current_api_user,
    get_or_404,
    paginate,
    timestamp,
)
from fundapp.api.shapes import RoleName, SearchText
from fundapp.api.spec import (
    Id,
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
from fundapp.auth import services
from fundapp.auth.models import ApiToken, User, UserRole
from fundapp.core import lists
from fundapp.core.security import ALL_ROLES, Role
from fundapp.domain.dates import utcnow
from fundapp.extensions import db

Password = Annotated[str, Field(max_length=128)]
FullName = Annotated[str, Field(max_length=120)]
Email = Annotated[str, Field(max_length=254)]


class UserAccount(TypedDict):
    id: int
    username: str
    full_name: str
    email: str | None
    roles: list[RoleName]
    active: bool
    cooperative_id: int | None
    last_login_at: Timestamp | None
    created_at: Timestamp | None


class ApiTokenInfo(TypedDict):
    id: int
    user_id: int
    name: str
    created_at: Timestamp | None
    expires_at: Timestamp
    last_used_at: Timestamp | None
    revoked_at: Timestamp | None
    # Neither revoked nor expired.
    active: bool


class UserQuery(PageQuery, total=False):
    q: Annotated[SearchText, Field(description="Part of the username")]
    role: RoleName
    active: bool


@strict
class UserCreate(TypedDict):
    username: Annotated[str, Field(max_length=64)]
    password: Password
    roles: Annotated[list[RoleName], Field(max_length=len(ALL_ROLES))]
    full_name: NotRequired[FullName]
    email: NotRequired[Email | None]
    # Required for (and only for) a cooperative's account.
    cooperative_id: NotRequired[Id | None]


@strict
class UserUpdate(TypedDict, total=False):
    roles: Annotated[list[RoleName], Field(max_length=len(ALL_ROLES))]
    full_name: FullName
    email: Email | None
    cooperative_id: Id | None
    active: bool


@strict
class PasswordReset(TypedDict):
    new_password: Password


@strict
class OwnPassword(TypedDict):
    current_password: Password
    new_password: Password


def user_json(user: User) -> UserAccount:
    return {
        "id": user.id,
        "username": user.username,
        "full_name": user.full_name,
        "email": user.email,
        "roles": user.role_names,
        "active": user.active,
        "cooperative_id": user.cooperative_id,
        "last_login_at": timestamp(user.last_login_at),
        "created_at": timestamp(user.created_at),
    }


def token_json(token: ApiToken) -> ApiTokenInfo:
    return {
        "id": token.id,
        "user_id": token.user_id,
        "name": token.name,
        "created_at": timestamp(token.created_at),
        "expires_at": timestamp(token.expires_at) or "",
        "last_used_at": timestamp(token.last_used_at),
        "revoked_at": timestamp(token.revoked_at),
        "active": token.revoked_at is None and token.expires_at > utcnow(),
    }


def _token(token_id: int, user_id: int) -> ApiToken:
    token = db.session.get(ApiToken, check_id(token_id))
    if token is None or token.user_id != user_id:
        abort(404)
    return token


def _tokens_of(user_id: int) -> Any:
    return select(ApiToken).where(ApiToken.user_id == user_id).order_by(ApiToken.id.desc())


# --- users (admin) ----------------------------------------------------------------------------


@bp.route("/users", methods=["GET"])
@api_roles(Role.ADMIN)
@operation(query=UserQuery, returns=Page[UserAccount])
def list_users() -> Any:
    """List the user accounts by username; filter by part of the username, name or e-mail
    (without diacritics or case), a role, active or not."""
    args = read_query(UserQuery)
    query = select(User).order_by(User.username)
    if args.get("q"):
        # The username, name or e-mail, without diacritics or case (fundapp.core.lists).
        query = query.where(lists.contains(User.search_key, args["q"].strip()))
    if args.get("role"):
        holders = select(UserRole.user_id).where(UserRole.role == args["role"])
        query = query.where(User.id.in_(holders))
    if "active" in args:
        query = query.where(User.active.is_(args["active"]))
    return jsonify(paginate(query, user_json))


@bp.route("/users", methods=["POST"])
@api_roles(Role.ADMIN)
@operation(body=UserCreate, returns=UserAccount, status=201)
def create_user() -> Any:
    """Create a user account with its roles.

    A cooperative's account has the ``cooperative`` role only and names its cooperative.
    The password has at least 10 characters, with letters and digits.
    """
    data = read_body(UserCreate)
    user = services.create_user(
        current_api_user(),
        data["username"],
        data["password"],
        list(data["roles"]),
        full_name=data.get("full_name", ""),
        email=data.get("email"),
        cooperative_id=data.get("cooperative_id"),
    )
    db.session.commit()
    return jsonify(user_json(user)), 201


@bp.route("/users/<int:user_id>", methods=["GET"])
@api_roles(Role.ADMIN)
@operation(returns=UserAccount)
def get_user(user_id: int) -> Any:
    """One user account."""
    return jsonify(user_json(get_or_404(User, user_id)))


@bp.route("/users/<int:user_id>", methods=["PATCH"])
@api_roles(Role.ADMIN)
@operation(body=UserUpdate, returns=UserAccount)
def update_user(user_id: int) -> Any:
    """Change a user's roles, name, e-mail, cooperative or active flag.

    Fields left out keep their value. Deactivating an account ends its web sessions and
    revokes its tokens; an administrator cannot deactivate or demote themself. An
    administrator, a controller and a cooperative's account hold no other role.
    """
    user = get_or_404(User, user_id)
    data = read_body(UserUpdate)
    services.update_user(
        current_api_user(),
        user,
        list(data.get("roles", user.role_names)),
        data.get("full_name", user.full_name),
        data.get("email", user.email),
        data.get("cooperative_id", user.cooperative_id),
        data.get("active", user.active),
    )
    db.session.commit()
    return jsonify(user_json(user))


@bp.route("/users/<int:user_id>/password", methods=["POST"])
@api_roles(Role.ADMIN)
@operation(body=PasswordReset, status=204)
def reset_user_password(user_id: int) -> Any:
    """Set a new password for a user; their web sessions end and their API tokens are
    revoked."""
    user = get_or_404(User, user_id)
    data = read_body(PasswordReset)
    services.set_password(current_api_user(), user, data["new_password"])
    db.session.commit()
    return "", 204


@bp.route("/users/<int:user_id>/tokens", methods=["GET"])
@api_roles(Role.ADMIN)
@operation(query=PageQuery, returns=Page[ApiTokenInfo])
def list_user_tokens(user_id: int) -> Any:
    """List a user's API tokens, newest first (names and dates, never the secret)."""
    user = get_or_404(User, user_id)
    read_query(PageQuery)
    return jsonify(paginate(_tokens_of(user.id), token_json))


@bp.route("/users/<int:user_id>/tokens/<int:token_id>", methods=["DELETE"])
@api_roles(Role.ADMIN)
@operation(status=204)
def revoke_user_token(user_id: int, token_id: int) -> Any:
    """Revoke one of a user's API tokens; revoking it again changes nothing."""
    token = _token(token_id, get_or_404(User, user_id).id)
    services.revoke_token(current_api_user(), token)
    db.session.commit()
    return "", 204


# --- one's own tokens and password ---------------------------------------------------------


@bp.route("/tokens", methods=["GET"])
@api_roles()
@operation(query=PageQuery, returns=Page[ApiTokenInfo])
def list_own_tokens() -> Any:
    """List the caller's own API tokens, newest first (names and dates, never the secret)."""
    read_query(PageQuery)
    return jsonify(paginate(_tokens_of(current_api_user().id), token_json))


@bp.route("/tokens/<int:token_id>", methods=["DELETE"])
@api_roles()
@operation(status=204)
def revoke_own_token(token_id: int) -> Any:
    """Revoke one of the caller's own API tokens; another user's token is not found."""
    user = current_api_user()
    services.revoke_token(user, _token(token_id, user.id))
    db.session.commit()
    return "", 204


@bp.route("/me/password", methods=["POST"])
@api_roles()
@operation(body=OwnPassword, status=204)
def change_own_password() -> Any:
    """Change the caller's own password; the current one is required.

    Every web session and API token of the caller ends, the token of this request too:
    get a new one with the new password (`POST /tokens`).
    """
    data = read_body(OwnPassword)
    services.change_own_password(current_api_user(), data["current_password"], data["new_password"])
    db.session.commit()
    return "", 204
