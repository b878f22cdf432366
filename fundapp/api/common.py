"""Shared plumbing of the API: authentication, role checks, bodies, idempotency, paging."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from datetime import datetime
from functools import wraps
from typing import Any, TypeVar

from flask import Response, abort, current_app, g, jsonify, request
from flask_babel import gettext as _
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from fundapp.api.models import IdempotencyKey
from fundapp.api.spec import MAX_ID, read_body
from fundapp.auth.services import user_for_token
from fundapp.core.security import has_role
from fundapp.core.validation import digits, iso_day
from fundapp.domain.errors import Conflict, DomainError, ValidationFailed
from fundapp.extensions import db

F = TypeVar("F", bound=Callable[..., Any])
M = TypeVar("M")


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
            header = request.headers.get("Authorization", "")
            scheme, _sep, raw = header.partition(" ")
            user = user_for_token(raw.strip()) if scheme.lower() == "bearer" else None
            if user is None:
                db.session.rollback()
                raise ApiUnauthorized(_("Mã truy cập thiếu, sai, đã hết hạn hoặc đã bị thu hồi."))
            if db.session.dirty:
                db.session.commit()  # last_used_at
            g.api_user = user
            if roles and not has_role(user, *roles):
                abort(403)
            return view(*args, **kwargs)

        wrapped.allowed_roles = tuple(str(r) for r in roles)  # type: ignore[attr-defined]
        return wrapped  # type: ignore[return-value]

    return decorator


def check_id(object_id: int) -> int:
    """A path id the database can hold, or 404: a larger one would overflow its INTEGER
    (an error on PostgreSQL and SQLite, where it can only be "not found")."""
    if not 0 < object_id <= MAX_ID:
        abort(404)
    return object_id


def get_or_404(model: type[M], object_id: int) -> M:
    obj = db.session.get(model, check_id(object_id))
    if obj is None:
        abort(404)
    return obj


def decide_pending(
    model: type,
    object_id: int,
    shape: Any,
    key: str,
    decide: Callable[[Any, str], M],
    serialise: Callable[[M], Any],
    *,
    commit: bool,
) -> Response:
    """A pending request (a relief, a write-off, a reversal…) approved or rejected: 404
    before the body is read (an unknown request is not a validation problem), the decider's
    ``key`` (note or reason) trimmed, then ``decide(user, text)`` — the service checks the
    state and that its maker does not decide it. ``commit`` is False under ``@idempotent``,
    which commits with the stored answer."""
    get_or_404(model, object_id)
    text = read_body(shape).get(key, "").strip()
    item = decide(current_api_user(), text)
    if commit:
        db.session.commit()
    return jsonify(serialise(item))


def timestamp(value: datetime | None) -> str | None:
    """A UTC timestamp as ISO 8601 with ``Z``."""
    return value.isoformat().replace("+00:00", "Z") if value is not None else None


def within_period(query: Any, column: Any, args: dict[str, Any]) -> Any:
    """The query's rows with ``column`` between the ``from`` and ``to`` dates of ``args``
    (as ``read_query`` gives them); a period that ends before it starts is refused."""
    start, end = args.get("from"), args.get("to")
    if start is not None and end is not None and start > end:
        message = _("Ngày bắt đầu sau ngày kết thúc; xin chọn lại khoảng thời gian.")
        raise ValidationFailed(message, {"from": message})
    if start is not None:
        query = query.where(column >= start)
    if end is not None:
        query = query.where(column <= end)
    return query


def body() -> dict[str, Any]:
    data = request.get_json(silent=True)
    if not isinstance(data, dict):
        raise ValidationFailed(_("Nội dung yêu cầu phải là một đối tượng JSON."))
    return data


def iso_days(data: dict[str, Any], keys: tuple[str, ...], errors: dict[str, str]) -> None:
    """The dates of a JSON body are ``YYYY-MM-DD`` (the services behind would also read the
    pages' dd/mm/yyyy); a key already refused, absent or empty is left to them."""
    for key in keys:
        raw = data.get(key)
        if key not in errors and raw not in (None, "") and iso_day(raw) is None:
            errors[key] = _("Ngày không hợp lệ; ghi theo dạng YYYY-MM-DD (ví dụ 2026-12-07).")


def only_fields(data: dict[str, Any], allowed: tuple[str, ...] | set[str]) -> None:
    unknown = sorted(set(data) - set(allowed))
    if unknown:
        raise ValidationFailed(
            _("Trường không được hỗ trợ: %(f)s", f=", ".join(unknown)[:200]),
            {name[:50]: _("Trường không được hỗ trợ.") for name in unknown[:20]},
        )


def _request_digest() -> str:
    """What makes two requests "the same": the query string and the body. An upload is
    compared by its fields and files, not by its bytes, whose multipart boundary differs each
    time a client encodes the same form."""
    digest = hashlib.sha256(request.query_string + b"\0")
    if request.mimetype != "multipart/form-data":
        digest.update(request.get_data())
        return digest.hexdigest()
    for name in sorted(request.form):
        for value in request.form.getlist(name):
            digest.update(f"form\0{name}\0{value}\0".encode())
    for name in sorted(request.files):
        for upload in request.files.getlist(name):
            digest.update(f"file\0{name}\0{upload.filename}\0".encode())
            for chunk in iter(lambda upload=upload: upload.stream.read(64 * 1024), b""):
                digest.update(chunk)
            upload.stream.seek(0)
    return digest.hexdigest()


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
        digest = _request_digest()
        endpoint = f"{request.method} {request.path}"[:200]
        user_id = g.api_user.id
        stored = db.session.scalar(
            select(IdempotencyKey).where(
                IdempotencyKey.user_id == user_id, IdempotencyKey.key == key
            )
        )
        if stored is not None:
            if stored.body_hash != digest or stored.endpoint != endpoint:
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
            raise Conflict(_("Yêu cầu với Idempotency-Key này đang được xử lý.")) from None
        return response

    wrapped.idempotent = True  # type: ignore[attr-defined]
    return wrapped  # type: ignore[return-value]


def paginate(query: Any, serialise: Callable[[Any], dict]) -> dict[str, Any]:
    def _int(name: str, default: int, high: int) -> int:
        raw = request.args.get(name, str(default))
        if not digits(raw) or not 1 <= int(raw) <= high:
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
