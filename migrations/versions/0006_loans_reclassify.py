"""loans.reclassify: changed since the last close of day

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-22 00:45:00

"""
import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("loans", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("reclassify", sa.Boolean(), server_default=sa.true(), nullable=False)
        )


def downgrade():
    with op.batch_alter_table("loans", schema=None) as batch_op:
        batch_op.drop_column("reclassify")
