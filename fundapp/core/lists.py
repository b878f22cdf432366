"""What every list page shares: search that ignores Vietnamese diacritics and case, the
Vietnamese alphabetical order, sortable columns and the Excel export of the filtered rows.

Search and order are the same on SQLite and PostgreSQL because both read keys computed here,
in Python, and stored beside the text (``search_key``, ``name_key``), kept up to date on
every ORM write by :class:`SearchKeyMixin`. Neither database's own collation or ``unaccent``
is used: SQLite has neither, and PostgreSQL's would depend on how the server was built.
"""

from __future__ import annotations

import io
import re
import unicodedata
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any, ClassVar
from zoneinfo import ZoneInfo

from flask import Response, current_app, request, url_for
from flask_babel import gettext as _
from openpyxl import Workbook
from openpyxl.styles import Font
from openpyxl.utils import get_column_letter
from sqlalchemy import Text, event
from sqlalchemy.orm import Mapped, mapped_column

from fundapp.core import validation

# --- folding: what a search compares -----------------------------------------------------------

_SPACES = re.compile(r"\s+")


def fold(text: str | None) -> str:
    """``text`` without diacritics, in lower case, its spaces collapsed: "Gà  Đồi" → "ga doi".

    Đ/đ is a letter of its own (no decomposition), folded to d by hand."""
    if not text:
        return ""
    decomposed = unicodedata.normalize("NFD", str(text).replace("đ", "d").replace("Đ", "D"))
    bare = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    return _SPACES.sub(" ", bare.casefold()).strip()


def search_text(*parts: str | None) -> str:
    """The stored key of several fields, separated so a search never matches across two."""
    return " | ".join(fold(p) for p in parts if p)


def contains(column: Any, q: str) -> Any:
    """``column`` (a stored folded key) holds the folded ``q``; ``%`` and ``_`` are plain."""
    return column.contains(fold(q), autoescape=True)


# --- the Vietnamese alphabetical order ---------------------------------------------------------

# The 29 letters of the Vietnamese alphabet, with f j w z of foreign words in their Latin
# places, as the CLDR "vi" collation orders them: letter by letter (no digraphs), so "Ch…"
# comes after every "C" + vowel, and Đ after D.
_ALPHABET = tuple("aăâbcdđeêfghijklmnoôơpqrstuưvwxyz")
# Primary weights: one character each, all above the separators and the digits.
_PRIMARY = {letter: chr(0x41 + i) for i, letter in enumerate(_ALPHABET)}
_WORD = "!"  # between words: "an b" before "anh"
_LEVEL = " "  # between the levels: below every primary weight
_OTHER = "~"  # a character outside the alphabet: after every letter
# Tone marks are secondary, in the CLDR "vi" order: none, huyền, hỏi, ngã, sắc, nặng.
_TONES = {"\u0300": "1", "\u0309": "2", "\u0303": "3", "\u0301": "4", "\u0323": "5"}


def vn_key(text: str | None) -> str:
    """A key whose plain (binary) order is the Vietnamese alphabetical order of ``text``:
    letters first (case and tone ignored), then tone marks, then case.

    an < Ánh < Cà phê < Chè < Dứa < Đào. Stored in a column compared byte by byte (``COLLATE
    "C"`` on PostgreSQL; SQLite's default), it sorts a list in the database."""
    primary: list[str] = []
    tones: list[str] = []
    cases: list[str] = []
    for ch in unicodedata.normalize("NFC", (text or "").strip()):
        parts = unicodedata.normalize("NFD", ch)
        base = "".join(p for p in parts if p not in _TONES)
        letter = unicodedata.normalize("NFC", base).lower()
        if letter in _PRIMARY:
            primary.append(_PRIMARY[letter])
            tones.append(next((_TONES[p] for p in parts if p in _TONES), "0"))
            cases.append("0" if ch == ch.lower() else "1")
        elif ch.isdigit() and ch.isascii():
            primary.append(ch)
        elif ch.isalnum():
            primary.append(_OTHER)
        elif primary and primary[-1] != _WORD:
            primary.append(_WORD)  # spaces and punctuation separate words
    while primary and primary[-1] == _WORD:
        primary.pop()
    return "".join(primary) + _LEVEL + "".join(tones) + _LEVEL + "".join(cases)


def vn_sorted(items: Iterable[Any], key: Callable[[Any], str | None]) -> list[Any]:
    """``items`` in the Vietnamese order of ``key(item)`` (for lists sorted in Python)."""
    return sorted(items, key=lambda item: vn_key(key(item)))


# Compared byte by byte on both databases: SQLite's default collation is binary already.
SortKey = Text().with_variant(Text(collation="C"), "postgresql")


class SearchKeyMixin:
    """A model with a stored folded ``search_key`` (of ``search_fields``) and, when
    ``name_field`` is set, a stored Vietnamese ``name_key``, both recomputed on every ORM
    insert or update. (Bulk ``insert()``/``update()`` statements bypass it: they must set
    the keys themselves.)"""

    search_fields: ClassVar[tuple[str, ...]] = ()
    name_field: ClassVar[str | None] = None

    search_key: Mapped[str] = mapped_column(Text, default="")

    def refresh_keys(self) -> None:
        self.search_key = search_text(*(getattr(self, f) for f in self.search_fields))
        if self.name_field:
            self.name_key = vn_key(getattr(self, self.name_field))  # type: ignore[attr-defined]


@event.listens_for(SearchKeyMixin, "before_insert", propagate=True)
@event.listens_for(SearchKeyMixin, "before_update", propagate=True)
def _refresh_keys(_mapper: Any, _connection: Any, target: SearchKeyMixin) -> None:
    target.refresh_keys()


# --- sortable columns --------------------------------------------------------------------------


@dataclass(frozen=True)
class Sort:
    """The list's order as asked: ``sort=`` one of the list's keys, ``dir=asc|desc``."""

    key: str
    descending: bool

    @property
    def dir(self) -> str:
        return "desc" if self.descending else "asc"

    def args(self) -> dict[str, str]:
        return {"sort": self.key, "dir": self.dir} if self.key else {}


def sort_arg(allowed: Iterable[str], default: str, descending: bool = False) -> Sort:
    """The ``sort``/``dir`` of the request; an unknown key falls back to the default, a
    missing or unknown direction to ascending (the default key: its own direction)."""
    key = request.args.get("sort", "")
    key = key if key in set(allowed) else default
    direction = request.args.get("dir", "")
    if direction in ("asc", "desc"):
        return Sort(key, direction == "desc")
    return Sort(key, descending if key == default else False)


def order_by(sort: Sort, columns: dict[str, Sequence[Any]], tiebreak: Any) -> list[Any]:
    """ORDER BY clauses: the chosen key's columns in its direction, then ``tiebreak``."""
    chosen = [c.desc() if sort.descending else c.asc() for c in columns[sort.key]]
    return [*chosen, tiebreak.desc() if sort.descending else tiebreak.asc()]


@dataclass(frozen=True)
class Listing:
    """What a list's template needs for its header links, pager and export link."""

    endpoint: str
    sort: Sort
    filters: dict[str, Any]
    view_args: dict[str, Any] | None = None

    def _args(self, **extra: Any) -> dict[str, Any]:
        args = {k: v for k, v in self.filters.items() if v not in (None, "", False)}
        return {**(self.view_args or {}), **args, **extra}

    def sort_url(self, key: str) -> str:
        """The list sorted by ``key``: ascending, or the other way if it already is."""
        descending = self.sort.key == key and not self.sort.descending
        return url_for(self.endpoint, **self._args(sort=key, dir="desc" if descending else "asc"))

    def aria_sort(self, key: str) -> str | None:
        if self.sort.key != key:
            return None
        return "descending" if self.sort.descending else "ascending"

    def export_url(self) -> str:
        return url_for(self.endpoint, **self._args(**self.sort.args(), format="xlsx"))

    def pager_args(self) -> dict[str, Any]:
        return self._args(**self.sort.args())


def date_range(errors: dict[str, str]) -> tuple[date | None, date | None]:
    """The ``from``/``to`` days of the request (dd/mm/yyyy or yyyy-mm-dd); a bad one is named
    in ``errors`` and ignored, a range the wrong way round as well."""
    start = validation.iso_date(request.args, "from", errors, required=False)
    end = validation.iso_date(request.args, "to", errors, required=False)
    if start and end and start > end:
        errors["to"] = _("Ngày cuối không được trước ngày đầu.")
        return start, None
    return start, end


def within(column: Any, start: date | None, end: date | None) -> list[Any]:
    """The conditions keeping ``column`` in [start, end] (a missing end is open)."""
    conditions = []
    if start:
        conditions.append(column >= start)
    if end:
        conditions.append(column <= end)
    return conditions


# --- Excel export ------------------------------------------------------------------------------

EXPORT_LIMIT = 50_000  # rows; a list longer than this is narrowed by its filters first
MONEY_FORMAT = "#,##0"
DATE_FORMAT = "dd/mm/yyyy"
DATETIME_FORMAT = "dd/mm/yyyy hh:mm"


@dataclass(frozen=True)
class Column:
    """A column of an export: its header and kind (``text``, ``money``, ``int``, ``date``,
    ``datetime``)."""

    header: str
    kind: str = "text"
    width: int = 18


def wants_xlsx() -> bool:
    return request.args.get("format") == "xlsx"


def _cell_value(value: Any, kind: str) -> Any:
    if value is None or value == "":
        return None
    if kind in ("money", "int"):
        return int(value)
    if kind == "datetime" and isinstance(value, datetime):
        if value.tzinfo is not None:  # shown in the fund's time zone, as on screen
            value = value.astimezone(ZoneInfo(current_app.config["FUNDAPP_TIMEZONE"]))
        return value.replace(tzinfo=None, second=0, microsecond=0)
    if kind == "date" and isinstance(value, datetime):
        return value.date()
    if kind == "date" and isinstance(value, date):
        return value
    return str(value)


def xlsx_bytes(title: str, columns: Sequence[Column], rows: Iterable[Sequence[Any]]) -> bytes:
    """A workbook of one sheet: a bold header row, then ``rows``; money as integers shown
    with thousand separators, dates as dates."""
    book = Workbook()
    sheet = book.active
    sheet.title = title[:31]
    sheet.append([c.header for c in columns])
    for cell in sheet[1]:
        cell.font = Font(bold=True)
    formats = {
        "money": MONEY_FORMAT,
        "int": "0",
        "date": DATE_FORMAT,
        "datetime": DATETIME_FORMAT,
    }
    for row in rows:
        sheet.append([_cell_value(v, c.kind) for v, c in zip(row, columns, strict=True)])
        for cell, column in zip(sheet[sheet.max_row], columns, strict=True):
            if column.kind in formats and cell.value is not None:
                cell.number_format = formats[column.kind]
    for i, column in enumerate(columns, start=1):
        sheet.column_dimensions[get_column_letter(i)].width = column.width
    sheet.freeze_panes = "A2"
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def xlsx_response(
    filename: str, title: str, columns: Sequence[Column], rows: Iterable[Sequence[Any]]
) -> Response:
    return Response(
        xlsx_bytes(title, columns, rows),
        mimetype="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        headers={"Content-Disposition": f'attachment; filename="{filename}.xlsx"'},
    )
