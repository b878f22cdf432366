"""What each API view takes and returns, declared once on the view.

A view declares its JSON body, query parameters and result as ``TypedDict`` classes with
``@operation(...)``. The same classes check the input (``read_body``, ``read_query``) and
describe it in the OpenAPI document (``fundapp.api.openapi``), so the two cannot drift.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from functools import cache
from typing import Annotated, Any, Generic, NotRequired, TypeVar, get_type_hints

from flask import request
from flask_babel import gettext as _
from pydantic import (
    BeforeValidator,
    ConfigDict,
    Field,
    TypeAdapter,
    ValidationError,
    WithJsonSchema,
    with_config,
)
from pydantic_core import PydanticCustomError
from typing_extensions import TypedDict

from fundapp.core.validation import MAX_ROW_ID, iso_day
from fundapp.domain.errors import ValidationFailed

__all__ = [
    "CSV",
    "DAY_PATTERN",
    "JSON",
    "PDF",
    "XLSX",
    "Day",
    "Id",
    "Money",
    "NotRequired",
    "Operation",
    "Page",
    "PageQuery",
    "PositiveMoney",
    "Rate",
    "Text",
    "Timestamp",
    "TypedDict",
    "fields_of",
    "operation",
    "read_body",
    "read_query",
    "strict",
]

F = TypeVar("F", bound=Callable[..., Any])
T = TypeVar("T")

JSON = "application/json"
PDF = "application/pdf"
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
CSV = "text/csv"

# The largest amount the fund could ever write: far above its capital, far below BigInteger.
MAX_DONG = 10**15
MAX_ID = MAX_ROW_ID
DAY_PATTERN = r"^[0-9]{4}-[0-9]{2}-[0-9]{2}$"

Money = Annotated[int, Field(ge=0, le=MAX_DONG, description="Whole đồng")]
PositiveMoney = Annotated[int, Field(gt=0, le=MAX_DONG, description="Whole đồng, above zero")]
Id = Annotated[int, Field(ge=1, le=MAX_ID)]
# [0-9], not \d: pydantic's patterns, like Python's, take any script's digits for \d.
Rate = Annotated[
    str,
    Field(pattern=r"^[0-9]{1,3}(\.[0-9]{1,6})?$", description='Percent a year, e.g. "7.2"'),
]
# No NUL: PostgreSQL cannot store it in a string.
Text = Annotated[str, Field(max_length=2000, pattern=r"^[^\x00]*$")]


def _iso_day(value: Any) -> Any:
    """A date written as text is ``YYYY-MM-DD`` (ASCII digits) and a real day: pydantic
    alone would also read a Unix time such as ``"1796601600"`` and, in a query string, a
    date and time."""
    if not isinstance(value, str):
        return value
    day = iso_day(value)
    if day is None:
        raise PydanticCustomError("date_format", "a date as YYYY-MM-DD")
    return day


# The dates the fund's records can hold (as fundapp.core.validation.iso_date reads them).
Day = Annotated[
    dt.date,
    BeforeValidator(_iso_day),
    Field(ge=dt.date(2000, 1, 1), le=dt.date(2100, 12, 31)),
    # As pydantic describes a plain date: the validator above would add its bounds as
    # keywords that are not JSON Schema's.
    WithJsonSchema({"type": "string", "format": "date"}),
]
Timestamp = Annotated[str, Field(description="UTC, ISO 8601 with Z")]

strict = with_config(ConfigDict(extra="forbid"))
"""Class decorator for a body: fields not declared are refused."""


@dataclass(frozen=True)
class Operation:
    body: Any = None
    query: Any = None
    form: Any = None
    returns: Any = None
    status: int = 200
    content: str = JSON
    errors: tuple[int, ...] = ()


def operation(
    *,
    body: Any = None,
    query: Any = None,
    form: Any = None,
    returns: Any = None,
    status: int = 200,
    content: str = JSON,
    errors: tuple[int, ...] = (),
) -> Callable[[F], F]:
    """Declares the view's input and result. ``returns=None`` with ``status=204`` is an
    empty answer; ``content`` other than JSON is a file (PDF, Excel, CSV)."""

    def decorator(view: F) -> F:
        view.openapi = Operation(  # type: ignore[attr-defined]
            body=body,
            query=query,
            form=form,
            returns=returns,
            status=status,
            content=content,
            errors=errors,
        )
        return view

    return decorator


class PageQuery(TypedDict, total=False):
    page: Annotated[int, Field(ge=1, le=1_000_000, description="From 1")]
    per_page: Annotated[int, Field(ge=1, le=200)]


class Page(TypedDict, Generic[T]):
    items: list[T]
    page: int
    per_page: int
    total: int


def fields_of(shape: Any) -> tuple[str, ...]:
    return tuple(get_type_hints(shape))


@cache
def _adapter(shape: Any) -> TypeAdapter:
    return TypeAdapter(shape)


def _message(error: dict[str, Any]) -> str:
    kind = error["type"]
    ctx = error.get("ctx") or {}
    if kind == "missing":
        return _("Bắt buộc.")
    if kind == "extra_forbidden":
        return _("Trường không được hỗ trợ.")
    if kind in ("int_type", "int_parsing", "int_from_float"):
        return _("Phải là số nguyên.")
    if kind in ("string_type", "str_type"):
        return _("Phải là chuỗi.")
    if kind in ("bool_type", "bool_parsing"):
        return _("Phải là true hoặc false.")
    if kind == "date_format":
        return _("Ngày không hợp lệ; ghi theo dạng YYYY-MM-DD (ví dụ 2026-12-07).")
    if kind.startswith("date"):
        return _("Ngày theo dạng YYYY-MM-DD.")
    if kind == "literal_error":
        return _("Giá trị không hợp lệ; một trong: %(v)s.", v=ctx.get("expected", ""))
    if kind == "greater_than":
        return _("Phải lớn hơn %(n)s.", n=ctx.get("gt", 0))
    if kind == "greater_than_equal":
        return _("Không được nhỏ hơn %(n)s.", n=ctx.get("ge", 0))
    if kind in ("less_than", "less_than_equal"):
        return _("Không được vượt quá %(n)s.", n=ctx.get("lt", ctx.get("le", 0)))
    if kind == "string_too_long":
        return _("Tối đa %(n)s ký tự.", n=ctx.get("max_length", 0))
    if kind == "string_pattern_mismatch":
        return _("Sai định dạng.")
    if kind in ("list_type", "too_long", "too_short"):
        return _("Danh sách không hợp lệ.")
    return _("Giá trị không hợp lệ.")


def _refuse(exc: ValidationError) -> ValidationFailed:
    fields: dict[str, str] = {}
    for error in exc.errors():
        name = ".".join(str(part) for part in error["loc"])[:50] or "body"
        fields.setdefault(name, _message(error))
    return ValidationFailed(_("Dữ liệu chưa hợp lệ, xin kiểm tra lại."), fields)


def read_body(shape: Any) -> dict[str, Any]:
    """The JSON body checked against ``shape``: types, bounds, no unknown fields.
    Dates come back as ``date`` objects; an empty body counts as ``{}``."""
    raw = request.get_data() or b"{}"
    try:
        data = _adapter(shape).validate_json(raw, strict=True)
    except ValidationError as exc:
        if any(e["type"] in ("json_invalid", "dict_type", "model_type") for e in exc.errors()):
            raise ValidationFailed(_("Nội dung yêu cầu phải là một đối tượng JSON.")) from None
        raise _refuse(exc) from None
    return dict(data)


def read_query(shape: Any) -> dict[str, Any]:
    """The query string checked against ``shape`` (lax: "12" is the integer 12)."""
    hints = get_type_hints(shape)
    unknown = sorted(set(request.args) - set(hints))
    if unknown:
        raise ValidationFailed(
            _("Tham số không được hỗ trợ: %(f)s", f=", ".join(unknown)[:200]),
            {name[:50]: _("Tham số không được hỗ trợ.") for name in unknown[:20]},
        )
    values = {key: request.args[key] for key in request.args if request.args[key] != ""}
    try:
        data = _adapter(shape).validate_python(values)
    except ValidationError as exc:
        raise _refuse(exc) from None
    return dict(data)
