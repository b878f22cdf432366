"""Roles and access checks, enforced on the server for every route and object."""

from __future__ import annotations

import enum
from collections.abc import Callable, Iterable
from functools import wraps
from typing import Any, TypeVar

from flask import abort
from flask_babel import lazy_gettext as _l
from flask_login import current_user

from fundapp.extensions import login_manager


class Role(enum.StrEnum):
    OFFICER = "officer"
    ACCOUNTANT = "accountant"
    DIRECTOR = "director"
    BOARD = "board"
    CONTROLLER = "controller"
    COOPERATIVE = "cooperative"
    ADMIN = "admin"


ROLE_LABELS = {
    Role.OFFICER: _l("Cán bộ tín dụng"),
    Role.ACCOUNTANT: _l("Kế toán"),
    Role.DIRECTOR: _l("Giám đốc"),
    Role.BOARD: _l("Chủ tịch / Hội đồng quản lý"),
    Role.CONTROLLER: _l("Kiểm soát viên"),
    Role.COOPERATIVE: _l("Hợp tác xã"),
    Role.ADMIN: _l("Quản trị hệ thống"),
}

ALL_ROLES = tuple(r.value for r in Role)
# Staff who may read the fund's books (the controller reads everything, changes nothing).
STAFF_READ = (Role.OFFICER, Role.ACCOUNTANT, Role.DIRECTOR, Role.BOARD, Role.CONTROLLER)
AUDIT_READ = (Role.CONTROLLER, Role.ADMIN)
# The roles that move money or decide on it.
MONEY_AND_APPROVAL = (Role.OFFICER, Role.ACCOUNTANT, Role.DIRECTOR, Role.BOARD)

# Separation of duties: each role here and the roles one person may not hold with it. The
# administrator manages the accounts: with a money, approval or audit role it could grant
# itself what it then does. The controller audits every change, so it holds no role that
# makes one. A cooperative's account is the borrower's. So these three are held alone; the
# money and approval roles may be combined (their own maker-checker rules apply).
INCOMPATIBLE_ROLES: dict[Role, frozenset[Role]] = {
    Role.ADMIN: frozenset({*MONEY_AND_APPROVAL, Role.CONTROLLER, Role.COOPERATIVE}),
    Role.CONTROLLER: frozenset({*MONEY_AND_APPROVAL, Role.ADMIN, Role.COOPERATIVE}),
    Role.COOPERATIVE: frozenset({*MONEY_AND_APPROVAL, Role.ADMIN, Role.CONTROLLER}),
}

F = TypeVar("F", bound=Callable[..., Any])


def role_conflicts(roles: Iterable[str]) -> list[tuple[Role, list[Role]]]:
    """Each role of ``roles`` that excludes others of them, with those others, in the order
    of ``Role``; empty when one person may hold them all."""
    held = {Role(r) for r in roles if r in ALL_ROLES}
    return [
        (role, [r for r in Role if r in excluded & held])
        for role, excluded in INCOMPATIBLE_ROLES.items()
        if role in held and excluded & held
    ]


def effective_roles(roles: Iterable[str]) -> set[str]:
    """The roles that count. A forbidden set (stored before the rule, or written to the
    database by hand) counts as its first excluding role alone, in the order of
    ``INCOMPATIBLE_ROLES``: an administrator keeps managing accounts, so that the roles can
    be put right, but moves no money and decides nothing; a controller stays read-only."""
    held = {str(r) for r in roles}
    for role, excluded in INCOMPATIBLE_ROLES.items():
        if role in held and held & excluded:
            return {role.value}
    return held


def has_role(user: Any, *roles: str) -> bool:
    if not getattr(user, "is_authenticated", False):
        return False
    return bool(effective_roles(user.role_names) & {str(r) for r in roles})


def roles_required(*roles: str) -> Callable[[F], F]:
    """Only users holding one of ``roles`` pass; checked before any object is loaded, so a
    forbidden role gets 403 whether or not the object exists."""

    def decorator(view: F) -> F:
        @wraps(view)
        def wrapped(*args: Any, **kwargs: Any) -> Any:
            if not current_user.is_authenticated:
                return login_manager.unauthorized()
            if not has_role(current_user, *roles):
                abort(403)
            return view(*args, **kwargs)

        wrapped.allowed_roles = tuple(str(r) for r in roles)  # type: ignore[attr-defined]
        return wrapped  # type: ignore[return-value]

    return decorator


def can_see_cooperative(user: Any, cooperative_id: int) -> bool:
    """Staff see every cooperative; a cooperative user only its own."""
    if has_role(user, *STAFF_READ):
        return True
    return has_role(user, Role.COOPERATIVE) and user.cooperative_id == cooperative_id
