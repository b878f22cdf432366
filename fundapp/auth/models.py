from __future__ import annotations

import contextlib
import secrets
from datetime import datetime

from argon2 import PasswordHasher, profiles
from argon2.exceptions import InvalidHashError, VerificationError
from flask import current_app, has_app_context
from flask_login import UserMixin
from sqlalchemy import CheckConstraint, ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from fundapp.core.db import TimestampMixin, UTCDateTime
from fundapp.core.lists import SearchKeyMixin, SortKey
from fundapp.core.security import ALL_ROLES
from fundapp.extensions import db

# RFC 9106 low-memory parameters (argon2-cffi's default). The test suite alone may
# choose the cheapest profile (ARGON2_PROFILE = "cheapest"): it creates
# thousands of users, and a hash's parameters travel inside it, so verification
# works whichever profile made it.
_HASHERS = {
    "default": PasswordHasher(),
    "cheapest": PasswordHasher.from_parameters(profiles.CHEAPEST),
}


# One hash of a random password per profile, verified when the username is unknown: a
# failed login then costs the same whether or not the name exists (made on first use).
_DUMMY_HASHES: dict[str, str] = {}


def _profile() -> str:
    name = current_app.config.get("ARGON2_PROFILE") if has_app_context() else None
    return name if name in _HASHERS else "default"


def _hasher() -> PasswordHasher:
    return _HASHERS[_profile()]


def verify_dummy_password(password: str) -> bool:
    """Spend on ``password`` what checking a real user's would: one verification with the
    same hasher, against a hash no password matches. Always False."""
    profile = _profile()
    if profile not in _DUMMY_HASHES:
        _DUMMY_HASHES[profile] = _HASHERS[profile].hash(secrets.token_urlsafe(32))
    with contextlib.suppress(VerificationError, InvalidHashError):
        _HASHERS[profile].verify(_DUMMY_HASHES[profile], password)
    return False


_ROLE_CHECK = "role IN (" + ", ".join(f"'{r}'" for r in ALL_ROLES) + ")"


class User(SearchKeyMixin, UserMixin, TimestampMixin, db.Model):
    __tablename__ = "users"
    search_fields = ("username", "full_name", "email")
    name_field = "sort_name"

    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(String(64), unique=True)
    full_name: Mapped[str] = mapped_column(String(120), default="")
    # The person's name (else the username) in the Vietnamese order (fundapp.core.lists).
    name_key: Mapped[str] = mapped_column(SortKey, default="", index=True)
    email: Mapped[str | None] = mapped_column(String(254))
    password_hash: Mapped[str] = mapped_column(String(255))
    active: Mapped[bool] = mapped_column(default=True)
    cooperative_id: Mapped[int | None] = mapped_column(
        ForeignKey("cooperatives.id", ondelete="RESTRICT"), index=True
    )
    last_login_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    roles: Mapped[list[UserRole]] = relationship(
        back_populates="user", cascade="all, delete-orphan", lazy="selectin"
    )
    cooperative = relationship("Cooperative", lazy="joined")

    @property
    def sort_name(self) -> str:
        return self.full_name or self.username

    def set_password(self, password: str) -> None:
        self.password_hash = _hasher().hash(password)

    def check_password(self, password: str) -> bool:
        try:
            return _hasher().verify(self.password_hash, password)
        except (VerificationError, InvalidHashError):
            return False

    @property
    def is_active(self) -> bool:  # Flask-Login refuses inactive users
        return bool(self.active)

    @property
    def role_names(self) -> list[str]:
        return sorted(r.role for r in self.roles)

    # The key of the signed-in session this object was loaded for (see UserSession); not a
    # column: set by auth.services.start_session and user_for_session.
    session_key = None

    def get_id(self) -> str | None:
        """Flask-Login's "user id" is the session's key: the session cookie and the
        remember-me cookie stand for that revocable record, never for the user as such."""
        return self.session_key

    def __eq__(self, other: object) -> bool:  # UserMixin compares get_id(): the session's key
        if isinstance(other, User):
            return self is other or (self.id is not None and self.id == other.id)
        return NotImplemented

    def __ne__(self, other: object) -> bool:
        equal = self.__eq__(other)
        return equal if equal is NotImplemented else not equal

    __hash__ = object.__hash__


class UserRole(db.Model):
    __tablename__ = "user_roles"
    __table_args__ = (
        UniqueConstraint("user_id", "role", name="user_role"),
        CheckConstraint(_ROLE_CHECK, name="role_known"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    role: Mapped[str] = mapped_column(String(20))
    user: Mapped[User] = relationship(back_populates="roles")


class LoginThrottle(db.Model):
    """Failed logins per key (``u:<username>`` and ``ip:<address>``)."""

    __tablename__ = "login_throttle"

    key: Mapped[str] = mapped_column(String(120), primary_key=True)
    failures: Mapped[int] = mapped_column(default=0)
    locked_until: Mapped[datetime | None] = mapped_column(UTCDateTime)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)


class UserSession(db.Model):
    """A signed-in browser session. Only the SHA-256 of its random key is stored; the key
    travels in the session cookie (and the remember-me cookie) as Flask-Login's user id, so
    revoking the row ends both cookies wherever they were copied to."""

    __tablename__ = "user_sessions"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    key_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    remember: Mapped[bool] = mapped_column(default=False)
    ip: Mapped[str] = mapped_column(String(45), default="")
    user_agent: Mapped[str] = mapped_column(String(200), default="")

    user: Mapped[User] = relationship(lazy="joined")


class ApiToken(TimestampMixin, db.Model):
    """A bearer token; only its SHA-256 is stored."""

    __tablename__ = "api_tokens"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    name: Mapped[str] = mapped_column(String(80), default="")
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    user: Mapped[User] = relationship(lazy="joined")
