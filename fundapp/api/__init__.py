"""JSON API v1: bearer tokens, the same roles and object rules as the web UI."""

from flask import Blueprint

bp = Blueprint("api", __name__)

from fundapp.api import (  # noqa: E402, F401
    admin,
    application_documents,
    audit,
    auth,
    close_day,
    cooperatives,
    dashboard,
    documents,
    fund,
    funds,
    groups,
    imports,
    ledger,
    lending,
    notices,
    openapi,
    policy,
    portal,
    relief,
    reports,
    servicing,
)
