"""API v1: the credit file — its documents as PDFs, their versions, and the fund's wording.

Opening a document issues it as the file stands, like the pages (fundapp/web/credit_file.py):
staff who work on loans get a new version when the data or the wording changed since the
last one; the controller and the cooperative get the last version issued (404 while there
is none). Every version stays at ``/credit-file/{kind}/{subject_id}/v{version}.pdf``.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from flask import abort, jsonify
from flask_babel import gettext as _
from pydantic import Field
from sqlalchemy.exc import IntegrityError

from fundapp.api import bp
from fundapp.api.common import api_roles, check_id, current_api_user, timestamp
from fundapp.api.spec import PDF, Timestamp, TypedDict, operation, read_body, strict
from fundapp.documents import credit_file
from fundapp.domain.errors import Conflict
from fundapp.extensions import db
from fundapp.web.credit_file import (
    EDITORS,
    READERS,
    SUBJECTS,
    document_pdf,
    file_of,
    sample_of,
    subject_for,
    version_pdf,
)

NO_NUL = r"^[^\x00]*$"
SubjectType = Literal["application", "loan", "collateral", "inspection", "restructuring"]


class FileVersion(TypedDict):
    version: int
    reference_no: str
    created_at: Timestamp | None
    # The PDF of this version.
    url: str


class FileEntry(TypedDict):
    kind: str
    title: str
    # Opens the document as the file stands now (issued if it changed).
    url: str
    versions: list[FileVersion]


class CreditFile(TypedDict):
    subject_type: SubjectType
    subject_id: int
    items: list[FileEntry]


class TemplateField(TypedDict):
    name: str
    label: str


class TemplateVersion(TypedDict):
    version: int
    note: str
    created_at: Timestamp | None
    created_by_id: int | None
    body: str


class FormTemplateInfo(TypedDict):
    kind: str
    title: str
    subject_type: SubjectType
    series: str
    fields: list[TemplateField]
    current_version: int
    issued: int


class FormTemplateDetail(FormTemplateInfo):
    versions: list[TemplateVersion]


class FormTemplateList(TypedDict):
    items: list[FormTemplateInfo]


@strict
class TemplateChange(TypedDict):
    body: Annotated[str, Field(min_length=1, max_length=credit_file.BODY_LIMIT, pattern=NO_NUL)]
    # What changed and why: required.
    note: Annotated[str, Field(min_length=1, max_length=1000, pattern=NO_NUL)]


def _pdf(key: str, subject_id: int) -> Any:
    return document_pdf(current_api_user(), key, check_id(subject_id))


@bp.route("/applications/<int:application_id>/application.pdf", methods=["GET"])
@api_roles(*READERS)
@operation(returns=bytes, content=PDF)
def application_form_pdf(application_id: int) -> Any:
    """The application form (giấy đề nghị vay vốn) of an application."""
    return _pdf("application", application_id)


@bp.route("/applications/<int:application_id>/decision.pdf", methods=["GET"])
@api_roles(*READERS)
@operation(returns=bytes, content=PDF)
def application_decision_pdf(application_id: int) -> Any:
    """The decision on an application: the lending decision (quyết định cho vay) or the
    refusal with its reasons; 404 until it is decided."""
    return _pdf("decision", application_id)


@bp.route("/loans/<int:loan_id>/contract.pdf", methods=["GET"])
@api_roles(*READERS)
@operation(returns=bytes, content=PDF)
def loan_contract_pdf(loan_id: int) -> Any:
    """The credit contract (hợp đồng tín dụng) with its schedule: the loan's stored schedule,
    or the indicative one of the whole amount before any disbursement."""
    return _pdf("contract", loan_id)


@bp.route("/collaterals/<int:collateral_id>/contract.pdf", methods=["GET"])
@api_roles(*READERS)
@operation(returns=bytes, content=PDF)
def collateral_contract_pdf(collateral_id: int) -> Any:
    """The security contract (hợp đồng bảo đảm) of one collateral of a loan."""
    return _pdf("collateral_contract", collateral_id)


@bp.route("/credit-file/<kind>/<int:subject_id>.pdf", methods=["GET"])
@api_roles(*READERS)
@operation(returns=bytes, content=PDF)
def credit_file_document(kind: str, subject_id: int) -> Any:
    """Any document of the credit file by its kind (``GET /form-templates`` lists them)."""
    return _pdf(kind, subject_id)


@bp.route("/credit-file/<kind>/<int:subject_id>/v<int:version>.pdf", methods=["GET"])
@api_roles(*READERS)
@operation(returns=bytes, content=PDF)
def credit_file_version(kind: str, subject_id: int, version: int) -> Any:
    """One issued version of a document, as it was issued."""
    return version_pdf(current_api_user(), kind, check_id(subject_id), check_id(version))


@bp.route("/credit-file/<subject_type>/<int:subject_id>", methods=["GET"])
@api_roles(*READERS)
@operation(returns=CreditFile)
def credit_file_index(subject_type: str, subject_id: int) -> Any:
    """The documents of an application, a loan, a collateral, an inspection of the use of a
    loan or a restructuring, with their versions."""
    model = SUBJECTS.get(subject_type)
    if model is None:
        abort(404)
    subject = db.session.get(model, check_id(subject_id))
    if subject is None:
        abort(404)
    kinds = credit_file.kinds_of(subject_type)
    if kinds:  # the object rule of the subject's documents (404 for another cooperative's)
        subject_for(current_api_user(), kinds[0].key, subject_id)
    items = [
        {
            "kind": row["kind"],
            "title": str(row["title"]),
            "url": row["url"],
            "versions": [
                {
                    "version": v["version"],
                    "reference_no": v["reference_no"],
                    "created_at": timestamp(v["created_at"]),
                    "url": v["url"],
                }
                for v in row["versions"]
            ],
        }
        for row in file_of(current_api_user(), subject_type, subject)
    ]
    return jsonify({"subject_type": subject_type, "subject_id": subject_id, "items": items})


def _info(spec: credit_file.Kind) -> dict[str, Any]:
    return {
        "kind": spec.key,
        "title": str(spec.title),
        "subject_type": spec.subject,
        "series": spec.series,
        "fields": [{"name": f.name, "label": str(f.label)} for f in spec.fields],
        "current_version": credit_file.current_template(spec.key).version,
        "issued": credit_file.issued_count(spec.key),
    }


def _kind(key: str) -> credit_file.Kind:
    spec = credit_file.get_kind(key)
    if spec is None:
        abort(404)
    return spec


def _detail(spec: credit_file.Kind) -> dict[str, Any]:
    return {
        **_info(spec),
        "versions": [
            {
                "version": v.version,
                "note": v.note,
                "created_at": timestamp(v.created_at),
                "created_by_id": v.created_by_id,
                "body": v.body,
            }
            for v in credit_file.versions(spec.key)
        ],
    }


@bp.route("/form-templates", methods=["GET"])
@api_roles(*EDITORS)
@operation(returns=FormTemplateList)
def list_form_templates() -> Any:
    """The kinds of documents of the credit file, each with the fields its wording may use
    and the version in force."""
    items = [_info(spec) for spec in credit_file.KINDS.values()]
    db.session.commit()  # the shipped defaults stored as version 1
    return jsonify({"items": items})


@bp.route("/form-templates/<kind>", methods=["GET"])
@api_roles(*EDITORS)
@operation(returns=FormTemplateDetail)
def get_form_template(kind: str) -> Any:
    """A kind's wording: every version, newest first, with its text."""
    detail = _detail(_kind(kind))
    db.session.commit()
    return jsonify(detail)


@bp.route("/form-templates/<kind>", methods=["POST"])
@api_roles(*EDITORS)
@operation(body=TemplateChange, returns=FormTemplateDetail, status=201, errors=(409,))
def change_form_template(kind: str) -> Any:
    """Save a new version of a kind's wording. It is checked by rendering it on the newest
    file of that kind (422 with the error when it fails); documents issued before keep
    the wording they were made with."""
    spec = _kind(kind)
    data = read_body(TemplateChange)
    try:
        credit_file.save_template(
            current_api_user(), kind, data["body"], data["note"], sample_of(spec)
        )
        db.session.commit()
    except IntegrityError:
        db.session.rollback()
        raise Conflict(_("Một phiên bản mới của mẫu vừa được lưu; tải lại rồi thử lại.")) from None
    return jsonify(_detail(spec)), 201
