"""attachments: files of applications, reports and agreements; report drafts

Revision ID: 0017_attachments
Revises: 0014_start_pages
Create Date: 2026-12-02

An attachment's row names its case, what it is attached to, its name, type, size, the SHA-256
of its content (the file is kept outside the database under that name), who added it and
when. A report keeps when its draft was last saved and the project owner's answer to a
request for completion.
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

import workflow.models.types

revision: str = "0017_attachments"
down_revision: str | Sequence[str] | None = "0014_start_pages"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

UTC = workflow.models.types.UTCDateTime
Text = sqlmodel.sql.sqltypes.AutoString


def upgrade() -> None:
    op.create_table(
        "attachment",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("forbund_id", sa.Integer(), nullable=False),
        sa.Column("insats_id", sa.Integer(), nullable=False),
        sa.Column("subject_kind", Text(length=20), nullable=False),
        sa.Column("subject_id", sa.Integer(), nullable=True),
        sa.Column("filename", Text(length=200), nullable=False),
        sa.Column("content_type", Text(length=100), nullable=False),
        sa.Column("size_bytes", sa.Integer(), nullable=False),
        sa.Column("sha256", Text(length=64), nullable=False),
        sa.Column("added_by_id", sa.Integer(), nullable=False),
        sa.Column("added_at", UTC(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["forbund_id"], ["forbund.id"]),
        sa.ForeignKeyConstraint(["insats_id"], ["insats.id"]),
        sa.ForeignKeyConstraint(["added_by_id"], ["person.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_attachment_forbund_id", "attachment", ["forbund_id"])
    op.create_index("ix_attachment_sha256", "attachment", ["sha256"])
    op.create_index(
        "ix_attachment_subject", "attachment", ["insats_id", "subject_kind", "subject_id"]
    )
    with op.batch_alter_table("report") as batch:
        batch.add_column(sa.Column("draft_saved_at", UTC(timezone=True), nullable=True))
        batch.add_column(sa.Column("owner_comment", Text(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("report") as batch:
        batch.drop_column("owner_comment")
        batch.drop_column("draft_saved_at")
    op.drop_index("ix_attachment_subject", table_name="attachment")
    op.drop_index("ix_attachment_sha256", table_name="attachment")
    op.drop_index("ix_attachment_forbund_id", table_name="attachment")
    op.drop_table("attachment")
