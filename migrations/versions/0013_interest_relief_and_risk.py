"""interest exemption and reduction, risk handling with the provision and removal from
off-balance tracking

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-07 08:30:00

"""

import sqlalchemy as sa
from alembic import op

import fundapp.core.db

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None

STATUSES_BEFORE = "'approved', 'contracted', 'active', 'closed', 'written_off', 'cancelled'"
STATUSES_AFTER = (
    "'approved', 'contracted', 'active', 'closed', 'written_off', 'removed', 'cancelled'"
)


def _decision_columns() -> list:
    return [
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("approved_by_id", sa.Integer(), nullable=True),
        sa.Column("decided_at", fundapp.core.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("decision_note", sa.Text(), nullable=False),
        sa.Column("journal_entry_id", sa.Integer(), nullable=True),
        sa.Column("created_at", fundapp.core.db.UTCDateTime(timezone=True), nullable=False),
    ]


def _foreign_keys(table: str, maker: str) -> list:
    return [
        sa.ForeignKeyConstraint(
            ["loan_id"], ["loans.id"], name=op.f(f"fk_{table}_loan_id_loans"), ondelete="RESTRICT"
        ),
        sa.ForeignKeyConstraint(
            [maker], ["users.id"], name=op.f(f"fk_{table}_{maker}_users"), ondelete="SET NULL"
        ),
        sa.ForeignKeyConstraint(
            ["approved_by_id"],
            ["users.id"],
            name=op.f(f"fk_{table}_approved_by_id_users"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["journal_entry_id"],
            ["journal_entries.id"],
            name=op.f(f"fk_{table}_journal_entry_id_journal_entries"),
            ondelete="RESTRICT",
        ),
        sa.CheckConstraint(
            "status IN ('pending', 'approved', 'rejected')", name=op.f(f"ck_{table}_status")
        ),
        sa.CheckConstraint(
            f"approved_by_id IS NULL OR approved_by_id <> {maker}",
            name=op.f(f"ck_{table}_maker_checker"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f(f"pk_{table}")),
    ]


def _indexes(table: str) -> None:
    with op.batch_alter_table(table, schema=None) as batch_op:
        batch_op.create_index(batch_op.f(f"ix_{table}_loan_id"), ["loan_id"], unique=False)
        batch_op.create_index(
            f"ix_{table}_pending",
            ["id"],
            unique=False,
            postgresql_where=sa.text("status = 'pending'"),
            sqlite_where=sa.text("status = 'pending'"),
        )


def upgrade():
    op.create_table(
        "interest_reliefs",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("loan_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("reason_code", sa.String(length=20), nullable=False),
        sa.Column("interest", sa.BigInteger(), nullable=False),
        sa.Column("penalty", sa.BigInteger(), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("evidence", sa.Text(), nullable=False),
        sa.Column("requested_on", sa.Date(), nullable=False),
        sa.Column("requested_by_id", sa.Integer(), nullable=True),
        sa.Column("effective_date", sa.Date(), nullable=True),
        sa.Column("allocations", sa.JSON(), nullable=False),
        *_decision_columns(),
        sa.CheckConstraint(
            "kind IN ('exemption', 'reduction')", name=op.f("ck_interest_reliefs_kind")
        ),
        sa.CheckConstraint(
            "reason_code IN ('unable_to_pay', 'other')",
            name=op.f("ck_interest_reliefs_reason_code"),
        ),
        sa.CheckConstraint(
            "interest >= 0 AND penalty >= 0 AND interest + penalty > 0",
            name=op.f("ck_interest_reliefs_amount_positive"),
        ),
        *_foreign_keys("interest_reliefs", "requested_by_id"),
    )
    _indexes("interest_reliefs")

    op.create_table(
        "off_balance_removals",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("loan_id", sa.Integer(), nullable=False),
        sa.Column("write_off_id", sa.Integer(), nullable=False),
        sa.Column("amount", sa.BigInteger(), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("proposed_by_id", sa.Integer(), nullable=True),
        sa.Column("removed_on", sa.Date(), nullable=True),
        *_decision_columns(),
        sa.CheckConstraint("amount >= 0", name=op.f("ck_off_balance_removals_amount_not_negative")),
        sa.ForeignKeyConstraint(
            ["write_off_id"],
            ["write_offs.id"],
            name=op.f("fk_off_balance_removals_write_off_id_write_offs"),
            ondelete="RESTRICT",
        ),
        *_foreign_keys("off_balance_removals", "proposed_by_id"),
    )
    _indexes("off_balance_removals")

    # What a relief waived on each instalment (included in its paid columns: settled).
    with op.batch_alter_table("instalments", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column(
                "interest_waived", sa.BigInteger(), server_default=sa.text("0"), nullable=False
            )
        )
        batch_op.add_column(
            sa.Column(
                "penalty_waived", sa.BigInteger(), server_default=sa.text("0"), nullable=False
            )
        )

    # A risk-handled loan removed from off-balance tracking (xuất toán) gets its own status.
    with op.batch_alter_table("loans", schema=None) as batch_op:
        batch_op.drop_constraint(op.f("ck_loans_status"), type_="check")
        batch_op.create_check_constraint(op.f("ck_loans_status"), f"status IN ({STATUSES_AFTER})")


def downgrade():
    # A removed loan goes back to its risk-handled status, tracked off-balance no more.
    op.execute("UPDATE loans SET status = 'written_off' WHERE status = 'removed'")
    with op.batch_alter_table("loans", schema=None) as batch_op:
        batch_op.drop_constraint(op.f("ck_loans_status"), type_="check")
        batch_op.create_check_constraint(op.f("ck_loans_status"), f"status IN ({STATUSES_BEFORE})")
    with op.batch_alter_table("instalments", schema=None) as batch_op:
        batch_op.drop_column("penalty_waived")
        batch_op.drop_column("interest_waived")
    for table in ("off_balance_removals", "interest_reliefs"):
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.drop_index(f"ix_{table}_pending")
            batch_op.drop_index(batch_op.f(f"ix_{table}_loan_id"))
        op.drop_table(table)
