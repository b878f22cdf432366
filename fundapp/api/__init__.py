"""JSON API v1: bearer tokens, the same roles and object rules as the web UI."""

from flask import Blueprint

bp = Blueprint("api", __name__)

from fundapp.api import (  # noqa: E402, F401
    auth,
    close_day,
    cooperatives,
    dashboard,
    documents,
    fund,
    lending,
    openapi,
    reports,
)
