"""the credit file: the fund's versioned wording of each document (form_templates) and
every version of a document issued from a loan file, with its data and PDF
(file_documents; fundapp.documents.credit_file)

Revision ID: 0018
Revises: 0017
Create Date: 2026-12-07 21:14:30

"""

import sqlalchemy as sa
from alembic import op

import fundapp.core.db

# revision identifiers, used by Alembic.
revision = "0018"
down_revision = "0017"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "form_templates",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=40), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("note", sa.Text(), nullable=False),
        sa.Column("created_at", fundapp.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("created_by_id", sa.Integer(), nullable=True),
        sa.CheckConstraint("version > 0", name=op.f("ck_form_templates_version_positive")),
        sa.ForeignKeyConstraint(
            ["created_by_id"],
            ["users.id"],
            name=op.f("fk_form_templates_created_by_id_users"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_form_templates")),
        sa.UniqueConstraint("kind", "version", name="kind_version"),
    )
    with op.batch_alter_table("form_templates", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_form_templates_kind"), ["kind"], unique=False)

    op.create_table(
        "file_documents",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=40), nullable=False),
        sa.Column("subject_type", sa.String(length=20), nullable=False),
        sa.Column("subject_id", sa.Integer(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("reference_no", sa.String(length=60), nullable=False),
        sa.Column("template_id", sa.Integer(), nullable=False),
        sa.Column("data", sa.JSON(), nullable=False),
        sa.Column("data_hash", sa.String(length=64), nullable=False),
        sa.Column("pdf", sa.LargeBinary(), nullable=False),
        sa.Column("created_at", fundapp.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("created_by_id", sa.Integer(), nullable=True),
        sa.CheckConstraint("version > 0", name=op.f("ck_file_documents_version_positive")),
        sa.ForeignKeyConstraint(
            ["created_by_id"],
            ["users.id"],
            name=op.f("fk_file_documents_created_by_id_users"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["template_id"],
            ["form_templates.id"],
            name=op.f("fk_file_documents_template_id_form_templates"),
            ondelete="RESTRICT",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_file_documents")),
        sa.UniqueConstraint(
            "kind", "subject_type", "subject_id", "version", name="subject_version"
        ),
    )
    with op.batch_alter_table("file_documents", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_file_documents_subject_id"), ["subject_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_file_documents_template_id"), ["template_id"], unique=False
        )


def downgrade():
    with op.batch_alter_table("file_documents", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_file_documents_template_id"))
        batch_op.drop_index(batch_op.f("ix_file_documents_subject_id"))

    op.drop_table("file_documents")
    with op.batch_alter_table("form_templates", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_form_templates_kind"))

    op.drop_table("form_templates")
