"""API v1: the close of day (SPEC §8, §10) — run it up to a date, list the runs."""

from __future__ import annotations

from typing import Any

from flask import jsonify, request
from flask_babel import gettext as _
from sqlalchemy import select

from fundapp.api import bp
from fundapp.api.common import api_roles, body, idempotent, only_fields, paginate
from fundapp.core import validation
from fundapp.core.dates import business_date
from fundapp.core.errors import ValidationFailed
from fundapp.core.security import STAFF_READ, Role
from fundapp.servicing.close_day import CloseDayResult, run_pending
from fundapp.servicing.models import CloseDayRun

RUNNERS = (Role.ACCOUNTANT, Role.DIRECTOR)


def _result(result: CloseDayResult) -> dict[str, Any]:
    return {
        "date": result.business_date.isoformat(),
        "ran": result.ran,
        "reason": result.reason,
        "counts": result.counts,
    }


def _iso(value: Any) -> str | None:
    return value.isoformat().replace("+00:00", "Z") if value is not None else None


def _run(run: CloseDayRun) -> dict[str, Any]:
    return {
        "id": run.id,
        "date": run.business_date.isoformat(),
        "trigger": run.trigger,
        "started_at": _iso(run.started_at),
        "finished_at": _iso(run.finished_at),
        "duration_ms": run.duration_ms,
        "counts": run.counts or {},
    }


@bp.route("/close-day", methods=["POST"])
@api_roles(*RUNNERS)
@idempotent
def close_day() -> Any:
    """Close every date not yet closed up to ``date`` (default: the business date), in
    order, one commit per date. ``reason`` is ``locked`` when another process is closing."""
    data = body() if request.get_data() else {}
    only_fields(data, ("date",))
    errors: dict[str, str] = {}
    today = business_date()
    if data.get("date") is not None and not isinstance(data["date"], str):
        errors["date"] = _("Ngày là chuỗi YYYY-MM-DD.")
    until = (None if errors else validation.iso_date(data, "date", errors, required=False)) or today
    if not errors and until > today:
        errors["date"] = _("Ngày khóa sổ không được sau ngày làm việc hiện tại.")
    if errors:
        raise ValidationFailed(_("Dữ liệu chưa hợp lệ, xin kiểm tra lại."), errors)
    results = run_pending(until, "api")
    return jsonify({"results": [_result(r) for r in results]})


@bp.route("/close-day/runs", methods=["GET"])
@api_roles(*STAFF_READ)
def close_day_runs() -> Any:
    query = select(CloseDayRun).order_by(CloseDayRun.business_date.desc())
    return jsonify(paginate(query, _run))
