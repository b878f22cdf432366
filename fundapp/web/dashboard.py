"""The director's dashboard: key figures and server-side SVG charts."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, render_template, request

from fundapp.core.dates import business_date
from fundapp.core.replica import reads_from_replica
from fundapp.core.security import STAFF_READ, roles_required
from fundapp.dashboard import figures
from fundapp.domain.errors import ValidationFailed
from fundapp.funds import services as funds
from fundapp.reports import calendar, charts, ranking

bp = Blueprint("dashboard", __name__)


@bp.route("/dashboard")
@roles_required(*STAFF_READ)
@reads_from_replica
def index() -> Any:
    today = business_date()
    raw = request.args.get("as_of", "").strip()[:20]
    error, status = "", 200
    try:
        as_of = figures.as_of_from(raw, today)
    except ValidationFailed as exc:
        as_of, error, status = today, exc.message, 422
    by = request.args.get("by", "commune")
    by = by if by in charts.AREA_TITLES else "commune"
    origin_code = request.args.get("origin", "").strip()[:20]
    try:
        origin = funds.origin_filter(origin_code)
    except ValidationFailed as exc:
        origin, origin_code, status = funds.ALL, "", 422
        error = error or exc.message
    data = figures.dashboard(as_of, by, origin)
    return render_template(
        "dashboard/index.html",
        d=data,
        charts=charts.dashboard_charts(data.series),
        as_of_text=raw if error else as_of.strftime("%d/%m/%Y"),
        as_of_error=error,
        is_today=as_of == today,
        area_by=by,
        area_titles=charts.AREA_TITLES,
        origins=funds.origins(),
        origin_code=origin_code,
        percent=charts.percent,
        reporting=calendar.due(today),
        dissolution=ranking.warnings(today),
        today=today,
    ), status
