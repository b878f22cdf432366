"""The PDF machinery: the static-only fetcher, the response, the shared page furniture."""

from __future__ import annotations

from pathlib import Path

import pytest
from flask import Flask

from fundapp.documents.pdf import (
    ResourceRefused,
    css_string,
    html_to_pdf,
    pdf_response,
    static_fetcher,
    static_root,
)


def test_the_fetcher_serves_the_shipped_fonts(app: Flask) -> None:
    fetcher = static_fetcher()
    font = static_root() / "fonts" / "DejaVuSans.ttf"
    response = fetcher.fetch(font.as_uri())
    try:
        assert response.read() == font.read_bytes()
    finally:
        response.close()
    assert fetcher.base_url == static_root().as_uri() + "/"


@pytest.mark.parametrize(
    "url",
    [
        "file:///etc/passwd",
        "http://example.com/logo.png",
        "https://example.com/font.ttf",
        "data:text/plain;base64,SGVsbG8=",
        "ftp://example.com/x",
    ],
)
def test_the_fetcher_refuses_anything_but_static_files(app: Flask, url: str) -> None:
    with pytest.raises(ResourceRefused):
        static_fetcher().fetch(url)


def test_a_path_escaping_static_is_refused(app: Flask) -> None:
    escape = static_fetcher().base_url + "../config.py"
    assert (static_root().parent / "config.py").is_file()
    with pytest.raises(ResourceRefused, match="static folder"):
        static_fetcher().fetch(escape)
    with pytest.raises(ResourceRefused):
        static_fetcher().fetch(static_fetcher().base_url + "%2e%2e/config.py")


def test_a_missing_static_file_is_refused(app: Flask) -> None:
    with pytest.raises(ResourceRefused):
        static_fetcher().fetch(static_fetcher().base_url + "img/nothing-here.png")


@pytest.mark.parametrize(
    "tag",
    [
        '<img src="http://example.com/tracker.png">',
        '<img src="file:///etc/passwd">',
        '<img src="../config.py">',
        '<link rel="stylesheet" href="https://example.com/x.css">',
    ],
)
def test_a_document_asking_for_a_foreign_resource_is_not_rendered(app: Flask, tag: str) -> None:
    with pytest.raises(ResourceRefused):
        html_to_pdf(f"<html><body><p>Xin chào</p>{tag}</body></html>")


def test_a_plain_document_renders(app: Flask, pdf) -> None:
    data = html_to_pdf(
        '<html><body><p>Quỹ hỗ trợ phát triển</p><img src="img/logo.svg"></body></html>'
    )
    assert "Quỹ hỗ trợ phát triển" in pdf(data)


def test_pdf_response_headers(app: Flask) -> None:
    with app.test_request_context():
        response = pdf_response(b"%PDF-1.7", "sao-ke-HD-2026-0001.pdf")
        download = pdf_response(b"%PDF-1.7", "phieu-thu.pdf", inline=False)
    assert response.mimetype == "application/pdf"
    assert response.headers["Content-Disposition"] == "inline; filename=sao-ke-HD-2026-0001.pdf"
    assert response.headers["Cache-Control"] == "no-store"
    assert download.headers["Content-Disposition"] == "attachment; filename=phieu-thu.pdf"


def test_css_string_cannot_break_out_of_the_style_element() -> None:
    assert css_string('Quỹ "A" </style><script>') == '"Quỹ \\22 A\\22  \\3C /style>\\3C script>"'
    assert css_string("a\\b\nc") == '"a\\5C b\\A c"'


def test_the_shipped_fonts_are_named_in_the_stylesheet() -> None:
    css = (Path(__file__).parents[2] / "static" / "css" / "pdf.css").read_text()
    for font in ("DejaVuSans.ttf", "DejaVuSans-Bold.ttf", "DejaVuSans-Oblique.ttf"):
        assert f'url("../fonts/{font}")' in css
    assert css.count('font-family: "DejaVu Sans"') >= 4  # body and every margin box
