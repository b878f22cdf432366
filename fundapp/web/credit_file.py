"""The credit file's documents (``documents.credit_file``) on the pages and the API, and the
page where the fund adjusts their wording.

Opening a document issues it: staff who work on loans get the version matching the file's
data (a new one when the data or the wording changed since the last); readers who change
nothing (the controller, the cooperative) get the last version issued. Every version stays
downloadable. The cooperative sees its own application form, decision and contracts.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from flask_wtf import FlaskForm
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from werkzeug.wrappers import Response
from wtforms import StringField, TextAreaField
from wtforms.validators import Length

from fundapp.core.security import STAFF_READ, Role, can_see_cooperative, has_role, roles_required
from fundapp.documents import credit_file
from fundapp.documents import file_data as _registered  # noqa: F401 (registers the kinds)
from fundapp.documents import file_data_servicing as _servicing  # noqa: F401
from fundapp.documents.file_models import FileDocument
from fundapp.documents.pdf import pdf_response
from fundapp.domain.errors import DomainError
from fundapp.extensions import db
from fundapp.loans.models import (
    Application,
    ApprovalStatus,
    Collateral,
    Inspection,
    Loan,
    LoanStatus,
    Restructuring,
)

bp = Blueprint("credit_file", __name__)

READERS = (*STAFF_READ, Role.COOPERATIVE)
ISSUERS = (Role.OFFICER, Role.ACCOUNTANT, Role.DIRECTOR, Role.BOARD)
EDITORS = (Role.DIRECTOR, Role.ADMIN)
# What a cooperative may open of its own file: not the fund's internal papers.
FOR_BORROWER = {
    "application", "decision", "contract", "collateral_contract",
    # addressed to the borrower, or signed by it
    "inspection", "restructuring_request", "restructuring_decision", "recall_notice",
    "closure", "collateral_release",
}  # fmt: skip
SUBJECT_LABELS = {
    "application": _l("Hồ sơ vay vốn"),
    "loan": _l("Khoản vay"),
    "collateral": _l("Tài sản bảo đảm"),
    "inspection": _l("Kiểm tra sử dụng vốn vay"),
    "restructuring": _l("Cơ cấu lại thời hạn trả nợ"),
}
SUBJECTS: dict[str, type] = {
    "application": Application,
    "loan": Loan,
    "collateral": Collateral,
    "inspection": Inspection,
    "restructuring": Restructuring,
}


def _loan_closed(subject: Any) -> bool:
    loan = db.session.get(Loan, subject.loan_id)
    return loan is not None and loan.status == LoanStatus.CLOSED


# When a document exists for its subject; a kind not listed exists from the start.
AVAILABLE: dict[str, Callable[[Any], bool]] = {
    "appraisal": lambda application: application.appraised_at is not None,
    "decision": lambda application: application.decided_at is not None,
    "restructuring_decision": lambda item: (
        item.status in (ApprovalStatus.APPROVED, ApprovalStatus.REJECTED)
    ),
    "recall_notice": lambda inspection: inspection.finding == "improper",  # misuse
    "closure": lambda loan: loan.status == LoanStatus.CLOSED,
    "collateral_release": _loan_closed,
}


def _cooperative_of(subject: Any) -> int | None:
    if isinstance(subject, Collateral | Inspection | Restructuring):  # through its loan
        loan = db.session.get(Loan, subject.loan_id)
        return loan.cooperative_id if loan is not None else None
    return getattr(subject, "cooperative_id", None)


def subject_for(user: Any, key: str, subject_id: int) -> tuple[credit_file.Kind, Any]:
    """The kind and its subject, if ``user`` may open it (anything else is "not found")."""
    spec = credit_file.get_kind(key)
    if spec is None or spec.subject not in SUBJECTS:
        abort(404)
    subject = db.session.get(SUBJECTS[spec.subject], subject_id)
    coop = _cooperative_of(subject) if subject is not None else None
    if subject is None or coop is None or not can_see_cooperative(user, coop):
        abort(404)
    if has_role(user, Role.COOPERATIVE) and key not in FOR_BORROWER:
        abort(404)
    if not available(spec, subject):
        abort(404)
    return spec, subject


def available(spec: credit_file.Kind, subject: Any) -> bool:
    """Whether the document exists yet for its subject (a decision once decided…)."""
    rule = AVAILABLE.get(spec.key)
    return rule is None or rule(subject)


def document_pdf(user: Any, key: str, subject_id: int) -> Response:
    """The document as the file stands (issued now if it changed), or, for a reader who
    does not issue, the last version issued."""
    _spec, subject = subject_for(user, key, subject_id)
    if has_role(user, *ISSUERS):
        try:
            document = credit_file.issue(user, key, subject)
            db.session.commit()
        except IntegrityError:  # the same version issued by a parallel request: take it
            db.session.rollback()
            document = credit_file.latest(key, subject_id)
        except DomainError:
            db.session.rollback()
            raise
    else:
        document = credit_file.latest(key, subject_id)
    if document is None:
        abort(404)
    return pdf_response(document.pdf, credit_file.filename(document))


def version_pdf(user: Any, key: str, subject_id: int, version: int) -> Response:
    subject_for(user, key, subject_id)
    document = credit_file.version_of(key, subject_id, version)
    if document is None:
        abort(404)
    return pdf_response(document.pdf, credit_file.filename(document))


def file_of(
    user: Any, subject_type: str, subject: Any, documents: list[FileDocument] | None = None
) -> list[dict[str, Any]]:
    """The documents of a subject for its page: each kind with its link and versions
    (``documents``: its issued versions, already read)."""
    issued: dict[str, list[FileDocument]] = {}
    if documents is None:
        documents = credit_file.history(subject_type, subject.id)
    for document in documents:
        issued.setdefault(document.kind, []).append(document)
    borrower = has_role(user, Role.COOPERATIVE)
    rows = []
    for spec in credit_file.kinds_of(subject_type):
        if (borrower and spec.key not in FOR_BORROWER) or not available(spec, subject):
            continue
        versions = issued.get(spec.key, [])
        if not versions and not has_role(user, *ISSUERS):
            continue
        rows.append(
            {
                "kind": spec.key,
                "title": spec.title,
                "url": url_for("credit_file.document", key=spec.key, subject_id=subject.id),
                "versions": [
                    {
                        "version": v.version,
                        "reference_no": v.reference_no,
                        "created_at": v.created_at,
                        "url": url_for(
                            "credit_file.version",
                            key=spec.key,
                            subject_id=subject.id,
                            version=v.version,
                        ),
                    }
                    for v in versions
                ],
            }
        )
    return rows


@bp.app_template_global("credit_file_of")
def credit_file_of(subject_type: str, subject: Any) -> list[dict[str, Any]]:
    return file_of(current_user, subject_type, subject)


@bp.app_template_global("loan_credit_file")
def loan_credit_file(
    loan: Loan, collateral: Any = None, inspections: Any = None, restructurings: Any = None
) -> list[dict[str, Any]]:
    """The loan's documents and those of its collaterals, inspections and restructurings
    (the rows the loan page already read; read here when not given), each titled with
    what it is about."""
    if collateral is None or inspections is None or restructurings is None:
        collateral, inspections, restructurings = (
            list(db.session.scalars(select(m).where(m.loan_id == loan.id).order_by(m.id)))
            for m in (Collateral, Inspection, Restructuring)
        )
    named = (
        ("collateral", collateral or (), lambda c: c.kind),
        ("inspection", inspections or (), lambda i: i.inspected_on.strftime("%d/%m/%Y")),
        ("restructuring", restructurings or (), lambda r: r.effective_date.strftime("%d/%m/%Y")),
    )
    issued = credit_file.histories(
        [("loan", loan.id)] + [(t, item.id) for t, items, _name in named for item in items]
    )
    rows = file_of(current_user, "loan", loan, issued.get(("loan", loan.id), []))
    for subject_type, items, name in named:
        for item in items:
            found = issued.get((subject_type, item.id), [])
            for row in file_of(current_user, subject_type, item, found):
                rows.append({**row, "title": f"{row['title']} — {name(item)}"})
    return rows


@bp.route("/file/<key>/<int:subject_id>.pdf")
@roles_required(*READERS)
def document(key: str, subject_id: int) -> Response:
    return document_pdf(current_user, key, subject_id)


@bp.route("/file/<key>/<int:subject_id>/v<int:version>.pdf")
@roles_required(*READERS)
def version(key: str, subject_id: int, version: int) -> Response:
    return version_pdf(current_user, key, subject_id, version)


# --- the wording -----------------------------------------------------------------------------


class TemplateForm(FlaskForm):
    body = TextAreaField(_l("Nội dung mẫu"), validators=[Length(max=credit_file.BODY_LIMIT)])
    note = StringField(_l("Nội dung thay đổi"), validators=[Length(max=1000)])


def sample_of(spec: credit_file.Kind) -> Any:
    """The newest subject of the kind, to check a new wording against real data."""
    model = SUBJECTS[spec.subject]
    query = select(model).order_by(model.id.desc()).limit(1)
    if spec.key == "decision":
        query = query.where(Application.decided_at.is_not(None))
    return db.session.scalar(query)


@bp.route("/admin/forms")
@roles_required(*EDITORS)
def forms() -> str:
    rows = [
        {
            "spec": spec,
            "current": credit_file.current_template(spec.key),
            "issued": credit_file.issued_count(spec.key),
        }
        for spec in credit_file.KINDS.values()
    ]
    db.session.commit()  # the defaults stored as version 1
    return render_template("credit_file/forms.html", rows=rows, subject_labels=SUBJECT_LABELS)


@bp.route("/admin/forms/<key>", methods=["GET", "POST"])
@roles_required(*EDITORS)
def form(key: str) -> Any:
    spec = credit_file.get_kind(key)
    if spec is None:
        abort(404)
    versions = credit_file.versions(key)
    chosen = request.args.get("v", type=int)
    shown = next((v for v in versions if v.version == chosen), versions[0])
    edit = TemplateForm(body=versions[0].body if request.method == "GET" else None)
    if edit.validate_on_submit():
        try:
            saved = credit_file.save_template(
                current_user, key, edit.body.data, edit.note.data, sample_of(spec)
            )
        except DomainError as exc:
            db.session.rollback()
            for name, message in getattr(exc, "fields", {}).items():
                getattr(edit, name).errors = [message]
            flash(str(exc), "error")
        else:
            db.session.commit()
            flash(_("Đã lưu phiên bản %(v)s của mẫu.", v=saved.version), "success")
            return redirect(url_for("credit_file.form", key=key))
    else:
        db.session.commit()
    return render_template(
        "credit_file/form.html", spec=spec, versions=versions, shown=shown, form=edit
    )
