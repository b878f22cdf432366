"""API v1: editing a draft application, and its documents (upload, list, download).

Uploads go through fundapp/lending/uploads.py, the pages' own checks: size, extension and
content, stored outside ``static/`` under a random name. A cooperative works on its own
applications only; another's answers 404.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from flask import abort, jsonify, request
from pydantic import Field

from fundapp.api import bp, shapes
from fundapp.api.common import api_roles, current_api_user, get_or_404, paginate, timestamp
from fundapp.api.loan_input import visible_application
from fundapp.api.loan_output import application_json
from fundapp.api.spec import (
    Day,
    Id,
    Money,
    Page,
    PageQuery,
    PositiveMoney,
    Rate,
    Timestamp,
    TypedDict,
    operation,
    read_body,
    read_query,
    strict,
)
from fundapp.core.dates import business_date
from fundapp.core.security import STAFF_READ, Role, has_role
from fundapp.extensions import db
from fundapp.lending import applications, uploads
from fundapp.loans.models import METHODS, ApplicationDocument

READERS = (*STAFF_READ, Role.COOPERATIVE)
EDITORS = (Role.OFFICER, Role.COOPERATIVE)
FILE = "application/octet-stream"

Months = Literal[1, 3, 6, 12]


@strict
class ApplicationUpdate(TypedDict, total=False):
    cooperative_id: Id
    project_name: Annotated[str, Field(max_length=200)]
    purpose: Annotated[str, Field(max_length=255)]
    description: Annotated[str, Field(max_length=5000)]
    collateral_offered: Annotated[str, Field(max_length=2000)]
    total_project_cost: PositiveMoney
    own_equity: Money
    requested_amount: PositiveMoney
    term_months: Annotated[int, Field(ge=1, le=600)]
    # Staff only: a cooperative's application takes the policy's rate.
    annual_rate: Rate
    principal_method: Literal[METHODS]  # type: ignore[valid-type]
    principal_every_months: Months
    interest_every_months: Months
    grace_months: Annotated[int, Field(ge=0, le=599)]
    # For the custom method: [["YYYY-MM-DD", principal], …], summing to the amount.
    custom_schedule: Annotated[list[tuple[Day, PositiveMoney]], Field(max_length=600)] | None


class DocumentItem(TypedDict):
    id: int
    application_id: int
    name: str
    content_type: str
    size: int
    uploaded_by_id: int | None
    created_at: Timestamp | None


class DocumentUpload(TypedDict):
    file: bytes


def document_json(doc: ApplicationDocument) -> DocumentItem:
    return {
        "id": doc.id,
        "application_id": doc.application_id,
        "name": doc.original_name,
        "content_type": doc.content_type,
        "size": doc.size,
        "uploaded_by_id": doc.uploaded_by_id,
        "created_at": timestamp(doc.created_at),
    }


@bp.route("/applications/<int:app_id>", methods=["PATCH"])
@api_roles(*EDITORS)
@operation(body=ApplicationUpdate, returns=shapes.ApplicationView)
def update_application(app_id: int) -> Any:
    """Change a draft application; fields left out keep their value.

    The figures are checked again as a whole (equity, amounts, schedule terms). A
    cooperative edits its own drafts, without choosing the rate or the cooperative.
    """
    app = visible_application(app_id)
    data = read_body(ApplicationUpdate)
    user = current_api_user()
    current = {key: getattr(app, key) for key in applications.APPLICATION_FIELDS}
    if has_role(user, Role.COOPERATIVE):
        del current["annual_rate"], current["cooperative_id"]
    applications.update_application(user, app, {**current, **data}, business_date())
    db.session.commit()
    return jsonify(application_json(app))


@bp.route("/applications/<int:app_id>/documents", methods=["GET"])
@api_roles(*READERS)
@operation(query=PageQuery, returns=Page[DocumentItem])
def list_application_documents(app_id: int) -> Any:
    """List the documents attached to an application, oldest first."""
    app = visible_application(app_id)
    read_query(PageQuery)
    query = (
        db.select(ApplicationDocument)
        .where(ApplicationDocument.application_id == app.id)
        .order_by(ApplicationDocument.id)
    )
    return jsonify(paginate(query, document_json))


@bp.route("/applications/<int:app_id>/documents", methods=["POST"])
@api_roles(*EDITORS)
@operation(form=DocumentUpload, returns=DocumentItem, status=201)
def upload_application_document(app_id: int) -> Any:
    """Attach a document to an application (multipart field ``file``).

    PDF, JPEG, PNG, DOC/DOCX, XLS/XLSX or ODT/ODS, its content matching its extension,
    within the size limit. Officers add papers until the application is closed, a
    cooperative until it is appraised.
    """
    app = visible_application(app_id)
    doc = uploads.save_document(app, request.files.get("file"), current_api_user())
    uploads.commit_with(doc)
    return jsonify(document_json(doc)), 201


@bp.route("/applications/<int:app_id>/documents/<int:doc_id>", methods=["GET"])
@api_roles(*READERS)
@operation(returns=bytes, content=FILE)
def download_application_document(app_id: int, doc_id: int) -> Any:
    """Download a document as its uploader sent it (``Content-Disposition`` names it)."""
    app = visible_application(app_id)
    doc = get_or_404(ApplicationDocument, doc_id)
    if doc.application_id != app.id:
        abort(404)
    return uploads.send_document(doc, FILE)
