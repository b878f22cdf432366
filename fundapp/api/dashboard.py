"""API v1: the director's dashboard figures as JSON."""

from __future__ import annotations

from typing import Any

from flask import jsonify

from fundapp.api import bp, shapes
from fundapp.api.common import api_roles
from fundapp.api.spec import operation, read_query
from fundapp.core.dates import business_date
from fundapp.core.security import STAFF_READ
from fundapp.dashboard import figures


@bp.route("/dashboard", methods=["GET"])
@api_roles(*STAFF_READ)
@operation(query=shapes.AsOfQuery, returns=shapes.Dashboard)
def dashboard() -> Any:
    """The dashboard's figures and chart series.

    Capital, outstanding, overdue and bad debt with their ratios, this month's and this
    year's flows, the approvals waiting, and the series behind the charts, as of `as_of`
    (default: the business date). Pending approvals are the queues of now."""
    as_of = figures.as_of_from(read_query(shapes.AsOfQuery).get("as_of"), business_date())
    return jsonify(figures.to_json(figures.dashboard(as_of)))
