"""The credit file's stored forms and the documents issued from them.

``FormTemplate``: the wording of one kind of document (application form, credit contract…)
as the fund adjusts it, one row per version; the newest is in force. ``FileDocument``: one
issued version of a document of the file, with the data it was made from and its PDF, kept
when a later version replaces it (``documents.credit_file``).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, CheckConstraint, ForeignKey, LargeBinary, String, Text
from sqlalchemy import UniqueConstraint as Unique
from sqlalchemy.orm import Mapped, mapped_column, relationship

from fundapp.core.db import UTCDateTime
from fundapp.domain.dates import utcnow
from fundapp.extensions import db


class FormTemplate(db.Model):
    """Version ``version`` of the wording of documents of ``kind``."""

    __tablename__ = "form_templates"
    __table_args__ = (
        Unique("kind", "version", name="kind_version"),
        CheckConstraint("version > 0", name="version_positive"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(40), index=True)
    version: Mapped[int]
    body: Mapped[str] = mapped_column(Text)
    note: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))

    created_by = relationship("User", lazy="joined")


class FileDocument(db.Model):
    """Version ``version`` of the document ``kind`` of one subject (an application, a loan,
    a collateral, an inspection, a restructuring). Its reference number stays with the
    document from version to version; ``data_hash`` is the digest of the data and the
    template it was made from, so the same facts give back the same version."""

    __tablename__ = "file_documents"
    __table_args__ = (
        Unique("kind", "subject_type", "subject_id", "version", name="subject_version"),
        CheckConstraint("version > 0", name="version_positive"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(40))
    subject_type: Mapped[str] = mapped_column(String(20))
    subject_id: Mapped[int] = mapped_column(index=True)
    version: Mapped[int]
    reference_no: Mapped[str] = mapped_column(String(60))
    template_id: Mapped[int] = mapped_column(
        ForeignKey("form_templates.id", ondelete="RESTRICT"), index=True
    )
    # Read only when asked for: a list of the versions does not load the PDFs.
    data: Mapped[dict[str, Any]] = mapped_column(JSON, deferred=True)
    data_hash: Mapped[str] = mapped_column(String(64))
    pdf: Mapped[bytes] = mapped_column(LargeBinary, deferred=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))

    template: Mapped[FormTemplate] = relationship(lazy="joined")
    created_by = relationship("User", lazy="joined")
