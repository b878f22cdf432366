"""Document endpoints of the API: /loans/{id}/statement.pdf and the other PDFs.

The same documents, roles and object rules as the pages (fundapp/documents/routes.py); a
bad period or year answers 422 with the JSON error body, another cooperative's id 404.
"""

from __future__ import annotations

from flask import Response, request

from fundapp.api import bp
from fundapp.api.common import api_roles, current_api_user
from fundapp.documents import routes as documents
from fundapp.documents.routes import READERS


@bp.route("/loans/<int:loan_id>/statement.pdf", methods=["GET"])
@api_roles(*READERS)
def loan_statement_pdf(loan_id: int) -> Response:
    return documents.statement_pdf(current_api_user(), loan_id, request.args)


@bp.route("/loans/<int:loan_id>/schedule.pdf", methods=["GET"])
@api_roles(*READERS)
def loan_schedule_pdf(loan_id: int) -> Response:
    return documents.schedule_pdf(current_api_user(), loan_id)


@bp.route("/repayments/<int:repayment_id>/receipt.pdf", methods=["GET"])
@api_roles(*READERS)
def repayment_receipt_pdf(repayment_id: int) -> Response:
    return documents.receipt_pdf(current_api_user(), repayment_id)


@bp.route("/disbursements/<int:disbursement_id>/debt-receipt.pdf", methods=["GET"])
@api_roles(*READERS)
def disbursement_debt_receipt_pdf(disbursement_id: int) -> Response:
    return documents.debt_receipt_pdf(current_api_user(), disbursement_id)


@bp.route("/notices/<int:notice_id>.pdf", methods=["GET"])
@api_roles()
def notice_pdf(notice_id: int) -> Response:
    return documents.notice_pdf(current_api_user(), notice_id)


@bp.route("/cooperatives/<int:coop_id>/debt-confirmation.pdf", methods=["GET"])
@api_roles(*READERS)
def cooperative_debt_confirmation_pdf(coop_id: int) -> Response:
    return documents.confirmation_pdf(current_api_user(), coop_id, request.args)
