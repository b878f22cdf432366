"""interest exemption and reduction, risk handling with the provision and removal from off-balance tracking

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-07 08:30:00

"""

import sqlalchemy as sa  # noqa: F401
from alembic import op  # noqa: F401

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None


def upgrade():
    pass


def downgrade():
    pass
