"""the fund's annual A/B/C self-assessment recorded by the director, one a year, with its
compliance answers and the figures of its rank (ranking_assessments; fundapp.planning
.ranking, fundapp.reports.ranking)

Revision ID: 0021
Revises: 0020
Create Date: 2026-12-08 00:40:00

"""

import sqlalchemy as sa
from alembic import op

import fundapp.core.db

# revision identifiers, used by Alembic.
revision = "0021"
down_revision = "0020"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "ranking_assessments",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("year", sa.Integer(), nullable=False),
        sa.Column("as_of", sa.Date(), nullable=False),
        sa.Column("rank", sa.String(length=1), nullable=False),
        sa.Column("points", sa.Integer(), nullable=False),
        sa.Column("compliance", sa.JSON(), nullable=False),
        sa.Column("figures", sa.JSON(), nullable=False),
        sa.Column("note", sa.Text(), nullable=False),
        sa.Column("recorded_by_id", sa.Integer(), nullable=True),
        sa.Column("recorded_at", fundapp.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("created_at", fundapp.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "points BETWEEN 0 AND 8", name=op.f("ck_ranking_assessments_points_range")
        ),
        sa.CheckConstraint("rank IN ('A', 'B', 'C')", name=op.f("ck_ranking_assessments_rank")),
        sa.CheckConstraint(
            "year BETWEEN 2000 AND 2100", name=op.f("ck_ranking_assessments_year_range")
        ),
        sa.ForeignKeyConstraint(
            ["recorded_by_id"],
            ["users.id"],
            name=op.f("fk_ranking_assessments_recorded_by_id_users"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_ranking_assessments")),
        sa.UniqueConstraint("year", name=op.f("uq_ranking_assessments_year")),
    )


def downgrade():
    op.drop_table("ranking_assessments")
