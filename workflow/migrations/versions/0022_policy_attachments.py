"""policy attachments: a styrdokument's own documents in the attachment store

Revision ID: 0022_policy_attachments
Revises: 0017_attachments
Create Date: 2026-12-02

An attachment either belongs to a case (insats_id, as before) or is a version of a
styrdokument's document (policy_id, subject_kind 'styrdokument'); a check constraint keeps
exactly one of the two, so a case's attachment still needs its insats.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0022_policy_attachments"
down_revision: str | Sequence[str] | None = "0017_attachments"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

OWNER_RULE = (
    "(insats_id IS NOT NULL AND policy_id IS NULL) OR "
    "(insats_id IS NULL AND policy_id IS NOT NULL AND subject_kind = 'styrdokument')"
)


def upgrade() -> None:
    with op.batch_alter_table("attachment") as batch:
        batch.alter_column("insats_id", existing_type=sa.Integer(), nullable=True)
        batch.add_column(sa.Column("policy_id", sa.Integer(), nullable=True))
        batch.create_foreign_key(
            "fk_attachment_policy_id", "policy_document", ["policy_id"], ["id"]
        )
        batch.create_index("ix_attachment_policy_id", ["policy_id"])
        batch.create_check_constraint("ck_attachment_owner", OWNER_RULE)


def downgrade() -> None:
    op.execute("DELETE FROM attachment WHERE insats_id IS NULL")
    with op.batch_alter_table("attachment") as batch:
        batch.drop_constraint("ck_attachment_owner", type_="check")
        batch.drop_index("ix_attachment_policy_id")
        batch.drop_constraint("fk_attachment_policy_id", type_="foreignkey")
        batch.drop_column("policy_id")
        batch.alter_column("insats_id", existing_type=sa.Integer(), nullable=False)
