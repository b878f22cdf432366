"""Bulk loading through PostgreSQL COPY (psycopg 3), in the caller's transaction.

Rows are written in COPY's text format. Columns the generator does not give are left to
the database when they are nullable or have a server default; a NOT NULL column with only a
Python-side default (``default=0``, ``default=utcnow``…) gets that default, computed once,
so a column added to a model later does not break the generator. A NOT NULL column with no
default at all is an error naming it.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import JSON, Table, TypeDecorator
from sqlalchemy.engine import Connection

_ESCAPES = str.maketrans({"\\": "\\\\", "\t": "\\t", "\n": "\\n", "\r": "\\r"})
NULL = "\\N"


def text(value: Any) -> str:
    """One value in COPY text format."""
    if value is None:
        return NULL
    if isinstance(value, bool):
        return "t" if value else "f"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, (date, datetime)):
        return value.isoformat()
    if isinstance(value, Decimal):
        return format(value.normalize(), "f")
    if isinstance(value, (dict, list, tuple)):
        return json.dumps(value, ensure_ascii=False).translate(_ESCAPES)
    return str(value).translate(_ESCAPES)


def column_text(column: Any, value: Any, dialect: Any) -> str:
    """A value of ``column`` as the app would bind it (type decorators, JSON)."""
    if value is None:
        return NULL
    kind = column.type
    if isinstance(kind, TypeDecorator):
        value = kind.process_bind_param(value, dialect)
    if isinstance(kind, JSON):
        return json.dumps(value, ensure_ascii=False).translate(_ESCAPES)
    return text(value)


def _python_default(column: Any) -> Any:
    default = column.default
    if default is None:
        return None
    if default.is_callable:
        return default.arg(None)
    if default.is_scalar:
        return default.arg
    return None


class CopyTable:
    """COPY into ``table`` with ``columns`` given per row and the rest defaulted."""

    def __init__(self, table: Table, columns: list[str], dialect: Any) -> None:
        missing = [c for c in columns if c not in table.c]
        if missing:
            raise RuntimeError(f"{table.name}: no column {', '.join(missing)} in the model")
        self.table = table
        self.dialect = dialect
        self.given = [table.c[c] for c in columns]
        extra = []
        for column in table.columns:
            if column.name in columns or column.nullable or column.server_default is not None:
                continue
            serial = column.primary_key and column.autoincrement in (True, "auto")
            if serial and len(table.primary_key.columns) == 1:
                continue  # the sequence numbers it
            value = _python_default(column)
            if value is None:
                raise RuntimeError(
                    f"{table.name}.{column.name} is NOT NULL without a default; "
                    "the benchmark generator must be taught what to put there"
                )
            extra.append((column, value))
        self.columns = [*columns, *(c.name for c, _ in extra)]
        self.suffix = "".join("\t" + column_text(c, v, dialect) for c, v in extra)
        names = ", ".join(f'"{c}"' for c in self.columns)
        self.sql = f'COPY "{table.name}" ({names}) FROM STDIN'

    def line(self, values: Iterable[Any]) -> str:
        """One row from Python values, formatted by column type (slow path)."""
        body = "\t".join(
            column_text(c, v, self.dialect) for c, v in zip(self.given, values, strict=True)
        )
        return body + self.suffix + "\n"

    def fragment(self, values: Iterable[Any], columns: list[str]) -> str:
        """Part of a row (the named given columns, tab-joined), for precomputed rows."""
        return "\t".join(
            column_text(self.table.c[name], v, self.dialect)
            for name, v in zip(columns, values, strict=True)
        )


def copy_lines(connection: Connection, target: CopyTable, lines: Iterable[str]) -> int:
    """Stream text lines (each ending in the suffix and a newline) into one COPY."""
    raw = connection.connection.driver_connection
    count = 0
    buffer: list[str] = []
    size = 0
    with raw.cursor() as cursor, cursor.copy(target.sql) as copy:
        for line in lines:
            buffer.append(line)
            size += len(line)
            count += 1
            if size > 4_000_000:
                copy.write("".join(buffer).encode())
                buffer, size = [], 0
        if buffer:
            copy.write("".join(buffer).encode())
    return count
