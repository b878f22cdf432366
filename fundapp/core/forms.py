"""Glue between services' domain errors and WTForms forms."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from flask import flash, request
from flask_babel import gettext as _
from flask_wtf import FlaskForm

from fundapp.core.validation import digits, row_id
from fundapp.domain.errors import DomainError
from fundapp.extensions import db

T = TypeVar("T")


def apply_errors(form: FlaskForm, exc: DomainError) -> None:
    """Put each field message of ``exc`` under its field; the rest is flashed."""
    leftover = []
    for name, message in exc.fields.items():
        field = getattr(form, name, None)
        if field is not None and hasattr(field, "errors"):
            field.errors = [*list(field.errors or []), message]
        else:
            leftover.append(message)
    flash(exc.message, "error")
    for message in leftover:
        flash(message, "error")


@dataclass(frozen=True)
class Saved(Generic[T]):
    """What the service of a form's view returned, once committed."""

    value: T


def save(form: FlaskForm, service: Callable[[], T]) -> Saved[T] | None:
    """One unit of work of a form's view: call ``service`` and commit; on a
    ``DomainError`` roll back and show its messages on ``form`` (None: nothing saved)."""
    try:
        value = service()
    except DomainError as exc:
        db.session.rollback()
        apply_errors(form, exc)
        return None
    db.session.commit()
    return Saved(value)


def form_data(form: FlaskForm, names: tuple[str, ...] | list[str]) -> dict[str, Any]:
    """The raw submitted strings of ``names`` (services do the checking)."""
    return {name: request.form.get(name, "") for name in names if hasattr(form, name)}


def page_arg() -> int:
    raw = request.args.get("page", "1")
    return int(raw) if digits(raw) and 0 < int(raw) < 100_000 else 1


def id_arg(name: str, label: str) -> int | None:
    """A list page's filter by id, from the query string. A value no table can hold (not
    1 … 2^31 − 1 in the digits 0–9) is ignored with a message saying so, and the page shows
    the list unfiltered: PostgreSQL would refuse to compare it with an INTEGER column."""
    raw = request.args.get(name, "").strip()
    if not raw:
        return None
    value = row_id(raw)
    if value is None:
        flash(
            _("Bộ lọc «%(f)s» không hợp lệ (%(v)s) nên đã được bỏ qua.", f=label, v=raw[:20]),
            "warning",
        )
    return value
