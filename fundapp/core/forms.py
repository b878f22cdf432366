"""Glue between services' domain errors and WTForms forms."""

from __future__ import annotations

from typing import Any

from flask import flash, request
from flask_wtf import FlaskForm

from fundapp.core.errors import DomainError


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


def form_data(form: FlaskForm, names: tuple[str, ...] | list[str]) -> dict[str, Any]:
    """The raw submitted strings of ``names`` (services do the checking)."""
    return {name: request.form.get(name, "") for name in names if hasattr(form, name)}


def page_arg() -> int:
    raw = request.args.get("page", "1")
    return int(raw) if raw.isdigit() and 0 < int(raw) < 100_000 else 1
