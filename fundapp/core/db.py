"""Column types (UTC timestamps, exact rates, money), the trigram indexes, and the bulk
helpers of the session (insert, upsert, IN lists in chunks).

The declarative base and its naming convention are ``fundapp.extensions``, which ``db``
is made from: this module sits above it and uses ``db`` directly."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import (
    DDL,
    BigInteger,
    Column,
    DateTime,
    Index,
    MetaData,
    String,
    Table,
    TypeDecorator,
    any_,
    bindparam,
    event,
    func,
    insert,
    literal_column,
    select,
    text,
)
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Mapped, Session, mapped_column
from sqlalchemy.schema import CreateTable

from fundapp.domain.dates import utcnow
from fundapp.extensions import Base, db


class UTCDateTime(TypeDecorator):
    """A timestamp stored in UTC and always returned timezone-aware (SQLite drops tzinfo)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value, dialect):  # type: ignore[no-untyped-def]
        if value is not None and value.tzinfo is None:
            raise ValueError("naive datetime; use fundapp.domain.dates.utcnow()")
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


# Substring search (``LIKE '%…%'``) on PostgreSQL reads trigram indexes; the extension
# ships with PostgreSQL and is trusted (PostgreSQL 13+): the database's owner may create it.
TRIGRAMS = DDL("CREATE EXTENSION IF NOT EXISTS pg_trgm").execute_if(dialect="postgresql")


def trigram_index(name: str, case: str, column: str) -> Index:
    """A GIN trigram index on ``case(column)`` (``upper`` or ``lower``; PostgreSQL only),
    for ``LIKE '%…%'``."""
    expression = getattr(func, case)(literal_column(column)).label(f"{column}_{case}")
    return Index(
        name,
        expression,
        postgresql_using="gin",
        postgresql_ops={f"{column}_{case}": "gin_trgm_ops"},
    ).ddl_if(dialect="postgresql")


event.listen(Base.metadata, "before_create", TRIGRAMS)


# SQLite: how long a transaction waits for the database's one write lock before it gives
# up ("database is locked", answered 503). Longer than any request or night's close of day
# holds it on a fund of this size.
SQLITE_BUSY_TIMEOUT_MS = 30_000
SQLITE_BEGIN = "BEGIN IMMEDIATE"


def serialise_sqlite(engine: Engine) -> None:
    """Make SQLite as safe as PostgreSQL for "check, then write": every transaction takes
    the database's write lock when it begins, so a whole transaction runs alone, as one
    holding PostgreSQL's row locks would (``with_for_update`` is ignored on SQLite).

    Left alone, the driver begins a transaction only at the first INSERT/UPDATE/DELETE:
    the reads that decided the write ran before it, outside any lock, and two requests
    could both see "not yet" and both write. Here the driver's own transaction handling is
    off (``isolation_level = None``) and SQLAlchemy's begin emits ``BEGIN IMMEDIATE``,
    which waits up to the busy timeout for the lock. Every transaction, not only those
    that will write: a GET may write too (every API request records its token's last
    use), and a read transaction that later writes cannot wait its turn under WAL: it fails
    at once when another wrote since it began. File databases use WAL, so readers outside
    the app (a backup) are never blocked.

    An in-memory database has one connection shared by every session of the process
    (Flask-SQLAlchemy's StaticPool); a session that begins while another has the
    connection in a transaction joins that transaction, as it did under the driver.
    """
    if engine.dialect.name != "sqlite":
        return

    @event.listens_for(engine, "connect")
    def _connect(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.isolation_level = None  # SQLAlchemy's begin emits BEGIN below
        cursor = dbapi_connection.cursor()
        try:
            cursor.execute("PRAGMA foreign_keys=ON")
            cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS:d}")
            # Readers do not wait for the writer; a memory database stays "memory".
            cursor.execute("PRAGMA journal_mode=WAL")
        finally:
            cursor.close()

    @event.listens_for(engine, "begin")
    def _begin(connection: Any) -> None:
        if not connection.connection.dbapi_connection.in_transaction:
            connection.exec_driver_sql(SQLITE_BEGIN)


class TimestampMixin:
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, nullable=False)


IN_LIST_CHUNK = 5000  # ids per IN list (PostgreSQL allows 65 535 parameters a statement)


def in_chunks(ids: list[int]) -> list[list[int]]:
    """``ids`` cut into lists short enough for one ``IN (…)`` each."""
    return [ids[n : n + IN_LIST_CHUNK] for n in range(0, len(ids), IN_LIST_CHUNK)]


def listen_to_sessions(**hooks: Any) -> None:
    """Register each ``event=function`` on every session, once per process however often
    the app is made (the kept tables of ``loans.book`` and ``loans.dues``)."""
    for name, fn in hooks.items():
        if not event.contains(Session, name, fn):
            event.listen(Session, name, fn)


def among(column: Any, ids: Any) -> Any:
    """``column IN ids`` for a chunk of :func:`in_chunks`. On PostgreSQL the ids go as one
    array parameter (``column = ANY(:ids)``): 5 000 separate parameters cost more to compile
    and to send than the query takes to run (about 40 ms a statement in the close of day)."""
    if db.engine.dialect.name == "postgresql":
        return column == any_(bindparam(None, list(ids), type_=ARRAY(column.type)))
    return column.in_(ids)


COPY_FROM = 500  # rows from which PostgreSQL gets them by COPY rather than INSERT … VALUES


def _copy(table: Any, columns: list[str], rows: list[dict[str, Any]]) -> None:
    """COPY ``rows`` into ``table`` (PostgreSQL), each value through its column's type."""
    dialect = db.engine.dialect
    processors = [table.c[c].type.bind_processor(dialect) for c in columns]
    cursor = db.session.connection().connection.driver_connection.cursor()
    names = ", ".join(f'"{c}"' for c in columns)
    with cursor.copy(f'COPY "{table.name}" ({names}) FROM STDIN') as copy:
        for row in rows:
            copy.write_row(
                [
                    (process(row.get(c)) if process else row.get(c))
                    for c, process in zip(columns, processors, strict=True)
                ]
            )


def bulk_insert(model: Any, rows: list[dict[str, Any]]) -> None:
    """INSERT ``rows`` of ``model`` (every row with the same keys): by COPY on PostgreSQL
    when there are many, otherwise one executemany."""
    if not rows:
        return
    table = model.__table__
    if db.engine.dialect.name == "postgresql" and len(rows) >= COPY_FROM:
        _copy(table, list(rows[0]), rows)
    else:
        db.session.execute(insert(table), rows)


def upsert(
    model: Any,
    rows: list[dict[str, Any]],
    keys: list[str],
    *,
    replace: tuple[str, ...] = (),
    add: tuple[str, ...] = (),
    returning: Any = None,
) -> list[Any]:
    """INSERT ``rows`` of ``model`` (every row with the same keys); on a conflict of
    ``keys`` overwrite the ``replace`` columns and add to the ``add`` columns, or skip the
    row when both are empty. With ``returning`` (a column), the values of the rows written.

    PostgreSQL, many rows: COPY into a temporary table, then one INSERT … SELECT … ON
    CONFLICT. Otherwise one executemany of a statement compiled once (SQLAlchemy batches it
    into multi-row VALUES); SQLite is the embedded database."""
    if not rows:
        return []
    table = model.__table__
    columns = list(rows[0])
    dialect_insert = pg_insert if db.engine.dialect.name == "postgresql" else sqlite_insert
    bulk = db.engine.dialect.name == "postgresql" and len(rows) >= COPY_FROM
    if bulk:
        staging = Table(
            f"staging_{table.name}",
            MetaData(),
            *[Column(c, table.c[c].type) for c in columns],
            prefixes=["TEMPORARY"],
            postgresql_on_commit="DROP",
        )
        db.session.execute(text(f'DROP TABLE IF EXISTS "{staging.name}"'))
        db.session.execute(CreateTable(staging))
        _copy(staging, columns, rows)
        statement = dialect_insert(table).from_select(
            columns, select(*[staging.c[c] for c in columns])
        )
    else:
        statement = dialect_insert(table)
    set_ = {c: statement.excluded[c] for c in replace}
    set_.update({c: table.c[c] + statement.excluded[c] for c in add})
    if set_:
        statement = statement.on_conflict_do_update(index_elements=keys, set_=set_)
    else:
        statement = statement.on_conflict_do_nothing(index_elements=keys)
    if returning is not None:
        statement = statement.returning(returning)
    result = db.session.execute(statement) if bulk else db.session.execute(statement, rows)
    return list(result.scalars()) if returning is not None else []


# --- loans changed in the transaction -----------------------------------------------------

TOUCHED_LOANS = "touched_loans"
TOUCHED_BALANCES = "touched_balances"


def touch_loans(loan_ids: Any, schedule: bool = True) -> None:
    """Note that the loans ``loan_ids`` changed in this transaction: the whole-book totals
    (``fundapp.loans.book``) recompute their rows before it commits. ``schedule``: their
    instalments may have changed too (what is owed and since when), not only their
    balances or columns. Postings note their loans themselves (balances only); a bulk
    UPDATE of loans or instalments outside the ORM notes them here."""
    key = TOUCHED_LOANS if schedule else TOUCHED_BALANCES
    db.session.info.setdefault(key, set()).update(int(i) for i in loan_ids if i is not None)
