"""accrued interest at month end and report dates, provision release as income

Three accounts join the chart: 3942 accrued interest (lãi dự thu), 7901 income from
provisions released (thu nhập từ hoàn nhập dự phòng), 8091 expense of interest recognised in
an earlier year that became doubtful. The journal lines' CHECK of known accounts is widened.

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-07 08:30:00

"""

import sqlalchemy as sa  # noqa: F401
from alembic import op

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None

BEFORE = (
    "1121", "2111", "2112", "3941", "2191", "4531", "4111", "4118", "4119",
    "7021", "7022", "8822", "9711", "9412", "9999",
)  # fmt: skip
ADDED = ("3942", "7901", "8091")


def _check(codes):
    return "account IN (" + ", ".join(f"'{c}'" for c in codes) + ")"


def _replace(codes):
    with op.batch_alter_table("journal_lines", schema=None) as batch_op:
        batch_op.drop_constraint(op.f("ck_journal_lines_account_known"), type_="check")
        batch_op.create_check_constraint(op.f("ck_journal_lines_account_known"), _check(codes))


def upgrade():
    _replace(BEFORE + ADDED)


def downgrade():
    # Lines on the new accounts must be gone before the narrower check can hold.
    _replace(BEFORE)
