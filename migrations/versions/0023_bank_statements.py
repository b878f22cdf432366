"""bank statements of the collection account: each import (bank_statements), its credit
lines with the loan each was matched to (bank_lines, unique per bank and transaction id)
and the column mapping saved per bank (bank_mappings; fundapp.banking)

Revision ID: 0023
Revises: 0022
Create Date: 2026-12-09 01:00:00

"""

import sqlalchemy as sa
from alembic import op

import fundapp.core.db

# revision identifiers, used by Alembic.
revision = "0023"
down_revision = "0022"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "bank_mappings",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("bank", sa.String(length=20), nullable=False),
        sa.Column("date_column", sa.String(length=80), nullable=False),
        sa.Column("credit_column", sa.String(length=80), nullable=False),
        sa.Column("debit_column", sa.String(length=80), nullable=False),
        sa.Column("description_column", sa.String(length=80), nullable=False),
        sa.Column("txn_id_column", sa.String(length=80), nullable=False),
        sa.Column("payer_column", sa.String(length=80), nullable=False),
        sa.Column("payer_account_column", sa.String(length=80), nullable=False),
        sa.Column("date_format", sa.String(length=20), nullable=False),
        sa.Column("header_row", sa.Integer(), nullable=False),
        sa.Column("updated_by_id", sa.Integer(), nullable=True),
        sa.Column("created_at", fundapp.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "header_row >= 1 AND header_row <= 50", name=op.f("ck_bank_mappings_header_row")
        ),
        sa.ForeignKeyConstraint(
            ["updated_by_id"],
            ["users.id"],
            name=op.f("fk_bank_mappings_updated_by_id_users"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_bank_mappings")),
        sa.UniqueConstraint("bank", name=op.f("uq_bank_mappings_bank")),
    )
    op.create_table(
        "bank_statements",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("bank", sa.String(length=20), nullable=False),
        sa.Column("filename", sa.String(length=255), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("uploaded_by_id", sa.Integer(), nullable=True),
        sa.Column("uploaded_at", fundapp.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("first_date", sa.Date(), nullable=True),
        sa.Column("last_date", sa.Date(), nullable=True),
        sa.Column("rows_read", sa.Integer(), nullable=False),
        sa.Column("credits", sa.Integer(), nullable=False),
        sa.Column("debits", sa.Integer(), nullable=False),
        sa.Column("duplicates", sa.Integer(), nullable=False),
        sa.Column("matched", sa.Integer(), nullable=False),
        sa.Column("unmatched", sa.Integer(), nullable=False),
        sa.CheckConstraint(
            "rows_read >= 0 AND credits >= 0 AND debits >= 0 AND duplicates >= 0 "
            "AND matched >= 0 AND unmatched >= 0",
            name=op.f("ck_bank_statements_counts_not_negative"),
        ),
        sa.ForeignKeyConstraint(
            ["uploaded_by_id"],
            ["users.id"],
            name=op.f("fk_bank_statements_uploaded_by_id_users"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_bank_statements")),
        sa.UniqueConstraint("bank", "sha256", name=op.f("uq_bank_statements_bank")),
    )
    op.create_table(
        "bank_lines",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("statement_id", sa.Integer(), nullable=False),
        sa.Column("bank", sa.String(length=20), nullable=False),
        sa.Column("txn_id", sa.String(length=80), nullable=False),
        sa.Column("line_no", sa.Integer(), nullable=False),
        sa.Column("value_date", sa.Date(), nullable=False),
        sa.Column("amount", sa.BigInteger(), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("payer_name", sa.String(length=200), nullable=False),
        sa.Column("payer_account", sa.String(length=40), nullable=False),
        sa.Column("loan_id", sa.Integer(), nullable=True),
        sa.Column("instalment_no", sa.Integer(), nullable=True),
        sa.Column("method", sa.String(length=10), nullable=False),
        sa.Column("confidence", sa.Integer(), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("status", sa.String(length=10), nullable=False),
        sa.Column("handled_by_id", sa.Integer(), nullable=True),
        sa.Column("handled_at", fundapp.core.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("note", sa.String(length=500), nullable=False),
        sa.Column("created_at", fundapp.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "(loan_id IS NULL) = (method = 'none')", name=op.f("ck_bank_lines_loan_with_method")
        ),
        sa.CheckConstraint(
            "method IN ('reference', 'contract', 'borrower', 'amount', 'manual', 'none')",
            name=op.f("ck_bank_lines_method"),
        ),
        sa.CheckConstraint(
            "status <> 'unmatched' OR loan_id IS NULL", name=op.f("ck_bank_lines_unmatched_no_loan")
        ),
        sa.CheckConstraint(
            "status IN ('matched', 'unmatched', 'confirmed', 'ignored', 'duplicate')",
            name=op.f("ck_bank_lines_status"),
        ),
        sa.CheckConstraint(
            "status NOT IN ('matched', 'confirmed') OR loan_id IS NOT NULL",
            name=op.f("ck_bank_lines_matched_has_loan"),
        ),
        sa.CheckConstraint("amount > 0", name=op.f("ck_bank_lines_amount_positive")),
        sa.CheckConstraint(
            "confidence >= 0 AND confidence <= 100", name=op.f("ck_bank_lines_confidence_range")
        ),
        sa.ForeignKeyConstraint(
            ["handled_by_id"],
            ["users.id"],
            name=op.f("fk_bank_lines_handled_by_id_users"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["loan_id"], ["loans.id"], name=op.f("fk_bank_lines_loan_id_loans"), ondelete="RESTRICT"
        ),
        sa.ForeignKeyConstraint(
            ["statement_id"],
            ["bank_statements.id"],
            name=op.f("fk_bank_lines_statement_id_bank_statements"),
            ondelete="RESTRICT",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_bank_lines")),
        sa.UniqueConstraint("bank", "txn_id", name=op.f("uq_bank_lines_bank")),
    )
    with op.batch_alter_table("bank_lines", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_bank_lines_loan_id"), ["loan_id"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_bank_lines_statement_id"), ["statement_id"], unique=False
        )
        batch_op.create_index(
            "ix_bank_lines_status_value_date", ["status", "value_date"], unique=False
        )


def downgrade():
    with op.batch_alter_table("bank_lines", schema=None) as batch_op:
        batch_op.drop_index("ix_bank_lines_status_value_date")
        batch_op.drop_index(batch_op.f("ix_bank_lines_statement_id"))
        batch_op.drop_index(batch_op.f("ix_bank_lines_loan_id"))
    op.drop_table("bank_lines")
    op.drop_table("bank_statements")
    op.drop_table("bank_mappings")
