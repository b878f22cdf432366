"""A notice as a PDF: the same document on the notice page and attached to its e-mail.

Below the web layer so that the e-mail sender (fundapp/notices/delivery.py) can attach it
without importing a view.
"""

from __future__ import annotations

from fundapp.documents import builders
from fundapp.documents.labels import labels
from fundapp.documents.payment_qr import notice_qr
from fundapp.documents.pdf import render_pdf
from fundapp.loans.days import Notice
from fundapp.payments.vietqr import PaymentQR


def render_notice(notice: Notice) -> bytes:
    """The notice's PDF (also attached to its e-mail)."""
    document = builders.notice_document(notice)
    return render_pdf("documents/notice.html", d=document, qr=qr_of(document), labels=labels())


def qr_of(document: builders.NoticeDocument) -> PaymentQR | None:
    """The VietQR code of a due-soon or overdue notice: its instalment's amount, or on an
    overdue notice what the loan owed on the notice's date."""
    if document.loan is None:
        return None
    return notice_qr(
        document.kind,
        document.loan.contract_no,
        document.no,
        document.total,
        document.overdue_principal + document.unpaid_interest,
        document.position.total_due if document.position is not None else None,
    )


def notice_filename(notice: Notice) -> str:
    return f"thong-bao-{notice.kind.replace('_', '-')}-{notice.id}.pdf"
