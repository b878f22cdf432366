"""the risk committee (Hội đồng xử lý rủi ro, Decree 45/2021 Art. 29): its quarterly
meetings with their minutes (committee_meetings) and its decision on each risk handling
proposal (committee_decisions; fundapp.lending.committee)

Revision ID: 0020
Revises: 0019
Create Date: 2026-12-07 22:30:00

"""

import sqlalchemy as sa
from alembic import op

import fundapp.core.db

# revision identifiers, used by Alembic.
revision = "0020"
down_revision = "0019"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "committee_meetings",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("quarter", sa.String(length=7), nullable=False),
        sa.Column("held_on", sa.Date(), nullable=False),
        sa.Column("place", sa.String(length=200), nullable=False),
        sa.Column("members", sa.Text(), nullable=False),
        sa.Column("minutes", sa.Text(), nullable=False),
        sa.Column("status", sa.String(length=10), nullable=False),
        sa.Column("created_by_id", sa.Integer(), nullable=True),
        sa.Column("closed_by_id", sa.Integer(), nullable=True),
        sa.Column("closed_at", fundapp.core.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("created_at", fundapp.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "(status = 'closed') = (closed_at IS NOT NULL)",
            name=op.f("ck_committee_meetings_closed_when_stamped"),
        ),
        sa.CheckConstraint(
            "status IN ('draft', 'closed')", name=op.f("ck_committee_meetings_status")
        ),
        sa.ForeignKeyConstraint(
            ["closed_by_id"],
            ["users.id"],
            name=op.f("fk_committee_meetings_closed_by_id_users"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["created_by_id"],
            ["users.id"],
            name=op.f("fk_committee_meetings_created_by_id_users"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_committee_meetings")),
        sa.UniqueConstraint("quarter", name="quarter"),
    )
    op.create_table(
        "committee_decisions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("meeting_id", sa.Integer(), nullable=False),
        sa.Column("write_off_id", sa.Integer(), nullable=False),
        sa.Column("decision", sa.String(length=10), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("decided_by_id", sa.Integer(), nullable=True),
        sa.Column("created_at", fundapp.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "decision IN ('approve', 'reject', 'defer')",
            name=op.f("ck_committee_decisions_decision"),
        ),
        sa.ForeignKeyConstraint(
            ["decided_by_id"],
            ["users.id"],
            name=op.f("fk_committee_decisions_decided_by_id_users"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["meeting_id"],
            ["committee_meetings.id"],
            name=op.f("fk_committee_decisions_meeting_id_committee_meetings"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["write_off_id"],
            ["write_offs.id"],
            name=op.f("fk_committee_decisions_write_off_id_write_offs"),
            ondelete="RESTRICT",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_committee_decisions")),
        sa.UniqueConstraint("meeting_id", "write_off_id", name="meeting_write_off"),
    )
    with op.batch_alter_table("committee_decisions", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_committee_decisions_meeting_id"), ["meeting_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_committee_decisions_write_off_id"), ["write_off_id"], unique=False
        )


def downgrade():
    with op.batch_alter_table("committee_decisions", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_committee_decisions_write_off_id"))
        batch_op.drop_index(batch_op.f("ix_committee_decisions_meeting_id"))

    op.drop_table("committee_decisions")
    op.drop_table("committee_meetings")
