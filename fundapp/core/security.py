"""Roles and access checks, enforced on the server for every route and object."""

from __future__ import annotations

import enum
from collections.abc import Callable
from functools import wraps
from typing import Any, TypeVar

from flask import abort
from flask_babel import lazy_gettext as _l
from flask_login import current_user


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

F = TypeVar("F", bound=Callable[..., Any])


def has_role(user: Any, *roles: str) -> bool:
    if not getattr(user, "is_authenticated", False):
        return False
    return bool(set(user.role_names) & {str(r) for r in roles})


def roles_required(*roles: str) -> Callable[[F], F]:
    """Only users holding one of ``roles`` pass; checked before any object is loaded, so a
    forbidden role gets 403 whether or not the object exists."""

    def decorator(view: F) -> F:
        @wraps(view)
        def wrapped(*args: Any, **kwargs: Any) -> Any:
            if not current_user.is_authenticated:
                from fundapp.extensions import login_manager

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
