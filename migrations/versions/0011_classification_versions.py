"""debt classification by the rules in force on each date: upgrade waiting period,
restructured-then-overdue, interest relief count

- loans.interest_reliefs: approved exemptions or reductions of interest because the
  borrower could not pay (Circular 14/2024 Art. 5: group 3 at least), never negative;
- loan_days.cured_on: while a loan waits to return to a better group after its arrears were
  cleared, the first business date the close of day found it clear;
- the law's later versions of three policy parameters (Circular 14/2024/TT-NHNN from
  12/08/2024: debt-group bands 10/30/90/180 days, restructuring floors 2/2/4/5; Decree
  86/2024/NĐ-CP: provision rates 0/2/25/50/100 %), written only into a database that
  already holds the law's 2021 version of the parameter and nothing decided from that date
  on. They are reference law, like the legal defaults ``flask policy init`` writes: without
  them an existing fund would classify loans of 2024 onwards by a repealed rule. An empty
  database gets nothing (``flask db upgrade`` seeds nothing).

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-07 08:30:00

"""

from datetime import UTC, date, datetime

import sqlalchemy as sa
from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None

DECREE_45 = "Nghị định 45/2021/NĐ-CP ngày 31/03/2021"
CIRCULAR_14 = "Thông tư 14/2024/TT-NHNN (hiệu lực từ 12/08/2024)"
DECREE_86 = "Nghị định 86/2024/NĐ-CP"
NOTE = "Giá trị mặc định theo văn bản pháp luật"
# (key, in force from, value, legal reference), as of this revision.
LAW = (
    (
        "group_thresholds_days",
        date(2024, 8, 12),
        "10,30,90,180",
        f"{DECREE_45}, Điều 28; {CIRCULAR_14}, Điều 5",
    ),
    (
        "restructure_floor_groups",
        date(2024, 8, 12),
        "2,2,4,5",
        f"{DECREE_45}, Điều 28; {CIRCULAR_14}, Điều 5",
    ),
    (
        "provision_rates_pct",
        date(2024, 7, 11),
        "0,2,25,50,100",
        f"{DECREE_45}, Điều 28; {DECREE_86}",
    ),
)

versions = sa.table(
    "policy_parameters",
    sa.column("key", sa.String),
    sa.column("value", sa.String),
    sa.column("effective_from", sa.Date),
    sa.column("legal_reference", sa.String),
    sa.column("note", sa.Text),
    sa.column("created_at", sa.DateTime(timezone=True)),
)


def upgrade():
    with op.batch_alter_table("loans", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("interest_reliefs", sa.Integer(), server_default=sa.text("0"), nullable=False)
        )
        batch_op.create_check_constraint(
            op.f("ck_loans_interest_reliefs_not_negative"), "interest_reliefs >= 0"
        )
    with op.batch_alter_table("loan_days", schema=None) as batch_op:
        batch_op.add_column(sa.Column("cured_on", sa.Date(), nullable=True))

    conn = op.get_bind()
    now = datetime.now(UTC)
    for key, since, value, reference in LAW:
        stored = (
            conn.execute(sa.select(versions.c.effective_from).where(versions.c.key == key))
            .scalars()
            .all()
        )
        if not stored or any(d >= since for d in stored):
            continue
        conn.execute(
            versions.insert().values(
                key=key,
                value=value,
                effective_from=since,
                legal_reference=reference,
                note=NOTE,
                created_at=now,
            )
        )


def downgrade():
    conn = op.get_bind()
    for key, since, value, _reference in LAW:
        # Only the versions this revision wrote (a board's own version of that date stays).
        conn.execute(
            versions.delete().where(
                versions.c.key == key,
                versions.c.effective_from == since,
                versions.c.value == value,
                versions.c.note == NOTE,
            )
        )
    with op.batch_alter_table("loan_days", schema=None) as batch_op:
        batch_op.drop_column("cured_on")
    with op.batch_alter_table("loans", schema=None) as batch_op:
        batch_op.drop_constraint(op.f("ck_loans_interest_reliefs_not_negative"), type_="check")
        batch_op.drop_column("interest_reliefs")
