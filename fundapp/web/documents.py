"""Printable documents: WeasyPrint PDFs of loans, receipts, notices and confirmations.

Each document is one function from (user, object id, query arguments) to a PDF response,
shared by these pages and by the API (fundapp/api/documents.py): staff with read access
see every object; a cooperative user only its own cooperative's, anything else is "not
found" so ids cannot be probed.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date
from typing import Any

from flask import Blueprint, Response, abort, url_for
from flask import request as flask_request
from flask_babel import get_locale
from flask_login import current_user, login_required
from sqlalchemy import select

from fundapp.cooperatives.models import Cooperative
from fundapp.core.dates import business_date
from fundapp.core.security import STAFF_READ, Role, can_see_cooperative, roles_required
from fundapp.demo.previews import previews
from fundapp.documents import builders
from fundapp.documents.labels import labels
from fundapp.documents.notice_pdf import notice_filename, render_notice
from fundapp.documents.pdf import css_string, pdf_response, render_pdf
from fundapp.documents.statement import build_statement, parse_period
from fundapp.extensions import db
from fundapp.loans.days import Notice
from fundapp.loans.models import Disbursement, Loan, Repayment
from fundapp.notices.services import notices_query

bp = Blueprint("documents", __name__, cli_group="documents")
bp.add_app_template_filter(css_string, "css_string")
bp.cli.add_command(previews)  # `flask documents previews`

READERS = (*STAFF_READ, Role.COOPERATIVE)


@bp.app_template_filter("figure")
def amount_filter(value: int | None) -> str:
    """A whole number of đồng without the unit, for the dense tables of the legal papers
    (schedule, statement, debt receipt, confirmation), which say "Đơn vị: đồng" under the
    table. Named ``figure``: the ``amount`` filter is the reports' (with the currency)."""
    if value is None:
        return ""
    grouped = f"{int(value):,}"
    return grouped.replace(",", ".") if str(get_locale() or "vi").startswith("vi") else grouped


@bp.app_template_global("loan_document_links")
def loan_document_links(cooperative_id: int) -> list[dict[str, Any]]:
    """The cooperative's disbursed loans with their statement and schedule links."""
    return [
        {
            "contract_no": contract_no,
            "project_name": project_name,
            "statement_url": url_for("documents.statement", loan_id=loan_id),
            "schedule_url": url_for("documents.schedule", loan_id=loan_id),
        }
        for loan_id, contract_no, project_name in db.session.execute(
            select(Loan.id, Loan.contract_no, Loan.project_name)
            .where(Loan.cooperative_id == cooperative_id, Loan.disbursed > 0)
            .order_by(Loan.id)
        )
    ]


# --- objects, with the cooperative's own-data rule ------------------------------------------


def _visible(user: Any, obj: Any, cooperative_id: int | None) -> Any:
    if obj is None or cooperative_id is None or not can_see_cooperative(user, cooperative_id):
        abort(404)
    return obj


def loan_for(user: Any, loan_id: int) -> Loan:
    loan = db.session.get(Loan, loan_id)
    return _visible(user, loan, loan.cooperative_id if loan else None)


def repayment_for(user: Any, repayment_id: int) -> Repayment:
    repayment = db.session.get(Repayment, repayment_id)
    return _visible(user, repayment, repayment.loan.cooperative_id if repayment else None)


def disbursement_for(user: Any, disbursement_id: int) -> Disbursement:
    item = db.session.get(Disbursement, disbursement_id)
    return _visible(user, item, item.loan.cooperative_id if item else None)


def cooperative_for(user: Any, coop_id: int) -> Cooperative:
    coop = db.session.get(Cooperative, coop_id)
    return _visible(user, coop, coop.id if coop else None)


def notice_for(user: Any, notice_id: int) -> Notice:
    """A notice its reader may see in the notice list (supervisors: every notice)."""
    notice = db.session.scalar(
        notices_query(user, supervise=True).where(Notice.id == notice_id).limit(1)
    )
    if notice is None:
        abort(404)
    return notice


# --- the documents ---------------------------------------------------------------------------


def statement_pdf(user: Any, loan_id: int, args: Mapping[str, str]) -> Response:
    loan = loan_for(user, loan_id)
    start, end = parse_period(dict(args), loan, business_date())
    statement = build_statement(loan, start, end)
    data = render_pdf("documents/statement.html", s=statement, landscape=True, labels=labels())
    return pdf_response(data, f"sao-ke-{loan.contract_no}-{start:%Y%m%d}-{end:%Y%m%d}.pdf")


def schedule_pdf(user: Any, loan_id: int) -> Response:
    loan = loan_for(user, loan_id)
    document = builders.schedule_document(loan, business_date())
    data = render_pdf("documents/schedule.html", d=document, labels=labels())
    return pdf_response(data, f"lich-tra-no-{loan.contract_no}.pdf")


def receipt_pdf(user: Any, repayment_id: int) -> Response:
    repayment = repayment_for(user, repayment_id)
    document = builders.receipt_document(repayment)
    data = render_pdf("documents/receipt.html", d=document, labels=labels())
    return pdf_response(data, f"phieu-thu-{repayment.receipt_no}.pdf")


def debt_receipt_pdf(user: Any, disbursement_id: int) -> Response:
    disbursement = disbursement_for(user, disbursement_id)
    document = builders.debt_receipt_document(disbursement)
    data = render_pdf("documents/debt_receipt.html", d=document, labels=labels())
    return pdf_response(data, f"khe-uoc-{disbursement.receipt_no}.pdf")


def notice_pdf(user: Any, notice_id: int) -> Response:
    notice = notice_for(user, notice_id)
    return pdf_response(render_notice(notice), notice_filename(notice))


def confirmation_pdf(user: Any, coop_id: int, args: Mapping[str, str]) -> Response:
    coop = cooperative_for(user, coop_id)
    year = builders.confirmation_year(args.get("year"), business_date())
    document = builders.confirmation_document(coop, year)
    data = render_pdf("documents/debt_confirmation.html", d=document, labels=labels())
    return pdf_response(data, f"doi-chieu-cong-no-{coop.id}-{year}.pdf")


# --- pages -----------------------------------------------------------------------------------


@bp.route("/loans/<int:loan_id>/statement.pdf")
@roles_required(*READERS)
def statement(loan_id: int) -> Response:
    return statement_pdf(current_user, loan_id, flask_request.args)


@bp.route("/loans/<int:loan_id>/schedule.pdf")
@roles_required(*READERS)
def schedule(loan_id: int) -> Response:
    return schedule_pdf(current_user, loan_id)


@bp.route("/repayments/<int:repayment_id>/receipt.pdf")
@roles_required(*READERS)
def receipt(repayment_id: int) -> Response:
    return receipt_pdf(current_user, repayment_id)


@bp.route("/disbursements/<int:disbursement_id>/debt-receipt.pdf")
@roles_required(*READERS)
def debt_receipt(disbursement_id: int) -> Response:
    return debt_receipt_pdf(current_user, disbursement_id)


@bp.route("/notices/<int:notice_id>.pdf")
@login_required
def notice(notice_id: int) -> Response:
    return notice_pdf(current_user, notice_id)


@bp.route("/cooperatives/<int:coop_id>/debt-confirmation.pdf")
@roles_required(*READERS)
def debt_confirmation(coop_id: int) -> Response:
    return confirmation_pdf(current_user, coop_id, flask_request.args)


def confirmation_years(today: date) -> list[int]:
    """Years whose 31/12 has passed, newest first (the cooperative page's selector)."""
    last = today.year if today >= date(today.year, 12, 31) else today.year - 1
    return list(range(last, max(last - 10, 1999), -1))


bp.add_app_template_global(confirmation_years, "confirmation_years")
