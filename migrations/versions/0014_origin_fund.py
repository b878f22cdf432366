"""origin fund of cooperatives, loans and capital entries; allocation order per contract

The ``funds`` table gets this fund as its one own row. Records keep ``origin_fund_id``
NULL for this fund, so existing data needs no update. Contract numbers become unique per
origin fund: (origin_fund_id, contract_no), plus a partial unique index on this fund's
(NULL origin) numbers, since a NULL never equals another in a unique constraint.
The allocation order per contract is ``loans.repayment_order``, which exists already.

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-07 08:30:00

"""

import sqlalchemy as sa
from alembic import op

revision = "0014"
down_revision = "0013"
branch_labels = None
depends_on = None

OWN_CODE = "QUY"
ORIGIN_TABLES = ("cooperatives", "loans", "capital_entries")


def _own_name() -> str:
    try:
        from flask import current_app

        return str(current_app.config.get("FUNDAPP_NAME") or OWN_CODE)[:200]
    except RuntimeError:  # outside the app (plain alembic)
        return OWN_CODE


def upgrade():
    funds = op.create_table(
        "funds",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("code", sa.String(length=20), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("note", sa.Text(), nullable=False),
        sa.Column("is_own", sa.Boolean(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_funds")),
        sa.UniqueConstraint("code", name=op.f("uq_funds_code")),
    )
    op.create_index(
        "uq_funds_own",
        "funds",
        ["is_own"],
        unique=True,
        postgresql_where=sa.text("is_own"),
        sqlite_where=sa.text("is_own"),
    )
    from datetime import UTC, datetime

    op.bulk_insert(
        funds,
        [
            {
                "code": OWN_CODE,
                "name": _own_name(),
                "note": "",
                "is_own": True,
                "created_at": datetime.now(UTC),
            }
        ],
    )
    for table in ORIGIN_TABLES:
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.add_column(sa.Column("origin_fund_id", sa.Integer(), nullable=True))
            batch_op.create_index(f"ix_{table}_origin_fund_id", ["origin_fund_id"], unique=False)
            batch_op.create_foreign_key(
                f"fk_{table}_origin_fund_id_funds",
                "funds",
                ["origin_fund_id"],
                ["id"],
                ondelete="RESTRICT",
            )
    with op.batch_alter_table("loans", schema=None) as batch_op:
        batch_op.drop_constraint("uq_loans_contract_no", type_="unique")
        batch_op.create_unique_constraint(
            "uq_loans_origin_fund_id", ["origin_fund_id", "contract_no"]
        )
    op.create_index(
        "uq_loans_own_contract_no",
        "loans",
        ["contract_no"],
        unique=True,
        postgresql_where=sa.text("origin_fund_id IS NULL"),
        sqlite_where=sa.text("origin_fund_id IS NULL"),
    )


def downgrade():
    # Refused while a book taken over is here: its contract numbers may repeat this fund's.
    bind = op.get_bind()
    taken_over = bind.execute(
        sa.text("SELECT COUNT(*) FROM loans WHERE origin_fund_id IS NOT NULL")
    ).scalar()
    if taken_over:
        raise RuntimeError(
            "loans of another origin fund exist; their contract numbers may collide with "
            "this fund's: downgrade refused"
        )
    op.drop_index("uq_loans_own_contract_no", table_name="loans")
    with op.batch_alter_table("loans", schema=None) as batch_op:
        batch_op.drop_constraint("uq_loans_origin_fund_id", type_="unique")
        batch_op.create_unique_constraint("uq_loans_contract_no", ["contract_no"])
    for table in reversed(ORIGIN_TABLES):
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.drop_constraint(f"fk_{table}_origin_fund_id_funds", type_="foreignkey")
            batch_op.drop_index(f"ix_{table}_origin_fund_id")
            batch_op.drop_column("origin_fund_id")
    op.drop_index("uq_funds_own", table_name="funds")
    op.drop_table("funds")
