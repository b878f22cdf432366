"""Declarative base with a naming convention so migrations are stable."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import BigInteger, DateTime, MetaData, String, TypeDecorator
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from fundapp.core.dates import utcnow

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class UTCDateTime(TypeDecorator):
    """A timestamp stored in UTC and always returned timezone-aware (SQLite drops tzinfo)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value, dialect):  # type: ignore[no-untyped-def]
        if value is not None and value.tzinfo is None:
            raise ValueError("naive datetime; use fundapp.core.dates.utcnow()")
        return value

    def process_result_value(self, value, dialect):  # type: ignore[no-untyped-def]

        if value is not None and value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value


class Rate(TypeDecorator):
    """A Decimal stored as text: exact on SQLite and PostgreSQL alike."""

    impl = String(16)
    cache_ok = True

    def process_bind_param(self, value: Any, dialect: Any) -> str | None:
        if value is None:
            return None
        if isinstance(value, float):
            raise TypeError("rates are Decimal, never float")
        return format(Decimal(value).normalize(), "f")

    def process_result_value(self, value: Any, dialect: Any) -> Decimal | None:
        return None if value is None else Decimal(value)


Money = BigInteger  # whole đồng; never Numeric (SQLite would go through float)


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


class TimestampMixin:
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, nullable=False)


def upsert(
    model: Any,
    rows: list[dict[str, Any]],
    keys: list[str],
    *,
    replace: tuple[str, ...] = (),
    add: tuple[str, ...] = (),
    returning: Any = None,
) -> list[Any]:
    """INSERT ``rows`` of ``model``; on a conflict of ``keys`` overwrite the ``replace``
    columns and add to the ``add`` columns, or skip the row when both are empty.

    One executemany of a statement compiled once (SQLAlchemy batches it into multi-row
    VALUES), in the session's dialect: PostgreSQL in production, SQLite embedded. With
    ``returning`` (a column), the values of the rows written."""
    from fundapp.extensions import db

    if not rows:
        return []
    if db.engine.dialect.name == "postgresql":
        from sqlalchemy.dialects.postgresql import insert
    else:
        from sqlalchemy.dialects.sqlite import insert
    table = model.__table__
    statement = insert(table)
    set_ = {c: statement.excluded[c] for c in replace}
    set_.update({c: table.c[c] + statement.excluded[c] for c in add})
    if set_:
        statement = statement.on_conflict_do_update(index_elements=keys, set_=set_)
    else:
        statement = statement.on_conflict_do_nothing(index_elements=keys)
    if returning is None:
        db.session.execute(statement, rows)
        return []
    result = db.session.execute(statement.returning(returning), rows)
    return list(result.scalars())
