"""the fund's annual plan (Circular 52/2022/TT-BTC Phụ lục 3–6): one plan a year, draft
then approved by another person (annual_plans), and its planned lines (plan_lines;
fundapp.planning)

Revision ID: 0019
Revises: 0018
Create Date: 2026-12-07 22:23:33

"""

import sqlalchemy as sa
from alembic import op

import fundapp.core.db

# revision identifiers, used by Alembic.
revision = "0019"
down_revision = "0018"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "annual_plans",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("year", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("note", sa.Text(), nullable=False),
        sa.Column("prepared_by_id", sa.Integer(), nullable=True),
        sa.Column("approved_by_id", sa.Integer(), nullable=True),
        sa.Column("approved_at", fundapp.core.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("created_at", fundapp.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.CheckConstraint("status IN ('draft', 'approved')", name=op.f("ck_annual_plans_status")),
        sa.CheckConstraint(
            "approved_by_id IS NULL OR approved_by_id <> prepared_by_id",
            name=op.f("ck_annual_plans_maker_checker"),
        ),
        sa.CheckConstraint("year BETWEEN 2000 AND 2100", name=op.f("ck_annual_plans_year_range")),
        sa.ForeignKeyConstraint(
            ["approved_by_id"],
            ["users.id"],
            name=op.f("fk_annual_plans_approved_by_id_users"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["prepared_by_id"],
            ["users.id"],
            name=op.f("fk_annual_plans_prepared_by_id_users"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_annual_plans")),
        sa.UniqueConstraint("year", name=op.f("uq_annual_plans_year")),
    )
    op.create_table(
        "plan_lines",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("plan_id", sa.Integer(), nullable=False),
        sa.Column("section", sa.String(length=20), nullable=False),
        sa.Column("code", sa.String(length=40), nullable=False),
        sa.Column("label", sa.String(length=200), nullable=False),
        sa.Column("amount", sa.BigInteger(), nullable=False),
        sa.CheckConstraint(
            "section IN ('lending', 'sources', 'income', 'expense')",
            name=op.f("ck_plan_lines_section"),
        ),
        sa.CheckConstraint("amount >= 0", name=op.f("ck_plan_lines_amount_not_negative")),
        sa.ForeignKeyConstraint(
            ["plan_id"],
            ["annual_plans.id"],
            name=op.f("fk_plan_lines_plan_id_annual_plans"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_plan_lines")),
        sa.UniqueConstraint("plan_id", "section", "code", name="plan_section_code"),
    )
    with op.batch_alter_table("plan_lines", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_plan_lines_plan_id"), ["plan_id"], unique=False)


def downgrade():
    with op.batch_alter_table("plan_lines", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_plan_lines_plan_id"))

    op.drop_table("plan_lines")
    op.drop_table("annual_plans")
