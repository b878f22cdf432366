"""loan list: trigram indexes for the search (PostgreSQL), loans by borrower and by status
with their ids, pending approvals

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-07 00:40:00

"""
import logging

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None

log = logging.getLogger("alembic.runtime.migration")

TRIGRAMS = (
    ("ix_loans_contract_no_trgm", "loans", "upper(contract_no)"),
    ("ix_loans_project_name_trgm", "loans", "lower(project_name)"),
    ("ix_cooperatives_name_trgm", "cooperatives", "lower(name)"),
)
PENDING = ("disbursements", "reversals", "restructurings", "write_offs")


def upgrade():
    bind = op.get_bind()
    if bind.dialect.name == "postgresql":
        # pg_trgm ships with PostgreSQL and is trusted: the database's owner may create it.
        # Without it the search still works, by reading every row.
        try:
            with bind.begin_nested():
                op.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
        except sa.exc.DBAPIError as exc:
            log.warning("pg_trgm not available (%s); the search reads every row", exc.orig)
        else:
            for name, table, expression in TRIGRAMS:
                op.execute(f"CREATE INDEX {name} ON {table} USING gin ({expression} gin_trgm_ops)")
    with op.batch_alter_table("loans", schema=None) as batch_op:
        batch_op.drop_index("ix_loans_cooperative_id")
        batch_op.drop_index("ix_loans_status")
        batch_op.create_index("ix_loans_cooperative_id_status", ["cooperative_id", "status", "id"])
        batch_op.create_index("ix_loans_status_id", ["status", "id"])
    for table in PENDING:
        op.create_index(
            f"ix_{table}_pending",
            table,
            ["id"],
            postgresql_where=sa.text("status = 'pending'"),
            sqlite_where=sa.text("status = 'pending'"),
        )


def downgrade():
    for table in PENDING:
        op.drop_index(f"ix_{table}_pending", table_name=table)
    with op.batch_alter_table("loans", schema=None) as batch_op:
        batch_op.drop_index("ix_loans_status_id")
        batch_op.drop_index("ix_loans_cooperative_id_status")
        batch_op.create_index("ix_loans_status", ["status"])
        batch_op.create_index("ix_loans_cooperative_id", ["cooperative_id"])
    if op.get_bind().dialect.name == "postgresql":
        for name, _table, _expression in TRIGRAMS:
            op.execute(f"DROP INDEX IF EXISTS {name}")
