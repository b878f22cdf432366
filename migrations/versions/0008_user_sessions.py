"""user_sessions: server-side browser sessions that logout, a password change and
deactivation revoke; users.session_version, which they replace, goes

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-08 09:00:00

"""

import sqlalchemy as sa
from alembic import op

import fundapp.core.db

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "user_sessions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("key_hash", sa.String(length=64), nullable=False),
        sa.Column("created_at", fundapp.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("expires_at", fundapp.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("revoked_at", fundapp.core.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("remember", sa.Boolean(), nullable=False),
        sa.Column("ip", sa.String(length=45), nullable=False),
        sa.Column("user_agent", sa.String(length=200), nullable=False),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["users.id"],
            name=op.f("fk_user_sessions_user_id_users"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_user_sessions")),
        sa.UniqueConstraint("key_hash", name=op.f("uq_user_sessions_key_hash")),
    )
    op.create_index(op.f("ix_user_sessions_user_id"), "user_sessions", ["user_id"], unique=False)
    # Every session signed in before this revision ends: its cookie names no session row.
    # Not in batch mode: on SQLite a batch would copy and drop ``users``, and dropping a table
    # other tables' foreign keys cascade from deletes their rows; SQLite (3.35+) and
    # PostgreSQL both drop a plain column in place.
    op.drop_column("users", "session_version")


def downgrade():
    op.add_column(
        "users",
        sa.Column("session_version", sa.Integer(), nullable=False, server_default="1"),
    )
    op.drop_index(op.f("ix_user_sessions_user_id"), table_name="user_sessions")
    op.drop_table("user_sessions")
