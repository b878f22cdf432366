"""interest support (hỗ trợ lãi suất): the schemes (support_schemes), the terms each
enrolled loan keeps (loans.support_terms), the budget's share of each instalment
(instalments.interest_supported) and the claims to the paying agency (support_claims,
support_claim_lines; fundapp.support)

Revision ID: 0022
Revises: 0021
Create Date: 2026-12-08 01:00:00

"""

import sqlalchemy as sa
from alembic import op

import fundapp.core.db

# revision identifiers, used by Alembic.
revision = "0022"
down_revision = "0021"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "support_schemes",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("code", sa.String(length=40), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("legal_basis", sa.String(length=255), nullable=False),
        sa.Column("paying_agency", sa.String(length=200), nullable=False),
        sa.Column("share", fundapp.core.db.Rate(length=16), nullable=False),
        sa.Column("first_due", sa.Date(), nullable=False),
        sa.Column("last_due", sa.Date(), nullable=True),
        sa.Column("cap_per_loan", sa.BigInteger(), nullable=True),
        sa.Column("borrower_kinds", sa.JSON(), nullable=False),
        sa.Column("purposes", sa.JSON(), nullable=False),
        sa.Column("created_by_id", sa.Integer(), nullable=True),
        sa.Column("created_at", fundapp.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "cap_per_loan IS NULL OR cap_per_loan > 0",
            name=op.f("ck_support_schemes_cap_positive"),
        ),
        sa.CheckConstraint(
            "last_due IS NULL OR last_due >= first_due",
            name=op.f("ck_support_schemes_dates_in_order"),
        ),
        sa.ForeignKeyConstraint(
            ["created_by_id"],
            ["users.id"],
            name=op.f("fk_support_schemes_created_by_id_users"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_support_schemes")),
        sa.UniqueConstraint("code", name=op.f("uq_support_schemes_code")),
    )
    op.create_table(
        "support_claims",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("scheme_id", sa.Integer(), nullable=False),
        sa.Column("reference", sa.String(length=40), nullable=False),
        sa.Column("period_from", sa.Date(), nullable=False),
        sa.Column("period_to", sa.Date(), nullable=False),
        sa.Column("amount", sa.BigInteger(), nullable=False),
        sa.Column("status", sa.String(length=10), nullable=False),
        sa.Column("submitted_by_id", sa.Integer(), nullable=True),
        sa.Column("submitted_at", fundapp.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("paid_on", sa.Date(), nullable=True),
        sa.Column("paid_reference", sa.String(length=80), nullable=False),
        sa.Column("paid_by_id", sa.Integer(), nullable=True),
        sa.Column("paid_entry_id", sa.Integer(), nullable=True),
        sa.Column("note", sa.Text(), nullable=False),
        sa.CheckConstraint("amount > 0", name=op.f("ck_support_claims_amount_positive")),
        sa.CheckConstraint(
            "(status = 'paid') = (paid_on IS NOT NULL)",
            name=op.f("ck_support_claims_paid_when_dated"),
        ),
        sa.CheckConstraint(
            "status IN ('submitted', 'paid')", name=op.f("ck_support_claims_status")
        ),
        sa.ForeignKeyConstraint(
            ["paid_by_id"],
            ["users.id"],
            name=op.f("fk_support_claims_paid_by_id_users"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["paid_entry_id"],
            ["journal_entries.id"],
            name=op.f("fk_support_claims_paid_entry_id_journal_entries"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["scheme_id"],
            ["support_schemes.id"],
            name=op.f("fk_support_claims_scheme_id_support_schemes"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["submitted_by_id"],
            ["users.id"],
            name=op.f("fk_support_claims_submitted_by_id_users"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_support_claims")),
        sa.UniqueConstraint("reference", name=op.f("uq_support_claims_reference")),
    )
    with op.batch_alter_table("support_claims", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_support_claims_scheme_id"), ["scheme_id"])
    op.create_table(
        "support_claim_lines",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("claim_id", sa.Integer(), nullable=False),
        sa.Column("loan_id", sa.Integer(), nullable=False),
        sa.Column("due_date", sa.Date(), nullable=False),
        sa.Column("no", sa.Integer(), nullable=False),
        sa.Column("interest", sa.BigInteger(), nullable=False),
        sa.Column("supported", sa.BigInteger(), nullable=False),
        sa.Column("amount", sa.BigInteger(), nullable=False),
        sa.ForeignKeyConstraint(
            ["claim_id"],
            ["support_claims.id"],
            name=op.f("fk_support_claim_lines_claim_id_support_claims"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["loan_id"],
            ["loans.id"],
            name=op.f("fk_support_claim_lines_loan_id_loans"),
            ondelete="RESTRICT",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_support_claim_lines")),
    )
    with op.batch_alter_table("support_claim_lines", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_support_claim_lines_claim_id"), ["claim_id"])
        batch_op.create_index(batch_op.f("ix_support_claim_lines_loan_id"), ["loan_id"])
    with op.batch_alter_table("loans", schema=None) as batch_op:
        batch_op.add_column(sa.Column("support_terms", sa.JSON(), nullable=True))
    with op.batch_alter_table("instalments", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("interest_supported", sa.BigInteger(), server_default="0", nullable=False)
        )


def downgrade():
    with op.batch_alter_table("instalments", schema=None) as batch_op:
        batch_op.drop_column("interest_supported")
    with op.batch_alter_table("loans", schema=None) as batch_op:
        batch_op.drop_column("support_terms")
    op.drop_table("support_claim_lines")
    op.drop_table("support_claims")
    op.drop_table("support_schemes")
