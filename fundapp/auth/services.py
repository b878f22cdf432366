"""Users, passwords, login throttling, browser sessions and API tokens."""

from __future__ import annotations

import hashlib
import re
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import delete, func, or_, select
from sqlalchemy.exc import IntegrityError

from fundapp import audit
from fundapp.auth.models import (
    ApiToken,
    LoginThrottle,
    User,
    UserRole,
    UserSession,
    verify_dummy_password,
)
from fundapp.cooperatives.models import Cooperative
from fundapp.core import validation
from fundapp.core.security import ALL_ROLES, ROLE_LABELS, Role, role_conflicts
from fundapp.domain.dates import utcnow
from fundapp.domain.errors import ValidationFailed
from fundapp.extensions import db

_USERNAME = re.compile(r"^[a-z0-9][a-z0-9._-]{2,63}$")

# Why a role excludes the others of core.security.INCOMPATIBLE_ROLES, for the refusal.
_SEPARATION = {
    Role.ADMIN: _l(
        "người quản trị tài khoản không giữ vai trò thu chi, phê duyệt hay kiểm soát, "
        "để không tự cấp cho mình quyền rồi tự dùng."
    ),
    Role.CONTROLLER: _l(
        "kiểm soát viên chỉ xem và kiểm tra, không giữ vai trò nào làm thay đổi dữ liệu."
    ),
    Role.COOPERATIVE: _l("tài khoản hợp tác xã là của bên vay."),
}


def password_problem(password: str) -> str | None:
    if len(password) < 10:
        return _("Mật khẩu cần ít nhất 10 ký tự.")
    if len(password) > 128:
        return _("Mật khẩu tối đa 128 ký tự.")
    if not re.search(r"[A-Za-z]", password) or not re.search(r"[0-9]", password):
        return _("Mật khẩu cần có cả chữ và số.")
    return None


def _check_roles(roles: list[str], cooperative_id: int | None, errors: dict) -> None:
    if not roles:
        errors["roles"] = _("Chọn ít nhất một vai trò.")
    elif any(r not in ALL_ROLES for r in roles):
        errors["roles"] = _("Vai trò không hợp lệ.")
    elif Role.COOPERATIVE in roles and len(roles) > 1:
        errors["roles"] = _("Tài khoản hợp tác xã không kiêm vai trò khác.")
    elif conflicts := role_conflicts(roles):
        role, others = conflicts[0]
        errors["roles"] = _(
            "%(role)s không được kiêm %(others)s: %(why)s",
            role=ROLE_LABELS[role],
            others=", ".join(str(ROLE_LABELS[r]) for r in others),
            why=_SEPARATION[role],
        )
    if Role.COOPERATIVE in roles:
        if cooperative_id is None:
            errors["cooperative_id"] = _("Tài khoản hợp tác xã phải gắn với một hợp tác xã.")
        elif db.session.get(Cooperative, cooperative_id) is None:
            errors["cooperative_id"] = _("Hợp tác xã không tồn tại.")
    elif cooperative_id is not None:
        errors["cooperative_id"] = _("Chỉ tài khoản hợp tác xã mới gắn với hợp tác xã.")


def _snapshot(user: User) -> dict[str, Any]:
    return {
        "username": user.username,
        "full_name": user.full_name,
        "email": user.email,
        "active": user.active,
        "roles": user.role_names,
        "cooperative_id": user.cooperative_id,
    }


def create_user(
    actor: Any,
    username: str,
    password: str,
    roles: list[str],
    full_name: str = "",
    email: str | None = None,
    cooperative_id: int | None = None,
) -> User:
    errors: dict[str, str] = {}
    username = (username or "").strip().lower()
    if not _USERNAME.match(username):
        errors["username"] = _("Tên đăng nhập 3–64 ký tự: chữ thường không dấu, số, . _ -")
    elif db.session.scalar(select(User.id).where(func.lower(User.username) == username)):
        errors["username"] = _("Tên đăng nhập đã được dùng.")
    problem = password_problem(password or "")
    if problem:
        errors["password"] = problem
    data = {"full_name": full_name, "email": email}
    name = validation.text(data, "full_name", 120, False, errors)
    mail = validation.email(data, "email", errors)
    roles = sorted(set(roles))
    _check_roles(roles, cooperative_id, errors)
    if errors:
        raise ValidationFailed(_("Dữ liệu chưa hợp lệ, xin kiểm tra lại."), errors)
    user = User(username=username, full_name=name, email=mail, cooperative_id=cooperative_id)
    user.set_password(password)
    user.roles = [UserRole(role=r) for r in roles]
    db.session.add(user)
    db.session.flush()
    audit.record(actor, "user.create", "user", user.id, None, _snapshot(user))
    return user


def update_user(
    actor: Any,
    user: User,
    roles: list[str],
    full_name: str,
    email: str | None,
    cooperative_id: int | None,
    active: bool,
) -> User:
    errors: dict[str, str] = {}
    data = {"full_name": full_name, "email": email}
    name = validation.text(data, "full_name", 120, False, errors)
    mail = validation.email(data, "email", errors)
    roles = sorted(set(roles))
    _check_roles(roles, cooperative_id, errors)
    if actor.id == user.id and (not active or Role.ADMIN not in roles):
        errors["roles"] = _("Không thể tự khóa hoặc tự bỏ quyền quản trị của chính mình.")
    if errors:
        raise ValidationFailed(_("Dữ liệu chưa hợp lệ, xin kiểm tra lại."), errors)
    before = _snapshot(user)
    user.full_name, user.email, user.cooperative_id, user.active = (
        name,
        mail,
        cooperative_id,
        active,
    )
    if roles != user.role_names:
        # Remove first and flush: the (user, role) unique key would see a re-added row twice.
        for row in [r for r in user.roles if r.role not in roles]:
            user.roles.remove(row)
        db.session.flush()
        have = set(user.role_names)
        user.roles.extend(UserRole(role=r) for r in roles if r not in have)
    if not active:
        revoke_sessions(user)
        revoke_tokens(user)
    db.session.flush()
    old, new = audit.diff(before, _snapshot(user))
    if new:
        audit.record(actor, "user.update", "user", user.id, old, new)
    return user


def set_password(
    actor: Any, user: User, new_password: str, keep_session: str | None = None
) -> None:
    """A new password ends every browser session of the user but ``keep_session`` (the key
    of the session that changed it) and revokes every API token: whoever held the old
    password, or a session or token got with it, is out."""
    problem = password_problem(new_password or "")
    if problem:
        raise ValidationFailed(problem, {"new_password": problem})
    user.set_password(new_password)
    revoke_sessions(user, keep=keep_session)
    revoke_tokens(user)
    db.session.flush()
    audit.record(actor, "user.password", "user", user.id, None, None, note="password changed")


def change_own_password(
    user: User, current: str, new_password: str, keep_session: str | None = None
) -> None:
    """The current password is always required, from a web session as from an API token."""
    if not user.check_password(current or ""):
        msg = _("Mật khẩu hiện tại không đúng.")
        raise ValidationFailed(msg, {"current_password": msg})
    if current == new_password:
        msg = _("Mật khẩu mới phải khác mật khẩu hiện tại.")
        raise ValidationFailed(msg, {"new_password": msg})
    set_password(user, user, new_password, keep_session=keep_session)


# --- login -----------------------------------------------------------------


@dataclass(frozen=True)
class LoginResult:
    user: User | None
    locked: bool = False


def _throttle_rows(keys: list[str]) -> list[LoginThrottle]:
    """The throttle rows of ``keys``, locked: concurrent logins count every failure, and two
    first logins from one address do not both insert its row."""
    rows = []
    for key in keys:
        row = db.session.get(LoginThrottle, key, with_for_update=True)
        if row is None:
            try:
                with db.session.begin_nested():
                    db.session.add(LoginThrottle(key=key, failures=0, updated_at=utcnow()))
            except IntegrityError:
                pass  # another request inserted it first
            row = db.session.get(LoginThrottle, key, with_for_update=True, populate_existing=True)
        assert row is not None
        rows.append(row)
    return rows


def authenticate(
    username: str,
    password: str,
    ip: str,
    max_failures: int,
    lock_minutes: int,
    max_failures_per_address: int | None = None,
) -> LoginResult:
    """Check a login. After ``max_failures`` failures for the same username (or
    ``max_failures_per_address`` from the same address, ``max_failures`` when not given),
    that username or address is locked for ``lock_minutes`` and even a right password is
    refused."""
    now = utcnow()
    name = (username or "").strip().lower()[:64]
    keys = [f"u:{name}", f"ip:{ip}"[:120]]
    rows = _throttle_rows(keys)
    if any(r.locked_until and r.locked_until > now for r in rows):
        return LoginResult(None, locked=True)
    user = db.session.scalar(select(User).where(func.lower(User.username) == name))
    if user is None:
        # As long as a real user's wrong password: the time tells no username apart.
        ok = verify_dummy_password(password or "")
    else:
        ok = user.check_password(password or "") and user.active
    if ok and user is not None:
        for row in rows:
            if row.key.startswith("u:"):
                row.failures, row.locked_until = 0, None
        user.last_login_at = now
        return LoginResult(user)
    for row in rows:
        # Failures older than the lock window no longer count.
        if row.updated_at and row.updated_at < now - timedelta(minutes=lock_minutes):
            row.failures = 0
        row.failures += 1
        row.updated_at = now
        limit = max_failures if row.key.startswith("u:") else max_failures_per_address
        if row.failures >= (limit or max_failures):
            row.locked_until = now + timedelta(minutes=lock_minutes)
    return LoginResult(None)


# --- browser sessions ------------------------------------------------------


@dataclass(frozen=True)
class SessionInfo:
    id: int
    created_at: datetime
    expires_at: datetime
    remember: bool
    ip: str
    user_agent: str
    current: bool


def start_session(
    user: User, remember: bool, lifetime: timedelta, ip: str = "", user_agent: str = ""
) -> str:
    """A new session of ``user`` lasting ``lifetime``; its key, which only the browser keeps
    (the database has its hash), is bound to ``user`` for ``login_user``."""
    raw = secrets.token_urlsafe(32)
    now = utcnow()
    _prune_sessions(user, now)
    db.session.add(
        UserSession(
            user_id=user.id,
            key_hash=_hash(raw),
            created_at=now,
            expires_at=now + lifetime,
            remember=remember,
            ip=(ip or "")[:45],
            user_agent=(user_agent or "")[:200],
        )
    )
    db.session.flush()
    user.session_key = raw
    return raw


# How long an ended session's row is kept for the user's and the admin's view.
ENDED_SESSIONS_KEPT = timedelta(days=30)


def _prune_sessions(user: User, now: datetime) -> None:
    """Forget the user's sessions that ended (expired or revoked) over ENDED_SESSIONS_KEPT
    ago, so the table grows with the users, not with every sign-in there ever was."""
    cutoff = now - ENDED_SESSIONS_KEPT
    db.session.execute(
        delete(UserSession).where(
            UserSession.user_id == user.id,
            or_(UserSession.expires_at < cutoff, UserSession.revoked_at < cutoff),
        )
    )


def _live_session(raw: str | None) -> UserSession | None:
    if not raw or len(raw) > 200:
        return None
    record = db.session.scalar(select(UserSession).where(UserSession.key_hash == _hash(raw)))
    if record is None or record.revoked_at is not None or record.expires_at <= utcnow():
        return None
    return record


def user_for_session(raw: str | None) -> User | None:
    """The user of a live session: not revoked, not expired, the account active."""
    record = _live_session(raw)
    if record is None or not record.user.active:
        return None
    record.user.session_key = raw
    return record.user


def end_session(raw: str | None) -> None:
    record = _live_session(raw)
    if record is not None:
        record.revoked_at = utcnow()


def revoke_sessions(user: User, keep: str | None = None) -> int:
    """End every live session of ``user`` but the one whose key is ``keep``."""
    kept = _hash(keep) if keep else None
    count = 0
    for record in db.session.scalars(
        select(UserSession).where(
            UserSession.user_id == user.id,
            UserSession.revoked_at.is_(None),
            UserSession.expires_at > utcnow(),
        )
    ):
        if record.key_hash != kept:
            record.revoked_at = utcnow()
            count += 1
    return count


def live_sessions(user: User, current: str | None = None) -> list[SessionInfo]:
    """The user's live sessions, newest first; ``current`` marks the one of that key."""
    mine = _hash(current) if current else None
    records = db.session.scalars(
        select(UserSession)
        .where(
            UserSession.user_id == user.id,
            UserSession.revoked_at.is_(None),
            UserSession.expires_at > utcnow(),
        )
        .order_by(UserSession.id.desc())
    )
    return [
        SessionInfo(
            r.id, r.created_at, r.expires_at, r.remember, r.ip, r.user_agent, r.key_hash == mine
        )
        for r in records
    ]


# --- API tokens ------------------------------------------------------------


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def issue_token(user: User, hours: int, name: str = "") -> tuple[str, ApiToken]:
    raw = secrets.token_urlsafe(32)
    token = ApiToken(
        user_id=user.id,
        token_hash=_hash(raw),
        name=name[:80],
        expires_at=utcnow() + timedelta(hours=hours),
    )
    db.session.add(token)
    db.session.flush()
    audit.record(user, "token.issue", "api_token", token.id, None, {"name": name})
    return raw, token


# How stale a token's "last used" may get: writing it on every request would make each API
# call, a read included, a write and a commit of its own.
TOKEN_USE_RESOLUTION = timedelta(minutes=1)


def user_for_token(raw: str) -> User | None:
    """The active user of a valid token; its ``last_used_at`` moves once a minute at most
    (:data:`TOKEN_USE_RESOLUTION`)."""
    if not raw or len(raw) > 200:
        return None
    token = db.session.scalar(select(ApiToken).where(ApiToken.token_hash == _hash(raw)))
    now: datetime = utcnow()
    if token is None or token.revoked_at is not None or token.expires_at <= now:
        return None
    if not token.user.active:
        return None
    if token.last_used_at is None or now - token.last_used_at >= TOKEN_USE_RESOLUTION:
        token.last_used_at = now
    return token.user


def revoke_tokens(user: User) -> int:
    count = 0
    for token in db.session.scalars(
        select(ApiToken).where(ApiToken.user_id == user.id, ApiToken.revoked_at.is_(None))
    ):
        token.revoked_at = utcnow()
        count += 1
    return count


def revoke_token(actor: Any, token: ApiToken) -> None:
    if token.revoked_at is None:
        token.revoked_at = utcnow()
        audit.record(actor, "token.revoke", "api_token", token.id)
