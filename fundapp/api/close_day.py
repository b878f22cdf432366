"""API v1: the close of day (docs/rules.md#close-of-day) — run it up to a date, list the runs."""

from __future__ import annotations

from typing import Any

from flask import jsonify
from flask_babel import gettext as _
from sqlalchemy import select

from fundapp.api import bp, transaction_shapes
from fundapp.api.common import api_roles, idempotent, paginate, timestamp, within_period
from fundapp.api.spec import Page, operation, read_body, read_query
from fundapp.core.dates import business_date
from fundapp.core.security import STAFF_READ, Role
from fundapp.domain.errors import ValidationFailed
from fundapp.loans.days import CloseDayRun
from fundapp.servicing.close_day import CloseDayResult, run_pending

RUNNERS = (Role.ACCOUNTANT, Role.DIRECTOR)


def result_json(result: CloseDayResult) -> transaction_shapes.CloseDayResult:
    return {
        "date": result.business_date.isoformat(),
        "ran": result.ran,
        "reason": result.reason,
        "counts": result.counts,
    }


def run_json(run: CloseDayRun) -> transaction_shapes.CloseDayRun:
    return {
        "id": run.id,
        "date": run.business_date.isoformat(),
        "trigger": run.trigger,  # type: ignore[typeddict-item]
        "started_at": timestamp(run.started_at),
        "finished_at": timestamp(run.finished_at),
        "duration_ms": run.duration_ms,
        "counts": run.counts or {},
    }


@bp.route("/close-day", methods=["POST"])
@api_roles(*RUNNERS)
@idempotent
@operation(body=transaction_shapes.CloseDayRequest, returns=transaction_shapes.CloseDayResults)
def close_day() -> Any:
    """Close the days not yet closed.

    Every date not yet closed up to `date` (default: the business date) is closed in order,
    one commit per date. A result's `reason` is `locked` when another process is closing
    and `already_done` when the date was closed before."""
    data = read_body(transaction_shapes.CloseDayRequest)
    today = business_date()
    until = data.get("date") or today
    if until > today:
        message = _("Ngày khóa sổ không được sau ngày làm việc hiện tại.")
        raise ValidationFailed(_("Dữ liệu chưa hợp lệ, xin kiểm tra lại."), {"date": message})
    results = run_pending(until, "api")
    return jsonify({"results": [result_json(r) for r in results]})


@bp.route("/close-day/runs", methods=["GET"])
@api_roles(*STAFF_READ)
@operation(query=transaction_shapes.CloseDayRunQuery, returns=Page[transaction_shapes.CloseDayRun])
def close_day_runs() -> Any:
    """List the close-of-day runs, latest date first.

    `from` and `to` bound the business dates; `trigger` keeps the runs started one way."""
    args = read_query(transaction_shapes.CloseDayRunQuery)
    query = select(CloseDayRun).order_by(CloseDayRun.business_date.desc())
    query = within_period(query, CloseDayRun.business_date, args)
    if "trigger" in args:
        query = query.where(CloseDayRun.trigger == args["trigger"])
    return jsonify(paginate(query, run_json))
