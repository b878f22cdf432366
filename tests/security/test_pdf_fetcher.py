"""WeasyPrint's URL fetcher under attack. The fetcher serves files under static/ and nothing
else: not file:// elsewhere, not http(s):// (a listener of our own on 127.0.0.1 records any
request that reaches it), not data:, not a path that climbs out of static/ by any spelling
or symlink. The app's real documents, rendered from data full of tags that would fetch
something, print those tags as text and fetch nothing; their own font still loads.
"""

from __future__ import annotations

import subprocess
import threading
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from flask import Flask

from fundapp.documents.pdf import ResourceRefused, StaticOnlyFetcher, html_to_pdf, static_fetcher
from fundapp.extensions import db
from fundapp.lending import disbursements
from fundapp.repayments import services as rs
from tests.conftest import fresh_database, login, make_app, make_cooperative, make_user
from tests.services.lending_helpers import contracted_loan, fund_and_staff

PASSWD_LINE = "root:x:0:0"


@dataclass
class Listener:
    port: int
    hits: list[str] = field(default_factory=list)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"


@pytest.fixture(scope="module")
def listener() -> Iterator[Listener]:
    """An HTTP server on a free local port that answers everything and records the path."""
    found = Listener(0)

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            found.hits.append(self.path)
            body = b"body { background: url(/from-css.png) }"
            self.send_response(200)
            self.send_header("Content-Type", "text/css")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        do_POST = do_HEAD = do_GET

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    found.port = server.server_address[1]
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    # It does record what reaches it, so "no hit" below means something.
    with urllib.request.urlopen(f"{found.url}/ping", timeout=5) as answer:  # noqa: S310
        assert answer.status == 200
    assert found.hits == ["/ping"]
    found.hits.clear()
    try:
        yield found
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


@pytest.fixture(scope="module")
def app() -> Iterator[Flask]:
    with fresh_database(make_app()) as app:
        yield app


# --- the fetcher, called directly ------------------------------------------------------------


def _foreign_urls(port: int) -> list[str]:
    local = f"127.0.0.1:{port}"
    return [
        f"http://{local}/x.css",
        f"http://localhost:{port}/x.css",
        f"https://{local}/x.css",
        f"//{local}/x.css",
        f"HTTP://{local}/x.css",
        f"file://{local}/etc/passwd",
        f"ftp://{local}/x.css",
        f"gopher://{local}/_GET",
        "https://example.com/font.ttf",
        "file:///etc/passwd",
        "file://localhost/etc/passwd",
        "file://127.0.0.1/etc/passwd",
        "FILE:///etc/passwd",
        "file:/etc/passwd",
        "/etc/passwd",
        "data:text/css,body%7Bcolor:red%7D",
        "data:image/svg+xml,%3Csvg%20xmlns=%22http://www.w3.org/2000/svg%22/%3E",
        "javascript:alert(1)",
    ]


def _escapes(base: str) -> list[str]:
    return [
        base + "../config.py",
        base + "fonts/../../config.py",
        base + "%2e%2e/config.py",
        base + "..%2fconfig.py",
        base + "%2e%2e%2f%2e%2e%2f%2e%2e%2f%2e%2e%2fetc%2fpasswd",
        base + "%252e%252e/config.py",
        base + "fonts/DejaVuSans.ttf%00.png",
        base + "fonts/DejaVuSans.ttf\x00",
        base + "fonts",  # a folder, not a file
        base + "x" * 5000,
        base.replace("file://", "file://localhost") + "../config.py",
    ]


def test_the_fetcher_refuses_everything_but_static_files(app, listener):
    fetcher = static_fetcher()
    urls = _foreign_urls(listener.port) + _escapes(fetcher.base_url)
    for url in urls:
        with pytest.raises(ResourceRefused):
            fetcher.fetch(url)
    assert (Path(app.static_folder).parent / "config.py").is_file()  # the target exists
    assert listener.hits == []


def test_the_fetcher_serves_its_own_stylesheet_font_and_logo(app):
    fetcher = static_fetcher()
    static = Path(app.static_folder)
    for relative in ("css/pdf.css", "fonts/DejaVuSans.ttf", "img/logo.svg"):
        answer = fetcher.fetch(fetcher.base_url + relative)
        try:
            assert answer.read() == (static / relative).read_bytes(), relative
        finally:
            answer.close()
    localhost = fetcher.base_url.replace("file://", "file://localhost") + "css/pdf.css"
    assert fetcher.resolve(localhost) == (static / "css" / "pdf.css").resolve()


def test_symlinks_and_look_alike_folders_do_not_lead_out(tmp_path):
    root = tmp_path / "static"
    (root / "css").mkdir(parents=True)
    (root / "css" / "ok.css").write_text("p { color: black }")
    secrets = tmp_path / "static-secrets"  # shares the prefix "…/static"
    secrets.mkdir()
    (secrets / "key.txt").write_text("bí mật")
    (root / "passwd.css").symlink_to("/etc/passwd")
    (root / "secrets").symlink_to(secrets, target_is_directory=True)
    fetcher = StaticOnlyFetcher(root)

    answer = fetcher.fetch(fetcher.base_url + "css/ok.css")
    try:
        assert answer.read() == b"p { color: black }"
    finally:
        answer.close()
    for url in (
        fetcher.base_url + "passwd.css",
        fetcher.base_url + "secrets/key.txt",
        (secrets / "key.txt").as_uri(),
        fetcher.base_url + "../static-secrets/key.txt",
    ):
        with pytest.raises(ResourceRefused):
            fetcher.fetch(url)


# --- hostile markup handed to WeasyPrint -----------------------------------------------------

# Markup that makes WeasyPrint fetch: the fetcher's refusal stops the rendering.
FETCHING = {
    "stylesheet link": '<link rel="stylesheet" href="{url}/link.css">',
    "@import": '<style>@import url("{url}/import.css");</style>',
    "@import of a file": '<style>@import url("file:///etc/passwd");</style>',
    "@font-face": (
        '<style>@font-face {{ font-family: X; src: url("{url}/font.ttf") }}'
        " p {{ font-family: X }}</style>"
    ),
    "background in a style attribute": '<p style="background: url({url}/bg.png)">x</p>',
    "image of a file": '<img src="file:///etc/passwd">',
    "image over http": '<img src="{url}/img.png">',
    "object": '<object data="{url}/object.png"></object>',
    "embed": '<embed src="{url}/embed.png">',
    "base element": '<base href="{url}/"><img src="logo.png">',
    "attached file": '<link rel="attachment" href="file:///etc/passwd">',
    "attached link": '<a rel="attachment" href="file:///etc/passwd">tệp</a>',
    "data: svg reaching out": (
        '<img src="data:image/svg+xml,%3Csvg xmlns=%22http://www.w3.org/2000/svg%22%3E'
        '%3Cimage href=%22{url}/svg.png%22/%3E%3C/svg%3E">'
    ),
    "climbing out of static": '<img src="../config.py">',
}
# Markup WeasyPrint does not fetch for, or whose fetch fails quietly: it renders, without it.
QUIET = {
    "iframe": '<iframe src="{url}/frame.html"></iframe>',
    "video": '<video src="{url}/video.mp4"></video>',
    "image inside inline svg": (
        '<svg xmlns="http://www.w3.org/2000/svg" width="10" height="10">'
        '<image href="{url}/inline-svg.png" width="10" height="10"/></svg>'
    ),
}


def pdf_text(data: bytes, tmp_path: Path, name: str = "doc") -> str:
    """The PDF's characters in reading order, without white space: a table cell may wrap a
    long value after any "/" or space."""
    path = tmp_path / f"{name}.pdf"
    path.write_bytes(data)
    text = subprocess.run(
        ["pdftotext", "-raw", str(path), "-"], capture_output=True, check=True, text=True
    ).stdout
    return compact(text)


def compact(text: str) -> str:
    return "".join(text.split())


def _page(markup: str) -> str:
    return f"<html><body><p>Quỹ hỗ trợ phát triển HTX</p>{markup}</body></html>"


@pytest.mark.parametrize("markup", FETCHING.values(), ids=FETCHING.keys())
def test_markup_that_fetches_stops_the_rendering(app, listener, markup):
    with pytest.raises(ResourceRefused):
        html_to_pdf(_page(markup.format(url=listener.url)))
    assert listener.hits == []


@pytest.mark.parametrize("markup", QUIET.values(), ids=QUIET.keys())
def test_markup_that_does_not_fetch_renders_without_it(app, listener, markup, tmp_path):
    data = html_to_pdf(_page(markup.format(url=listener.url)))
    assert compact("Quỹ hỗ trợ phát triển HTX") in pdf_text(data, tmp_path)
    assert _attachments(data, tmp_path) == 0
    assert listener.hits == []


def _attachments(data: bytes, tmp_path: Path) -> int:
    path = tmp_path / "attachments.pdf"
    path.write_bytes(data)
    listing = subprocess.run(
        ["pdfdetach", "-list", str(path)], capture_output=True, check=True, text=True
    ).stdout
    return int(listing.split()[0])


def _fonts(data: bytes, tmp_path: Path) -> list[tuple[str, str]]:
    """(font name, embedded?) for each font of the PDF, from poppler's pdffonts."""
    path = tmp_path / "fonts.pdf"
    path.write_bytes(data)
    table = subprocess.run(
        ["pdffonts", str(path)], capture_output=True, check=True, text=True
    ).stdout.splitlines()[2:]
    # name type encoding emb sub uni object ID: the flags are the 5th to 3rd from the end.
    return [(line.split()[0], line.split()[-5]) for line in table if line.strip()]


# --- the app's own documents, from hostile data ----------------------------------------------


def _payloads(url: str) -> dict[str, str]:
    return {
        "name": 'HTX <img src="file:///etc/passwd">',
        # (the commune is a unit of the reference list now, no longer free text)
        "address": f'<link rel="stylesheet" href="{url}/address.css"> @import url(file:///etc/passwd);',
        "representative": f'<iframe src="{url}/frame"></iframe>',
        "bank_name": f"<style>@import url({url}/bank.css);</style>",
        "project_name": f'<object data="{url}/project.png"></object>',
        "tranche": f'<img src="{url}/tranche.png">',
        "receipt": '<link rel="attachment" href="file:///etc/passwd">',
        "reason": f'<embed src="{url}/reason.png"> <base href="{url}/">',
    }


@dataclass
class Hostile:
    client: Any
    payloads: dict[str, str]
    urls: dict[str, str]


@pytest.fixture(scope="module")
def hostile(app, listener) -> Hostile:
    """A loan whose cooperative, project, tranche, receipt and reversal carry the payloads:
    120.000.000 đ disbursed on 05/01/2026, instalment 1 paid on 05/02/2026, and 1.000.000 đ
    received on 20/03/2026 and reversed on 25/03/2026."""
    payloads = _payloads(listener.url)
    staff = fund_and_staff()
    coop = make_cooperative(
        name=payloads["name"],
        address=payloads["address"],
        representative=payloads["representative"],
        bank_account="0123 4567 89",
        bank_name=payloads["bank_name"],
    )
    loan = contracted_loan(staff, cooperative=coop, project_name=payloads["project_name"])
    day = date(2026, 1, 5)
    tranche = disbursements.record_disbursement(
        staff.accountant,
        loan.id,
        {"amount": 120_000_000, "date": day, "reference": payloads["tranche"]},
        day,
    )
    disbursements.approve_disbursement(staff.director, tranche.id, day)
    paid = rs.record_repayment(
        staff.accountant,
        loan.id,
        {"amount": 10_611_507, "date": date(2026, 2, 5), "reference": payloads["receipt"]},
        date(2026, 2, 5),
    )
    mistake = rs.record_repayment(
        staff.accountant,
        loan.id,
        {"amount": 1_000_000, "date": date(2026, 3, 20), "reference": ""},
        date(2026, 3, 20),
    )
    db.session.commit()
    reversal = rs.request_reversal(staff.accountant, mistake.id, payloads["reason"])
    db.session.commit()
    rs.decide_reversal(staff.director, reversal.id, True, date(2026, 3, 25))
    db.session.commit()

    client = app.test_client()
    assert login(client, make_user("controller")).status_code == 302
    urls = {
        "statement": f"/loans/{loan.id}/statement.pdf?from=2026-01-01&to=2026-11-20",
        "schedule": f"/loans/{loan.id}/schedule.pdf",
        "receipt": f"/repayments/{paid.id}/receipt.pdf",
        "debt receipt": f"/disbursements/{tranche.id}/debt-receipt.pdf",
        "debt confirmation": f"/cooperatives/{coop.id}/debt-confirmation.pdf",
    }
    return Hostile(client, payloads, urls)


def test_documents_print_hostile_data_as_text_and_fetch_nothing(hostile, listener, tmp_path):
    passwd = Path("/etc/passwd").read_text().splitlines()[0]
    printed: dict[str, str] = {}
    for document, url in hostile.urls.items():
        response = hostile.client.get(url)
        assert response.status_code == 200, (document, response.status_code)
        assert response.mimetype == "application/pdf"
        data = response.data
        text = pdf_text(data, tmp_path, document.replace(" ", "-"))
        printed[document] = text
        assert compact(hostile.payloads["name"]) in text, document  # each names the borrower
        assert passwd not in text and PASSWD_LINE not in text, document
        assert _attachments(data, tmp_path) == 0, document
        fonts = _fonts(data, tmp_path)
        faces = {name.split("+")[-1] for name, _embedded in fonts}
        assert "DejaVu-Sans" in faces, (document, fonts)  # the shipped font, and no other
        assert all(face.startswith("DejaVu-Sans") for face in faces), (document, fonts)
        assert all(embedded == "yes" for _name, embedded in fonts), (document, fonts)
    assert listener.hits == []

    everything = " ".join(printed.values())
    missing = [key for key, value in hostile.payloads.items() if compact(value) not in everything]
    assert missing == [], missing
    statement = printed["statement"]
    for key in ("address", "representative", "project_name", "reason"):
        assert compact(hostile.payloads[key]) in statement, key
    assert compact(hostile.payloads["tranche"]) in printed["debt receipt"]
    assert compact(hostile.payloads["bank_name"]) in printed["debt receipt"]
    assert compact(hostile.payloads["receipt"]) in printed["receipt"]
