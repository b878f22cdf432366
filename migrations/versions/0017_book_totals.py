"""whole-book totals kept with each change: the journal's day totals, each loan's row
and the totals of the book (fundapp.loans.book), what falls due month by month
(fundapp.loans.dues), filled from what is there

Revision ID: 0017
Revises: 0016
Create Date: 2026-12-07 18:05:04

"""

import sqlalchemy as sa
from alembic import op

from fundapp.ledger.services import day_totals_statements
from fundapp.loans import dues
from fundapp.loans.book import rebuild_statements

revision = "0017"
down_revision = "0016"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "due_month_totals",
        sa.Column("month", sa.Date(), nullable=False),
        sa.Column("amount", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("month", name=op.f("pk_due_month_totals")),
    )
    op.create_table('book_borrowers',
    sa.Column('cooperative_id', sa.Integer(), autoincrement=False, nullable=False),
    sa.Column('origin_fund_id', sa.Integer(), autoincrement=False, nullable=False),
    sa.Column('held_loans', sa.Integer(), nullable=False),
    sa.PrimaryKeyConstraint('cooperative_id', 'origin_fund_id', name=op.f('pk_book_borrowers'))
    )
    op.create_table('book_totals',
    sa.Column('origin_fund_id', sa.Integer(), autoincrement=False, nullable=False),
    sa.Column('status', sa.String(length=20), nullable=False),
    sa.Column('officer_id', sa.Integer(), autoincrement=False, nullable=False),
    sa.Column('debt_group', sa.Integer(), autoincrement=False, nullable=False),
    sa.Column('commune_unit_id', sa.Integer(), autoincrement=False, nullable=False),
    sa.Column('former_district_code', sa.String(length=3), nullable=False),
    sa.Column('loans', sa.Integer(), nullable=False),
    sa.Column('amount', sa.BigInteger(), nullable=False),
    sa.Column('outstanding', sa.BigInteger(), nullable=False),
    sa.Column('held_loans', sa.Integer(), nullable=False),
    sa.Column('principal_in_term', sa.BigInteger(), nullable=False),
    sa.Column('principal_overdue', sa.BigInteger(), nullable=False),
    sa.Column('interest_receivable', sa.BigInteger(), nullable=False),
    sa.Column('specific_provision', sa.BigInteger(), nullable=False),
    sa.PrimaryKeyConstraint('origin_fund_id', 'status', 'officer_id', 'debt_group', 'commune_unit_id', 'former_district_code', name=op.f('pk_book_totals'))
    )
    op.create_table('ledger_day_totals',
    sa.Column('entry_date', sa.Date(), nullable=False),
    sa.Column('account', sa.String(length=8), nullable=False),
    sa.Column('kind', sa.String(length=40), nullable=False),
    sa.Column('loan_line', sa.Boolean(), nullable=False),
    sa.Column('slot', sa.Integer(), autoincrement=False, nullable=False),
    sa.Column('debit', sa.BigInteger(), nullable=False),
    sa.Column('credit', sa.BigInteger(), nullable=False),
    sa.PrimaryKeyConstraint('entry_date', 'account', 'kind', 'loan_line', 'slot', name=op.f('pk_ledger_day_totals'))
    )
    op.create_table('book_loans',
    sa.Column('loan_id', sa.Integer(), autoincrement=False, nullable=False),
    sa.Column('cooperative_id', sa.Integer(), nullable=False),
    sa.Column('origin_fund_id', sa.Integer(), nullable=False),
    sa.Column('status', sa.String(length=20), nullable=False),
    sa.Column('officer_id', sa.Integer(), nullable=False),
    sa.Column('debt_group', sa.Integer(), nullable=False),
    sa.Column('commune_unit_id', sa.Integer(), nullable=False),
    sa.Column('former_district_code', sa.String(length=3), nullable=False),
    sa.Column('amount', sa.BigInteger(), nullable=False),
    sa.Column('outstanding', sa.BigInteger(), nullable=False),
    sa.Column('principal_in_term', sa.BigInteger(), nullable=False),
    sa.Column('principal_overdue', sa.BigInteger(), nullable=False),
    sa.Column('interest_receivable', sa.BigInteger(), nullable=False),
    sa.Column('specific_provision', sa.BigInteger(), nullable=False),
    sa.Column('oldest_due', sa.Date(), nullable=True),
    sa.ForeignKeyConstraint(['loan_id'], ['loans.id'], name=op.f('fk_book_loans_loan_id_loans'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('loan_id', name=op.f('pk_book_loans'))
    )
    with op.batch_alter_table('book_loans', schema=None) as batch_op:
        batch_op.create_index('ix_book_loans_oldest_due', ['oldest_due'], unique=False)

    with op.batch_alter_table('instalments', schema=None) as batch_op:
        batch_op.create_index('ix_instalments_due_date_amounts', ['due_date'], unique=False, postgresql_include=['principal', 'interest'])

    bind = op.get_bind()
    for statement in (
        *day_totals_statements(),
        *rebuild_statements(),
        *dues.rebuild_statements(bind.dialect.name),
    ):
        bind.execute(statement)


def downgrade():
    with op.batch_alter_table('instalments', schema=None) as batch_op:
        batch_op.drop_index('ix_instalments_due_date_amounts', postgresql_include=['principal', 'interest'])

    with op.batch_alter_table('book_loans', schema=None) as batch_op:
        batch_op.drop_index('ix_book_loans_oldest_due')

    op.drop_table('book_loans')
    op.drop_table('ledger_day_totals')
    op.drop_table('book_totals')
    op.drop_table('book_borrowers')
    op.drop_table("due_month_totals")
