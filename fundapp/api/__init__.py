"""JSON API v1: bearer tokens, the same roles and object rules as the web UI."""

from flask import Blueprint

bp = Blueprint("api", __name__)

# The loan views register first: a path's methods appear in the OpenAPI document in the
# order their views were registered (GET /applications/<id> before PATCH, POST
# /loans/<id>/disbursements before GET).
from fundapp.api import lending, transactions  # noqa: E402, F401

# isort: split
from fundapp.api import (  # noqa: E402, F401
    admin,
    application_documents,
    audit,
    auth,
    banking,
    close_day,
    committee,
    cooperatives,
    credit_file,
    dashboard,
    documents,
    fund,
    funds,
    groups,
    imports,
    ledger,
    loan_input,
    loan_output,
    notices,
    openapi,
    plans,
    policy,
    portal,
    ranking,
    readiness,
    relief,
    reports,
    servicing,
    support,
)
