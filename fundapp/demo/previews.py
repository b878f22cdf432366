"""``flask documents previews``: one of each loan document and each report from the current
database, as PDF and as a PNG of its first page, to look at the layout and the diacritics.

It sits with the demo, above documents and reports, because it prints both (documents
below it, reports rendered with the documents' PDF engine); the documents blueprint
registers it under ``flask documents``."""

from __future__ import annotations

import shutil
import subprocess
from datetime import date
from pathlib import Path

import click
from flask.cli import with_appcontext
from sqlalchemy import exists, select

from fundapp.core.dates import business_date
from fundapp.documents import builders
from fundapp.documents.labels import labels
from fundapp.documents.notice_pdf import render_notice
from fundapp.documents.pdf import render_pdf
from fundapp.documents.statement import build_statement, default_start
from fundapp.extensions import db
from fundapp.loans.days import Notice
from fundapp.loans.models import (
    Disbursement,
    DisbursementStatus,
    Instalment,
    Loan,
    LoanStatus,
    Repayment,
)
from fundapp.reports.catalogue import REPORTS, pdf_bytes


def _sample_loan() -> Loan | None:
    """An active loan with a repayment and something overdue, or any loan with a repayment."""
    paid = exists().where(Repayment.loan_id == Loan.id, Repayment.reversed.is_(False))
    overdue = exists().where(
        Instalment.loan_id == Loan.id,
        Instalment.due_date < business_date(),
        Instalment.principal_paid < Instalment.principal,
    )
    query = select(Loan).where(Loan.status == LoanStatus.ACTIVE, paid)
    return db.session.scalar(query.where(overdue).order_by(Loan.id).limit(1)) or db.session.scalar(
        query.order_by(Loan.id).limit(1)
    )


def _documents(loan: Loan) -> dict[str, bytes]:
    today = business_date()
    out: dict[str, bytes] = {}
    statement = build_statement(loan, default_start(loan), today)
    out["statement"] = render_pdf(
        "documents/statement.html", s=statement, landscape=True, labels=labels()
    )
    out["schedule"] = render_pdf(
        "documents/schedule.html", d=builders.schedule_document(loan, today), labels=labels()
    )
    repayment = db.session.scalar(
        select(Repayment)
        .where(Repayment.loan_id == loan.id, Repayment.reversed.is_(False))
        .order_by(Repayment.value_date.desc(), Repayment.id.desc())
        .limit(1)
    )
    if repayment is not None:
        out["receipt"] = render_pdf(
            "documents/receipt.html", d=builders.receipt_document(repayment), labels=labels()
        )
    tranche = db.session.scalar(
        select(Disbursement)
        .where(Disbursement.loan_id == loan.id, Disbursement.status == DisbursementStatus.POSTED)
        .order_by(Disbursement.value_date, Disbursement.id)
        .limit(1)
    )
    if tranche is not None:
        out["debt-receipt"] = render_pdf(
            "documents/debt_receipt.html",
            d=builders.debt_receipt_document(tranche),
            labels=labels(),
        )
    for kind in ("overdue_transfer", "due_soon"):
        notice = db.session.scalar(
            select(Notice)
            .where(Notice.kind == kind, Notice.cooperative_id.is_not(None))
            .order_by(Notice.id)
            .limit(1)
        )
        if notice is not None:
            out[f"notice-{kind.replace('_', '-')}"] = render_notice(notice)
    year = builders.confirmation_year(None, today)
    out["debt-confirmation"] = render_pdf(
        "documents/debt_confirmation.html",
        d=builders.confirmation_document(loan.cooperative, year),
        labels=labels(),
    )
    return out


def _reports(today: date) -> dict[str, bytes]:
    """Each report of the fund with its default filters, as of ``today``."""
    return {
        f"report-{slug}": pdf_bytes(spec, spec.build({}, today)) for slug, spec in REPORTS.items()
    }


@click.command("previews")
@with_appcontext
@click.option(
    "--out",
    "out_dir",
    default="instance/previews",
    show_default=True,
    type=click.Path(file_okay=False, path_type=Path),
)
def previews(out_dir: Path) -> None:
    """Write each loan document and each report as PDF, and its first page as PNG
    (pdftoppm, 60 dpi)."""
    loan = _sample_loan()
    if loan is None:
        raise click.ClickException("no loan with a repayment: run `flask demo seed` first")
    out_dir.mkdir(parents=True, exist_ok=True)
    pdftoppm = shutil.which("pdftoppm")
    for name, data in {**_documents(loan), **_reports(business_date())}.items():
        path = out_dir / f"{name}.pdf"
        path.write_bytes(data)
        if pdftoppm:
            first_page = ["-png", "-r", "60", "-f", "1", "-l", "1"]
            subprocess.run([pdftoppm, *first_page, str(path), str(out_dir / name)], check=True)  # noqa: S603
        click.echo(f"{path} ({len(data)} bytes)")
    if not pdftoppm:
        click.echo("pdftoppm not found (poppler-utils): PDFs only")
