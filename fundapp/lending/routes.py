"""Loans: list, detail, contract, disbursements, repayments, reversals, restructuring."""

from __future__ import annotations

from flask import Blueprint

bp = Blueprint("loans", __name__, url_prefix="/loans")


@bp.route("/")
def index() -> str:
    return ""
