"""instalments indexed by due date only while something is owed on them

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-22 00:20:00

"""
import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None

UNSETTLED = (
    "principal_paid < principal OR interest_paid < interest OR penalty_accrued > penalty_paid"
)


def upgrade():
    with op.batch_alter_table("instalments", schema=None) as batch_op:
        batch_op.drop_index("ix_instalments_due_unpaid")
        batch_op.create_index(
            "ix_instalments_due_unsettled",
            ["due_date", "loan_id"],
            unique=False,
            postgresql_where=sa.text(UNSETTLED),
            sqlite_where=sa.text(UNSETTLED),
        )


def downgrade():
    with op.batch_alter_table("instalments", schema=None) as batch_op:
        batch_op.drop_index("ix_instalments_due_unsettled")
        batch_op.create_index("ix_instalments_due_unpaid", ["due_date", "loan_id"], unique=False)
