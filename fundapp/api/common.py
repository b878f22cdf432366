"""Shared plumbing of the API: authentication, role checks, bodies, idempotency, paging."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from functools import wraps
from typing import Any, TypeVar

from flask import abort, current_app, g, jsonify, request
from flask_babel import gettext as _
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from fundapp.api.models import IdempotencyKey
from fundapp.core.errors import DomainError, ValidationFailed
from fundapp.core.security import has_role
from fundapp.extensions import db

F = TypeVar("F", bound=Callable[..., Any])


class ApiUnauthorized(DomainError):
    status_code = 401
    code = "unauthorized"


def current_api_user() -> Any:
    return g.api_user


def api_roles(*roles: str) -> Callable[[F], F]:
    """Bearer token required; the user must hold one of ``roles`` (if any are given)."""

    def decorator(view: F) -> F:
        @wraps(view)
        def wrapped(*args: Any, **kwargs: Any) -> Any:
            from fundapp.auth.services import user_for_token

            header = request.headers.get("Authorization", "")
            scheme, _sep, raw = header.partition(" ")
            user = user_for_token(raw.strip()) if scheme.lower() == "bearer" else None
            if user is None:
                db.session.rollback()
                raise ApiUnauthorized(_("Mã truy cập thiếu, sai, đã hết hạn hoặc đã bị thu hồi."))
            db.session.commit()  # last_used_at
            g.api_user = user
            if roles and not has_role(user, *roles):
                abort(403)
            return view(*args, **kwargs)

        wrapped.allowed_roles = tuple(str(r) for r in roles)  # type: ignore[attr-defined]
        return wrapped  # type: ignore[return-value]

    return decorator


def body() -> dict[str, Any]:
    data = request.get_json(silent=True)
    if not isinstance(data, dict):
        raise ValidationFailed(_("Nội dung yêu cầu phải là một đối tượng JSON."))
    return data


def only_fields(data: dict[str, Any], allowed: tuple[str, ...] | set[str]) -> None:
    unknown = sorted(set(data) - set(allowed))
    if unknown:
        raise ValidationFailed(
            _("Trường không được hỗ trợ: %(f)s", f=", ".join(unknown)[:200]),
            {name[:50]: _("Trường không được hỗ trợ.") for name in unknown[:20]},
        )


def idempotent(view: F) -> F:
    """Commits the view's work, and replays the stored answer when the same user repeats a
    POST with the same ``Idempotency-Key`` and body; another body under that key is a 409."""

    @wraps(view)
    def wrapped(*args: Any, **kwargs: Any) -> Any:
        key = request.headers.get("Idempotency-Key", "").strip()
        if not key:
            response = view(*args, **kwargs)
            db.session.commit()
            return response
        if len(key) > 100:
            raise ValidationFailed(_("Idempotency-Key tối đa 100 ký tự."))
        digest = hashlib.sha256(request.get_data()).hexdigest()
        endpoint = f"{request.method} {request.path}"[:200]
        user_id = g.api_user.id
        stored = db.session.scalar(
            select(IdempotencyKey).where(
                IdempotencyKey.user_id == user_id, IdempotencyKey.key == key
            )
        )
        if stored is not None:
            if stored.body_hash != digest or stored.endpoint != endpoint:
                from fundapp.core.errors import Conflict

                raise Conflict(_("Idempotency-Key này đã được dùng cho một yêu cầu khác."))
            response = jsonify(stored.response)
            response.status_code = stored.status
            response.headers["Idempotent-Replayed"] = "true"
            return response
        response = view(*args, **kwargs)
        result, status = response if isinstance(response, tuple) else (response, 200)
        if status < 300:
            payload = result.get_json() if hasattr(result, "get_json") else result
            db.session.add(
                IdempotencyKey(
                    user_id=user_id,
                    key=key,
                    endpoint=endpoint,
                    body_hash=digest,
                    status=status,
                    response=json.loads(json.dumps(payload)),
                )
            )
        try:
            db.session.commit()
        except IntegrityError:
            # A concurrent request with the same key won: nothing of ours is kept.
            db.session.rollback()
            from fundapp.core.errors import Conflict

            raise Conflict(_("Yêu cầu với Idempotency-Key này đang được xử lý.")) from None
        return response

    wrapped.idempotent = True  # type: ignore[attr-defined]
    return wrapped  # type: ignore[return-value]


def paginate(query: Any, serialise: Callable[[Any], dict]) -> dict[str, Any]:
    def _int(name: str, default: int, high: int) -> int:
        raw = request.args.get(name, str(default))
        if not raw.isdigit() or not 1 <= int(raw) <= high:
            raise ValidationFailed(
                _("Tham số %(n)s phải là số nguyên từ 1 đến %(h)s.", n=name, h=high),
                {name: _("Giá trị không hợp lệ.")},
            )
        return int(raw)

    page_no = _int("page", 1, 1_000_000)
    per_page = _int("per_page", current_app.config["PAGE_SIZE"], 200)
    page = db.paginate(query, page=page_no, per_page=per_page, error_out=False)
    return {
        "items": [serialise(item) for item in page.items],
        "page": page_no,
        "per_page": per_page,
        "total": page.total,
    }
