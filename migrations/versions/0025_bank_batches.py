"""posting confirmed bank lines: the batch an accountant sends to posting and the director
approves (bank_batches), each line's batch, repayment (once) and posting error
(fundapp.banking.posting)

Revision ID: 0025
Revises: 0024
Create Date: 2026-12-11 01:00:00

"""

import sqlalchemy as sa
from alembic import op

import fundapp.core.db

# revision identifiers, used by Alembic.
revision = "0025"
down_revision = "0024"
branch_labels = None
depends_on = None

OLD_STATUSES = "('matched', 'unmatched', 'confirmed', 'ignored', 'duplicate')"
NEW_STATUSES = "('matched', 'unmatched', 'confirmed', 'ignored', 'duplicate', 'posted')"


def upgrade():
    op.create_table(
        "bank_batches",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("statement_id", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(length=10), nullable=False),
        sa.Column("needs_approval", sa.Boolean(), nullable=False),
        sa.Column("made_by_id", sa.Integer(), nullable=False),
        sa.Column("made_at", fundapp.core.db.UTCDateTime(), nullable=False),
        sa.Column("decided_by_id", sa.Integer(), nullable=True),
        sa.Column("decided_at", fundapp.core.db.UTCDateTime(), nullable=True),
        sa.Column("note", sa.String(length=500), nullable=False),
        sa.Column("lines", sa.Integer(), nullable=False),
        sa.Column("total", sa.BigInteger(), nullable=False),
        sa.Column("posted", sa.Integer(), nullable=False),
        sa.Column("posted_total", sa.BigInteger(), nullable=False),
        sa.Column("failed", sa.Integer(), nullable=False),
        sa.CheckConstraint(
            "lines >= 0 AND total >= 0 AND posted >= 0 AND posted_total >= 0 AND failed >= 0 "
            "AND posted + failed <= lines AND posted_total <= total",
            name=op.f("ck_bank_batches_counts"),
        ),
        sa.CheckConstraint(
            "decided_by_id IS NULL OR decided_by_id <> made_by_id",
            name=op.f("ck_bank_batches_four_eyes"),
        ),
        sa.CheckConstraint(
            "status = 'pending' OR decided_at IS NOT NULL", name=op.f("ck_bank_batches_decided")
        ),
        sa.CheckConstraint(
            "status IN ('pending', 'posted', 'rejected')", name=op.f("ck_bank_batches_status")
        ),
        sa.ForeignKeyConstraint(
            ["decided_by_id"],
            ["users.id"],
            name=op.f("fk_bank_batches_decided_by_id_users"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["made_by_id"],
            ["users.id"],
            name=op.f("fk_bank_batches_made_by_id_users"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["statement_id"],
            ["bank_statements.id"],
            name=op.f("fk_bank_batches_statement_id_bank_statements"),
            ondelete="RESTRICT",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_bank_batches")),
    )
    with op.batch_alter_table("bank_batches", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_bank_batches_statement_id"), ["statement_id"], unique=False
        )
    with op.batch_alter_table("bank_lines", schema=None) as batch_op:
        batch_op.add_column(sa.Column("batch_id", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("repayment_id", sa.Integer(), nullable=True))
        batch_op.add_column(
            sa.Column("post_error", sa.String(length=500), server_default="", nullable=False)
        )
        batch_op.create_index(batch_op.f("ix_bank_lines_batch_id"), ["batch_id"], unique=False)
        batch_op.create_unique_constraint(
            batch_op.f("uq_bank_lines_repayment_id"), ["repayment_id"]
        )
        batch_op.create_foreign_key(
            batch_op.f("fk_bank_lines_batch_id_bank_batches"),
            "bank_batches",
            ["batch_id"],
            ["id"],
            ondelete="RESTRICT",
        )
        batch_op.create_foreign_key(
            batch_op.f("fk_bank_lines_repayment_id_repayments"),
            "repayments",
            ["repayment_id"],
            ["id"],
            ondelete="RESTRICT",
        )
        batch_op.drop_constraint(batch_op.f("ck_bank_lines_status"), type_="check")
        batch_op.create_check_constraint(
            batch_op.f("ck_bank_lines_status"), f"status IN {NEW_STATUSES}"
        )
        batch_op.drop_constraint(batch_op.f("ck_bank_lines_matched_has_loan"), type_="check")
        batch_op.create_check_constraint(
            batch_op.f("ck_bank_lines_matched_has_loan"),
            "status NOT IN ('matched', 'confirmed', 'posted') OR loan_id IS NOT NULL",
        )
        batch_op.create_check_constraint(
            batch_op.f("ck_bank_lines_posted_has_repayment"),
            "(status = 'posted') = (repayment_id IS NOT NULL)",
        )
    with op.batch_alter_table("bank_lines", schema=None) as batch_op:
        batch_op.alter_column("post_error", server_default=None)


def downgrade():
    op.execute("UPDATE bank_lines SET status = 'confirmed' WHERE status = 'posted'")
    with op.batch_alter_table("bank_lines", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("ck_bank_lines_posted_has_repayment"), type_="check")
        batch_op.drop_constraint(batch_op.f("ck_bank_lines_matched_has_loan"), type_="check")
        batch_op.create_check_constraint(
            batch_op.f("ck_bank_lines_matched_has_loan"),
            "status NOT IN ('matched', 'confirmed') OR loan_id IS NOT NULL",
        )
        batch_op.drop_constraint(batch_op.f("ck_bank_lines_status"), type_="check")
        batch_op.create_check_constraint(
            batch_op.f("ck_bank_lines_status"), f"status IN {OLD_STATUSES}"
        )
        batch_op.drop_constraint(
            batch_op.f("fk_bank_lines_repayment_id_repayments"), type_="foreignkey"
        )
        batch_op.drop_constraint(
            batch_op.f("fk_bank_lines_batch_id_bank_batches"), type_="foreignkey"
        )
        batch_op.drop_constraint(batch_op.f("uq_bank_lines_repayment_id"), type_="unique")
        batch_op.drop_index(batch_op.f("ix_bank_lines_batch_id"))
        batch_op.drop_column("post_error")
        batch_op.drop_column("repayment_id")
        batch_op.drop_column("batch_id")
    with op.batch_alter_table("bank_batches", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_bank_batches_statement_id"))
    op.drop_table("bank_batches")
