"""A notice as a PDF: the same document on the notice page and attached to its e-mail.

Below the web layer so that the e-mail sender (fundapp/notices/delivery.py) can attach it
without importing a view.
"""

from __future__ import annotations

from fundapp.documents import builders
from fundapp.documents.labels import labels
from fundapp.documents.pdf import render_pdf
from fundapp.loans.days import Notice


def render_notice(notice: Notice) -> bytes:
    """The notice's PDF (also attached to its e-mail)."""
    document = builders.notice_document(notice)
    return render_pdf("documents/notice.html", d=document, labels=labels())


def notice_filename(notice: Notice) -> str:
    return f"thong-bao-{notice.kind.replace('_', '-')}-{notice.id}.pdf"
