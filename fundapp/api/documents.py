"""Document endpoints of the API: /loans/{id}/statement.pdf and the other PDFs.

The same documents, roles and object rules as the pages (fundapp/web/documents.py); a
bad period or year answers 422 with the JSON error body, another cooperative's id 404.
"""

from __future__ import annotations

from flask import Response

from fundapp.api import bp, shapes
from fundapp.api.common import api_roles, check_id, current_api_user
from fundapp.api.spec import PDF, operation, read_query
from fundapp.web import documents
from fundapp.web.documents import READERS


@bp.route("/loans/<int:loan_id>/statement.pdf", methods=["GET"])
@api_roles(*READERS)
@operation(query=shapes.StatementQuery, returns=bytes, content=PDF)
def loan_statement_pdf(loan_id: int) -> Response:
    """The loan's statement (sao kê) for a period.

    Every movement from `from` to `to` with the balances it left; by default from the first
    disbursement to the business date."""
    args = read_query(shapes.StatementQuery)
    return documents.statement_pdf(current_api_user(), check_id(loan_id), args)


@bp.route("/loans/<int:loan_id>/schedule.pdf", methods=["GET"])
@api_roles(*READERS)
@operation(returns=bytes, content=PDF)
def loan_schedule_pdf(loan_id: int) -> Response:
    """The loan's repayment schedule (lịch trả nợ) with what has been paid."""
    return documents.schedule_pdf(current_api_user(), check_id(loan_id))


@bp.route("/repayments/<int:repayment_id>/receipt.pdf", methods=["GET"])
@api_roles(*READERS)
@operation(returns=bytes, content=PDF)
def repayment_receipt_pdf(repayment_id: int) -> Response:
    """A repayment's receipt (phiếu thu) with its allocation."""
    return documents.receipt_pdf(current_api_user(), check_id(repayment_id))


@bp.route("/disbursements/<int:disbursement_id>/debt-receipt.pdf", methods=["GET"])
@api_roles(*READERS)
@operation(returns=bytes, content=PDF)
def disbursement_debt_receipt_pdf(disbursement_id: int) -> Response:
    """A disbursement's debt receipt (khế ước nhận nợ)."""
    return documents.debt_receipt_pdf(current_api_user(), check_id(disbursement_id))


@bp.route("/notices/<int:notice_id>.pdf", methods=["GET"])
@api_roles()
@operation(returns=bytes, content=PDF)
def notice_pdf(notice_id: int) -> Response:
    """A notice (due soon, overdue transfer, debt group change) as sent.

    Its recipients and the staff who supervise notices may read it."""
    return documents.notice_pdf(current_api_user(), check_id(notice_id))


@bp.route("/cooperatives/<int:coop_id>/debt-confirmation.pdf", methods=["GET"])
@api_roles(*READERS)
@operation(query=shapes.ConfirmationQuery, returns=bytes, content=PDF)
def cooperative_debt_confirmation_pdf(coop_id: int) -> Response:
    """The year-end debt confirmation (biên bản đối chiếu công nợ) of a cooperative.

    As of 31 December of `year`, a year already ended (default: last year)."""
    args = read_query(shapes.ConfirmationQuery)
    return documents.confirmation_pdf(current_api_user(), check_id(coop_id), args)
