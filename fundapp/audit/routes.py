from __future__ import annotations

from typing import Any

from flask import Blueprint, current_app, render_template, request
from sqlalchemy import select

from fundapp.audit.models import AuditLog
from fundapp.core.forms import page_arg
from fundapp.core.security import AUDIT_READ, roles_required
from fundapp.extensions import db

bp = Blueprint("audit", __name__, url_prefix="/audit")


@bp.route("/")
@roles_required(*AUDIT_READ)
def index() -> Any:
    entity = request.args.get("entity", "")[:40]
    user = request.args.get("user", "")[:64]
    query = select(AuditLog).order_by(AuditLog.id.desc())
    if entity:
        query = query.where(AuditLog.entity == entity)
    if user:
        query = query.where(AuditLog.username == user)
    page = db.paginate(
        query, page=page_arg(), per_page=current_app.config["PAGE_SIZE"] * 2, error_out=False
    )
    entities = list(
        db.session.scalars(select(AuditLog.entity).distinct().order_by(AuditLog.entity))
    )
    return render_template(
        "audit/index.html", page=page, entity=entity, user=user, entities=entities
    )
