"""work notifications: notices of kind decision, coop_application, coop_document

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-07 09:30:00

"""

import sqlalchemy as sa  # noqa: F401
from alembic import op

revision = "0015"
down_revision = "0014"
branch_labels = None
depends_on = None

OLD = "kind IN ('due_soon', 'overdue_transfer', 'group_change')"
NEW = (
    "kind IN ('due_soon', 'overdue_transfer', 'group_change', 'decision', "
    "'coop_application', 'coop_document')"
)


def upgrade():
    with op.batch_alter_table("notices", schema=None) as batch_op:
        batch_op.drop_constraint(op.f("ck_notices_kind"), type_="check")
        batch_op.create_check_constraint(op.f("ck_notices_kind"), NEW)


def downgrade():
    op.execute(
        "DELETE FROM notices WHERE kind IN ('decision', 'coop_application', 'coop_document')"
    )
    with op.batch_alter_table("notices", schema=None) as batch_op:
        batch_op.drop_constraint(op.f("ck_notices_kind"), type_="check")
        batch_op.create_check_constraint(op.f("ck_notices_kind"), OLD)
