"""The director's dashboard: key figures and server-side SVG charts."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, render_template, request

from fundapp.core.dates import business_date
from fundapp.core.errors import ValidationFailed
from fundapp.core.security import STAFF_READ, roles_required
from fundapp.dashboard import charts, figures

bp = Blueprint("dashboard", __name__)


@bp.route("/dashboard")
@roles_required(*STAFF_READ)
def index() -> Any:
    today = business_date()
    raw = request.args.get("as_of", "").strip()[:20]
    error, status = "", 200
    try:
        as_of = figures.as_of_from(raw, today)
    except ValidationFailed as exc:
        as_of, error, status = today, exc.message, 422
    data = figures.dashboard(as_of)
    return render_template(
        "dashboard/index.html",
        d=data,
        charts=charts.dashboard_charts(data.series),
        as_of_text=raw if error else as_of.strftime("%d/%m/%Y"),
        as_of_error=error,
        is_today=as_of == today,
        percent=charts.percent,
    ), status
