"""policy_changes: a policy change proposed by one board member and decided by another
(maker/checker); only an approval writes a policy_parameters version

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-08 12:00:00

"""

import sqlalchemy as sa
from alembic import op

import fundapp.core.db

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "policy_changes",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("key", sa.String(length=60), nullable=False),
        sa.Column("value", sa.String(length=255), nullable=False),
        sa.Column("effective_from", sa.Date(), nullable=False),
        sa.Column("legal_reference", sa.String(length=255), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("proposed_by_id", sa.Integer(), nullable=True),
        sa.Column("proposed_at", fundapp.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("decided_by_id", sa.Integer(), nullable=True),
        sa.Column("decided_at", fundapp.core.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("decision_note", sa.Text(), nullable=False),
        sa.Column("policy_parameter_id", sa.Integer(), nullable=True),
        sa.CheckConstraint(
            "status IN ('pending', 'approved', 'rejected', 'withdrawn')",
            name=op.f("ck_policy_changes_status"),
        ),
        sa.CheckConstraint(
            "decided_by_id <> proposed_by_id", name=op.f("ck_policy_changes_maker_checker")
        ),
        sa.CheckConstraint(
            "(status = 'pending') = (decided_at IS NULL)", name=op.f("ck_policy_changes_decided")
        ),
        sa.CheckConstraint(
            "(status = 'approved') = (policy_parameter_id IS NOT NULL)",
            name=op.f("ck_policy_changes_version"),
        ),
        sa.ForeignKeyConstraint(
            ["proposed_by_id"],
            ["users.id"],
            name=op.f("fk_policy_changes_proposed_by_id_users"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["decided_by_id"],
            ["users.id"],
            name=op.f("fk_policy_changes_decided_by_id_users"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["policy_parameter_id"],
            ["policy_parameters.id"],
            name=op.f("fk_policy_changes_policy_parameter_id_policy_parameters"),
            ondelete="RESTRICT",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_policy_changes")),
    )
    op.create_index(
        "ix_policy_changes_pending",
        "policy_changes",
        ["key"],
        postgresql_where=sa.text("status = 'pending'"),
        sqlite_where=sa.text("status = 'pending'"),
    )


def downgrade():
    op.drop_index("ix_policy_changes_pending", table_name="policy_changes")
    op.drop_table("policy_changes")
