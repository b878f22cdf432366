"""PDF rendering with WeasyPrint: plain data in, A4 bytes out, only the app's static files.

Usage: build a plain context (dicts, dataclasses of ints, dates and strings; no ORM objects),
write a template that starts with ``{% extends "documents/_base.html" %}`` and fills the
blocks ``title`` (also the PDF's <title>) and ``content`` (optionally ``styles`` for extra
CSS, and pass ``landscape=True`` for A4 landscape), then in a view::

    data = render_pdf("reports/fund_balance.html", report=report, landscape=True)
    return pdf_response(data, "bao-cao-nguon-von-2026-11-20.pdf")

Every page gets the fund's name and address (config FUNDAPP_NAME / FUNDAPP_ADDRESS) in the
header and "Trang x/y" with the print date in the footer. ``static/css/pdf.css`` (fonts,
page box, the shared classes ``num``, ``total``, ``data``, ``meta``…) is parsed once per
process and thread and applied to every document; ``templates/documents/_macros.html`` has
``national_heading()``, ``signature_blocks([(role title, name or ''), …])`` and
``place_date(day)``. In tables, ``{{ value|figure }}`` prints đồng without the unit
(``1.234.567``); ``|money``, ``|vndate`` and ``|rate`` work as on the pages. Images and
other resources can be referenced relative to static/ (``<img src="img/logo.png">``);
inline SVG is fine. The URL fetcher serves files under static/ only: anything else
(``file://`` outside it, ``http(s)://``, ``data:``…) stops the rendering with
:class:`ResourceRefused`.
"""

from __future__ import annotations

import gc
import logging
import mimetypes
import re
import threading
from collections.abc import Iterable
from pathlib import Path
from urllib.parse import unquote, urlsplit

import tinyhtml5.inputstream
from flask import Response, current_app, render_template
from markupsafe import Markup
from weasyprint import CSS, HTML
from weasyprint.text.fonts import FontConfiguration
from weasyprint.urls import FatalURLFetchingError, URLFetcher, URLFetcherResponse

PDF_STYLESHEET = "css/pdf.css"

# WeasyPrint logs every rendering step at INFO; only its warnings belong in the app's log.
logging.getLogger("weasyprint.progress").setLevel(logging.WARNING)


class _CharsUntilPatterns(dict[tuple[Iterable[str], bool], re.Pattern[str]]):
    """The patterns of tinyhtml5's ``HTMLUnicodeInputStream.chars_until``, built once each.

    tinyhtml5 2.1 stores each pattern it builds under the wrong key (a chained assignment
    rebinds ``characters`` to the pattern before the key is made), so it never finds one and
    builds it again for every run of text: about half of the parse of a long statement.
    Built here on a miss, with tinyhtml5's own expression, its ``except KeyError`` never runs.
    """

    def __missing__(self, key: tuple[Iterable[str], bool]) -> re.Pattern[str]:
        characters, opposite = key
        chars = "".join(f"\\x{ord(char):02x}" for char in characters)
        pattern = re.compile(f"[{chars}]+" if opposite else f"[^{chars}]+")
        self[key] = pattern
        return pattern


if type(getattr(tinyhtml5.inputstream, "characters_until_regex", None)) is dict:
    tinyhtml5.inputstream.characters_until_regex = _CharsUntilPatterns()


class ResourceRefused(ValueError):
    """A document asked for a resource outside the app's static files."""


class StaticOnlyFetcher(URLFetcher):
    """Serves ``file://`` URLs that resolve inside ``root`` and refuses everything else."""

    def __init__(self, root: Path) -> None:
        super().__init__(allowed_protocols={"file"}, fail_on_errors=True)
        self.root = root.resolve()

    @property
    def base_url(self) -> str:
        return self.root.as_uri() + "/"

    def resolve(self, url: str) -> Path:
        parts = urlsplit(url)
        if parts.scheme != "file" or parts.netloc not in ("", "localhost"):
            raise ResourceRefused(f"PDF resources must be static files, not {url[:80]!r}")
        try:
            path = Path(unquote(parts.path)).resolve()
            inside = path.is_relative_to(self.root) and path.is_file()
        except (OSError, ValueError):  # a NUL byte, a name too long for the system…
            inside = False
        if not inside:
            raise ResourceRefused(f"not a file under the static folder: {url[:80]!r}")
        return path

    def fetch(self, url: str, headers: dict | None = None) -> URLFetcherResponse:
        path = self.resolve(url)
        mime = mimetypes.guess_type(path.name)[0] or "application/octet-stream"
        return URLFetcherResponse(path.as_uri(), path.read_bytes(), headers={"Content-Type": mime})


class _Renderer:
    """The fetcher, font configuration and parsed stylesheet, built once and reused."""

    def __init__(self, static_root: Path) -> None:
        self.fetcher = StaticOnlyFetcher(static_root)
        self.font_config = FontConfiguration()
        self.stylesheet = CSS(
            filename=str(self.fetcher.root / PDF_STYLESHEET),
            base_url=self.fetcher.base_url + PDF_STYLESHEET,
            url_fetcher=self.fetcher,
            font_config=self.font_config,
        )

    def write(self, html: str) -> bytes:
        document = HTML(string=html, base_url=self.fetcher.base_url, url_fetcher=self.fetcher)
        return document.write_pdf(stylesheets=[self.stylesheet], font_config=self.font_config)


_local = threading.local()


def static_root() -> Path:
    return Path(current_app.static_folder or "static").resolve()


def _renderer() -> _Renderer:
    root = static_root()
    renderer: _Renderer | None = getattr(_local, "renderer", None)
    if renderer is None or renderer.fetcher.root != root:
        renderer = _Renderer(root)
        _local.renderer = renderer
    return renderer


def static_fetcher() -> StaticOnlyFetcher:
    return _renderer().fetcher


def render_pdf(template: str, **context: object) -> bytes:
    """Render a template extending ``documents/_base.html`` to PDF bytes."""
    return html_to_pdf(render_template(template, **context))


def html_to_pdf(html: str) -> bytes:
    """PDF bytes of an HTML document, with the shared stylesheet and the static fetcher."""
    # WeasyPrint builds hundreds of thousands of short-lived, acyclic objects per document;
    # the cycle collector walking them repeatedly costs about a fifth of the render.
    collecting = gc.isenabled()
    gc.disable()
    try:
        return _renderer().write(html)
    except FatalURLFetchingError as exc:
        raise ResourceRefused(str(exc.__cause__ or exc)) from exc
    finally:
        if collecting:
            gc.enable()


def css_string(value: object) -> Markup:
    """A quoted CSS string literal of ``value``, safe inside a <style> element."""
    text = str(value)
    for char, escape in (("\\", "\\5C "), ('"', "\\22 "), ("<", "\\3C "), ("\n", "\\A ")):
        text = text.replace(char, escape)
    return Markup(f'"{text}"')  # noqa: S704 (quotes, backslashes and < escaped above)


def pdf_response(data: bytes, filename: str, inline: bool = True) -> Response:
    """A PDF download: ``inline`` opens it in the browser, otherwise it is saved."""
    response = Response(data, mimetype="application/pdf")
    response.headers.set(
        "Content-Disposition", "inline" if inline else "attachment", filename=filename
    )
    response.headers["Cache-Control"] = "no-store"
    return response
