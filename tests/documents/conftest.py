"""PDF text for the document tests (poppler's pdftotext)."""

from __future__ import annotations

import subprocess
from collections.abc import Callable
from pathlib import Path

import pytest


def pdf_text(data: bytes, tmp_path: Path, name: str = "doc", layout: bool = False) -> str:
    """The text of a PDF: in content order (a wrapped table cell stays in one piece), or
    with ``layout`` as it stands on the page."""
    assert data.startswith(b"%PDF-"), data[:200]
    path = tmp_path / f"{name}.pdf"
    path.write_bytes(data)
    mode = "-layout" if layout else "-raw"
    result = subprocess.run(
        ["pdftotext", mode, str(path), "-"], capture_output=True, check=True, text=True
    )
    return result.stdout


def squeeze(text: str) -> str:
    """Runs of spaces as one: table columns line up differently from page to page."""
    return " ".join(text.split())


@pytest.fixture
def pdf(tmp_path: Path) -> Callable[..., str]:
    def read(data: bytes, name: str = "doc", layout: bool = False) -> str:
        return pdf_text(data, tmp_path, name, layout)

    return read
