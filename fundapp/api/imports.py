"""API v1: importing the fund's existing loans from the spreadsheet template.

``GET /imports/loans/template.xlsx`` and ``.csv`` give the template; ``POST
/imports/loans`` takes the filled-in file (multipart field ``file``), checks it whole and,
with ``dry_run=false``, imports it in one transaction. A refused file answers 422 with one
message per bad row in ``error.rows``; nothing is written.
"""

from __future__ import annotations

from typing import Annotated, Any

from flask import current_app, jsonify, request
from flask_babel import gettext as _
from pydantic import Field

from fundapp.api import bp
from fundapp.api.common import api_roles, current_api_user, idempotent
from fundapp.api.spec import CSV, XLSX, TypedDict, operation, read_query
from fundapp.core.dates import business_date
from fundapp.core.security import Role
from fundapp.domain.errors import ValidationFailed
from fundapp.extensions import db
from fundapp.imports import services
from fundapp.lending.uploads import clean_name
from fundapp.web.imports import READERS, template_download

_ZIP_MAGIC = b"PK\x03\x04"


class ImportQuery(TypedDict, total=False):
    dry_run: Annotated[
        bool,
        Field(description="true (the default): check the whole file, write nothing; false: import"),
    ]
    origin: Annotated[
        str,
        Field(
            max_length=20,
            pattern=r"^[A-Za-z0-9_-]*$",
            description="The origin fund whose book the file is (GET /funds); default this "
            "fund. Contract numbers need only be unique within that fund's book.",
        ),
    ]


class TemplateQuery(TypedDict, total=False):
    loans: Annotated[bool, Field(description="true: the fund's active loans filled in")]


class ImportUpload(TypedDict):
    file: Annotated[bytes, Field(description="The filled-in template, .xlsx or .csv (UTF-8)")]


class ImportRow(TypedDict):
    line: int
    contract_no: str
    cooperative: str
    ok: bool
    message: Annotated[str, Field(description='"Dòng N: …" with every reason, or empty')]
    reasons: list[str]
    warnings: list[str]
    principal_outstanding: int | None
    status: str | None


class ImportResult(TypedDict):
    file_name: str
    dry_run: bool
    imported: bool
    ok: bool
    message: str
    loans: int
    bad_rows: int
    cooperatives_created: int
    principal_outstanding: Annotated[int, Field(description="Whole đồng, of the loans")]
    origin_fund: Annotated[str, Field(description="The origin fund's code")]
    rows: list[ImportRow]


@bp.route("/imports/loans/template.xlsx", methods=["GET"])
@api_roles(*READERS)
@operation(query=TemplateQuery, returns=bytes, content=XLSX)
def loan_import_template_xlsx() -> Any:
    """The loan import template as Excel, with a help sheet explaining each column.

    With ``loans=true`` the fund's active loans are written in it: the loan book in the
    import format."""
    return template_download("xlsx", read_query(TemplateQuery).get("loans", False))


@bp.route("/imports/loans/template.csv", methods=["GET"])
@api_roles(*READERS)
@operation(query=TemplateQuery, returns=bytes, content=CSV)
def loan_import_template_csv() -> Any:
    """The loan import template as CSV (UTF-8 with a byte-order mark, comma separated).

    With ``loans=true`` the fund's active loans are written in it."""
    return template_download("csv", read_query(TemplateQuery).get("loans", False))


@bp.route("/imports/loans", methods=["POST"])
@api_roles(Role.ACCOUNTANT)
@operation(query=ImportQuery, form=ImportUpload, returns=ImportResult)
def import_loans() -> Any:
    """Check, then import, a file of existing loans (multipart field ``file``).

    Every row is checked and the whole file is run through the lending services (contracts,
    disbursements on their dates, past repayments on their value dates, journal entries),
    then rolled back when ``dry_run`` is true or any row is refused. With
    ``dry_run=false`` and no error, the loans are written in one transaction; the
    ``Idempotency-Key`` header then makes a repeated request return the first answer. A
    refused file answers 422, with one message per bad row in ``error.rows``.
    """
    args = read_query(ImportQuery)
    if args.get("dry_run", True):
        return _answer(*_check_file(write=False, origin=args.get("origin")))
    return _import_once()


# The key is honoured on the import itself: a dry run writes nothing to repeat.
import_loans.idempotent = True  # type: ignore[attr-defined]


@idempotent
def _import_once() -> Any:
    report, status = _check_file(write=True, origin=read_query(ImportQuery).get("origin"))
    return _answer(report, status)


def _check_file(write: bool, origin: str | None = None) -> tuple[services.ImportReport, int]:
    data, name = _upload()
    run = services.import_loans if write else services.dry_run
    limit = int(current_app.config["UPLOAD_MAX_BYTES"])
    report = run(current_api_user(), data, name, business_date(), limit, origin=origin)
    if not report.imported:
        db.session.rollback()
    return report, 200 if report.ok else 422


def _upload() -> tuple[bytes, str]:
    storage = request.files.get("file")
    if storage is None:
        message = _("Gửi tệp trong trường file của biểu mẫu multipart/form-data.")
        raise ValidationFailed(message, {"file": message})
    data = storage.stream.read(int(current_app.config["UPLOAD_MAX_BYTES"]) + 1)
    name = clean_name(storage.filename)
    if not name.lower().endswith((".xlsx", ".csv")):
        # A client may send the file without a name: its content says which it is.
        name = "upload.xlsx" if data.startswith(_ZIP_MAGIC) else "upload.csv"
    return data, name


def _answer(report: services.ImportReport, status: int) -> Any:
    if status == 200:
        return jsonify(report.to_dict()), 200
    rows = [
        {
            "line": r.line,
            "contract_no": r.contract_no,
            "cooperative": r.cooperative,
            "message": r.message,
            "reasons": list(r.reasons),
        }
        for r in report.bad_rows
    ]
    body = {
        "error": {
            "code": "import_refused",
            "message": report.summary,
            "fields": {"file": report.error or report.summary},
            "rows": rows,
        }
    }
    return jsonify(body), status
