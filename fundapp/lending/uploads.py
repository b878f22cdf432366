"""Application documents: checked by extension and content, stored outside ``static/``.

A file is kept under a random name in ``UPLOAD_FOLDER``; the user's own file name is only
shown (sanitised) and offered back as the download name. Staff pages and the cooperative
portal share these functions.
"""

from __future__ import annotations

import contextlib
import os
import re
import secrets
import unicodedata
from pathlib import Path
from typing import Any

from flask import Response, abort, current_app, send_file
from flask_babel import gettext as _
from sqlalchemy import func, select
from werkzeug.datastructures import FileStorage

from fundapp import audit
from fundapp.cooperatives.models import Cooperative
from fundapp.core.security import Role, has_role
from fundapp.domain.errors import PermissionDenied, ValidationFailed
from fundapp.extensions import db
from fundapp.loans.models import Application, ApplicationDocument, ApplicationStatus

_PDF = (b"%PDF-",)
_PNG = (b"\x89PNG\r\n\x1a\n",)
_JPEG = (b"\xff\xd8\xff",)
_ZIP = (b"PK\x03\x04",)  # OOXML (docx, xlsx) and ODF (odt, ods) are zip containers
_OLE = (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1",)  # legacy Word / Excel

# extension → (content type we serve it with, accepted leading bytes)
ALLOWED: dict[str, tuple[str, tuple[bytes, ...]]] = {
    ".pdf": ("application/pdf", _PDF),
    ".png": ("image/png", _PNG),
    ".jpg": ("image/jpeg", _JPEG),
    ".jpeg": ("image/jpeg", _JPEG),
    ".doc": ("application/msword", _OLE),
    ".xls": ("application/vnd.ms-excel", _OLE),
    ".docx": (
        "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
        _ZIP,
    ),
    ".xlsx": ("application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", _ZIP),
    ".odt": ("application/vnd.oasis.opendocument.text", _ZIP),
    ".ods": ("application/vnd.oasis.opendocument.spreadsheet", _ZIP),
}
ALLOWED_LABEL = "PDF, JPEG, PNG, DOC/DOCX, XLS/XLSX, ODT/ODS"
ACCEPT = ",".join(ALLOWED)  # for <input type=file accept=…>

_STORED = re.compile(r"^[0-9a-f]{32}\.[a-z]{3,4}$")
_UNSAFE = re.compile(r'[<>:"/\\|?*\x00-\x1f\x7f]')
_CHUNK = 64 * 1024

# A cooperative may add papers until the fund has appraised its application.
_COOPERATIVE_STATUSES = (ApplicationStatus.DRAFT, ApplicationStatus.SUBMITTED)
_CLOSED_STATUSES = (ApplicationStatus.REJECTED, ApplicationStatus.WITHDRAWN)


def clean_name(raw: str | None) -> str:
    """The last path part of the user's file name, without control or path characters,
    at most 255 characters with its extension kept (only ever displayed)."""
    name = unicodedata.normalize("NFC", str(raw or "")).replace("\\", "/").rsplit("/", 1)[-1]
    name = _UNSAFE.sub("_", name).strip().lstrip(".").strip()
    if len(name) > 255:
        stem, dot, ext = name.rpartition(".")
        name = (stem[: 254 - len(ext)] + dot + ext) if dot and len(ext) <= 10 else name[:255]
    return name


def _extension(name: str) -> str:
    suffix = Path(name).suffix.lower()
    return ".jpg" if suffix == ".jpe" else suffix


def _refuse(message: str) -> ValidationFailed:
    # No field message as well: the page would show the same sentence twice.
    return ValidationFailed(message)


def _read_limited(file_storage: FileStorage, limit: int) -> bytes:
    """The whole upload, or a refusal as soon as it passes ``limit`` bytes."""
    chunks: list[bytes] = []
    size = 0
    stream = file_storage.stream
    while True:
        chunk = stream.read(_CHUNK)
        if not chunk:
            break
        size += len(chunk)
        if size > limit:
            raise _refuse(_("Tệp quá lớn: tối đa %(n)s.", n=size_label(limit)))
        chunks.append(chunk)
    return b"".join(chunks)


def size_label(size: int) -> str:
    """``10 MB``, ``1,5 MB`` or ``512 KB``: for messages and the upload hint."""
    mb = 1024 * 1024
    if size <= 0:
        return "0 KB"
    if size >= mb:
        text = f"{size / mb:.1f}".removesuffix(".0").replace(".", ",")
        return f"{text} MB"
    return f"{max(1, -(-size // 1024))} KB"


def check_can_upload(app: Application, actor: Any) -> None:
    if has_role(actor, Role.OFFICER):
        if app.status in _CLOSED_STATUSES:
            raise _refuse(_("Hồ sơ đã đóng; không bổ sung tài liệu được nữa."))
        return
    if has_role(actor, Role.COOPERATIVE) and actor.cooperative_id == app.cooperative_id:
        if app.status not in _COOPERATIVE_STATUSES:
            raise _refuse(_("Hồ sơ đã được thẩm định; xin liên hệ cán bộ tín dụng để bổ sung."))
        return
    raise PermissionDenied(_("Bạn không có quyền thực hiện thao tác này."))


def save_document(
    app: Application, file_storage: FileStorage | None, actor: Any
) -> ApplicationDocument:
    """Check, store and register one document; raises ``ValidationFailed`` (nothing saved)
    when the type, content or size is not acceptable. Flushes, never commits."""
    check_can_upload(app, actor)
    if file_storage is None or not file_storage.filename:
        raise _refuse(_("Chọn tệp cần tải lên."))
    original = clean_name(file_storage.filename)
    ext = _extension(original)
    if ext not in ALLOWED or not Path(original).stem.strip():
        raise _refuse(
            _(
                "Không nhận tệp «%(name)s»: chỉ nhận %(types)s.",
                name=original[:80] or "?",
                types=ALLOWED_LABEL,
            )
        )
    content_type, magics = ALLOWED[ext]
    data = _read_limited(file_storage, int(current_app.config["UPLOAD_MAX_BYTES"]))
    if not data:
        raise _refuse(_("Tệp «%(name)s» rỗng.", name=original[:80]))
    if not data.startswith(magics):
        raise _refuse(
            _(
                "Nội dung tệp «%(name)s» không phải là %(kind)s như phần mở rộng của tên tệp.",
                name=original[:80],
                kind=ext[1:].upper(),
            )
        )
    check_quota(app, original, len(data))
    folder = Path(current_app.config["UPLOAD_FOLDER"])
    stored_name = secrets.token_hex(16) + ext
    doc = ApplicationDocument(
        application_id=app.id,
        original_name=original,
        stored_name=stored_name,
        content_type=content_type,
        size=len(data),
        uploaded_by_id=getattr(actor, "id", None),
    )
    db.session.add(doc)
    db.session.flush()
    _write(folder, stored_name, data)
    audit.record(
        actor,
        "application.document_upload",
        "application",
        app.id,
        None,
        {
            "document_id": doc.id,
            "name": original,
            "stored_name": stored_name,
            "content_type": content_type,
            "size": len(data),
        },
    )
    return doc


def _lock_cooperative(cooperative_id: int) -> None:
    """Hold the cooperative's row to the end of the transaction: uploads to any of its
    applications then count and add one after another, never two on the same count
    (``FOR NO KEY UPDATE`` on PostgreSQL, which still lets other rows point at it; on SQLite
    each transaction runs alone, see ``core.db``)."""
    db.session.execute(
        select(Cooperative.id)
        .where(Cooperative.id == cooperative_id)
        .with_for_update(key_share=True)
    )


def check_quota(app: Application, name: str, size: int) -> None:
    """The quotas of ``UPLOAD_MAX_FILES_PER_APPLICATION`` documents per application and
    ``UPLOAD_MAX_BYTES_PER_COOPERATIVE`` bytes per cooperative (every application of it,
    whoever uploaded); counted under the cooperative's lock, this request's own documents
    included."""
    _lock_cooperative(app.cooperative_id)
    max_files = int(current_app.config["UPLOAD_MAX_FILES_PER_APPLICATION"])
    files = db.session.scalar(
        select(func.count(ApplicationDocument.id)).where(
            ApplicationDocument.application_id == app.id
        )
    )
    if (files or 0) >= max_files:
        raise _refuse(
            _(
                "Không nhận thêm «%(name)s»: hồ sơ đã có %(n)s tệp, tối đa %(max)s tệp mỗi hồ sơ.",
                name=name[:80],
                n=files,
                max=max_files,
            )
        )
    max_bytes = int(current_app.config["UPLOAD_MAX_BYTES_PER_COOPERATIVE"])
    used = int(
        db.session.scalar(
            select(func.coalesce(func.sum(ApplicationDocument.size), 0))
            .join(Application, Application.id == ApplicationDocument.application_id)
            .where(Application.cooperative_id == app.cooperative_id)
        )
        or 0
    )
    if used + size > max_bytes:
        raise _refuse(
            _(
                "Không nhận «%(name)s» (%(size)s): tài liệu của hợp tác xã đã dùng %(used)s "
                "trên hạn mức %(max)s, còn lại %(left)s.",
                name=name[:80],
                size=size_label(size),
                used=size_label(used),
                max=size_label(max_bytes),
                left=size_label(max(max_bytes - used, 0)),
            )
        )


def _write(folder: Path, stored_name: str, data: bytes) -> None:
    """The file on disk, whole or not at all: a full disk or a folder the server may not
    write to is a message to the user (the caller's transaction is then rolled back)."""
    target = folder / stored_name
    try:
        folder.mkdir(parents=True, exist_ok=True)
        # "x": never overwrite; the name is random, so a clash means something is badly wrong.
        with open(target, "xb") as out:
            out.write(data)
            out.flush()
            os.fsync(out.fileno())
    except OSError as exc:
        with contextlib.suppress(OSError):
            target.unlink(missing_ok=True)
        current_app.logger.error("upload not stored in %s: %s", folder, exc)
        raise _refuse(
            _(
                "Máy chủ không lưu được tệp (hết dung lượng hoặc không có quyền ghi). "
                "Hồ sơ chưa thay đổi; xin thử lại sau hoặc báo quản trị hệ thống."
            )
        ) from None


def document_path(doc: ApplicationDocument) -> Path:
    """Where the stored file lives; only names this module made are ever opened."""
    if not _STORED.match(doc.stored_name or ""):
        raise ValueError("unexpected stored document name")
    return Path(current_app.config["UPLOAD_FOLDER"]) / doc.stored_name


def discard_file(doc: ApplicationDocument) -> None:
    """Remove a stored file whose database row did not make it (the commit failed)."""
    try:
        document_path(doc).unlink(missing_ok=True)
    except (OSError, ValueError):
        current_app.logger.warning("could not remove orphan upload %s", doc.stored_name)


def commit_with(doc: ApplicationDocument) -> None:
    """Commit the request's work; if the commit fails, the stored file goes too."""
    try:
        db.session.commit()
    except Exception:
        db.session.rollback()
        discard_file(doc)
        raise


def send_document(doc: ApplicationDocument, mimetype: str | None = None) -> Response:
    """The stored file as a download under its uploader's name; 404 if it went missing."""
    path = document_path(doc)
    if not path.is_file():
        current_app.logger.error("document %s missing from the upload folder", doc.id)
        abort(404)
    response = send_file(
        path,
        mimetype=mimetype or doc.content_type,
        as_attachment=True,
        download_name=doc.original_name,
        max_age=0,
    )
    # Set here: send_file's own "no-cache" would win over the app-wide default.
    response.headers["Cache-Control"] = "no-store"
    return response
