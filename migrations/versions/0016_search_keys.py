"""search keys: folded search text and Vietnamese sort keys (fundapp.core.lists)

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-07 09:30:00

"""

import logging

import sqlalchemy as sa
from alembic import op

from fundapp.core.lists import search_text, vn_key

revision = "0016"
down_revision = "0015"
branch_labels = None
depends_on = None

log = logging.getLogger("alembic.runtime.migration")

# table: (the fields folded into search_key, the field whose vn_key is name_key or None)
KEYED = {
    "cooperatives": (("name", "registration_no", "tax_code", "representative"), "name"),
    "users": (("username", "full_name", "email"), "full_name"),
    "loans": (("contract_no", "project_name"), None),
    "applications": (("project_name",), None),
    "capital_entries": (("source_name", "reference", "note"), None),
    "related_groups": (("name",), None),
}
TRIGRAMS = (
    ("ix_cooperatives_search_key_trgm", "cooperatives"),
    ("ix_loans_search_key_trgm", "loans"),
)


def _sort_key() -> sa.types.TypeEngine:
    return sa.Text().with_variant(sa.Text(collation="C"), "postgresql")


def upgrade():
    bind = op.get_bind()
    for table, (fields, name_field) in KEYED.items():
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.add_column(
                sa.Column("search_key", sa.Text(), nullable=False, server_default="")
            )
            if name_field:
                batch_op.add_column(
                    sa.Column("name_key", _sort_key(), nullable=False, server_default="")
                )
                batch_op.create_index(f"ix_{table}_name_key", ["name_key"], unique=False)
        columns = ", ".join(("id", *fields))
        rows = bind.execute(sa.text(f"SELECT {columns} FROM {table}")).mappings()  # noqa: S608 constants.all()
        for row in rows:
            values = {"id": row["id"], "search_key": search_text(*(row[f] for f in fields))}
            sets = "search_key = :search_key"
            if name_field:
                name = row[name_field] or (row["username"] if table == "users" else "")
                values["name_key"] = vn_key(name)
                sets += ", name_key = :name_key"
            update = f"UPDATE {table} SET {sets} WHERE id = :id"  # noqa: S608 constant names
            bind.execute(sa.text(update), values)
    if bind.dialect.name == "postgresql":
        try:
            with bind.begin_nested():
                op.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
        except sa.exc.DBAPIError as exc:
            log.warning("pg_trgm not available (%s); the search reads every row", exc.orig)
        else:
            for name, table in TRIGRAMS:
                op.execute(
                    f"CREATE INDEX {name} ON {table} USING gin (lower(search_key) gin_trgm_ops)"
                )


def downgrade():
    if op.get_bind().dialect.name == "postgresql":
        for name, _table in TRIGRAMS:
            op.execute(f"DROP INDEX IF EXISTS {name}")
    for table, (_fields, name_field) in KEYED.items():
        with op.batch_alter_table(table, schema=None) as batch_op:
            if name_field:
                batch_op.drop_index(f"ix_{table}_name_key")
                batch_op.drop_column("name_key")
            batch_op.drop_column("search_key")
