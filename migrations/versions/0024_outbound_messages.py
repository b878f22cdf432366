"""messages where people read them: the cooperative's choice of channels
(cooperatives.message_channels) and the record of each message sent by e-mail, SMS or
Zalo for a notice (outbound_messages; fundapp.notices.outbox)

Revision ID: 0024
Revises: 0023
Create Date: 2026-12-10 01:00:00

"""

import sqlalchemy as sa
from alembic import op

import fundapp.core.db

# revision identifiers, used by Alembic.
revision = "0024"
down_revision = "0023"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("cooperatives", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column(
                "message_channels",
                sa.JSON(),
                server_default=sa.text("'[\"email\"]'"),
                nullable=False,
            )
        )
    op.create_table(
        "outbound_messages",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("notice_id", sa.Integer(), nullable=False),
        sa.Column("cooperative_id", sa.Integer(), nullable=True),
        sa.Column("channel", sa.String(length=10), nullable=False),
        sa.Column("address", sa.String(length=254), nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("status", sa.String(length=10), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("last_error", sa.String(length=500), nullable=False),
        sa.Column("next_attempt_at", fundapp.core.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("sent_at", fundapp.core.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("provider_id", sa.String(length=100), nullable=False),
        sa.Column("created_at", fundapp.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "attempts >= 0", name=op.f("ck_outbound_messages_attempts_not_negative")
        ),
        sa.CheckConstraint(
            "channel IN ('email', 'sms', 'zalo')", name=op.f("ck_outbound_messages_channel")
        ),
        sa.CheckConstraint(
            "status <> 'sent' OR sent_at IS NOT NULL",
            name=op.f("ck_outbound_messages_sent_has_time"),
        ),
        sa.CheckConstraint(
            "status IN ('queued', 'sending', 'sent', 'failed')",
            name=op.f("ck_outbound_messages_status"),
        ),
        sa.ForeignKeyConstraint(
            ["cooperative_id"],
            ["cooperatives.id"],
            name=op.f("fk_outbound_messages_cooperative_id_cooperatives"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["notice_id"],
            ["notices.id"],
            name=op.f("fk_outbound_messages_notice_id_notices"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_outbound_messages")),
        sa.UniqueConstraint("notice_id", "channel", "address", name="once_per_address"),
    )
    with op.batch_alter_table("outbound_messages", schema=None) as batch_op:
        batch_op.create_index("ix_outbound_messages_due", ["next_attempt_at"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_outbound_messages_cooperative_id"), ["cooperative_id"], unique=False
        )


def downgrade():
    op.drop_table("outbound_messages")
    with op.batch_alter_table("cooperatives", schema=None) as batch_op:
        batch_op.drop_column("message_channels")
