"""API v1: the director's dashboard figures as JSON."""

from __future__ import annotations

from typing import Any

from flask import jsonify, request

from fundapp.api import bp
from fundapp.api.common import api_roles
from fundapp.core.dates import business_date
from fundapp.core.security import STAFF_READ
from fundapp.dashboard import figures


@bp.route("/dashboard", methods=["GET"])
@api_roles(*STAFF_READ)
def dashboard() -> Any:
    as_of = figures.as_of_from(request.args.get("as_of", "").strip()[:20], business_date())
    return jsonify(figures.to_json(figures.dashboard(as_of)))
