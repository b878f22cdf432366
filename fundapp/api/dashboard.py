"""API v1: the director's dashboard figures as JSON."""

from __future__ import annotations

from typing import Any

from flask import jsonify

from fundapp.api import bp, report_shapes, shapes
from fundapp.api.common import api_roles
from fundapp.api.spec import operation, read_query
from fundapp.core.dates import business_date
from fundapp.core.replica import reads_from_replica
from fundapp.core.security import STAFF_READ
from fundapp.dashboard import figures
from fundapp.funds import services as funds


@bp.route("/dashboard", methods=["GET"])
@api_roles(*STAFF_READ)
@operation(query=shapes.DashboardQuery, returns=report_shapes.Dashboard)
@reads_from_replica
def dashboard() -> Any:
    """The dashboard's figures and chart series.

    Capital, outstanding, overdue and bad debt with their ratios, this month's and this
    year's flows, the approvals waiting, and the series behind the charts, as of `as_of`
    (default: the business date). Pending approvals are the queues of now. The area
    series groups by the borrower's current commune, former district or former province
    (`by`); it adds up to the same outstanding whichever. `origin` keeps one origin
    fund's book (`GET /funds`); by default the figures are consolidated."""
    args = read_query(shapes.DashboardQuery)
    as_of = figures.as_of_from(args.get("as_of"), business_date())
    origin = funds.origin_filter(args.get("origin"))
    data = figures.dashboard(as_of, args.get("by", "commune"), origin)
    return jsonify(figures.to_json(data))
