"""Upload attacks through every route that takes a file: application documents on the staff
page, the portal page, the portal's application form and the API (as an officer and as the
cooperative), and the loan import page and API.

A refused file gets a clear message (the page again with it, or a 4xx JSON error), never a
500, and leaves nothing behind: no row, no audit entry, no file in the upload or import
folder. An accepted file is stored under a generated name inside the upload folder, and
comes back as an attachment with a type that no browser renders as a page, with nosniff.
"""

from __future__ import annotations

import html
import io
import re
import unicodedata
import zipfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from markupsafe import escape
from sqlalchemy import func, select
from werkzeug.http import parse_options_header

from config import Config
from fundapp.audit.models import AuditLog
from fundapp.extensions import db
from fundapp.imports.template import xlsx_bytes
from fundapp.lending import applications
from fundapp.loans.models import Application, ApplicationDocument, Loan
from tests.conftest import (
    BUSINESS_DATE,
    api_token,
    fresh_database,
    login,
    make_app,
    make_cooperative,
    make_user,
)
from tests.data.make_import_files import HAND_CHECKED_CSV
from tests.services.lending_helpers import application_data, fund_and_staff, portal_application_form

API = "/api/v1"
MAX_FILE = 128 * 1024  # UPLOAD_MAX_BYTES: "128 KB" in the messages
MAX_BODY = 512 * 1024  # MAX_CONTENT_LENGTH: the server refuses the request itself above it

PDF = b"%PDF-1.4\n1 0 obj <</Type /Catalog>> endobj\ntrailer <</Root 1 0 R>>\n%%EOF\n"
PNG = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR"
JPEG = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00"
EXE = b"MZ\x90\x00\x03\x00\x00\x00\x04\x00" + b"\x00" * 54 + b"PE\x00\x00"
ELF = b"\x7fELF\x02\x01\x01\x00" + b"\x00" * 8 + b"\x02\x00\x3e\x00"
HTML = b"<!doctype html><html><body><script>alert(document.cookie)</script></body></html>"
SVG = (
    b'<svg xmlns="http://www.w3.org/2000/svg" onload="alert(1)">'
    b"<script>alert(document.domain)</script></svg>"
)
# Files whose first bytes are right and whose rest is a page or a drawing with a script: they
# are accepted, so what matters is how they are served back.
PDF_WITH_SCRIPT = b"%PDF-1.4\n" + HTML + b"\n%%EOF\n"
PNG_WITH_SVG = PNG + SVG
JPEG_WITH_HTML = JPEG + HTML

TYPES = "chỉ nhận PDF, JPEG, PNG, DOC/DOCX, XLS/XLSX, ODT/ODS."
RENDERED_INLINE = {"text/html", "application/xhtml+xml", "image/svg+xml", "text/xml"}


def _not_its_type(name: str, kind: str) -> str:
    return f"Nội dung tệp «{name}» không phải là {kind} như phần mở rộng của tên tệp."


def _not_taken(name: str) -> str:
    return f"Không nhận tệp «{name}»: {TYPES}"


def _nfd(text: str) -> str:
    return unicodedata.normalize("NFD", text)


# --- the scene -------------------------------------------------------------------------------


@dataclass
class Scene:
    app: Flask
    uploads: Path
    application_id: int  # a draft of the cooperative of ``member``
    officer: Any  # signed-in web clients
    member: Any
    controller: Any
    accountant: Any
    api: Any  # a client for bearer calls
    officer_token: dict[str, str]
    member_token: dict[str, str]
    accountant_token: dict[str, str]


PORTAL_FORM = portal_application_form(
    purpose="Xây kho lạnh 200 m²", collateral_offered="", action="draft"
)


def _signed_in(app: Flask, user: Any) -> Any:
    client = app.test_client()
    assert login(client, user).status_code == 302
    return client


@pytest.fixture(scope="module")
def scene(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Scene]:
    root = tmp_path_factory.mktemp("files")
    app = make_app(
        UPLOAD_FOLDER=str(root / "uploads"),
        IMPORT_FOLDER=str(root / "imports"),
        UPLOAD_MAX_BYTES=MAX_FILE,
        MAX_CONTENT_LENGTH=MAX_BODY,
        # Every case adds to the one draft: the quotas are tested in test_probe_findings.py.
        UPLOAD_MAX_FILES_PER_APPLICATION=10_000,
    )
    with fresh_database(app):
        staff = fund_and_staff()
        coop = make_cooperative(name="HTX Vải thiều Thanh Hà")
        member = make_user("cooperative", cooperative=coop)
        draft = applications.create_application(
            staff.officer,
            application_data(coop, 100_000_000, project_name="Nhà sơ chế vải thiều"),
            BUSINESS_DATE,
        )
        db.session.commit()
        api = app.test_client()
        yield Scene(
            app=app,
            uploads=root / "uploads",
            application_id=draft.id,
            officer=_signed_in(app, staff.officer),
            member=_signed_in(app, member),
            controller=_signed_in(app, make_user("controller")),
            accountant=_signed_in(app, staff.accountant),
            api=api,
            officer_token=api_token(api, staff.officer),
            member_token=api_token(api, member),
            accountant_token=api_token(api, staff.accountant),
        )


def _count(model: Any) -> int:
    return db.session.scalar(select(func.count()).select_from(model)) or 0


def _files(folder: Path) -> set[str]:
    """Every file under ``folder``, however deep, relative to it."""
    if not folder.exists():
        return set()
    return {p.relative_to(folder).as_posix() for p in folder.rglob("*") if p.is_file()}


def state(scene: Scene) -> tuple[Any, ...]:
    """The rows an upload may write and every file under the folder that holds both the
    upload and the import folders (a file escaping either would land there)."""
    return (
        _count(ApplicationDocument),
        _count(Application),
        _count(Loan),
        _count(AuditLog),
        _files(scene.uploads.parent),
    )


def cases(table: list[tuple[Any, ...]]) -> list[Any]:
    """A table whose rows start with the case's name, as parameters named after it."""
    return [pytest.param(*row[1:], id=row[0]) for row in table]


def message(response: Any) -> str:
    if response.mimetype == "application/json":
        return response.get_json()["error"]["message"]
    return html.unescape(response.get_data(as_text=True))


# --- the document routes ---------------------------------------------------------------------

BOUNDARY = "fundapp-upload-attack"


def _quoted(name: str) -> str:
    return '"' + name.replace("\\", "\\\\").replace('"', '\\"') + '"'


def multipart(field: str, content: bytes, name: str, fields: dict[str, str] | None = None) -> Any:
    """Test-client keyword arguments for a form carrying the file name exactly as given
    (the test client's own encoder leaves backslashes unescaped, so the server would read
    ``..\\x.pdf`` as ``..x.pdf``)."""
    parts = [
        f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="{key}"\r\n\r\n{value}\r\n'.encode()
        for key, value in (fields or {}).items()
    ]
    head = (
        f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="{field}"; filename={_quoted(name)}'
        "\r\nContent-Type: application/octet-stream\r\n\r\n"
    )
    parts.append(head.encode() + content + b"\r\n")
    parts.append(f"--{BOUNDARY}--\r\n".encode())
    return {"data": b"".join(parts), "content_type": f"multipart/form-data; boundary={BOUNDARY}"}


@dataclass(frozen=True)
class Route:
    name: str
    send: Callable[[Scene, bytes, str], Any]
    accepted: int
    download: Callable[[Scene, ApplicationDocument], Any]
    opaque: bool  # served as application/octet-stream whatever it is
    page: str | None  # where the document is listed, for the web routes

    @property
    def api(self) -> bool:
        return self.name.startswith("api")


def _staff_page(scene: Scene, content: bytes, name: str) -> Any:
    url = f"/applications/{scene.application_id}/documents"
    return scene.officer.post(url, **multipart("file", content, name))


def _portal_page(scene: Scene, content: bytes, name: str) -> Any:
    url = f"/portal/applications/{scene.application_id}/documents"
    return scene.member.post(url, **multipart("file", content, name))


def _portal_form(scene: Scene, content: bytes, name: str) -> Any:
    url = "/portal/applications/new"
    return scene.member.post(url, **multipart("documents", content, name, PORTAL_FORM))


def _api_as(token: str) -> Callable[[Scene, bytes, str], Any]:
    def send(scene: Scene, content: bytes, name: str) -> Any:
        url = f"{API}/applications/{scene.application_id}/documents"
        return scene.api.post(
            url, headers=getattr(scene, token), **multipart("file", content, name)
        )

    return send


def _staff_download(scene: Scene, doc: ApplicationDocument) -> Any:
    return scene.controller.get(f"/applications/{doc.application_id}/documents/{doc.id}")


def _portal_download(scene: Scene, doc: ApplicationDocument) -> Any:
    return scene.member.get(f"/portal/applications/{doc.application_id}/documents/{doc.id}")


def _api_download(scene: Scene, doc: ApplicationDocument) -> Any:
    return scene.api.get(
        f"{API}/applications/{doc.application_id}/documents/{doc.id}",
        headers=scene.member_token,
    )


PORTAL = "/portal/applications/{}"
ROUTES = [
    Route("staff page", _staff_page, 302, _staff_download, False, "/applications/{}"),
    Route("portal page", _portal_page, 302, _portal_download, False, PORTAL),
    Route("portal form", _portal_form, 302, _portal_download, False, PORTAL),
    Route("api officer", _api_as("officer_token"), 201, _api_download, True, None),
    Route("api cooperative", _api_as("member_token"), 201, _api_download, True, None),
]
ROUTE_IDS = [r.name for r in ROUTES]

PASSWD = b"root:x:0:0::/root:/bin/sh\n"
QUOTED = "x.html_; filename=_x.pdf"
TOO_BIG = PDF + b"0" * (MAX_FILE - len(PDF) + 1)
# (case, file name, content, the message)
REFUSED = [
    ("exe", "setup.exe", EXE, _not_taken("setup.exe")),
    ("exe renamed pdf", "ho-so.pdf", EXE, _not_its_type("ho-so.pdf", "PDF")),
    ("elf renamed pdf", "ho-so.pdf", ELF, _not_its_type("ho-so.pdf", "PDF")),
    ("html renamed pdf", "ho-so.pdf", HTML, _not_its_type("ho-so.pdf", "PDF")),
    ("svg renamed png", "so-do.png", SVG, _not_its_type("so-do.png", "PNG")),
    ("pdf renamed jpg", "anh.jpg", PDF, _not_its_type("anh.jpg", "JPG")),
    ("html", "trang.html", HTML, _not_taken("trang.html")),
    ("htm upper case", "TRANG.HTM", HTML, _not_taken("TRANG.HTM")),
    ("xhtml", "trang.xhtml", HTML, _not_taken("trang.xhtml")),
    ("svg", "so-do.svg", SVG, _not_taken("so-do.svg")),
    ("double extension", "ho-so.pdf.exe", PDF, _not_taken("ho-so.pdf.exe")),
    ("NUL before the extension", "setup.exe\x00.pdf", EXE, _not_its_type("setup.exe_.pdf", "PDF")),
    ("right-to-left override", "ho-so\u202efdp.exe", PDF, _not_taken("ho-so\u202efdp.exe")),
    ("trailing dot", "ho-so.pdf.", PDF, _not_taken("ho-so.pdf.")),
    ("only an extension", ".pdf", PDF, _not_taken("pdf")),
    ("dot file", ".htaccess", b"AddType text/html .pdf\n", _not_taken("htaccess")),
    ("traversal to passwd", "../../../../etc/passwd", PASSWD, _not_taken("passwd")),
    ("windows traversal", "..\\..\\windows\\win.ini", b"[fonts]\r\n", _not_taken("win.ini")),
    (
        "script in the name",
        "<svg onload=alert(1)>.html",
        HTML,
        _not_taken("_svg onload=alert(1)_.html"),
    ),
    ("quote in the name", 'x.html"; filename="x.pdf', HTML, _not_its_type(QUOTED, "PDF")),
    ("empty", "rong.pdf", b"", "Tệp «rong.pdf» rỗng."),
    ("one byte over the limit", "lon.pdf", TOO_BIG, "Tệp quá lớn: tối đa 128 KB."),
]


@pytest.mark.parametrize("route", ROUTES, ids=ROUTE_IDS)
@pytest.mark.parametrize(("name", "content", "expected"), cases(REFUSED))
def test_a_refused_file_leaves_nothing_behind(scene, route, name, content, expected):
    before = state(scene)
    response = route.send(scene, content, name)
    assert response.status_code == 422, (response.status_code, message(response)[:300])
    if route.api:
        error = response.get_json()["error"]
        assert (error["code"], error["message"]) == ("validation_error", expected)
    else:
        assert expected in message(response)
    body = response.get_data(as_text=True)
    assert "<svg onload" not in body and "<script>alert" not in body
    assert "../" not in message(response) and "..\\" not in message(response)
    assert state(scene) == before


# --- accepted files --------------------------------------------------------------------------

VIETNAMESE = "Giấy đề nghị vay vốn.pdf"
WIDE = "báo cáo 文件 📄.pdf"
PARAMETERS = "hs; filename=evil.html; x=.pdf"
# (case, file name, content, the name kept, the type stored)
ACCEPTED = [
    ("pdf with a script inside", "ho-so.pdf", PDF_WITH_SCRIPT, "ho-so.pdf", "application/pdf"),
    ("png with an svg inside", "so-do.png", PNG_WITH_SVG, "so-do.png", "image/png"),
    ("jpeg with html inside", "anh.JPG", JPEG_WITH_HTML, "anh.JPG", "image/jpeg"),
    ("traversal", "../../etc/passwd.pdf", PDF, "passwd.pdf", "application/pdf"),
    ("windows traversal", "..\\..\\x.pdf", PDF, "x.pdf", "application/pdf"),
    ("absolute", "/etc/x.pdf", PDF, "x.pdf", "application/pdf"),
    ("windows drive", "C:\\Windows\\System32\\x.pdf", PDF, "x.pdf", "application/pdf"),
    ("network share", "\\\\may-chu\\chia-se\\y.pdf", PDF, "y.pdf", "application/pdf"),
    ("NUL inside", "a\x00b.pdf", PDF, "a_b.pdf", "application/pdf"),
    ("1000 characters", "d" * 996 + ".pdf", PDF, "d" * 251 + ".pdf", "application/pdf"),
    ("decomposed Vietnamese", _nfd(VIETNAMESE), PDF, VIETNAMESE, "application/pdf"),
    ("wide characters", WIDE, PDF, WIDE, "application/pdf"),
    ("header parameters", PARAMETERS, PDF, PARAMETERS, "application/pdf"),
    (
        "markup in the name",
        "<img src=x onerror=1>.pdf",
        PDF,
        "_img src=x onerror=1_.pdf",
        "application/pdf",
    ),
]


def _new_document(before: int) -> ApplicationDocument:
    db.session.expire_all()
    docs = db.session.scalars(
        select(ApplicationDocument).where(ApplicationDocument.id > before)
    ).all()
    assert len(docs) == 1, docs
    return docs[0]


@pytest.mark.parametrize("route", ROUTES, ids=ROUTE_IDS)
@pytest.mark.parametrize(("name", "content", "kept", "stored_type"), cases(ACCEPTED))
def test_an_accepted_file_is_stored_under_a_made_name_and_served_as_an_attachment(
    scene, route, name, content, kept, stored_type
):
    last_id = db.session.scalar(select(func.max(ApplicationDocument.id))) or 0
    files_before = _files(scene.uploads.parent)
    response = route.send(scene, content, name)
    assert response.status_code == route.accepted, message(response)[:300]
    doc = _new_document(last_id)
    assert (doc.original_name, doc.content_type, doc.size) == (kept, stored_type, len(content))
    if route.api:
        assert response.get_json()["name"] == kept

    extension = kept.rsplit(".", 1)[1].lower()
    assert re.fullmatch(rf"[0-9a-f]{{32}}\.{extension}", doc.stored_name)
    assert _files(scene.uploads.parent) - files_before == {f"uploads/{doc.stored_name}"}
    stored = scene.uploads / doc.stored_name
    assert stored.resolve().parent == scene.uploads.resolve()
    assert stored.read_bytes() == content

    with route.download(scene, doc) as download:
        assert download.status_code == 200 and download.data == content
    assert download.mimetype == ("application/octet-stream" if route.opaque else stored_type)
    assert download.mimetype not in RENDERED_INLINE
    disposition = download.headers["Content-Disposition"]
    assert parse_options_header(disposition) == ("attachment", {"filename": kept})
    assert download.headers["X-Content-Type-Options"] == "nosniff"
    assert download.headers["Cache-Control"] == "no-store"
    assert "default-src 'self'" in download.headers["Content-Security-Policy"]
    assert not any("\r" in v or "\n" in v for _k, v in download.headers.items())

    if route.page is not None:
        page = _page_client(scene, route).get(route.page.format(doc.application_id))
        assert page.status_code == 200
        assert str(escape(kept)) in page.get_data(as_text=True)
        assert "<img src=x" not in page.get_data(as_text=True)


def _page_client(scene: Scene, route: Route) -> Any:
    return scene.officer if route.name == "staff page" else scene.member


def test_uploads_live_outside_the_static_folder_by_default(scene):
    static = Path(scene.app.static_folder).resolve()
    default = Path(Config.UPLOAD_FOLDER).resolve()
    assert not default.is_relative_to(static) and not static.is_relative_to(default)
    assert default == Path(scene.app.root_path).parent.resolve() / "instance" / "uploads"


# --- a request larger than the server takes --------------------------------------------------


def _import_page(scene: Scene, content: bytes, name: str) -> Any:
    return scene.accountant.post("/imports/loans/check", **multipart("file", content, name))


def _import_api(query: str = "") -> Callable[[Scene, bytes, str], Any]:
    def send(scene: Scene, content: bytes, name: str) -> Any:
        url = f"{API}/imports/loans{query}"
        return scene.api.post(
            url, headers=scene.accountant_token, **multipart("file", content, name)
        )

    return send


IMPORT_ROUTES = {
    "import page": _import_page,
    "import api dry run": _import_api(),
    "import api": _import_api("?dry_run=false"),
}


def test_a_request_above_the_servers_limit_is_413_everywhere(scene):
    senders = {route.name: route.send for route in ROUTES} | IMPORT_ROUTES
    before = state(scene)
    for name, send in senders.items():
        response = send(scene, PDF + b"0" * MAX_BODY, "lon.pdf")
        assert response.status_code == 413, name
        if name.startswith(("api", "import api")):
            assert response.get_json() == {
                "error": {"code": "too_large", "message": "Dữ liệu gửi lên quá lớn."}
            }, name
        else:
            assert "Dữ liệu gửi lên quá lớn." in message(response), name
    assert state(scene) == before


# --- the loan import -------------------------------------------------------------------------

XLSX_UNREADABLE = "Tệp .xlsx không đọc được: không phải bảng tính Excel hợp lệ."
ONLY_SHEETS = "Chỉ nhận tệp Excel (.xlsx) hoặc CSV (.csv) theo mẫu."


def _rezip(data: bytes, change: Callable[[str, bytes], bytes]) -> bytes:
    out = io.BytesIO()
    with (
        zipfile.ZipFile(io.BytesIO(data)) as source,
        zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as target,
    ):
        for info in source.infolist():
            target.writestr(info.filename, change(info.filename, source.read(info.filename)))
    return out.getvalue()


def _template(scene: Scene) -> bytes:
    with scene.app.test_request_context():
        return xlsx_bytes([])


def _huge_dimension(scene: Scene) -> bytes:
    """The template, its sheets claiming every cell Excel has (A1:XFD1048576)."""

    def claim(name: str, data: bytes) -> bytes:
        if not name.startswith("xl/worksheets/"):
            return data
        return re.sub(rb'<dimension ref="[^"]*"', b'<dimension ref="A1:XFD1048576"', data)

    data = _rezip(_template(scene), claim)
    assert b"A1:XFD1048576" in zipfile.ZipFile(io.BytesIO(data)).read("xl/worksheets/sheet1.xml")
    return data


def _far_row(scene: Scene) -> bytes:
    """The template with one more row, numbered past Excel's last (1 048 576): a few
    kilobytes that a reader filling in the rows in between spends seconds on (hours at
    4 000 000 000), and then reads as a loan."""

    def move(name: str, data: bytes) -> bytes:
        if name != "xl/worksheets/sheet1.xml":
            return data
        far = b'<row r="2000000"><c r="A2000000" t="inlineStr"><is><t>x</t></is></c></row>'
        return data.replace(b"</sheetData>", far + b"</sheetData>")

    return _rezip(_template(scene), move)


def _zip_bomb(_scene: Scene) -> bytes:
    """A real workbook skeleton whose sheet unzips to 65 MB of spaces (about 64 KB zipped)."""
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as book:
        book.writestr("[Content_Types].xml", "<Types/>")
        book.writestr("xl/workbook.xml", "<workbook/>")
        with book.open("xl/worksheets/sheet1.xml", "w", force_zip64=True) as sheet:
            block = b" " * (1024 * 1024)
            for _ in range(65):
                sheet.write(block)
    return out.getvalue()


def _oversized_csv(_scene: Scene) -> bytes:
    data = HAND_CHECKED_CSV.encode()
    return data + b"\r\n" * ((MAX_FILE - len(data)) // 2 + 1)


HEADER = "Dòng 1 (tiêu đề): cột “"
UTF8 = "Tệp CSV phải được lưu theo mã UTF-8."
IMPORT_TOO_BIG = "Tệp quá lớn: tối đa 128 KB."
BOMB = "Tệp .xlsx giải nén quá lớn."
FAR = "Tệp có dữ liệu sau dòng 1048576, giới hạn của bảng tính Excel."
HEADER_ONLY = "Tệp chỉ có dòng tiêu đề, chưa có khoản vay nào."
CHOOSE = "Chọn tệp Excel (.xlsx) hoặc CSV (.csv) cần nhập."
CRON = b"* * * * * root sh\n"
# (case, file name, content or what makes it, the page's message, the start of the API's)
IMPORT_REFUSED = [
    ("exe", "khoan-vay.exe", EXE, ONLY_SHEETS, UTF8),
    ("elf renamed xlsx", "khoan-vay.xlsx", ELF, XLSX_UNREADABLE, XLSX_UNREADABLE),
    ("html renamed xlsx", "khoan-vay.xlsx", HTML, XLSX_UNREADABLE, XLSX_UNREADABLE),
    ("html renamed csv", "khoan-vay.csv", HTML, HEADER + "<!doctype html>", HEADER + "<!doctype"),
    ("svg", "so-do.svg", SVG, ONLY_SHEETS, HEADER + "<svg xmlns="),
    (
        "traversal",
        "../../../etc/cron.d/khoan-vay",
        CRON,
        ONLY_SHEETS,
        HEADER + "* * * * * root sh”",
    ),
    ("empty", "khoan-vay.csv", b"", CHOOSE, "Tệp rỗng."),
    ("one byte over the limit", "khoan-vay.csv", _oversized_csv, IMPORT_TOO_BIG, IMPORT_TOO_BIG),
    ("zip bomb", "khoan-vay.xlsx", _zip_bomb, BOMB, BOMB),
    ("row beyond Excel's last", "khoan-vay.xlsx", _far_row, FAR, FAR),
    ("every cell claimed", "khoan-vay.xlsx", _huge_dimension, HEADER_ONLY, HEADER_ONLY),
]


IMPORT_CASES = [pytest.param(c[0], c[1], c[3], c[4], id=c[0]) for c in IMPORT_REFUSED]


@pytest.fixture(scope="module")
def import_files(scene: Scene) -> dict[str, bytes]:
    made: dict[str, bytes] = {}
    for case, _name, content, _page, _api in IMPORT_REFUSED:
        made[case] = content if isinstance(content, bytes) else content(scene)
    return made


@pytest.mark.parametrize(("case", "name", "page_message", "api_message"), IMPORT_CASES)
def test_a_refused_import_file_writes_and_keeps_nothing(
    scene, import_files, case, name, page_message, api_message
):
    content = import_files[case]
    assert len(content) <= MAX_FILE or case == "one byte over the limit", len(content)
    before = state(scene)

    page = _import_page(scene, content, name)
    if case == "empty":  # nothing to check: back to the page, asked to choose a file
        assert page.status_code == 302 and page.headers["Location"].endswith("/imports/loans")
        page = scene.accountant.get(page.headers["Location"])
    assert page.status_code == 200
    text = page.get_data(as_text=True)
    assert page_message in html.unescape(text)
    assert "<script>alert" not in text and "<svg xmlns" not in text
    assert "Nhập dữ liệu" not in text  # no import button for a refused file
    assert state(scene) == before

    for send in (_import_api(), _import_api("?dry_run=false")):
        response = send(scene, content, name)
        assert response.status_code == 422
        error = response.get_json()["error"]
        assert error["code"] == "import_refused" and error["rows"] == []
        assert error["message"].startswith(api_message), error["message"]
        assert error["fields"] == {"file": error["message"]}
        assert state(scene) == before


def test_an_import_file_under_a_traversing_name_is_kept_under_a_made_name(scene):
    before = state(scene)
    page = _import_page(scene, HAND_CHECKED_CSV.encode(), "../../../etc/cron.d/hai-khoan.csv")
    text = page.get_data(as_text=True)
    assert "Kiểm tra thử: 2 khoản vay hợp lệ, dư nợ gốc 290.000.000 đ; chưa ghi gì." in text
    assert "hai-khoan.csv" in text and "cron.d" not in text
    (kept,) = _files(scene.uploads.parent) - before[4]
    folder, token = kept.split("/")
    assert folder == "imports" and re.fullmatch(r"[0-9a-f]{32}\.csv", token)
    imports = scene.uploads.parent / "imports"
    assert (imports / token).read_bytes() == HAND_CHECKED_CSV.encode()
    assert (imports / token).resolve().parent == imports.resolve()
    assert state(scene)[:4] == before[:4]  # no loan, no row, no document

    answer = _import_api()(scene, HAND_CHECKED_CSV.encode(), "..\\..\\hai-khoan.csv")
    assert answer.status_code == 200
    assert (answer.get_json()["file_name"], answer.get_json()["loans"]) == ("hai-khoan.csv", 2)
    assert _count(Loan) == 0
