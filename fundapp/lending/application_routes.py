"""Applications (hồ sơ vay vốn): work queue, form, documents, appraisal, decision."""

from __future__ import annotations

from flask import Blueprint

bp = Blueprint("applications", __name__, url_prefix="/applications")


@bp.route("/")
def index() -> str:
    return ""
