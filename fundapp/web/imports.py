"""``/imports/loans``: template downloads, a dry run of an uploaded file, then the import.

The uploaded file waits under the instance folder, with a random name bound to the user's
session, between the dry run and the import; the import reads and checks it again.
"""

from __future__ import annotations

import contextlib
import re
import secrets
import time
from pathlib import Path
from typing import Any

from flask import (
    Blueprint,
    Response,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from flask_wtf import FlaskForm
from flask_wtf.file import FileField
from werkzeug.datastructures import FileStorage
from wtforms import HiddenField, SelectField

from fundapp.core.dates import business_date
from fundapp.core.security import Role, roles_required
from fundapp.domain.errors import DomainError
from fundapp.extensions import db
from fundapp.funds.services import origins
from fundapp.imports import services
from fundapp.imports.columns import COLUMNS
from fundapp.imports.export import loan_book
from fundapp.imports.template import CSV_TYPE, XLSX_TYPE, csv_bytes, xlsx_bytes
from fundapp.lending.uploads import clean_name, size_label

bp = Blueprint("imports", __name__, url_prefix="/imports")

READERS = (Role.ACCOUNTANT, Role.CONTROLLER)
_SESSION_KEY = "loan_import"
_STORED = re.compile(r"^[0-9a-f]{32}\.(xlsx|csv)$")
_KEEP_SECONDS = 24 * 3600


class UploadForm(FlaskForm):
    file = FileField(_l("Tệp khoản vay (.xlsx hoặc .csv)"))
    origin = SelectField(_l("Quỹ gốc"), choices=[], validate_choice=False)

    def fill_choices(self) -> None:
        self.origin.choices = [
            ("" if o.is_own else o.code, f"{o.code} – {o.name}") for o in origins()
        ]


class ImportForm(FlaskForm):
    token = HiddenField()


def max_bytes() -> int:
    return int(current_app.config["UPLOAD_MAX_BYTES"])


def read_upload(storage: FileStorage | None) -> tuple[bytes, str]:
    """The uploaded bytes and the user's (cleaned) file name; one byte over the limit is
    enough for the parser to refuse the size."""
    if storage is None or not storage.filename:
        return b"", ""
    return storage.stream.read(max_bytes() + 1), clean_name(storage.filename)


def download(data: bytes, filename: str, mimetype: str) -> Response:
    response = Response(data, mimetype=mimetype)
    response.headers.set("Content-Disposition", "attachment", filename=filename)
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.route("/loans")
@roles_required(*READERS)
def index() -> Any:
    return _page()


@bp.route("/loans/template.xlsx")
@roles_required(*READERS)
def template_xlsx() -> Any:
    """The empty template, or with ``?loans=1`` the fund's active loans written in it."""
    return template_download("xlsx", request.args.get("loans") in ("1", "true"))


@bp.route("/loans/template.csv")
@roles_required(*READERS)
def template_csv() -> Any:
    return template_download("csv", request.args.get("loans") in ("1", "true"))


def template_download(ext: str, with_loans: bool) -> Response:
    rows = loan_book().rows if with_loans else []
    name = f"so-cho-vay-{business_date():%Y%m%d}" if with_loans else "mau-nhap-khoan-vay"
    if ext == "xlsx":
        return download(xlsx_bytes(rows), f"{name}.xlsx", XLSX_TYPE)
    return download(csv_bytes(rows), f"{name}.csv", CSV_TYPE)


@bp.route("/loans/check", methods=["POST"])
@roles_required(Role.ACCOUNTANT)
def check() -> Any:
    form = UploadForm()
    if not form.validate_on_submit():
        message = _("Phiên làm việc đã hết hạn hoặc biểu mẫu không hợp lệ. Xin tải lại trang.")
        flash(message, "error")
        return redirect(url_for(".index"))
    data, name = read_upload(form.file.data)
    if not data:
        flash(_("Chọn tệp Excel (.xlsx) hoặc CSV (.csv) cần nhập."), "error")
        return redirect(url_for(".index"))
    origin = form.origin.data or None
    try:
        report = services.dry_run(
            current_user, data, name, business_date(), max_bytes(), origin=origin
        )
    except DomainError as exc:
        db.session.rollback()
        flash(exc.message, "error")
        return redirect(url_for(".index"))
    db.session.rollback()
    token = _keep(data, name, origin) if report.ok else None
    return _page(report, token)


@bp.route("/loans/run", methods=["POST"])
@roles_required(Role.ACCOUNTANT)
def run() -> Any:
    form = ImportForm()
    kept = session.get(_SESSION_KEY) or {}
    token = form.token.data or ""
    path = _kept_path(token)
    if not form.validate_on_submit() or kept.get("token") != token or path is None:
        flash(_("Tệp đã kiểm tra không còn; xin tải tệp lên và kiểm tra lại."), "error")
        return redirect(url_for(".index"))
    name = str(kept.get("name") or path.name)
    try:
        report = services.import_loans(
            current_user,
            path.read_bytes(),
            name,
            business_date(),
            max_bytes(),
            origin=kept.get("origin") or None,
        )
    except DomainError as exc:
        db.session.rollback()
        flash(exc.message, "error")
        return redirect(url_for(".index"))
    if not report.imported:
        db.session.rollback()
        return _page(report, token)
    db.session.commit()
    _forget(path)
    flash(report.summary, "success")
    return redirect(url_for("loans.index"))


def _page(report: services.ImportReport | None = None, token: str | None = None) -> Any:
    upload_form = UploadForm(formdata=None)
    upload_form.fill_choices()
    return render_template(
        "imports/loans.html",
        report=report,
        upload_form=upload_form,
        import_form=ImportForm(formdata=None, token=token),
        token=token,
        columns=COLUMNS,
        max_upload=size_label(max_bytes()),
    )


def _folder() -> Path:
    configured = current_app.config.get("IMPORT_FOLDER")
    return Path(configured) if configured else Path(current_app.instance_path) / "imports"


def _keep(data: bytes, name: str, origin: str | None = None) -> str:
    """Store the checked file for the import step; older leftovers are cleared."""
    folder = _folder()
    folder.mkdir(parents=True, exist_ok=True)
    _clear_old(folder)
    previous = _kept_path((session.get(_SESSION_KEY) or {}).get("token", ""))
    if previous is not None:
        _forget(previous)
    ext = "xlsx" if name.lower().endswith(".xlsx") else "csv"
    token = f"{secrets.token_hex(16)}.{ext}"
    with open(folder / token, "xb") as out:
        out.write(data)
    session[_SESSION_KEY] = {"token": token, "name": name, "origin": origin or ""}
    return token


def _kept_path(token: str) -> Path | None:
    if not _STORED.fullmatch(token or ""):
        return None
    path = _folder() / token
    return path if path.is_file() else None


def _forget(path: Path) -> None:
    session.pop(_SESSION_KEY, None)
    with contextlib.suppress(OSError):
        path.unlink(missing_ok=True)


def _clear_old(folder: Path) -> None:
    cutoff = time.time() - _KEEP_SECONDS
    for path in folder.iterdir():
        if _STORED.fullmatch(path.name) and path.stat().st_mtime < cutoff:
            with contextlib.suppress(OSError):
                path.unlink()
